"""One training run of one method on MNIST-1D, as a function of a frozen config (§5.1).

``run_method(config)`` builds the method's network, trains it with SGD-Nesterov (one-cycle learning
rate, batch 128), masks it with the kit's :class:`reprobook.sparse.DynamicSparsity` (masks and random
draws on the network's device) when it is sparse, stops early if it exceeds ``time_budget_s``, and
evaluates the logit-averaged ensemble on the validation, clean test and shifted test sets.

>>> config = RunConfig(method="neurotrails", width=8, blocks_in_head=2, epochs=1, n_train=256, n_val=200,
...                    n_test=200, n_shift=200, update_every=1)
>>> result = run_method(config)
>>> result.summary["method"], result.summary["stopped_early"], result.summary["nnz"] < result.summary["params"]
('neurotrails', False, True)
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import torch

from reprobook.devices import check_device, torch_device
from reprobook.neurotrails.heads import METHODS, build_model, nnz_flops
from reprobook.neurotrails.metrics import ensemble_metrics
from reprobook.neurotrails.mnist1d import GeneratorSettings, Splits, make_splits
from reprobook.sparse import DynamicSparsity

__all__ = ["RunConfig", "RunResult", "run_method", "load_splits", "nonzeros", "SPARSE_METHODS",
           "MULTI_HEAD_METHODS"]

SPARSE_METHODS = ("sparse_single", "neurotrails", "neurotrails_static")
MULTI_HEAD_METHODS = ("full_ensemble", "treenet", "neurotrails", "neurotrails_static")


@dataclass(frozen=True)
class RunConfig:
    """Everything one run depends on (its cache key). Defaults are the chapter's ``book`` choices."""

    method: str = "neurotrails"
    seed: int = 0
    width: int = 48
    n_blocks: int = 6
    blocks_in_head: int = 4
    n_heads: int = 3
    density: float = 0.3
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.1
    weight_decay: float = 5e-4
    n_train: int = 3200
    n_val: int = 1000
    n_test: int = 5000
    n_shift: int = 5000
    data_seed: int = 0
    generator: GeneratorSettings = field(default_factory=GeneratorSettings)
    update_every: int = 50
    prune_rate: float = 0.5
    final_prune_rate: float = 0.005
    prune: str = "magnitude"
    grow: str = "gradient"
    regrow_dropped: bool = True
    freeze_topology_at: float | None = None
    loss_reduction: str = "sum"
    averaging: str = "logits"
    time_budget_s: float = 0.0  # CPU seconds of training; 0: no budget guard
    device: str = "cpu"  # where the network trains and is evaluated: "cpu", "cuda" or "auto" (a GPU if present)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {self.method!r}")
        if self.loss_reduction not in ("sum", "mean"):
            raise ValueError(f"loss_reduction must be 'sum' or 'mean'; got {self.loss_reduction!r}")
        check_device(self.device)

    @property
    def is_sparse(self) -> bool:
        return self.method in SPARSE_METHODS

    @property
    def effective_blocks_in_head(self) -> int:
        if self.method in ("single", "sparse_single"):
            return 0
        return self.n_blocks if self.method == "full_ensemble" else self.blocks_in_head

    @property
    def effective_heads(self) -> int:
        return 1 if self.method in ("single", "sparse_single") else self.n_heads


@dataclass
class RunResult:
    """One run: a summary row, the per-layer density report, the topology-update trace, the training curve."""

    summary: dict
    layers: pd.DataFrame
    topology: pd.DataFrame
    curve: pd.DataFrame


@functools.lru_cache(maxsize=4)
def load_splits(settings: GeneratorSettings, n_train: int, n_val: int, n_test: int, n_shift: int,
                data_seed: int) -> Splits:
    """The frozen data sets of a run (memoised: every method of a sweep trains on the same arrays)."""
    return make_splits(settings, n_train, n_val, n_test, n_shift, data_seed)


def nonzeros(config: RunConfig) -> int:
    """The nonzero parameters of ``config``'s network at initialisation (masked tensors at their density).

    Counts exactly as a finished run's ``nnz`` does (the mask counts are fixed per layer), without training.
    """
    model = build_model(config.method, width=config.width, blocks_in_head=config.blocks_in_head,
                        n_heads=config.n_heads, n_blocks=config.n_blocks)
    total = sum(p.numel() for p in model.parameters())
    if not config.is_sparse:
        return total
    sparsity = DynamicSparsity(model, None, config.density, total_steps=1, groups=model.sparse_groups(),
                               seed=config.seed)
    masked_numel = sum(mask.numel() for mask in sparsity.masks.values())
    return total - masked_numel + sparsity.nnz()


def _logits(model: torch.nn.Module, x: np.ndarray, batch: int = 1000, device: str = "cpu") -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return torch.cat([model(torch.from_numpy(x[i:i + batch]).to(device)).cpu() for i in range(0, len(x), batch)])


def run_method(config: RunConfig) -> RunResult:
    """Train ``config.method`` once and evaluate it (see the module docstring).

    Runs on one thread (restored afterwards): the results then do not depend on the machine's cores,
    and small convolutions lose time to thread spin-waits on a shared machine. The budget guard
    counts this process's CPU seconds, which a loaded machine inflates far less than wall time.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(config)
    finally:
        torch.set_num_threads(threads)


def _run(config: RunConfig) -> RunResult:
    started = time.perf_counter()
    cpu_started = time.process_time()
    splits = load_splits(config.generator, config.n_train, config.n_val, config.n_test, config.n_shift,
                         config.data_seed)
    device = torch_device(config.device)
    torch.manual_seed(config.seed)
    # built on the CPU from the seed, then moved: the same initial weights on every device
    model = build_model(config.method, width=config.width, blocks_in_head=config.blocks_in_head,
                        n_heads=config.n_heads, n_blocks=config.n_blocks).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, nesterov=True,
                                weight_decay=config.weight_decay)
    steps_per_epoch = -(-config.n_train // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total_steps,
                                                    cycle_momentum=False)
    sparsity = None
    if config.is_sparse:
        # no topology update on the last step: it would re-zero weights after training ends
        freeze = (total_steps - 0.5) / total_steps
        if config.freeze_topology_at is not None:
            freeze = min(freeze, config.freeze_topology_at)
        sparsity = DynamicSparsity(model, optimizer, config.density, total_steps=total_steps,
                                   groups=model.sparse_groups(), update_every=config.update_every,
                                   prune=config.prune, grow=config.grow, prune_rate=config.prune_rate,
                                   final_prune_rate=config.final_prune_rate,
                                   freeze_topology_at=freeze,
                                   regrow_dropped=config.regrow_dropped,
                                   static=config.method == "neurotrails_static", seed=config.seed)
    # the budget guard counts training only: generating the data sets (the first run in a worker process)
    # and building the network are not the run's to pay for
    training_started = time.process_time()
    x_train = torch.from_numpy(splits.x_train).to(device)
    y_train = torch.from_numpy(splits.y_train).to(device)
    order_generator = torch.Generator().manual_seed(config.seed)
    curve, steps_done, stopped_early = [], 0, False
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=order_generator)
        epoch_loss = 0.0
        for start in range(0, len(order), config.batch_size):
            index = order[start:start + config.batch_size].to(device)
            logits = model(x_train[index])
            # one cross-entropy per head (mean over the batch), summed over heads: no hidden 1/M
            per_head = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), y_train[index].repeat_interleave(logits.shape[1]),
                reduction="none").view(len(index), logits.shape[1]).mean(dim=0)
            loss = per_head.sum() if config.loss_reduction == "sum" else per_head.mean()
            optimizer.zero_grad(set_to_none=False)
            loss.backward()
            optimizer.step()
            scheduler.step()
            if sparsity is not None:
                sparsity.step()
            epoch_loss += float(loss.detach()) * len(index)
            steps_done += 1
            if config.time_budget_s > 0 and time.process_time() - training_started > config.time_budget_s:
                stopped_early = True
                break
        curve.append({"epoch": epoch + 1, "train_loss": epoch_loss / len(x_train)})
        if stopped_early:
            break

    evaluation = {}
    for split in ("val", "test", "shift"):
        metrics = ensemble_metrics(_logits(model, getattr(splits, f"x_{split}"), device=device),
                                   torch.from_numpy(getattr(splits, f"y_{split}")), config.averaging)
        prefix = "" if split == "test" else f"{split}_"
        evaluation.update({f"{prefix}{key}": value for key, value in metrics.items()})
    n_params = sum(p.numel() for p in model.parameters())
    masked = sparsity.nnz() if sparsity is not None else 0
    masked_numel = sum(sparsity.masks[name].numel() for name in sparsity.masks) if sparsity is not None else 0
    summary = {
        "method": config.method, "seed": config.seed, "blocks_in_head": config.effective_blocks_in_head,
        "width": config.width,
        "heads": config.effective_heads, "density": config.density if config.is_sparse else 1.0,
        **evaluation,
        "params": n_params, "nnz": n_params - masked_numel + masked if sparsity is not None else n_params,
        "nnz_flops": nnz_flops(model, splits.x_train.shape[-1]), "device": device,
        "epochs_done": len(curve), "steps_done": steps_done, "total_steps": total_steps,
        "stopped_early": stopped_early, "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started, "data_hashes": splits.hashes(),
        "config": asdict(config),
    }
    layers = sparsity.report() if sparsity is not None else pd.DataFrame()
    topology = pd.DataFrame(sparsity.history) if sparsity is not None else pd.DataFrame()
    return RunResult(summary=summary, layers=layers, topology=topology, curve=pd.DataFrame(curve))

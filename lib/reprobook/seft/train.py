"""One-shot pruning runs and the repair (fine-tuning) methods of the pre-trained ShakeGPT.

Repair methods on the pruned model (target domain: Milton):

* ``none``: the pruned model, no fine-tuning;
* ``dense_ft``: every parameter trainable, no mask (dense afterwards: an upper bound, not sparse);
* ``lora``: rank-r adapters on the block linears; gives ``lora`` (merged, dense) and ``lora_star``
  (merged, then Wanda re-pruned to s with the source-domain calibration: "prune after tuning");
* ``static_mask_ft``: every surviving weight (plus embeddings, norms, head) trainable, mask fixed;
* ``spp``: the SPP-like adapter (Lu et al., ICML 2024): W' = W + W ⊙ (A B) with A random and B zero at
  rank r, the same trainable budget as LoRA; zeros of W stay zero, so the mask survives merging;
* ``static_delta``: a sparse delta of k = r·(d_in + d_out) random positions inside the mask, fixed;
* ``seft``: the same delta with the evolving topology of :class:`reprobook.seft.delta.SEFT`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import pandas as pd
import torch
from torch import nn

from reprobook.seft.delta import SEFT, SEFTSettings, SparseDeltaLinear, random_support
from reprobook.seft.model import (
    LINEAR_NAMES,
    PretrainConfig,
    ShakeGPT,
    block_linears,
    pretrained_model,
    warmup_cosine_schedule,
)
from reprobook.seft.prune import prune_model
from reprobook.seft.text import NGRAM_ADD, batch_at, eval_windows, load_corpus, ngram_loss

__all__ = ["PruneConfig", "RepairConfig", "METHODS", "SETUPS", "evaluate", "pretrained_baselines",
           "calibration_ids", "run_prune", "run_repair", "prepare_method", "pruned_model", "LoRALinear", "SPPLinear",
           "MASK_PRESERVING",
           "CSRConfig", "run_csr_speed", "Training", "one_thread"]

METHODS = ("none", "dense_ft", "lora", "spp", "static_mask_ft", "static_delta", "seft")
#: methods whose merged model keeps the pruner's mask (their nonzero count is checked)
MASK_PRESERVING = ("none", "spp", "static_mask_ft", "static_delta", "seft")
#: seed offsets: adapter initialisation, training batches and calibration windows draw from separate streams
ADAPTER_SEED_OFFSET = 1_000
DATA_SEED_OFFSET = 2_000
CALIBRATION_SEED_OFFSET = 10_000


@torch.no_grad()
def evaluate(model: nn.Module, n_windows: int = 128, batch: int = 64) -> dict[str, float]:
    """Validation loss (nats/char) on Milton (target) and Shakespeare (forgetting), fixed windows."""
    corpus = load_corpus()
    context = model.config.context
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = {}
    for name, stream in (("milton", corpus.milton_val), ("shakespeare", corpus.shakespeare_val)):
        x, y = eval_windows(stream, n_windows, context)
        total = 0.0
        for start in range(0, n_windows, batch):
            logits = model(x[start:start + batch].to(device))
            total += float(nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                       y[start:start + batch].to(device).reshape(-1), reduction="sum"))
        out[name] = total / y.numel()
    model.train(was_training)
    return out


def pretrained_baselines(model: nn.Module, n_windows: int = 128, orders: tuple[int, ...] = (2, 3)) -> pd.DataFrame:
    """The pre-trained model beside add-k character n-grams counted on the same Shakespeare training text:
    one row per model (``ShakeGPT (pre-trained)``, ``2-gram (add-0.1)``, …) with Milton and Shakespeare
    validation loss in nats/char. The n-grams are scored on the whole validation streams."""
    corpus = load_corpus()
    vocab = corpus.tokenizer.vocab_size
    rows = [{"model": "ShakeGPT (pre-trained)", **evaluate(model, n_windows)}]
    rows += [{"model": f"{order}-gram (add-{NGRAM_ADD:g})",
              "milton": ngram_loss(corpus.shakespeare_train, corpus.milton_val, vocab, order),
              "shakespeare": ngram_loss(corpus.shakespeare_train, corpus.shakespeare_val, vocab, order)}
             for order in orders]
    return pd.DataFrame(rows)


def calibration_ids(n_sequences: int, context: int, seed: int = 0) -> torch.Tensor:
    """Source-domain (Shakespeare training) calibration windows, fixed by ``seed``."""
    corpus = load_corpus()
    x, _ = batch_at(corpus.shakespeare_train, n_sequences, context,
                    torch.Generator().manual_seed(CALIBRATION_SEED_OFFSET + seed))
    return x


@dataclass(frozen=True)
class PruneConfig:
    pretrain: PretrainConfig
    pruner: str
    sparsity: float
    n_calibration: int = 32
    eval_windows: int = 128
    block: int = 128
    calibration_seed: int = 0


def pruned_model(config: PretrainConfig, pruner: str, sparsity: float, n_calibration: int, block: int = 128,
            calibration_seed: int = 0) -> tuple[ShakeGPT, dict[str, torch.Tensor]]:
    model, _ = pretrained_model(config)
    calibration = calibration_ids(n_calibration, config.context, seed=calibration_seed)
    masks = prune_model(model, pruner, sparsity, calibration, block=block, permutation_seed=calibration_seed)
    return model, masks


def run_prune(config: PruneConfig) -> dict:
    """E2: one-shot pruning of ShakeGPT, validation loss before and after."""
    with one_thread():
        return _prune(config)


def _prune(config: PruneConfig) -> dict:
    dense, _ = pretrained_model(config.pretrain)
    before = evaluate(dense, config.eval_windows)
    started = time.process_time()
    model, masks = pruned_model(config.pretrain, config.pruner, config.sparsity, config.n_calibration, config.block,
                           config.calibration_seed)
    seconds = time.process_time() - started
    after = evaluate(model, config.eval_windows)
    nnz = sum(int(mask.sum()) for mask in masks.values())
    size = sum(mask.numel() for mask in masks.values())
    return {"pruner": config.pruner, "sparsity": config.sparsity, "calibration_seed": config.calibration_seed,
            "dense_milton": before["milton"],
            "dense_shakespeare": before["shakespeare"], "milton": after["milton"],
            "shakespeare": after["shakespeare"], "density": nnz / size, "cpu_seconds": seconds}


class LoRALinear(nn.Module):
    """y = x (W + B A)ᵀ with W frozen, A (r × d_in) random, B (d_out × r) zero."""

    def __init__(self, weight: torch.Tensor, rank: int, generator: torch.Generator):
        super().__init__()
        d_out, d_in = weight.shape
        self.register_buffer("base", weight.detach().clone())
        self.A = nn.Parameter((torch.randn(rank, d_in, generator=generator) / math.sqrt(d_in)).to(weight.device))
        self.B = nn.Parameter(weight.new_zeros(d_out, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.base + self.B @ self.A)

    @torch.no_grad()
    def merged(self) -> torch.Tensor:
        return self.base + self.B @ self.A


class SPPLinear(nn.Module):
    """y = x (W + W ⊙ (A B))ᵀ with W frozen (sparse), A (d_out × r) random, B (r × d_in) zero: an SPP-like adapter.

    >>> layer = SPPLinear(torch.tensor([[1., 0.], [0., 2.]]), 1, torch.Generator().manual_seed(0))
    >>> with torch.no_grad():
    ...     _ = layer.B.fill_(1.0)
    >>> bool((layer.merged() == 0).eq(torch.tensor([[False, True], [True, False]])).all())
    True
    """

    def __init__(self, weight: torch.Tensor, rank: int, generator: torch.Generator):
        super().__init__()
        d_out, d_in = weight.shape
        self.register_buffer("base", weight.detach().clone())
        self.A = nn.Parameter((torch.randn(d_out, rank, generator=generator) / math.sqrt(rank)).to(weight.device))
        self.B = nn.Parameter(weight.new_zeros(rank, d_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.base + self.base * (self.A @ self.B))

    @torch.no_grad()
    def merged(self) -> torch.Tensor:
        return self.base + self.base * (self.A @ self.B)


@dataclass(frozen=True)
class RepairConfig:
    pretrain: PretrainConfig
    method: str
    pruner: str = "wanda"
    sparsity: float = 0.7
    seed: int = 0
    steps: int = 150
    batch: int = 16
    lr: float = 1e-3
    lr_adapter: float = 3e-3
    warmup: int = 15
    rank: int = 4
    seft: SEFTSettings = field(default_factory=SEFTSettings)
    n_calibration: int = 32
    eval_windows: int = 128
    eval_every: int = 50
    time_budget_s: float = 0.0
    #: where the training steps and the evaluations during training run (pruning and the final numbers: CPU)
    device: str = "cpu"


def _replace_linears(model: ShakeGPT, make) -> dict[str, nn.Module]:
    layers = {}
    for index, block in enumerate(model.blocks):
        for name in LINEAR_NAMES:
            new = make(f"blocks.{index}.{name}", getattr(block, name).weight.detach())
            setattr(block, name, new)
            layers[f"blocks.{index}.{name}"] = new
    return layers


def _write_back(model: ShakeGPT, layers: dict[str, nn.Module]) -> None:
    """Replace adapter modules by plain linears holding their merged weights."""
    for name, layer in layers.items():
        _, index, attr = name.split(".")
        d_out, d_in = layer.base.shape
        linear = nn.Linear(d_in, d_out, bias=False)
        with torch.no_grad():
            linear.weight.copy_(layer.merged())
        setattr(model.blocks[int(index)], attr, linear)




def _freeze(model: ShakeGPT) -> None:
    for parameter in model.parameters():
        parameter.requires_grad_(False)


def _setup_none(model, masks, config, generator) -> tuple[dict[str, nn.Module], float]:
    _freeze(model)
    return {}, config.lr


def _setup_dense_ft(model, masks, config, generator) -> tuple[dict[str, nn.Module], float]:
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    return {}, config.lr


def _setup_static_mask_ft(model, masks, config, generator) -> tuple[dict[str, nn.Module], float]:
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    for _, module in block_linears(model):
        module.weight.requires_grad_(False)
    return _replace_linears(model, lambda name, w: SparseDeltaLinear(
        w, masks[name], torch.nonzero(masks[name].flatten()).flatten())), config.lr


def _setup_lora(model, masks, config, generator) -> tuple[dict[str, nn.Module], float]:
    _freeze(model)
    return _replace_linears(model, lambda name, w: LoRALinear(w, config.rank, generator)), config.lr_adapter


def _setup_spp(model, masks, config, generator) -> tuple[dict[str, nn.Module], float]:
    _freeze(model)
    return _replace_linears(model, lambda name, w: SPPLinear(w, config.rank, generator)), config.lr_adapter


def _setup_sparse_delta(model, masks, config, generator) -> tuple[dict[str, nn.Module], float]:
    _freeze(model)
    return _replace_linears(model, lambda name, w: SparseDeltaLinear(
        w, masks[name], random_support(masks[name], config.rank * sum(w.shape), generator))), config.lr_adapter


#: how each repair method makes the pruned model trainable: (adapter layers by name, learning rate)
SETUPS = {"none": _setup_none, "dense_ft": _setup_dense_ft, "static_mask_ft": _setup_static_mask_ft,
          "lora": _setup_lora, "spp": _setup_spp, "static_delta": _setup_sparse_delta, "seft": _setup_sparse_delta}


def prepare_method(model: ShakeGPT, masks: dict[str, torch.Tensor], config: RepairConfig,
                   generator: torch.Generator) -> tuple[dict[str, nn.Module], float]:
    """Make ``model`` trainable the way ``config.method`` does; return its adapter layers and learning rate."""
    return SETUPS[config.method](model, masks, config, generator)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread inside the block: the matrices are tiny, and a worker process per core
    already uses the machine; more threads only spin."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class Training:
    """A prepared repair run of ``config.method`` on a pruned model: its adapter layers, AdamW over the
    trainable parameters, the warm-up + cosine schedule over ``total_steps`` and, for SEFT, the topology
    controller. :meth:`step` is the one training step every caller (repair runs, cost runs) takes."""

    def __init__(self, model: ShakeGPT, masks: dict[str, torch.Tensor], config: RepairConfig, total_steps: int,
                 settings: SEFTSettings | None = None):
        torch.manual_seed(config.seed)
        generator = torch.Generator().manual_seed(ADAPTER_SEED_OFFSET + config.seed)
        self.model, self.config = model, config
        self.device = next(model.parameters()).device
        self.layers, lr = prepare_method(model, masks, config, generator)
        self.trainable = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.trainable, lr=lr, weight_decay=0.0) if self.trainable else None
        self.scheduler = warmup_cosine_schedule(self.optimizer, total_steps, config.warmup) if self.optimizer else None
        self.controller = (SEFT(self.layers, self.optimizer, total_steps, settings or config.seft, seed=config.seed)
                           if config.method == "seft" else None)
        self.data = torch.Generator().manual_seed(DATA_SEED_OFFSET + config.seed)

    def step(self, stream: torch.Tensor, step: int) -> float:
        """Optimizer step ``step`` (1-based) on a batch drawn from ``stream``; returns the batch loss."""
        controller = self.controller
        if controller is not None:
            controller.before_step(step)
        x, y = batch_at(stream, self.config.batch, self.config.pretrain.context, self.data)
        loss = self.model.loss(x.to(self.device), y.to(self.device))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if controller is not None:
            controller.after_backward()
        self.optimizer.step()
        self.scheduler.step()
        if controller is not None:
            controller.after_step(step)
        return float(loss.detach())


def run_repair(config: RepairConfig) -> dict:
    """E3: fine-tune the pruned model on Milton with one method; metrics, curves, budgets, topology log."""
    if config.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {config.method!r}")
    with one_thread():
        return _repair(config)


def _repair(config: RepairConfig) -> dict:
    corpus = load_corpus()
    model, masks = pruned_model(config.pretrain, config.pruner, config.sparsity, config.n_calibration)
    target_nnz = {name: int(mask.sum()) for name, mask in masks.items()}
    model.to(config.device)
    training = Training(model, {name: mask.to(config.device) for name, mask in masks.items()}, config, config.steps)
    layers, controller = training.layers, training.controller
    n_trainable = sum(p.numel() for p in training.trainable)
    curve = [{"step": 0, **evaluate(model, config.eval_windows)}]
    history: list[dict] = []
    stopped_early = False
    steps_done = 0
    train_seconds = 0.0
    if config.method != "none":
        started = time.perf_counter()
        cpu_started = time.process_time()  # the budget counts CPU seconds, which load inflates far less
        for step in range(1, config.steps + 1):
            if config.time_budget_s and time.process_time() - cpu_started > config.time_budget_s:
                stopped_early = True
                break
            training.step(corpus.milton_train, step)
            steps_done = step
            if step % config.eval_every == 0 and step < config.steps:
                train_seconds += time.perf_counter() - started
                curve.append({"step": step, **evaluate(model, config.eval_windows)})
                started = time.perf_counter()
        train_seconds += time.perf_counter() - started
        if controller is not None:
            history = controller.history
    model.to("cpu")
    dead_slots = sum(layer.dead_slots() for layer in layers.values() if isinstance(layer, SparseDeltaLinear))
    if layers:
        _write_back(model, layers)
    results = {}
    final = evaluate(model, config.eval_windows)
    curve.append({"step": steps_done, **final})
    name = "lora" if config.method == "lora" else config.method
    results[name] = final
    if config.method == "lora":
        starred = prune_model(model, "wanda", config.sparsity, calibration_ids(config.n_calibration,
                                                                               config.pretrain.context))
        results["lora_star"] = evaluate(model, config.eval_windows)
        final_masks = starred
    else:
        final_masks = {n: module.weight != 0 for n, module in block_linears(model)}
    nnz = {n: int(mask.sum()) for n, mask in final_masks.items()}
    size = sum(mask.numel() for mask in final_masks.values())
    sparse_method = config.method in (*MASK_PRESERVING, "lora")
    exact = all(nnz[n] <= target_nnz[n] for n in nnz) if sparse_method else False
    if config.method == "seft" and history:
        exact = exact and all(record["nnz_exact"] for record in history)
    if config.method == "seft":
        # the mask count itself (the merged weights can hold extra exact zeros)
        exact = exact and all(int(layers[n].mask.sum()) == target_nnz[n] for n in layers)
    rows = []
    for method_name, metrics in results.items():
        density = (sum(nnz.values()) / size) if method_name not in ("dense_ft", "lora") else 1.0
        rows.append({"method": method_name, "seed": config.seed, "sparsity": config.sparsity,
                     "milton": metrics["milton"], "shakespeare": metrics["shakespeare"], "density": density,
                     "trainable": n_trainable, "optimizer_floats": 2 * n_trainable,
                     "s_per_step": train_seconds / max(steps_done, 1), "steps": steps_done,
                     "stopped_early": stopped_early, "dead_slots": dead_slots,
                     "nnz_exact": exact if method_name not in ("dense_ft", "lora") else False})
    return {"rows": pd.DataFrame(rows), "curve": pd.DataFrame(curve).assign(method=config.method,
                                                                            seed=config.seed),
            "history": pd.DataFrame(history)}


@dataclass(frozen=True)
class CSRConfig:
    d_in: int = 384
    d_out: int = 1536
    tokens: int = 256
    sparsities: tuple[float, ...] = (0.0, 0.7, 0.9)  # s = 0: the dense matrix stored as CSR (the control)
    repeats: int = 5


def run_csr_speed(config: CSRConfig) -> pd.DataFrame:
    """S9: torch CSR ``sparse.mm`` vs dense matmul, 1 thread; one row per (sparsity, repeat).

    Each repeat times 20 products of each kind, interleaved, in process time; its ratio dense ÷ CSR
    is one replicate of the speed-up.
    """
    with one_thread():
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(config.d_in, config.tokens, generator=generator)
        rows = []
        for sparsity in config.sparsities:
            weight = torch.randn(config.d_out, config.d_in, generator=generator)
            weight = weight * (torch.rand(weight.shape, generator=generator) >= sparsity)
            csr = weight.to_sparse_csr()

            def timed(fn, *args) -> float:
                start = time.process_time()
                for _ in range(20):
                    fn(*args)
                return (time.process_time() - start) / 20
            for repeat in range(config.repeats):
                dense_s = timed(torch.mm, weight, x)
                sparse_s = timed(torch.sparse.mm, csr, x)
                rows.append({"sparsity": sparsity, "repeat": repeat, "dense_ms": 1e3 * dense_s,
                             "csr_ms": 1e3 * sparse_s, "speedup": dense_s / max(sparse_s, 1e-12)})
        return pd.DataFrame(rows)


def with_seft(config: RepairConfig, **changes) -> RepairConfig:
    """A copy of ``config`` with SEFT settings changed (for the ablations)."""
    return replace(config, seft=replace(config.seft, **changes))

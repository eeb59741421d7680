"""Hot paths of the neurotrails chapter, each against the strongest reference for its job, interleaved.

Run: ``python bench/neurotrails.py`` (``--quick`` for a few-second check that writes no record). One torch
thread; candidates run interleaved for several rounds (:func:`reprobook.benchmark.compare`), with the
ratio to the reference and its bootstrap interval over rounds. Targets (from the chapter's brief):

1. **MNIST-1D generator** against the original ``mnist1d`` package (0.0.2.post1, PyPI) at the same
   settings (its published defaults, our book noise): target ≥ 10× its samples/s (the package draws one
   sample at a time in Python; ours draws all at once in numpy).
2. **All heads in one grouped pass** (the full ensemble of 3, as the chapter trains it) against **three
   separate single networks**, forward + backward + SGD step on one batch: target ≥ 1× (no slower). The
   grouped pass is *slower* on CPU: it concatenates the heads' outputs after every convolution
   and normalises 3C channels per BatchNorm call, which three plain networks never do; at these small
   widths the copies cost more than the saved calls. The chapter keeps one model for the runs' simplicity
   (one optimizer, one mask set, one forward for the sum of the heads' losses), not for speed; the ratio
   printed here is the price. The dense multi-head model at b = 4 (a shared trunk) is shown beside it.
3. **One topology update** against one training step of NeuroTrails (b = 4): the update must cost < 5 % of
   the ΔT = 50 steps between two updates, i.e. less than 2.5 steps: target ≥ 0.4×.
4. **Masking weights and momentum** after a step against one training step: target ≥ 20× (< 5 %).

``--quick`` uses width 16 and 500 generator samples, 3 rounds: it keeps the script working, its ratios
are not the record's.
"""

from __future__ import annotations

import contextlib
import io

import torch

from reprobook.benchmark import BenchResult, compare, quick_mode, write_record
from reprobook.neurotrails.heads import build_model
from reprobook.neurotrails.mnist1d import GeneratorSettings, generate
from reprobook.sparse import DynamicSparsity

HEADS, BATCH, DELTA_T = 3, 128, 50
OVERHEAD = 0.05  # the brief's bound on the sparse machinery's share of training time


def training_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor):
    """One SGD step on the summed cross-entropies of the model's heads."""
    def step() -> None:
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 y.repeat_interleave(logits.shape[1]), reduction="sum") / len(y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def generator_benchmark(samples: int, rounds: int) -> BenchResult:
    from mnist1d.data import get_dataset_args, make_dataset

    settings = GeneratorSettings()
    args = get_dataset_args()
    args.num_samples, args.corr_noise_scale, args.iid_noise_scale = samples, settings.corr_noise_scale, \
        settings.iid_noise_scale

    def reference() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            make_dataset(args)

    return compare({"mnist1d package": reference, "reprobook generate": lambda: generate(settings, samples, seed=0)},
                   reference="mnist1d package", name="MNIST-1D generator vs the original mnist1d package",
                   work=samples, unit="samples", rounds=rounds, targets={"reprobook generate": 10.0},
                   notes="same settings: the published defaults with the book's noise scales (0.4, 0.05)")


def ensemble_benchmark(x: torch.Tensor, y: torch.Tensor, rounds: int, width: int) -> BenchResult:
    joint = build_model("full_ensemble", width=width, blocks_in_head=6, n_heads=HEADS)
    members = [build_model("single", width=width, blocks_in_head=0, n_heads=1) for _ in range(HEADS)]
    treenet = build_model("treenet", width=width, blocks_in_head=4, n_heads=HEADS)
    member_steps = [training_step(m, torch.optim.SGD(m.parameters(), lr=0.01), x, y) for m in members]
    return compare({
        "3 separate networks": lambda: [step() for step in member_steps],
        "full ensemble, one grouped pass": training_step(joint, torch.optim.SGD(joint.parameters(), lr=0.01), x, y),
        "multi-head b = 4, one pass": training_step(treenet, torch.optim.SGD(treenet.parameters(), lr=0.01), x, y),
    }, reference="3 separate networks", name=f"{HEADS} members in one grouped pass vs {HEADS} separate networks",
        work=BATCH, unit="samples", rounds=rounds, targets={"full ensemble, one grouped pass": 1.0},
        notes=f"forward + backward + SGD step, width {width}, batch {BATCH}; the grouped pass is slower on CPU "
              "(see the script's docstring)")


def topology_benchmark(x: torch.Tensor, y: torch.Tensor, rounds: int, width: int) -> BenchResult:
    model = build_model("neurotrails", width=width, blocks_in_head=4, n_heads=HEADS)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    sparsity = DynamicSparsity(model, optimizer, 0.5, total_steps=10_000, groups=model.sparse_groups(),
                               update_every=10 ** 9)
    return compare({"one training step": training_step(model, optimizer, x, y),
                    "one topology update": sparsity.update_topology,
                    "mask weights + momentum": sparsity.apply_masks},
                   reference="one training step", name="topology update and masking vs one training step",
                   work=1, unit="calls", rounds=rounds,
                   targets={"one topology update": 1 / (OVERHEAD * DELTA_T), "mask weights + momentum": 1 / OVERHEAD},
                   notes=f"NeuroTrails b = 4, width {width}, density 0.5, batch {BATCH}: an update shorter than "
                         f"{OVERHEAD * DELTA_T:g} steps costs < {OVERHEAD:.0%} of the ΔT = {DELTA_T} steps between updates")


def main() -> None:
    quick = quick_mode()
    rounds, width = (3, 16) if quick else (9, 48)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x, y = torch.randn(BATCH, 1, 40), torch.randint(0, 10, (BATCH,))
    results = [generator_benchmark(500 if quick else 5_000, rounds), ensemble_benchmark(x, y, rounds, width),
               topology_benchmark(x, y, rounds, width)]
    for result in results:
        print(result.report())
        print()
    write_record(results, "neurotrails")


if __name__ == "__main__":
    main()

"""Hot paths of the seft chapter, each beside a baseline measured in the same run (1 thread, CPU time).

Run: python bench/seft.py [--quick]. Targets (chapter brief §6): SparseGPT ≤ 2 CPU-s per 384 × 1,536
layer at B = 128, its achieved GFLOP/s reported as a fraction of a same-size ``torch.mm``; Wanda and
magnitude ≪ 0.3 s per layer; one SEFT topology update < 5 % of ΔT × step time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from reprobook.seft.delta import SEFT, SEFTSettings, SparseDeltaLinear, random_support
from reprobook.seft.model import GPTConfig, ShakeGPT
from reprobook.seft.prune import magnitude_mask, sparsegpt, wanda_mask
from reprobook.seft.train import LoRALinear


def cpu_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return float(np.median(times))


def bench_pruners(sizes, blocks, repeats: int) -> pd.DataFrame:
    rows = []
    tokens = 4096
    for rows_, columns in sizes:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(tokens, columns, generator=g)
        weight = torch.randn(rows_, columns, generator=g)
        hessian = 2 * x.T @ x / tokens
        mm_s = cpu_time(lambda: torch.mm(weight, hessian), repeats)  # noqa: B023
        mm_rate = 2 * rows_ * columns * columns / mm_s
        for block in blocks:
            seconds = cpu_time(lambda: sparsegpt(weight, hessian, 0.5, block=block), repeats)  # noqa: B023
            flops = columns ** 3 + 2 * rows_ * columns ** 2 + 2 * rows_ * columns * block
            rows.append({"part": "sparsegpt (given H)", "R": rows_, "C": columns, "B": block, "cpu_s": seconds,
                         "gflops": flops / seconds / 1e9, "fraction_of_mm": flops / seconds / mm_rate})
        norms = x.pow(2).sum(0)
        rows.append({"part": "wanda", "R": rows_, "C": columns,
                     "cpu_s": cpu_time(lambda: wanda_mask(weight, norms, 0.5), repeats)})  # noqa: B023
        rows.append({"part": "magnitude", "R": rows_, "C": columns,
                     "cpu_s": cpu_time(lambda: magnitude_mask(weight, 0.5), repeats)})  # noqa: B023
    return pd.DataFrame(rows)


def _model(method: str, layers: int, d: int):
    model = ShakeGPT(GPTConfig(vocab=85, layers=layers, d=d, heads=4, context=64))
    adapters = {}
    if method != "dense_ft":
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        for i, block in enumerate(model.blocks):
            for name in ("q", "k", "v", "o", "up", "down"):
                weight = getattr(block, name).weight.detach()
                mask = weight.abs() > weight.abs().median()
                if method == "lora":
                    module = LoRALinear(weight * mask, 4, torch.Generator().manual_seed(0))
                else:
                    support = random_support(mask, 4 * sum(weight.shape), torch.Generator().manual_seed(0))
                    module = SparseDeltaLinear(weight, mask, support)
                setattr(block, name, module)
                adapters[f"{i}.{name}"] = module
    return model, adapters


def _one_method(method: str, layers: int, d: int, steps: int, repeats: int, x: torch.Tensor) -> tuple[dict, float]:
    torch.manual_seed(0)
    model, adapters = _model(method, layers, d)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=1e-3)
    controller = None
    if method == "seft":
        controller = SEFT(adapters, optimizer, 100, SEFTSettings(update_every=20, window=1, first_full=False))

    def step(update: bool = False) -> float:
        if update:
            controller.before_step(20)
        loss = model.loss(x, x)
        optimizer.zero_grad()
        loss.backward()
        if update:
            controller.after_backward()
        optimizer.step()
        start = time.process_time()
        if update:
            controller.after_step(20)
        return time.process_time() - start

    step()
    seconds = cpu_time(lambda: [step() for _ in range(steps)], repeats) / steps
    overhead = float("nan")
    if controller is not None:
        update_s = float(np.median([step(update=True) for _ in range(repeats)]))
        overhead = update_s / (controller.settings.update_every * seconds)
    row = {"method": method, "cpu_s_per_step": seconds, "optimizer_floats": 2 * sum(p.numel() for p in trainable)}
    return row, overhead


def bench_training(layers: int, d: int, steps: int, repeats: int) -> tuple[pd.DataFrame, float]:
    """s/step and optimizer-state floats of dense FT, LoRA (r = 4) and SEFT; SEFT update overhead."""
    x = torch.randint(0, 85, (32, 64), generator=torch.Generator().manual_seed(0))
    results = [_one_method(method, layers, d, steps, repeats, x) for method in ("dense_ft", "lora", "seft")]
    return pd.DataFrame([row for row, _ in results]), results[-1][1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats = 3 if args.quick else 5
    sizes = [(256, 256), (384, 384)] if args.quick else [(r, c) for r in (256, 384, 1024, 1536)
                                                          for c in (256, 384, 1024, 1536)]
    blocks = (32, 128) if args.quick else (32, 64, 128)
    pd.set_option("display.width", 160)
    print(bench_pruners(sizes, blocks, repeats).round(4).to_string(index=False))
    training, overhead = bench_training(2 if args.quick else 4, 64 if args.quick else 128, 3 if args.quick else 5,
                                        repeats)
    dense = float(training.cpu_s_per_step[training.method == "dense_ft"].iloc[0])
    training["ratio_to_dense_ft"] = training.cpu_s_per_step / dense
    print(training.round(4).to_string(index=False))
    print(f"SEFT topology update / (ΔT × step time) = {overhead:.3f} (target < 0.05)")


if __name__ == "__main__":
    main()

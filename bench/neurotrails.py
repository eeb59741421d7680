"""Hot paths of the neurotrails chapter, each beside a baseline measured in the same run.

Run: python bench/neurotrails.py [--quick]. One torch thread, CPU seconds (time.process_time), median of
5 repeats (3 with --quick). Targets (from the chapter's brief):
- one topology update ÷ (ΔT × one training step) < 5 % at ΔT = 50;
- masking weights and optimizer state after a step: negligible next to the step;
- all heads in one forward/backward pass: no slower than M separate networks;
- the MNIST-1D generator ≫ 1,000 samples/s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from reprobook.neurotrails.heads import build_model
from reprobook.neurotrails.mnist1d import GeneratorSettings, generate
from reprobook.sparse import DynamicSparsity


def cpu_time(fn, repeats: int) -> float:
    """Median CPU seconds of ``fn()`` over ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def training_step(model, optimizer, x, y):
    def step():
        logits = model(x)
        loss = sum(torch.nn.functional.cross_entropy(logits[:, m], y) for m in range(logits.shape[1]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats, fewer generator samples")
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    torch.set_num_threads(1)
    torch.manual_seed(0)
    width, heads, batch = 48, 3, 128
    x, y = torch.randn(batch, 1, 40), torch.randint(0, 10, (batch,))

    # 1. topology update vs ΔT training steps (NeuroTrails, b = 4, D = 0.5)
    model = build_model("neurotrails", width=width, blocks_in_head=4, n_heads=heads)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    sparsity = DynamicSparsity(model, optimizer, 0.5, total_steps=10_000, groups=model.sparse_groups(),
                               update_every=10 ** 9)
    step = training_step(model, optimizer, x, y)
    step_time = cpu_time(step, repeats)
    mask_time = cpu_time(sparsity.apply_masks, repeats)
    update_time = cpu_time(sparsity.update_topology, repeats)
    ratio = update_time / (50 * step_time)
    print(f"training step (NeuroTrails b = 4, C = {width}, batch {batch}): {step_time * 1e3:.1f} ms CPU")
    print(f"mask weights + momentum after a step: {mask_time * 1e3:.2f} ms = {mask_time / step_time:.1%} of a step "
          f"(target: negligible, < 5 %): {'met' if mask_time / step_time < 0.05 else 'MISSED'}")
    print(f"one topology update: {update_time * 1e3:.1f} ms; ÷ (ΔT = 50 steps) = {ratio:.2%} "
          f"(target < 5 %): {'met' if ratio < 0.05 else 'MISSED'}")

    # 2. all heads in one pass vs M separate networks, forward + backward
    joint = build_model("full_ensemble", width=width, blocks_in_head=6, n_heads=heads)
    members = [build_model("single", width=width, blocks_in_head=0, n_heads=1) for _ in range(heads)]
    joint_step = training_step(joint, torch.optim.SGD(joint.parameters(), lr=0.01), x, y)
    member_steps = [training_step(m, torch.optim.SGD(m.parameters(), lr=0.01), x, y) for m in members]
    joint_time = cpu_time(joint_step, repeats)
    separate_time = cpu_time(lambda: [s() for s in member_steps], repeats)
    print(f"full ensemble of {heads}, one grouped pass: {joint_time * 1e3:.1f} ms vs {heads} separate networks "
          f"{separate_time * 1e3:.1f} ms: ratio {separate_time / joint_time:.2f}× "
          f"({'met' if joint_time <= 1.1 * separate_time else 'MISSED'}: no slower than separate)")
    treenet = build_model("treenet", width=width, blocks_in_head=4, n_heads=heads)
    tree_time = cpu_time(training_step(treenet, torch.optim.SGD(treenet.parameters(), lr=0.01), x, y), repeats)
    print(f"multi-head b = 4 (dense): {tree_time * 1e3:.1f} ms = {tree_time / separate_time:.2f}× "
          f"the {heads} separate networks (shared trunk: expected ≈ (2 + 3·4) / 18 = 0.78)")

    # 3. generator throughput: vectorised vs one sample per call
    settings = GeneratorSettings()
    n = 20_000 if not args.quick else 5_000
    vectorised = cpu_time(lambda: generate(settings, n, seed=0), repeats)
    loop_n = 500
    looped = cpu_time(lambda: [generate(settings, 1, seed=i) for i in range(loop_n)], repeats)
    rate, loop_rate = n / vectorised, loop_n / looped
    print(f"MNIST-1D generator: {rate:,.0f} samples/s vectorised vs {loop_rate:,.0f}/s one sample per call: "
          f"ratio {rate / loop_rate:.0f}× (target ≫ 1,000/s: {'met' if rate > 10_000 else 'MISSED'})")


if __name__ == "__main__":
    main()

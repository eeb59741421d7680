"""Throughput of the hasard chapter's hot paths, each beside a baseline measured in the same run.

Run: python bench/hasard.py [--quick]. Targets (from the chapter's brief, idle 2-core machine):
single environment at 160 × 120 without extra buffers ≈ 1,000–2,500 agent steps/s (AB/VV/CD),
750–1,300 (RR/PP), 330–470 (DD); two workers ≥ 1,500 steps/s aggregate for CD/VV/AB and ≥ 500 for DD;
pixel PPO ≥ 1,000 samples/s per core at 80 × 60 grey with 2 epochs. CPU is counted over the whole
process tree: every environment runs its engine as a child process (``vizdoom``), so this process's
own ``process_time`` would leave the engine's share out.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

import numpy as np

from reprobook.benchmark import tree_cpu_seconds
from reprobook.hasard.assets import config_path, wad_path
from reprobook.hasard.env import HasardEnv
from reprobook.hasard.heatmap import VisitGrid
from reprobook.hasard.pixel_ppo import PixelPPOConfig, train_pixel_ppo
from reprobook.hasard.scenarios import SPECS


def bare_engine_rate(scenario: str, steps: int) -> float:
    """The baseline: vizdoom's make_action + screen fetch, no wrapper."""
    import vizdoom

    game = vizdoom.DoomGame()
    game.load_config(str(config_path(scenario)))
    game.set_doom_scenario_path(str(wad_path(scenario, 1)))
    game.set_window_visible(False)
    game.set_screen_resolution(vizdoom.ScreenResolution.RES_160X120)
    game.init()
    game.new_episode()
    rng = np.random.default_rng(0)
    n_buttons = game.get_available_buttons_size()
    started = time.perf_counter()
    for _ in range(steps):
        if game.is_episode_finished():
            game.new_episode()
        game.make_action((rng.random(n_buttons) < 0.3).tolist(), 4)
        state = game.get_state()
        if state is not None:
            state.screen_buffer.copy()
    rate = steps / (time.perf_counter() - started)
    game.close()
    return rate


def wrapper_rate(scenario: str, steps: int) -> float:
    env = HasardEnv(scenario, 1)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, env.spec_.nvec, size=(steps, len(env.spec_.nvec)))
    started = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    rate = steps / (time.perf_counter() - started)
    env.close()
    return rate


def _worker(args: tuple[str, int]) -> float:
    return wrapper_rate(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (CI)")
    quick = parser.parse_args().quick
    steps = 500 if quick else 3000

    print(f"environment steps/s at 160 × 120 RGB, frame-skip 4, random actions ({steps} steps each):")
    for scenario in SPECS:
        bare, ours = bare_engine_rate(scenario, steps), wrapper_rate(scenario, steps)
        print(f"  {SPECS[scenario].title:20s} ours {ours:7,.0f}   bare engine {bare:7,.0f}   ratio {ours / bare:.2f}")

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        for scenario in ("collateral_damage", "detonators_dilemma"):
            started = time.perf_counter()
            pool.map(_worker, [(scenario, steps)] * 2)
            aggregate = 2 * steps / (time.perf_counter() - started)
            target = 500 if scenario == "detonators_dilemma" else 1500
            print(f"two worker processes, {SPECS[scenario].title}: {aggregate:,.0f} steps/s aggregate incl. start-up "
                  f"(target ≥ {target:,}: {'met' if aggregate >= target else 'MISSED'})")

    rng = np.random.default_rng(0)
    spec = SPECS["remedy_rush"]
    x0, y0, x1, y1 = spec.coord_limits
    x, y = rng.uniform(x0 - 50, x1 + 50, 2_000_000), rng.uniform(y0 - 50, y1 + 50, 2_000_000)
    grid = VisitGrid(spec.coord_limits, spec.heatmap_bins)
    started = time.perf_counter()
    grid.add(x, y)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)  # the baseline must clip and count too
    reference, _, _ = np.histogram2d(x[inside], y[inside], bins=grid.edges())
    baseline = time.perf_counter() - started
    print(f"heatmap of 2e6 positions: bincount {ours * 1e3:.0f} ms vs numpy.histogram2d {baseline * 1e3:.0f} ms "
          f"(ratio {baseline / ours:.1f}×, same counts: {np.array_equal(grid.counts, reference.astype(int))}, "
          f"out of range {grid.out_of_range:,} = {int((~inside).sum()):,})")

    total = 2048 if quick else 8192
    rates = {}
    for epochs in (2, 4):
        cpu, own = tree_cpu_seconds(), time.process_time()
        frame = train_pixel_ppo(PixelPPOConfig(method="ppo_lag", total_steps=total, n_envs=8, epochs=epochs))
        rates[epochs] = (frame.samples_per_s.iloc[-1], total / (tree_cpu_seconds() - cpu),
                         total / (time.process_time() - own))
    print(f"pixel PPO-Lag on Collateral Damage, 80 × 60 grey: 2 epochs {rates[2][0]:,.0f} samples/s wall "
          f"({rates[2][1]:,.0f} per CPU-s of the process tree, engines included; {rates[2][2]:,.0f} per CPU-s "
          f"of the learner's process alone) vs the 4-epoch baseline {rates[4][0]:,.0f} "
          f"(ratio {rates[2][0] / rates[4][0]:.2f}×); target ≥ 1,000 per core: "
          f"{'met' if rates[2][1] >= 1000 else 'MISSED'}")


if __name__ == "__main__":
    main()

"""Throughput of the hasard chapter's hot paths against the bare engine and numpy, on the kit's harness.

Candidates run interleaved (:func:`reprobook.benchmark.compare`): medians, spreads, the speed
ratio's interval and the CPU of the whole process tree (every environment runs its engine as a
child process, so this process's own ``process_time`` would leave the engine's share out).

- **Environment steps** per scenario at 160 × 120 RGB, frame-skip 4, random actions: our
  ``HasardEnv`` (cost bookkeeping, ``info``, CHW observation) against vizdoom's bare
  ``make_action`` + screen copy, the floor any wrapper pays. Both environments are created once;
  only stepping is timed. Ours is slower by its bookkeeping; target ≥ 0.8× the bare engine.
- **Visit heatmap** of 2e6 positions: ``np.bincount`` over clipped cell indices (ours) against
  ``numpy.histogram2d`` with the same clipping and out-of-range count.
- Full run only: two worker processes stepping Collateral Damage and Detonator's Dilemma
  (targets ≥ 1,500 and ≥ 500 steps/s aggregate on an idle 2-core machine), and the pixel PPO-Lag
  learner's samples per CPU-second of the process tree (target ≥ 1,000 per core at 80 × 60 grey,
  2 epochs) beside 4 epochs.

Run: ``python bench/hasard.py`` (``--quick``: one scenario, 200 steps, two rounds; seconds).
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np

from reprobook.benchmark import compare, quick_mode, tree_cpu_seconds, write_record
from reprobook.hasard.assets import config_path, wad_path
from reprobook.hasard.env import HasardEnv
from reprobook.hasard.heatmap import VisitGrid
from reprobook.hasard.pixel_ppo import PixelPPOConfig, train_pixel_ppo
from reprobook.hasard.scenarios import SPECS


def bare_engine(scenario: str, scratch: Path):
    """vizdoom's own loop (make_action + screen copy), created once; returns a stepping function."""
    import vizdoom

    game = vizdoom.DoomGame()
    game.load_config(str(config_path(scenario)))
    game.set_doom_scenario_path(str(wad_path(scenario, 1)))
    game.set_doom_config_path(str(scratch / "_vizdoom.ini"))  # keep the engine's scratch files out of the tree
    game.set_window_visible(False)
    game.set_screen_resolution(vizdoom.ScreenResolution.RES_160X120)
    game.init()
    game.new_episode()
    rng = np.random.default_rng(0)
    n_buttons = game.get_available_buttons_size()

    def run(steps: int) -> None:
        for _ in range(steps):
            if game.is_episode_finished():
                game.new_episode()
            game.make_action((rng.random(n_buttons) < 0.3).tolist(), 4)
            state = game.get_state()
            if state is not None:
                state.screen_buffer.copy()

    return game, run


def wrapped_env(scenario: str):
    env = HasardEnv(scenario, 1)
    env.reset(seed=0)
    rng = np.random.default_rng(0)

    def run(steps: int) -> None:
        for action in rng.integers(0, env.spec_.nvec, size=(steps, len(env.spec_.nvec))):
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()

    return env, run


def env_comparison(scenario: str, steps: int, rounds: int, scratch: Path):
    game, bare = bare_engine(scenario, scratch)
    env, ours = wrapped_env(scenario)
    try:
        return compare({"bare vizdoom engine": lambda: bare(steps), "HasardEnv (ours)": lambda: ours(steps)},
                       reference="bare vizdoom engine", name=f"hasard env steps, {SPECS[scenario].title}",
                       work=steps, unit="env steps", rounds=rounds, targets={"HasardEnv (ours)": 0.8},
                       notes="160 × 120 RGB, frame-skip 4, random actions; environments created once")
    finally:
        game.close()
        env.close()


def heatmap_comparison(n_positions: int, rounds: int):
    rng = np.random.default_rng(0)
    spec = SPECS["remedy_rush"]
    x0, y0, x1, y1 = spec.coord_limits
    x, y = rng.uniform(x0 - 50, x1 + 50, n_positions), rng.uniform(y0 - 50, y1 + 50, n_positions)
    edges = VisitGrid(spec.coord_limits, spec.heatmap_bins).edges()

    def ours() -> None:
        VisitGrid(spec.coord_limits, spec.heatmap_bins).add(x, y)

    def histogram2d() -> None:
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)  # the reference must clip and count too
        np.histogram2d(x[inside], y[inside], bins=edges)
        int((~inside).sum())

    grid = VisitGrid(spec.coord_limits, spec.heatmap_bins)
    grid.add(x, y)
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    same = np.array_equal(grid.counts, np.histogram2d(x[inside], y[inside], bins=edges)[0].astype(int))
    return compare({"numpy histogram2d": histogram2d, "VisitGrid bincount (ours)": ours},
                   reference="numpy histogram2d", name="hasard visit heatmap", work=n_positions, unit="positions",
                   rounds=rounds, targets={"VisitGrid bincount (ours)": 1.0},
                   notes=f"same counts: {same}; out of range {grid.out_of_range:,} = {int((~inside).sum()):,}")


def _worker(args: tuple[str, int]) -> None:
    scenario, steps = args
    env, run = wrapped_env(scenario)
    run(steps)
    env.close()


def full_only(steps: int) -> None:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        for scenario in ("collateral_damage", "detonators_dilemma"):
            started = time.perf_counter()
            pool.map(_worker, [(scenario, steps)] * 2)
            aggregate = 2 * steps / (time.perf_counter() - started)
            target = 500 if scenario == "detonators_dilemma" else 1500
            print(f"two worker processes, {SPECS[scenario].title}: {aggregate:,.0f} steps/s aggregate incl. start-up "
                  f"(target ≥ {target:,}: {'met' if aggregate >= target else 'MISSED'})")
    rates = {}
    for epochs in (2, 4):
        cpu, wall = tree_cpu_seconds(), time.perf_counter()
        train_pixel_ppo(PixelPPOConfig(method="ppo_lag", total_steps=8192, n_envs=8, epochs=epochs, downscale=2,
                                       workers=2))
        rates[epochs] = (8192 / (time.perf_counter() - wall), 8192 / (tree_cpu_seconds() - cpu))
    print(f"pixel PPO-Lag on Collateral Damage, 80 × 60 grey, 2 engine workers: 2 epochs {rates[2][0]:,.0f} samples/s wall, "
          f"{rates[2][1]:,.0f} per CPU-s of the process tree (engines included); 4 epochs {rates[4][0]:,.0f} / "
          f"{rates[4][1]:,.0f}; target ≥ 1,000 per core: {'met' if rates[2][1] >= 1000 else 'MISSED'}")


def main() -> None:
    quick = quick_mode()
    steps, rounds = (200, 2) if quick else (1000, 5)
    scenarios = ["collateral_damage"] if quick else list(SPECS)
    with tempfile.TemporaryDirectory(prefix="hasard-bench-") as folder:
        results = [env_comparison(scenario, steps, rounds, Path(folder)) for scenario in scenarios]
    results.append(heatmap_comparison(200_000 if quick else 2_000_000, rounds))
    for result in results:
        print(result.report(), "\n")
        ours = next(name for name in result.candidates if "(ours)" in name)
        ratio = result.ratio(ours)
        relation = f"{ratio.value:.2f}× as fast as" if ratio.value >= 1 else f"{1 / ratio.value:.2f}× slower than"
        print(f"{result.name}: {ours} is {relation} the reference (interval [{ratio.low:.2f}, {ratio.high:.2f}]).\n")
    if not quick:
        full_only(3000)
    write_record(results, "hasard")


if __name__ == "__main__":
    main()

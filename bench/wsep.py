"""Throughput of the wsep chapter's hot paths, each beside a baseline measured in the same run.

Run: python bench/wsep.py. Targets (from the chapter's issue): batched occupancies of deterministic
policies on a 3×3 grid ≥ 2e4 policies/s on 2 cores; PWSEP on 3×3 < 5 s; Blahut–Arimoto < 0.1 s.
"""

from __future__ import annotations

import time

import numpy as np

from reprobook.wsep.discovery import pwsep
from reprobook.wsep.information import blahut_arimoto
from reprobook.wsep.mdp import gridworld
from reprobook.wsep.occupancy import (
    all_deterministic_policies,
    deterministic_occupancies,
    lasso_occupancies,
    occupancy,
)
from reprobook.wsep.polytope import extreme_points, extreme_points_fast
from reprobook.wsep.transport import ground_cost


def timed(fn, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    grid = gridworld(3, 3)
    actions = next(all_deterministic_policies(grid, chunk=200_000))
    _, wall, cpu = timed(deterministic_occupancies, grid, actions)
    batched = len(actions) / wall
    baseline_actions = actions[:5_000]

    def loop() -> None:
        for acts in baseline_actions:
            occupancy(grid, np.eye(grid.n_actions)[acts])

    _, base_wall, base_cpu = timed(loop)
    looped = len(baseline_actions) / base_wall
    print(f"occupancies, 3×3, batched solve: {batched:,.0f} policies/s (wall {wall:.2f} s, cpu {cpu:.2f} s); "
          f"target ≥ 20,000/s: {'met' if batched >= 2e4 else 'MISSED'}")
    print(f"  baseline per-policy numpy.linalg.solve loop: {looped:,.0f} policies/s "
          f"(wall {base_wall:.2f} s, cpu {base_cpu:.2f} s); ratio {batched / looped:.1f}×")

    points, wall, _ = timed(lasso_occupancies, gridworld(4, 4))
    print(f"lasso enumeration, 4×4: {len(points)} occupancies in {wall:.3f} s (target < 1 s)")

    mid = lasso_occupancies(gridworld(3, 4))
    fast, fast_wall, _ = timed(extreme_points_fast, mid)
    naive, naive_wall, _ = timed(extreme_points, mid)
    print(f"vertex extraction, 3×4 ({len(mid)} points): fast {fast_wall:.2f} s vs naive {naive_wall:.2f} s "
          f"(ratio {naive_wall / fast_wall:.1f}×, same set: {np.allclose(fast, naive)})")

    vertices = extreme_points_fast(lasso_occupancies(grid))
    result, wall, _ = timed(blahut_arimoto, vertices)
    print(f"Blahut–Arimoto, 3×3 ({len(vertices)} vertices): {wall * 1e3:.1f} ms to gap {result.gap:.1e} "
          f"(target < 100 ms)")

    cost = ground_cost(grid)
    uniform = occupancy(grid, np.full((grid.n_states, grid.n_actions), 1 / grid.n_actions))
    pruned, wall, _ = timed(pwsep, vertices, cost, reference=uniform)
    print(f"PWSEP, 3×3: {len(pruned.order)} steps, {pruned.n_lps} LPs in {wall:.2f} s (target < 5 s); "
          f"without pruning it would solve {sum(len(vertices) - i for i in range(1, len(vertices) + 1))} LPs")


if __name__ == "__main__":
    main()

"""The chapter's experiments: exact geometry per process, and learned skills; configs in, frames out.

``run_exact(ExactConfig)`` computes, for one process, the vertex set, MISL's capacity and centre,
MISL-k, WSEP(k) (skills free to coincide, and forced distinct), PWSEP, downstream metrics on random
rewards and LSEPIN over random skill sets. ``run_learned(LearnedConfig)`` trains gradient skill
learners (or runs the RL-oracle PWSEP) and compares them with the exact optima.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from reprobook.wsep.adaptation import evaluate_skills, random_rewards
from reprobook.wsep.discovery import (
    misl_k_local_search,
    n_subsets,
    pwsep,
    wsep_exhaustive,
    wsep_local_search,
    wsep_value,
)
from reprobook.wsep.information import blahut_arimoto, capacity_cvxpy, lsepin, mutual_information
from reprobook.wsep.learners import learned_pwsep, train_skills
from reprobook.wsep.mdp import ControlledMarkovProcess, gridworld, three_state_example
from reprobook.wsep.occupancy import (
    brute_force_occupancies,
    deterministic_occupancies,
    greedy_policies,
    lasso_occupancies,
    occupancy,
)
from reprobook.wsep.polytope import extreme_points_fast, sampled_vertices
from reprobook.wsep.transport import ground_cost, wasserstein_matrix

__all__ = [
    "GRIDS",
    "VERTEX_METHODS",
    "build_process",
    "cost_for",
    "ExactConfig",
    "ExactResult",
    "run_exact",
    "LearnedConfig",
    "run_learned",
]

GRIDS = ("3-state", "2x3", "3x3", "3x4", "3x4-two-room", "4x4")
VERTEX_METHODS = ("lasso", "brute", "sampling")


def build_process(name: str, gamma: float = 0.9) -> ControlledMarkovProcess:
    """One of the chapter's processes by name (see :data:`GRIDS`).

    >>> build_process("3x4-two-room").n_states
    10
    """
    if name == "3-state":
        return three_state_example(gamma)
    if name == "3x4-two-room":
        return gridworld(3, 4, walls=[(0, 2), (2, 2)], gamma=gamma, name="3×4 two-room")
    if name in GRIDS:
        rows, cols = (int(part) for part in name.split("x"))
        return gridworld(rows, cols, gamma=gamma, name=f"{rows}×{cols}")
    raise ValueError(f"grid must be one of {', '.join(GRIDS)}; got {name!r}")


def cost_for(mdp: ControlledMarkovProcess, kind: str) -> np.ndarray:
    """``kind`` ∈ {manhattan, shortest_path, auto}; auto = shortest paths on walled grids, else Manhattan."""
    if kind == "auto":
        kind = "shortest_path" if mdp.walls else "manhattan"
    return ground_cost(mdp, kind)


@dataclass(frozen=True)
class ExactConfig:
    grid: str
    gamma: float = 0.9
    ground_cost: str = "auto"
    vertex_method: str = "lasso"
    brute_force_check: bool = False
    k_list: tuple[int, ...] = (2, 3, 4, 6, 8)
    n_rewards: int = 500
    reward_seed: int = 0
    pwsep_first: str = "farthest_from_uniform"
    pwsep_max_vertices: int = 60
    exhaustive_limit: int = 1_000_000
    n_skill_sets: int = 200
    lsepin_k: int = 4
    seed: int = 0


@dataclass(frozen=True)
class ExactResult:
    """Frames of one process: ``summary`` (one row), ``vertices``, ``per_k``, ``lsepin_sets``,
    ``pwsep_steps`` and ``timings`` (seconds per stage; not reproducible, kept apart)."""

    summary: pd.DataFrame
    vertices: pd.DataFrame
    per_k: pd.DataFrame
    lsepin_sets: pd.DataFrame
    pwsep_steps: pd.DataFrame
    timings: pd.DataFrame


def _vertices(mdp: ControlledMarkovProcess, config: ExactConfig, timings: dict[str, float]):
    started = time.perf_counter()
    n_policies = mdp.n_actions**mdp.n_states
    if config.vertex_method == "brute":
        points, _ = brute_force_occupancies(mdp)
    elif config.vertex_method == "lasso":
        points = lasso_occupancies(mdp)
    else:
        points = None
    timings["enumerate"] = time.perf_counter() - started
    started = time.perf_counter()
    if points is None:
        vertices = sampled_vertices(mdp, n_rewards=20_000, seed=config.seed)
        n_points = np.nan
    else:
        vertices = extreme_points_fast(points, seed=config.seed)
        n_points = len(points)
    timings["vertices"] = time.perf_counter() - started
    brute_equal = np.nan
    if config.brute_force_check:
        started = time.perf_counter()
        brute, _ = brute_force_occupancies(mdp)
        lasso = lasso_occupancies(mdp)
        brute_equal = float(brute.shape == lasso.shape and np.allclose(brute, lasso, atol=1e-9))
        timings["brute_force_check"] = time.perf_counter() - started
    return vertices, n_points, n_policies, brute_equal


def run_exact(config: ExactConfig) -> ExactResult:
    """Everything exact for one process (see the module docstring)."""
    timings: dict[str, float] = {}
    mdp = build_process(config.grid, config.gamma)
    cost = cost_for(mdp, config.ground_cost)
    vertices, n_points, n_policies, brute_equal = _vertices(mdp, config, timings)
    n = len(vertices)

    started = time.perf_counter()
    capacity = blahut_arimoto(vertices)
    timings["blahut_arimoto"] = time.perf_counter() - started
    started = time.perf_counter()
    capacity_cvx, _ = capacity_cvxpy(vertices)
    timings["cvxpy"] = time.perf_counter() - started
    minimax = float(capacity.kl_to_centre.max())
    on_sphere = capacity.on_sphere()
    support = capacity.support()

    started = time.perf_counter()
    distances = wasserstein_matrix(vertices, cost)
    timings["wasserstein_matrix"] = time.perf_counter() - started

    rewards = random_rewards(config.n_rewards, mdp.n_states, config.reward_seed)
    uniform = occupancy(mdp, np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions))

    pwsep_order = np.array([], dtype=int)
    pwsep_rows = pd.DataFrame(columns=["step", "vertex", "hull_distance"])
    pwsep_summary = {"pwsep_found": np.nan, "pwsep_steps": np.nan, "pwsep_final_distance": np.nan,
                     "pwsep_lps": np.nan}
    if n <= config.pwsep_max_vertices:
        started = time.perf_counter()
        result = pwsep(vertices, cost, first=config.pwsep_first, reference=uniform)
        timings["pwsep"] = time.perf_counter() - started
        pwsep_order = result.order
        pwsep_rows = pd.DataFrame({"step": np.arange(1, len(result.order) + 1), "vertex": result.order,
                                   "hull_distance": result.distances})
        pwsep_summary = {"pwsep_found": len(set(result.order.tolist())), "pwsep_steps": len(result.order),
                         "pwsep_final_distance": result.final_max_distance, "pwsep_lps": result.n_lps}

    started = time.perf_counter()
    rows = []
    k_values = sorted({k for k in config.k_list if k <= n} | {int(support.sum()), n})
    for k in k_values:
        sets = {
            "MISL-k": misl_k_local_search(vertices, k, seed=config.seed),
            "WSEP(k), skills may coincide": wsep_local_search(distances, k, seed=config.seed),
        }
        if n_subsets(n, k) <= config.exhaustive_limit:
            sets["WSEP(k), distinct skills"] = wsep_exhaustive(distances, k)
        else:
            sets["WSEP(k), distinct skills"] = wsep_local_search(distances, k, distinct=True, seed=config.seed)
        if len(pwsep_order) >= k:
            sets["PWSEP (first k)"] = pwsep_order[:k]
        for method, skills in sets.items():
            rows.append({"k": k, "method": method, "distinct_vertices": len(set(skills.tolist())),
                         "interior_vertices_used": int((~on_sphere[np.unique(skills)]).sum()),
                         "mutual_information": mutual_information(vertices[skills]),
                         "wsep_value": wsep_value(skills, distances),
                         "lsepin": lsepin(vertices[skills]) if len(skills) > 1 else np.nan,
                         **evaluate_skills(vertices, skills, rewards, distances)})
    misl = np.flatnonzero(support)
    rows.append({"k": len(misl), "method": "MISL (optimal p)", "distinct_vertices": len(misl),
                 "interior_vertices_used": int((~on_sphere[misl]).sum()),
                 "mutual_information": capacity.capacity, "wsep_value": wsep_value(misl, distances),
                 "lsepin": lsepin(vertices[misl], capacity.weights[misl] / capacity.weights[misl].sum()),
                 **evaluate_skills(vertices, misl, rewards, distances)})
    per_k = pd.DataFrame(rows)
    timings["skill_sets"] = time.perf_counter() - started

    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    set_rows = []
    size = min(config.lsepin_k, n)
    for _ in range(config.n_skill_sets if n > size else 0):
        skills = np.sort(rng.choice(n, size=size, replace=False))
        set_rows.append({"lsepin": lsepin(vertices[skills]),
                         **evaluate_skills(vertices, skills, rewards, distances)})
    lsepin_sets = pd.DataFrame(set_rows, columns=["lsepin", "hit_rate", "zero_shot_regret",
                                                  "w_adaptation_cost", "kl_skill_finite_share"])
    timings["lsepin_sets"] = time.perf_counter() - started

    def at(method: str, k: int, column: str) -> float:
        match = per_k[(per_k.method == method) & (per_k.k == k)]
        return float(match[column].iloc[0]) if len(match) else np.nan

    interior = ~on_sphere
    testable = len(lsepin_sets) > 2 and lsepin_sets.lsepin.nunique() > 1
    rho = spearmanr(lsepin_sets.lsepin, lsepin_sets.w_adaptation_cost).statistic if testable else np.nan
    # the control: the same correlation after shuffling which skill set each LSEPIN belongs to
    shuffled = (spearmanr(np.random.default_rng(config.seed + 1).permutation(lsepin_sets.lsepin.to_numpy()),
                          lsepin_sets.w_adaptation_cost).statistic if testable else np.nan)
    summary = pd.DataFrame([{
        "grid": mdp.name, "states": mdp.n_states, "deterministic_policies": n_policies,
        "distinct_occupancies": n_points, "vertices": n, "brute_force_equals_lasso": brute_equal,
        "capacity": capacity.capacity, "capacity_cvxpy": capacity_cvx, "capacity_minimax": minimax,
        "ba_gap": capacity.gap, "misl_support": int(support.sum()), "on_kl_sphere": int(on_sphere.sum()),
        "interior": int(interior.sum()),
        "interior_kl_min": float(capacity.kl_to_centre[interior].min()) if interior.any() else np.nan,
        "interior_kl_max": float(capacity.kl_to_centre[interior].max()) if interior.any() else np.nan,
        "support_off_sphere": int((support & ~on_sphere).sum()),
        **pwsep_summary,
        "wsep_multiset_distinct_at_n": at("WSEP(k), skills may coincide", n, "distinct_vertices"),
        "wsep_distinct_distinct_at_n": at("WSEP(k), distinct skills", n, "distinct_vertices"),
        "misl_k_distinct_at_n": at("MISL-k", n, "distinct_vertices"),
        "lsepin_cost_spearman": rho,
        "lsepin_cost_spearman_shuffled": shuffled,
    }])
    vertex_frame = pd.DataFrame({
        "vertex": np.arange(n), "kl_to_centre": capacity.kl_to_centre, "misl_weight": capacity.weights,
        "on_kl_sphere": on_sphere,
        "pwsep_step": [int(np.flatnonzero(pwsep_order == i)[0]) + 1 if i in pwsep_order else np.nan
                       for i in range(n)],
        "occupancy": [row.tolist() for row in vertices],
    })
    centre = pd.DataFrame({"vertex": [-1], "kl_to_centre": [0.0], "misl_weight": [np.nan],
                           "on_kl_sphere": [False], "pwsep_step": [np.nan],
                           "occupancy": [capacity.centre.tolist()]})
    vertex_frame = pd.concat([vertex_frame, centre], ignore_index=True)
    timing_frame = pd.DataFrame({"grid": mdp.name, "stage": list(timings), "seconds": list(timings.values())})
    return ExactResult(summary, vertex_frame, per_k, lsepin_sets, pwsep_rows, timing_frame)


def _vertices_matched(points: np.ndarray, vertices: np.ndarray) -> int:
    """How many of ``vertices`` appear among ``points`` (to 1e-9)."""
    if len(points) == 0:
        return 0
    gaps = np.abs(np.asarray(vertices)[:, None, :] - np.asarray(points)[None, :, :]).max(axis=2)
    return int((gaps.min(axis=1) <= 1e-9).sum())


@dataclass(frozen=True)
class LearnedConfig:
    grid: str = "3x3"
    objective: str = "misl"
    n_skills: int = 8
    seed: int = 0
    steps: int = 500
    learning_rate: float = 0.1
    epsilon: float = 0.05
    sinkhorn_iter: int = 100
    gamma: float = 0.9
    ground_cost: str = "auto"


def run_learned(config: LearnedConfig) -> dict[str, pd.DataFrame]:
    """Learned skills vs the exact optimum on one process: ``summary`` (one row) and ``trace``.

    Each learned occupancy is rounded to its nearest vertex in W to count distinct vertices. The
    learned objective is re-evaluated exactly (I(S; Z), or Σ W with exact W) and set beside the exact
    optimum over vertex multisets of the same size (local search), which it cannot exceed.
    """
    mdp = build_process(config.grid, config.gamma)
    cost = cost_for(mdp, config.ground_cost)
    vertices = extreme_points_fast(lasso_occupancies(mdp))
    distances = wasserstein_matrix(vertices, cost)
    started = time.perf_counter()
    if config.objective == "pwsep":
        uniform = occupancy(mdp, np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions))
        learned, steps = learned_pwsep(mdp, cost, uniform, max_skills=len(vertices) + 1, seed=config.seed)
        trace = steps.rename(columns={"skill": "step", "hull_distance": "objective"})
        learned_value, optimum = float(len(learned)), float(len(vertices))
        # the control: as many skills from the optima of random rewards, with no hull distance
        rewards = np.random.default_rng(config.seed).standard_normal((len(vertices), mdp.n_states))
        control = deterministic_occupancies(mdp, greedy_policies(mdp, rewards))
        extra = {"vertices_found": _vertices_matched(learned, vertices),
                 "random_reward_vertices_found": _vertices_matched(control, vertices),
                 "certified": bool(steps.certified.iloc[-1])}
    else:
        result = train_skills(mdp, config.objective, config.n_skills, config.seed, steps=config.steps,
                              learning_rate=config.learning_rate, cost=cost, epsilon=config.epsilon,
                              sinkhorn_iter=config.sinkhorn_iter)
        learned, trace = result.occupancies, result.trace
        extra = {}
        if config.objective == "misl":
            learned_value = mutual_information(learned)
            optimum = mutual_information(vertices[misl_k_local_search(vertices, config.n_skills)])
        else:
            learned_value = float(np.triu(wasserstein_matrix(learned, cost), 1).sum())
            optimum = wsep_value(wsep_local_search(distances, config.n_skills), distances)
    seconds = time.perf_counter() - started
    nearest = wasserstein_matrix(learned, cost, vertices).argmin(axis=1) if len(learned) else np.array([])
    summary = pd.DataFrame([{
        "grid": mdp.name, "objective": config.objective, "seed": config.seed, "skills": len(learned),
        "distinct_vertices": len(set(nearest.tolist())), "vertices": len(vertices),
        "learned_value": learned_value, "exact_optimum": optimum, **extra, "seconds": seconds,
    }])
    trace = trace.assign(objective_name=config.objective, seed=config.seed)
    return {"summary": summary, "trace": trace}

"""The chapter's experiments: exact geometry per process, and learned skills; configs in, frames out.

``run_exact(ExactConfig)`` computes, for one process, the vertex set, MISL's capacity and centre,
MISL-k, WSEP(k) (skills free to coincide, and forced distinct), weighted WSEP with optimal p(z),
PWSEP, downstream metrics on random rewards (Wasserstein and KL adaptation costs) and LSEPIN over
random skill sets, one named stage function each. ``run_learned(LearnedConfig)`` trains gradient skill
learners (or runs the RL-oracle PWSEP) and compares them with the exact optima.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jax
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from reprobook.devices import jax_platform
from reprobook.wsep.adaptation import evaluate_skills, random_rewards
from reprobook.wsep.discovery import (
    misl_k_local_search,
    n_subsets,
    pwsep,
    weighted_wsep,
    wsep_exhaustive,
    wsep_local_search,
    wsep_value,
)
from reprobook.wsep.information import (
    CapacityResult,
    blahut_arimoto,
    capacity_cvxpy,
    lsepin,
    mutual_information,
)
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
    "lsepin_correlations",
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


@dataclass(frozen=True)
class _Geometry:
    """What every stage of ``run_exact`` reads: the process, its vertices and their distances."""

    mdp: ControlledMarkovProcess
    cost: np.ndarray
    vertices: np.ndarray
    capacity: CapacityResult
    distances: np.ndarray
    rewards: np.ndarray
    uniform: np.ndarray


def _timed(timings: dict[str, float], stage: str, function, *args, **kwargs):
    started = time.perf_counter()
    out = function(*args, **kwargs)
    timings[stage] = time.perf_counter() - started
    return out


def _pwsep_stage(geometry: _Geometry, config: ExactConfig, timings: dict[str, float]
                 ) -> tuple[np.ndarray, pd.DataFrame, dict[str, float]]:
    """PWSEP over the vertex list: its order, one row per step, and its summary numbers."""
    if len(geometry.vertices) > config.pwsep_max_vertices:
        return (np.array([], dtype=int), pd.DataFrame(columns=["step", "vertex", "hull_distance"]),
                {"pwsep_found": np.nan, "pwsep_steps": np.nan, "pwsep_final_distance": np.nan, "pwsep_lps": np.nan})
    result = _timed(timings, "pwsep", pwsep, geometry.vertices, geometry.cost, first=config.pwsep_first,
                    reference=geometry.uniform)
    rows = pd.DataFrame({"step": np.arange(1, len(result.order) + 1), "vertex": result.order,
                         "hull_distance": result.distances})
    return result.order, rows, {"pwsep_found": len(set(result.order.tolist())), "pwsep_steps": len(result.order),
                                "pwsep_final_distance": result.final_max_distance, "pwsep_lps": result.n_lps}


def _skill_row(geometry: _Geometry, k: int, method: str, skills: np.ndarray,
               weights: np.ndarray | None = None) -> dict[str, object]:
    """One method's skill set (vertex indices, optional weights p(z)) and its downstream metrics."""
    vertices, on_sphere = geometry.vertices, geometry.capacity.on_sphere()
    return {"k": k, "method": method, "distinct_vertices": len(set(skills.tolist())),
            "interior_vertices_used": int((~on_sphere[np.unique(skills)]).sum()),
            "mutual_information": mutual_information(vertices[skills], weights),
            "wsep_value": wsep_value(skills, geometry.distances),
            "lsepin": lsepin(vertices[skills], weights) if len(skills) > 1 else np.nan,
            **evaluate_skills(vertices, skills, geometry.rewards, geometry.distances, weights)}


def _skill_sets_per_k(geometry: _Geometry, config: ExactConfig, pwsep_order: np.ndarray) -> pd.DataFrame:
    """MISL-k, WSEP(k) (may coincide / distinct) and PWSEP's first k per k; then the two optimal-p
    methods: MISL with its capacity-achieving p(z), and weighted WSEP (Σ p_i p_j W) with its p(z)."""
    vertices, distances = geometry.vertices, geometry.distances
    n = len(vertices)
    support = geometry.capacity.support()
    rows = []
    for k in sorted({k for k in config.k_list if k <= n} | {int(support.sum()), n}):
        sets = {"MISL-k": misl_k_local_search(vertices, k, seed=config.seed),
                "WSEP(k), skills may coincide": wsep_local_search(distances, k, seed=config.seed)}
        if n_subsets(n, k) <= config.exhaustive_limit:
            sets["WSEP(k), distinct skills"] = wsep_exhaustive(distances, k)
        else:
            sets["WSEP(k), distinct skills"] = wsep_local_search(distances, k, distinct=True, seed=config.seed)
        if len(pwsep_order) >= k:
            sets["PWSEP (first k)"] = pwsep_order[:k]
        rows.extend(_skill_row(geometry, k, method, skills) for method, skills in sets.items())
    misl = np.flatnonzero(support)
    misl_weights = geometry.capacity.weights[misl] / geometry.capacity.weights[misl].sum()
    rows.append({**_skill_row(geometry, len(misl), "MISL (optimal p)", misl, misl_weights),
                 "mutual_information": geometry.capacity.capacity})
    weighted = weighted_wsep(distances, seed=config.seed)
    used = np.flatnonzero(weighted.support())
    rows.append({**_skill_row(geometry, len(used), "weighted WSEP (optimal p)", used,
                              weighted.weights[used] / weighted.weights[used].sum()),
                 "weighted_wsep_value": weighted.value, "weighted_wsep_gap": weighted.gap})
    return pd.DataFrame(rows)


LSEPIN_SET_COLUMNS = ["lsepin", "hit_rate", "zero_shot_regret", "w_adaptation_cost", "kl_skill_adaptation_cost",
                      "kl_mixture_adaptation_cost", "kl_skill_finite_share"]
#: summary column prefix → the skill sets' cost column it correlates with LSEPIN
LSEPIN_COST_CORRELATIONS = {"lsepin_kl_cost": "kl_skill_adaptation_cost", "lsepin_w_cost": "w_adaptation_cost",
                            "lsepin_kl_mixture_cost": "kl_mixture_adaptation_cost"}


def _lsepin_sets(geometry: _Geometry, config: ExactConfig) -> pd.DataFrame:
    """LSEPIN and the downstream costs of ``n_skill_sets`` random sets of ``lsepin_k`` distinct vertices."""
    rng = np.random.default_rng(config.seed)
    n = len(geometry.vertices)
    size = min(config.lsepin_k, n)
    rows = []
    for _ in range(config.n_skill_sets if n > size else 0):
        skills = np.sort(rng.choice(n, size=size, replace=False))
        rows.append({"lsepin": lsepin(geometry.vertices[skills]),
                     **evaluate_skills(geometry.vertices, skills, geometry.rewards, geometry.distances)})
    return pd.DataFrame(rows, columns=LSEPIN_SET_COLUMNS)


def lsepin_correlations(sets: pd.DataFrame, cost: str, seed: int) -> tuple[float, float]:
    """Spearman ρ of LSEPIN against the mean ``cost`` column over skill sets, and its control: the
    same correlation after shuffling which skill set each LSEPIN belongs to (NaN when untestable:
    fewer than three sets, or a constant LSEPIN or cost). An infinite mean cost ranks above every
    finite one (ties share their mean rank).

    >>> sets = pd.DataFrame({"lsepin": [0.1, 0.2, 0.3, 0.4], "cost": [np.inf, 2.0, 1.0, 0.5]})
    >>> round(lsepin_correlations(sets, "cost", seed=0)[0], 6)
    -1.0
    """
    if len(sets) <= 2 or sets.lsepin.nunique() <= 1 or sets[cost].nunique() <= 1:
        return np.nan, np.nan
    rho = spearmanr(sets.lsepin, sets[cost]).statistic
    shuffled = np.random.default_rng(seed + 1).permutation(sets.lsepin.to_numpy())
    return float(rho), float(spearmanr(shuffled, sets[cost]).statistic)


def _summary_row(geometry: _Geometry, config: ExactConfig, counts: dict[str, float], per_k: pd.DataFrame,
                 sets: pd.DataFrame, pwsep_summary: dict[str, float], capacity_cvx: float) -> pd.DataFrame:
    capacity, n = geometry.capacity, len(geometry.vertices)
    on_sphere, support = capacity.on_sphere(), capacity.support()
    interior = ~on_sphere

    def at(method: str, k: int, column: str) -> float:
        match = per_k[(per_k.method == method) & (per_k.k == k)]
        return float(match[column].iloc[0]) if len(match) else np.nan

    weighted = per_k[per_k.method == "weighted WSEP (optimal p)"].iloc[0]
    correlations = {}
    for prefix, cost in LSEPIN_COST_CORRELATIONS.items():
        rho, shuffled = lsepin_correlations(sets, cost, config.seed)
        correlations.update({f"{prefix}_spearman": rho, f"{prefix}_spearman_shuffled": shuffled})
    return pd.DataFrame([{
        "grid": geometry.mdp.name, "states": geometry.mdp.n_states, **counts, "vertices": n,
        "capacity": capacity.capacity, "capacity_cvxpy": capacity_cvx,
        "capacity_minimax": float(capacity.kl_to_centre.max()),
        "ba_gap": capacity.gap, "misl_support": int(support.sum()), "on_kl_sphere": int(on_sphere.sum()),
        "interior": int(interior.sum()),
        "interior_kl_min": float(capacity.kl_to_centre[interior].min()) if interior.any() else np.nan,
        "interior_kl_max": float(capacity.kl_to_centre[interior].max()) if interior.any() else np.nan,
        "support_off_sphere": int((support & ~on_sphere).sum()),
        **pwsep_summary,
        "wsep_multiset_distinct_at_n": at("WSEP(k), skills may coincide", n, "distinct_vertices"),
        "wsep_distinct_distinct_at_n": at("WSEP(k), distinct skills", n, "distinct_vertices"),
        "misl_k_distinct_at_n": at("MISL-k", n, "distinct_vertices"),
        "weighted_wsep_support": int(weighted.distinct_vertices),
        "weighted_wsep_interior_used": int(weighted.interior_vertices_used),
        "weighted_wsep_value": float(weighted.weighted_wsep_value), "weighted_wsep_gap": float(weighted.weighted_wsep_gap),
        "lsepin_kl_finite_share": float(sets.kl_skill_adaptation_cost.map(np.isfinite).mean()) if len(sets) else np.nan,
        **correlations,
    }])


def _vertex_frame(geometry: _Geometry, pwsep_order: np.ndarray) -> pd.DataFrame:
    """One row per vertex (KL to MISL's centre, MISL weight, PWSEP step, occupancy) and the centre."""
    capacity, n = geometry.capacity, len(geometry.vertices)
    frame = pd.DataFrame({
        "vertex": np.arange(n), "kl_to_centre": capacity.kl_to_centre, "misl_weight": capacity.weights,
        "on_kl_sphere": capacity.on_sphere(),
        "pwsep_step": [int(np.flatnonzero(pwsep_order == i)[0]) + 1 if i in pwsep_order else np.nan
                       for i in range(n)],
        "occupancy": [row.tolist() for row in geometry.vertices],
    })
    centre = pd.DataFrame({"vertex": [-1], "kl_to_centre": [0.0], "misl_weight": [np.nan],
                           "on_kl_sphere": [False], "pwsep_step": [np.nan],
                           "occupancy": [capacity.centre.tolist()]})
    return pd.concat([frame, centre], ignore_index=True)


def _geometry(config: ExactConfig, timings: dict[str, float]) -> tuple[_Geometry, dict[str, float], float]:
    """The shared inputs of every stage; the enumeration counts; cvxpy's capacity (a cross-check)."""
    mdp = build_process(config.grid, config.gamma)
    cost = cost_for(mdp, config.ground_cost)
    vertices, n_points, n_policies, brute_equal = _vertices(mdp, config, timings)
    capacity = _timed(timings, "blahut_arimoto", blahut_arimoto, vertices)
    capacity_cvx, _ = _timed(timings, "cvxpy", capacity_cvxpy, vertices)
    geometry = _Geometry(
        mdp, cost, vertices, capacity, _timed(timings, "wasserstein_matrix", wasserstein_matrix, vertices, cost),
        random_rewards(config.n_rewards, mdp.n_states, config.reward_seed),
        occupancy(mdp, np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)))
    counts = {"deterministic_policies": n_policies, "distinct_occupancies": n_points,
              "brute_force_equals_lasso": brute_equal}
    return geometry, counts, capacity_cvx


def run_exact(config: ExactConfig) -> ExactResult:
    """Everything exact for one process (see the module docstring), stage by stage."""
    timings: dict[str, float] = {}
    geometry, counts, capacity_cvx = _geometry(config, timings)
    pwsep_order, pwsep_rows, pwsep_summary = _pwsep_stage(geometry, config, timings)
    per_k = _timed(timings, "skill_sets", _skill_sets_per_k, geometry, config, pwsep_order)
    sets = _timed(timings, "lsepin_sets", _lsepin_sets, geometry, config)
    summary = _summary_row(geometry, config, counts, per_k, sets, pwsep_summary, capacity_cvx)
    timing_frame = pd.DataFrame({"grid": geometry.mdp.name, "stage": list(timings), "seconds": list(timings.values())})
    return ExactResult(summary, _vertex_frame(geometry, pwsep_order), per_k, sets, pwsep_rows, timing_frame)


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
    device: str = "cpu"  # auto | cpu | cuda: where the JAX learners run (reprobook.devices)


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
        with jax.default_device(jax.devices(jax_platform(config.device))[0]):
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

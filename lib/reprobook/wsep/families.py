"""Random process families: the chapter's questions asked beyond the hand-picked grids [ours].

A family is a generator of small random controlled Markov processes (deterministic or
stochastic transitions) and a ground cost. For each process :func:`run_family` computes the
vertices, MISL's KL sphere (Blahut–Arimoto), and for every k = 2 … #vertices the WSEP(k) and
MISL-k optima over vertex multisets (skills may coincide, as a learner allows): whether and from
which k each uses a vertex strictly inside MISL's ball, and how many distinct vertices each uses at
k = #vertices, beside a random multiset of the same size. With the skill distribution optimised too,
it counts the vertices that weighted WSEP's optimum (Σ_{i<j} p_i p_j W) and MISL's optimal p(z) use,
beside the same weighted objective on a W matrix whose pairs are shuffled (the geometry removed).

>>> frame = run_family(FamilyConfig("det-line", first_seed=0, n_processes=2))
>>> list(frame.columns[:4])
['family', 'process_seed', 'states', 'vertices']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from reprobook.wsep.discovery import misl_k_local_search, weighted_wsep, wsep_local_search
from reprobook.wsep.information import blahut_arimoto
from reprobook.wsep.mdp import random_process
from reprobook.wsep.occupancy import brute_force_occupancies, lasso_occupancies
from reprobook.wsep.polytope import extreme_points_fast
from reprobook.wsep.transport import ground_cost, wasserstein_matrix

__all__ = ["FAMILIES", "Family", "FamilyConfig", "run_family", "shuffled_pairs", "FAMILY_COLUMNS"]


@dataclass(frozen=True)
class Family:
    """How a family's processes are drawn: transitions, size and ground cost."""

    label: str
    deterministic: bool
    n_states: int
    n_actions: int
    cost: str


FAMILIES: dict[str, Family] = {
    "det-line": Family("deterministic, 5 states, 3 actions, |i − j| cost", True, 5, 3, "manhattan"),
    "det-discrete": Family("deterministic, 5 states, 3 actions, 0/1 cost", True, 5, 3, "discrete"),
    "stoch-line": Family("stochastic (Dirichlet 0.5), 4 states, 2 actions, |i − j| cost", False, 4, 2, "manhattan"),
}

FAMILY_COLUMNS = ["family", "process_seed", "states", "vertices", "interior", "wsep_interior_k",
                  "misl_interior_k", "wsep_distinct_at_n", "misl_distinct_at_n", "random_distinct_at_n",
                  "misl_support", "weighted_wsep_support", "shuffled_weighted_support"]


@dataclass(frozen=True)
class FamilyConfig:
    family: str
    first_seed: int = 0
    n_processes: int = 20
    gamma: float = 0.9
    restarts: int = 8


def _smallest_k(found: dict[int, bool]) -> float:
    hits = [k for k, used in sorted(found.items()) if used]
    return float(hits[0]) if hits else np.nan


def shuffled_pairs(distances: np.ndarray, seed: int) -> np.ndarray:
    """The symmetric matrix whose off-diagonal pairs are ``distances``' pairs in a random order.

    >>> shuffled = shuffled_pairs(np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0.0]]), seed=0)
    >>> sorted(shuffled[np.triu_indices(3, 1)].tolist()), bool((shuffled == shuffled.T).all())
    ([1.0, 2.0, 3.0], True)
    """
    upper = np.triu_indices(len(distances), 1)
    out = np.zeros_like(distances, dtype=float)
    out[upper] = np.random.default_rng(seed).permutation(np.asarray(distances, dtype=float)[upper])
    return out + out.T


def _weighted_supports(vertices: np.ndarray, distances: np.ndarray, misl_support: int, seed: int
                       ) -> dict[str, float]:
    """How many vertices MISL's optimal p(z), weighted WSEP's optimum and its shuffled-W control use."""
    return {"misl_support": float(misl_support),
            "weighted_wsep_support": float(weighted_wsep(distances, seed=seed).support().sum()),
            "shuffled_weighted_support": float(
                weighted_wsep(shuffled_pairs(distances, seed), seed=seed).support().sum())}


def _one_process(family: Family, seed: int, gamma: float, restarts: int) -> dict[str, object]:
    mdp = random_process(family.n_states, family.n_actions, seed, deterministic=family.deterministic, gamma=gamma)
    points = lasso_occupancies(mdp) if family.deterministic else brute_force_occupancies(mdp)[0]
    vertices = extreme_points_fast(points, seed=seed)
    n = len(vertices)
    row: dict[str, object] = {"process_seed": seed, "states": mdp.n_states, "vertices": n}
    if n < 2:
        return {**row, "interior": 0, "wsep_interior_k": np.nan, "misl_interior_k": np.nan,
                "wsep_distinct_at_n": float(n), "misl_distinct_at_n": float(n), "random_distinct_at_n": float(n),
                "misl_support": float(n), "weighted_wsep_support": float(n), "shuffled_weighted_support": float(n)}
    capacity = blahut_arimoto(vertices)
    interior = ~capacity.on_sphere()
    distances = wasserstein_matrix(vertices, ground_cost(mdp, family.cost))
    wsep_used, misl_used = {}, {}
    for k in range(2, n + 1):  # scan k upwards until both optima have used an interior vertex
        if any(wsep_used.values()) and any(misl_used.values()):
            break
        wsep_used[k] = bool(interior[wsep_local_search(distances, k, restarts=2 * restarts, seed=seed)].any())
        misl_used[k] = bool(interior[misl_k_local_search(vertices, k, restarts=restarts, seed=seed)].any())
    wsep_at_n = wsep_local_search(distances, n, restarts=2 * restarts, seed=seed)
    misl_at_n = misl_k_local_search(vertices, n, restarts=restarts, seed=seed)
    random_pick = np.random.default_rng(seed).choice(n, size=n, replace=True)
    return {**row, "interior": int(interior.sum()), "wsep_interior_k": _smallest_k(wsep_used),
            "misl_interior_k": _smallest_k(misl_used), "wsep_distinct_at_n": float(len(np.unique(wsep_at_n))),
            "misl_distinct_at_n": float(len(np.unique(misl_at_n))),
            "random_distinct_at_n": float(len(np.unique(random_pick))),
            **_weighted_supports(vertices, distances, int(capacity.support().sum()), seed)}


def run_family(config: FamilyConfig) -> pd.DataFrame:
    """One row per process of the family, seeds ``first_seed`` … ``first_seed + n_processes − 1``."""
    if config.family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}; got {config.family!r}")
    family = FAMILIES[config.family]
    seeds = range(config.first_seed, config.first_seed + config.n_processes)
    rows = [{"family": config.family, **_one_process(family, seed, config.gamma, config.restarts)}
            for seed in tqdm(seeds, desc=f"{config.family} processes", leave=False)]
    return pd.DataFrame(rows, columns=FAMILY_COLUMNS)

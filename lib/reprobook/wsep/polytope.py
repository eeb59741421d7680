"""Vertices of the occupancy polytope: LP extremality, reward sampling, separating hyperplanes.

The set of occupancies a process allows is a polytope C whose vertices are occupancies of
deterministic policies (Puterman; Eysenbach et al. 2022). We call them the *optimal initial
policies* [reconstructed]: each vertex is the unique optimum of some reward, so it is the best
possible starting point for that task.

>>> from reprobook.wsep.mdp import three_state_example
>>> from reprobook.wsep.occupancy import lasso_occupancies
>>> len(extreme_points(lasso_occupancies(three_state_example())))
4
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, hstack, identity

from reprobook.wsep.mdp import ControlledMarkovProcess
from reprobook.wsep.occupancy import deterministic_occupancies, greedy_policies, unique_rows

__all__ = [
    "hull_residual",
    "extreme_points",
    "extreme_points_fast",
    "sampled_vertices",
    "separating_reward",
    "argmax_candidates",
]


def hull_residual(point: np.ndarray, hull: np.ndarray) -> float:
    """min ‖Σ_j λ_j hull_j − point‖₁ over the simplex: 0 iff ``point`` is in conv(hull).

    >>> hull_residual(np.array([0.5, 0.5]), np.eye(2))
    0.0
    >>> hull_residual(np.array([0.5, 0.5]), np.empty((0, 2)))
    inf
    """
    hull = np.asarray(hull, dtype=float)
    if hull.size == 0:
        return float(np.inf)  # nothing spans an empty hull: a lone point is extreme
    n_points, dim = hull.shape
    # variables: λ (n_points), t⁺ (dim), t⁻ (dim); Hᵀλ + t⁺ − t⁻ = point, 1ᵀλ = 1
    eye = identity(dim, format="csr")
    a_eq = hstack([csr_matrix(hull.T), eye, -eye], format="csr")
    a_eq = hstack([a_eq.T, csr_matrix(np.r_[np.ones(n_points), np.zeros(2 * dim)][:, None])]).T
    b_eq = np.r_[point, 1.0]
    cost = np.r_[np.zeros(n_points), np.ones(2 * dim)]
    result = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if result.status != 0:
        raise RuntimeError(f"hull LP failed: {result.message}")
    return max(float(result.fun), 0.0)


def extreme_points(points: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """The rows of ``points`` that are not convex combinations of the others (one LP each).

    ``points`` must hold distinct rows; a row counts as extreme when its ℓ₁ distance to the hull
    of the others exceeds ``tol`` (relative to its ℓ₁ norm).
    """
    points = np.asarray(points, dtype=float)
    keep = [i for i in range(len(points))
            if hull_residual(points[i], np.delete(points, i, axis=0)) > tol * max(1.0, np.abs(points[i]).sum())]
    return points[keep]


def argmax_candidates(points: np.ndarray, n_rewards: int = 10_000, seed: int = 0,
                      gap: float = 1e-9, batch: int = 2_000) -> np.ndarray:
    """Indices of rows that are the unique argmax of r·x for some sampled r ~ N(0, I) (all vertices)."""
    rng = np.random.default_rng(seed)
    found: set[int] = set()
    for first in range(0, n_rewards, batch):
        rewards = rng.standard_normal((min(batch, n_rewards - first), points.shape[1]))
        scores = points @ rewards.T  # (n_points, n_rewards)
        top2 = np.partition(scores, -2, axis=0)[-2:] if len(points) > 1 else np.vstack([scores, scores - 1])
        unique = (top2[1] - top2[0]) > gap
        found.update(np.argmax(scores, axis=0)[unique].tolist())
    return np.array(sorted(found), dtype=int)


def extreme_points_fast(points: np.ndarray, tol: float = 1e-9, n_rewards: int = 10_000,
                        seed: int = 0) -> np.ndarray:
    """Same set as :func:`extreme_points`, faster: reward-argmax candidates, then LPs only where needed.

    (i) every unique argmax of a sampled reward is a vertex; (ii) a remaining point inside the hull
    of those candidates is not a vertex; (iii) the others get the full LP against all points.
    """
    points = np.asarray(points, dtype=float)
    candidates = argmax_candidates(points, n_rewards=n_rewards, seed=seed)
    is_vertex = np.zeros(len(points), dtype=bool)
    is_vertex[candidates] = True
    hull = points[candidates]
    for i in np.flatnonzero(~is_vertex):
        scale = tol * max(1.0, np.abs(points[i]).sum())
        if hull_residual(points[i], hull) <= scale:
            continue
        is_vertex[i] = hull_residual(points[i], np.delete(points, i, axis=0)) > scale
    return points[is_vertex]


def sampled_vertices(mdp: ControlledMarkovProcess, n_rewards: int = 10_000, seed: int = 0,
                     batch: int = 2_000) -> np.ndarray:
    """Distinct optimal occupancies of ``n_rewards`` random N(0, I) state rewards (value iteration).

    Every such occupancy is a vertex; with enough rewards every vertex appears (its normal cone has
    positive measure). This route needs no enumeration, so it serves grids too large to enumerate.
    """
    rng = np.random.default_rng(seed)
    found = []
    for first in range(0, n_rewards, batch):
        rewards = rng.standard_normal((min(batch, n_rewards - first), mdp.n_states))
        found.append(unique_rows(deterministic_occupancies(mdp, greedy_policies(mdp, rewards))))
    return unique_rows(np.concatenate(found))


def separating_reward(points: np.ndarray, index: int) -> tuple[np.ndarray, float]:
    """A reward r (‖r‖∞ ≤ 1) maximising δ with r·x_index ≥ r·x_j + δ for all j ≠ index.

    Returns (r, δ); δ > 0 certifies that row ``index`` is a vertex and that r makes it the unique
    optimum.
    """
    points = np.asarray(points, dtype=float)
    others = np.delete(points, index, axis=0)
    dim = points.shape[1]
    # variables (r, δ); maximise δ  s.t.  r·(x_j − x_i) + δ ≤ 0
    a_ub = np.hstack([others - points[index], np.ones((len(others), 1))])
    cost = np.r_[np.zeros(dim), -1.0]
    bounds = [(-1.0, 1.0)] * dim + [(None, None)]
    result = linprog(cost, A_ub=a_ub, b_ub=np.zeros(len(others)), bounds=bounds, method="highs")
    if result.status != 0:
        raise RuntimeError(f"separating-hyperplane LP failed: {result.message}")
    return result.x[:dim], float(-result.fun)

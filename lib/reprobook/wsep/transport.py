"""Wasserstein geometry on states: ground costs, exact W₁ (POT), entropic Sinkhorn (log domain).

WSEP and PWSEP replace the KL divergence of MISL's geometry by the Wasserstein distance between
state occupancies (Yang et al. 2024, abstract). The ground cost is a metric on states: Manhattan
distance between grid cells, or the shortest-path length in the (undirected) transition graph,
which respects internal walls.

>>> from reprobook.wsep.mdp import corridor
>>> cost = ground_cost(corridor(3), "manhattan")
>>> wasserstein(np.array([1.0, 0, 0]), np.array([0, 0, 1.0]), cost)
2.0
"""

from __future__ import annotations

import numpy as np
import ot
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path
from scipy.special import logsumexp

from reprobook.wsep.mdp import ControlledMarkovProcess

__all__ = ["GROUND_COSTS", "ground_cost", "wasserstein", "wasserstein_matrix", "sinkhorn"]

GROUND_COSTS = ("manhattan", "shortest_path", "discrete")


def ground_cost(mdp: ControlledMarkovProcess, kind: str = "manhattan") -> np.ndarray:
    """The state-to-state cost matrix: ``"manhattan"`` (grid coordinates), ``"shortest_path"``, or
    ``"discrete"`` (1 between any two different states, so W is the total-variation distance).

    >>> from reprobook.wsep.mdp import gridworld
    >>> walled = gridworld(3, 4, walls=[(0, 2), (2, 2)])
    >>> int((ground_cost(walled, "shortest_path") - ground_cost(walled, "manhattan")).max())  # detour
    2
    """
    if kind == "manhattan":
        return np.abs(mdp.coords[:, None, :] - mdp.coords[None, :, :]).sum(axis=2)
    if kind == "shortest_path":
        adjacency = (mdp.transitions.max(axis=1) > 0).astype(float)
        np.fill_diagonal(adjacency, 0.0)
        return shortest_path(csr_matrix(adjacency), directed=False, unweighted=True)
    if kind == "discrete":
        return 1.0 - np.eye(mdp.n_states)
    raise ValueError(f"ground cost must be one of {', '.join(GROUND_COSTS)}; got {kind!r}")


def wasserstein(a: np.ndarray, b: np.ndarray, cost: np.ndarray) -> float:
    """Exact optimal-transport cost between distributions ``a`` and ``b`` (POT's network simplex)."""
    return float(ot.emd2(np.ascontiguousarray(a, dtype=float), np.ascontiguousarray(b, dtype=float),
                         np.ascontiguousarray(cost, dtype=float), numItermax=1_000_000))


def wasserstein_matrix(points: np.ndarray, cost: np.ndarray, others: np.ndarray | None = None) -> np.ndarray:
    """W(points_i, others_j) for all pairs (symmetric and exact; ``others`` defaults to ``points``)."""
    points = np.asarray(points, dtype=float)
    cost = np.ascontiguousarray(cost, dtype=float)
    if others is None:
        n = len(points)
        out = np.zeros((n, n))
        for i in range(n - 1):  # one POT call per row: the later points are the columns of a batch
            out[i, i + 1:] = out[i + 1:, i] = _row(points[i], points[i + 1:], cost)
        return out
    others = np.asarray(others, dtype=float)
    return np.array([_row(x, others, cost) for x in points]).reshape(len(points), len(others))


def _row(point: np.ndarray, others: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """W(point, others_j) for every j in one batched POT call (each column solved exactly)."""
    if len(others) == 1:
        return np.array([wasserstein(point, others[0], cost)])
    return np.asarray(ot.emd2(np.ascontiguousarray(point), np.ascontiguousarray(others.T), cost,
                              numItermax=1_000_000), dtype=float)


def sinkhorn(a: np.ndarray, b: np.ndarray, cost: np.ndarray, epsilon: float, n_iter: int = 2_000,
             tol: float = 1e-12) -> float:
    """Entropic OT cost ⟨Γ_ε, c⟩ by log-domain Sinkhorn (stable for small ε); → W as ε → 0.

    Zero-mass entries are dropped (their potentials would be −∞).

    >>> cost = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> round(sinkhorn(np.array([1.0, 0.0]), np.array([0.0, 1.0]), cost, 0.01), 6)
    1.0
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    rows, cols = a > 0, b > 0
    a, b = a[rows], b[cols]
    c = np.asarray(cost, dtype=float)[np.ix_(rows, cols)]
    log_a, log_b = np.log(a), np.log(b)
    f = np.zeros(len(a))
    g = np.zeros(len(b))
    for _ in range(n_iter):
        f = epsilon * (log_a - logsumexp((g[None, :] - c) / epsilon, axis=1))
        g_new = epsilon * (log_b - logsumexp((f[:, None] - c) / epsilon, axis=0))
        converged = np.max(np.abs(g_new - g)) < tol
        g = g_new
        if converged:
            break
    plan = np.exp((f[:, None] + g[None, :] - c) / epsilon)
    return float((plan * c).sum())

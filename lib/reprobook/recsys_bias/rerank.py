"""Exposure-aware re-rankers over candidate lists of length C (chapter brief §2.5, post-processing).

Both take each user's C best candidates (items and scores, from :func:`recommenders.top_k_scored`)
and return k-item lists. Scores are min–max normalised within each user's candidates first, so one
λ serves every model and input type.

* :func:`greedy_exposure_rerank` visits users in a seeded random order and gives each the k
  candidates with the highest ``score − λ · e_i / ē``, where e_i is the position-weighted exposure
  item i has collected so far and ē the exposure every candidate item would get under perfect
  equality; O(|U| · C).
* :func:`min_cost_flow_rerank` solves the capacity-constrained assignment: maximise the total
  normalised score subject to each user getting k distinct candidates and each item being shown at
  most ``cap = ⌈slack · |U| k / |candidate items|⌉`` times (extra shows cost ``overflow_cost`` each,
  so the problem is always feasible). The constraint matrix is a network matrix, so the LP (HiGHS
  dual simplex) returns an integral min-cost flow.

>>> items = np.array([[0, 1, 2], [0, 1, 2]]); scores = np.array([[3.0, 2.0, 1.0], [3.0, 2.0, 1.0]])
>>> greedy_exposure_rerank(items, scores, k=1, lam=0.0).tolist()
[[0], [0]]
>>> sorted(min_cost_flow_rerank(items, scores, k=1, slack=1.0, n_items=3).ravel().tolist())
[0, 1]
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from reprobook.params import check_float, check_int
from reprobook.recsys_bias.metrics import position_weights

__all__ = ["normalise_scores", "greedy_exposure_rerank", "min_cost_flow_rerank"]


def normalise_scores(scores: np.ndarray) -> np.ndarray:
    """Min–max scale each row to [0, 1] (constant rows become 1)."""
    low = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - low
    return np.divide(scores - low, span, out=np.ones_like(scores, dtype=np.float64), where=span > 0)


def greedy_exposure_rerank(items: np.ndarray, scores: np.ndarray, k: int, lam: float,
                           seed: int = 0) -> np.ndarray:
    """Greedy exposure-penalised re-ranking (see the module docstring); returns (n_users × k) items."""
    check_int("k", k, minimum=1, maximum=items.shape[1])
    check_float("lam", lam, minimum=0.0)
    normalised = normalise_scores(scores)
    weights = position_weights(k)
    n_users = len(items)
    universe, local = np.unique(items, return_inverse=True)
    local = local.reshape(items.shape)
    fair_share = n_users * weights.sum() / len(universe)
    exposure = np.zeros(len(universe))
    out = np.empty((n_users, k), dtype=np.int64)
    for user in np.random.default_rng(seed).permutation(n_users):
        adjusted = normalised[user] - lam * exposure[local[user]] / fair_share
        chosen = np.argpartition(-adjusted, k - 1)[:k] if k < items.shape[1] else np.arange(k)
        chosen = chosen[np.lexsort((chosen, -adjusted[chosen]))]
        exposure[local[user, chosen]] += weights
        out[user] = items[user, chosen]
    return out


def min_cost_flow_rerank(items: np.ndarray, scores: np.ndarray, k: int, slack: float = 1.0,
                         n_items: int | None = None, overflow_cost: float = 10.0) -> np.ndarray:
    """Capacity-constrained assignment re-ranking (see the module docstring); lists are ordered by
    the original score."""
    check_int("k", k, minimum=1, maximum=items.shape[1])
    check_float("slack", slack, minimum=1e-6)
    n_users, length = items.shape
    normalised = normalise_scores(scores)
    universe, local = np.unique(items, return_inverse=True)
    local = local.reshape(items.shape)
    n_candidates = len(universe) if n_items is None else min(len(universe), n_items)
    capacity = int(np.ceil(slack * n_users * k / n_candidates))
    n_edges = n_users * length
    n_universe = len(universe)
    # variables: one per (user, candidate) edge, then one overflow per item
    cost = np.concatenate([-normalised.ravel(), np.full(n_universe, overflow_cost)])
    edge = np.arange(n_edges)
    user_rows = sp.csr_matrix((np.ones(n_edges), (np.repeat(np.arange(n_users), length), edge)),
                              shape=(n_users, n_edges + n_universe))
    item_rows = sp.csr_matrix(
        (np.concatenate([np.ones(n_edges), -np.ones(n_universe)]),
         (np.concatenate([local.ravel(), np.arange(n_universe)]), np.concatenate([edge, n_edges + np.arange(n_universe)]))),
        shape=(n_universe, n_edges + n_universe))
    bounds = np.zeros((n_edges + n_universe, 2))
    bounds[:n_edges, 1] = 1.0
    bounds[n_edges:, 1] = np.inf
    solution = linprog(cost, A_ub=item_rows, b_ub=np.full(n_universe, capacity), A_eq=user_rows,
                       b_eq=np.full(n_users, k), bounds=bounds, method="highs-ds")
    if solution.status != 0:
        raise RuntimeError(f"the min-cost-flow re-ranker failed: {solution.message}")
    chosen = solution.x[:n_edges].reshape(n_users, length) > 0.5
    if not (chosen.sum(axis=1) == k).all():
        raise RuntimeError("the min-cost-flow solution is not integral; try another slack")
    # keep the chosen candidates in their original (score) order
    order = np.argsort(~chosen, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(items, order, axis=1)

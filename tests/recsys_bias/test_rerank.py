import itertools

import numpy as np
import pytest

from reprobook.recsys_bias.metrics import exposure_gini, item_exposure
from reprobook.recsys_bias.rerank import greedy_exposure_rerank, min_cost_flow_rerank, normalise_scores


def _candidates(seed=0, n_users=40, length=12, n_items=30):
    rng = np.random.default_rng(seed)
    weights = np.arange(n_items, 0, -1.0) ** 3
    items = np.stack([rng.choice(n_items, length, replace=False, p=weights / weights.sum())
                      for _ in range(n_users)])
    scores = -np.sort(-rng.random((n_users, length)), axis=1)
    return items, scores


def test_greedy_without_penalty_is_plain_top_k():
    items, scores = _candidates()
    assert np.array_equal(greedy_exposure_rerank(items, scores, k=5, lam=0.0), items[:, :5])


def test_greedy_penalty_raises_equality_of_exposure():
    items, scores = _candidates(seed=1)
    ee = [1 - exposure_gini(item_exposure(greedy_exposure_rerank(items, scores, 5, lam), 30))
          for lam in (0.0, 1.0, 10.0)]
    assert ee[0] < ee[1] < ee[2]


def test_min_cost_flow_matches_brute_force_on_a_tiny_case():
    rng = np.random.default_rng(3)
    n_users, length, k = 3, 3, 2
    items = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3]])
    scores = -np.sort(-rng.random((n_users, length)), axis=1)
    normalised = normalise_scores(scores)
    capacity = int(np.ceil(n_users * k / 4))  # 4 candidate items
    best = -np.inf
    for choice in itertools.product(itertools.combinations(range(length), k), repeat=n_users):
        shown = np.concatenate([items[u, list(c)] for u, c in enumerate(choice)])
        if np.bincount(shown, minlength=4).max() > capacity:
            continue
        best = max(best, sum(normalised[u, list(c)].sum() for u, c in enumerate(choice)))
    lists = min_cost_flow_rerank(items, scores, k, slack=1.0, n_items=4)
    total = sum(normalised[u, np.isin(items[u], lists[u])].sum() for u in range(n_users))
    assert total == pytest.approx(best)
    assert np.bincount(lists.ravel(), minlength=4).max() <= capacity
    assert all(len(set(row)) == k for row in lists)


def test_min_cost_flow_respects_capacity_when_feasible():
    items, scores = _candidates(seed=5, length=20)
    lists = min_cost_flow_rerank(items, scores, k=4, slack=1.5, n_items=30)
    capacity = int(np.ceil(1.5 * 40 * 4 / len(np.unique(items))))
    assert np.bincount(lists.ravel()).max() <= capacity
    assert all(np.isin(lists[u], items[u]).all() and len(set(lists[u])) == 4 for u in range(40))

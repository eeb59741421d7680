"""Accuracy and exposure-fairness metrics of top-k lists (chapter brief §2.4), vectorised.

``lists`` is an (n_users × k) array of item codes, row u the list of ``users[u]``. Formulas:

* precision@k = mean_u |L_u ∩ T_u| / k; recall@k = mean_u |L_u ∩ T_u| / |T_u| (T_u: u's test items).
* nDCG@k: gain = the raw test rating (0 for non-test items), discount 1/log₂(rank + 1), rank from 1;
  the ideal DCG sorts u's test ratings descending, truncated to k; users without hits score 0.
* IA@α = |{i ∈ I_train : i appears in ≥ α lists}| / |I_train| (aggregate diversity).
* LIA@α = |{i in the long tail : i appears in ≥ α lists}| / |I_train| (denominator: all items).
  The head is the most-rated items whose cumulative share of training ratings stays ≤ 20 %.
* EE = 1 − Gini(e), e_i = Σ_u 1/log₂(1 + rank_u(i)) over I_train (0 when never recommended), with
  the standard Gini of the shares, G = Σ_k (2k − n − 1) p₍ₖ₎ / (n − 1) (k = 1..n, ascending).
  ``variant="notebook"`` reproduces the official notebook's loop over k = 0..n − 1, i.e. G − 2/(n − 1).
* Gini of recommendation counts: standard as above, or ``normalisation="recbole"``, RecBole 1.2.1's
  GiniIndex Σ_i (2i − n − 1) c₍ᵢ₎ / (n Σ c) over all n items.
* APLT = mean_u share of u's list in the long tail; ARP = mean_u mean popularity |R_{·,i}|/|U| of
  u's list; item coverage = |∪_u L_u| / n_items (RecBole's ItemCoverage).
* ``ndcg@k_se``: the standard error of nDCG@k over users (for intervals on sparse data sets).

>>> exposure_gini(np.ones(4))
0.0
>>> float(exposure_gini(np.array([0.0, 0.0, 0.0, 1.0])))
1.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reprobook.params import check_choice

__all__ = [
    "position_weights",
    "exposure_gini",
    "gini",
    "head_items",
    "item_exposure",
    "ndcg_per_user",
    "hits_per_user",
    "evaluate_lists",
]


def position_weights(k: int) -> np.ndarray:
    """1/log₂(1 + rank) for ranks 1..k.

    >>> position_weights(3).round(3).tolist()
    [1.0, 0.631, 0.5]
    """
    return 1.0 / np.log2(np.arange(2, k + 2))


def gini(values: np.ndarray, normalisation: str = "standard") -> float:
    """Gini index of non-negative ``values``.

    ``standard``: Σ_k (2k − n − 1) p₍ₖ₎ / (n − 1) on shares p sorted ascending (0 uniform, 1 when one
    entry holds everything). ``notebook``: the official notebook's off-by-one, standard − 2/(n − 1).
    ``recbole``: Σ_k (2k − n − 1) v₍ₖ₎ / (n Σ v), RecBole's GiniIndex.

    >>> gini(np.array([1.0, 1.0, 1.0, 1.0]))
    0.0
    >>> round(gini(np.array([0.0, 0.0, 0.0, 4.0]), "recbole"), 3)
    0.75
    """
    check_choice("normalisation", normalisation, ["standard", "notebook", "recbole"])
    values = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(values), values.sum()
    if n < 2 or total <= 0:
        return 0.0
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    shares = values / total
    if normalisation == "recbole":
        return float(weights @ shares / n)
    standard = float(weights @ shares / (n - 1))
    return standard if normalisation == "standard" else standard - 2.0 / (n - 1)


def exposure_gini(exposure: np.ndarray, variant: str = "standard") -> float:
    """Gini of an exposure vector (standard, or the official notebook's ``notebook`` variant)."""
    check_choice("variant", variant, ["standard", "notebook"])
    return gini(exposure, variant)


def head_items(train: pd.DataFrame, n_items: int, head_share: float = 0.2) -> np.ndarray:
    """Boolean mask of head items: the most-rated items whose cumulative share of training ratings
    stays ≤ ``head_share`` (the rest of I_train is the long tail)."""
    counts = np.bincount(train["item"].to_numpy(), minlength=n_items).astype(np.float64)
    order = np.argsort(-counts, kind="stable")
    cumulative = np.cumsum(counts[order]) / counts.sum()
    head = np.zeros(n_items, dtype=bool)
    head[order[cumulative <= head_share]] = True
    return head


def item_exposure(lists: np.ndarray, n_items: int) -> np.ndarray:
    """e_i = Σ_u 1/log₂(1 + rank_u(i)) over all lists."""
    weights = np.broadcast_to(position_weights(lists.shape[1]), lists.shape)
    return np.bincount(lists.ravel(), weights.ravel(), minlength=n_items)


def _test_lookup(test: pd.DataFrame, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    keys = test["user"].to_numpy(np.int64) * n_items + test["item"].to_numpy(np.int64)
    order = np.argsort(keys, kind="stable")
    return keys[order], test["rating"].to_numpy(np.float64)[order]


def _gains(lists: np.ndarray, users: np.ndarray, test: pd.DataFrame, n_items: int) -> np.ndarray:
    """Raw test rating of every listed item (0 where the pair is not in the test set)."""
    keys, ratings = _test_lookup(test, n_items)
    query = users[:, None].astype(np.int64) * n_items + lists
    position = np.clip(np.searchsorted(keys, query), 0, max(len(keys) - 1, 0))
    found = keys[position] == query if len(keys) else np.zeros(query.shape, dtype=bool)
    return np.where(found, ratings[position] if len(keys) else 0.0, 0.0)


def hits_per_user(lists: np.ndarray, users: np.ndarray, test: pd.DataFrame, n_items: int) -> np.ndarray:
    """Number of test items in each user's list."""
    keys, _ = _test_lookup(test, n_items)
    query = users[:, None].astype(np.int64) * n_items + lists
    position = np.clip(np.searchsorted(keys, query), 0, len(keys) - 1)
    return (keys[position] == query).sum(axis=1)


def ndcg_per_user(lists: np.ndarray, users: np.ndarray, test: pd.DataFrame, n_items: int) -> np.ndarray:
    """nDCG@k per user with raw test ratings as gains.

    >>> test = pd.DataFrame({"user": [0, 0], "item": [1, 2], "rating": [5.0, 3.0]})
    >>> ndcg_per_user(np.array([[2, 1]]), np.array([0]), test, 3).round(4).tolist()
    [0.8929]
    """
    k = lists.shape[1]
    discount = position_weights(k)
    dcg = _gains(lists, users, test, n_items) @ discount
    # ideal: each user's test ratings, descending, truncated to k
    frame = pd.DataFrame({"user": test["user"].to_numpy(), "rating": test["rating"].to_numpy(np.float64)})
    frame = frame.sort_values(["user", "rating"], ascending=[True, False], kind="stable")
    rank = frame.groupby("user").cumcount().to_numpy()
    kept = rank < k
    idcg_by_user = np.bincount(frame["user"].to_numpy()[kept], frame["rating"].to_numpy()[kept] * discount[rank[kept]],
                               minlength=int(max(users.max(initial=0), frame["user"].max() if len(frame) else 0)) + 1)
    idcg = idcg_by_user[users]
    return np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)


def evaluate_lists(
    lists: np.ndarray,
    users: np.ndarray,
    train: pd.DataFrame,
    test: pd.DataFrame,
    n_items: int,
    alphas: tuple[int, ...] = (1, 5, 10),
    head_share: float = 0.2,
) -> dict[str, float]:
    """Every metric of the module for one set of top-k lists; keys are suffixed with ``@k``/``@α``.

    ``users`` are the rows' user codes (normally every user with a test rating).
    """
    k = lists.shape[1]
    n_users_total = int(max(train["user"].max(), test["user"].max())) + 1
    train_counts = np.bincount(train["item"].to_numpy(), minlength=n_items)
    in_train = train_counts > 0
    n_train_items = int(in_train.sum())
    tail = in_train & ~head_items(train, n_items, head_share)
    test_sizes = np.bincount(test["user"].to_numpy(), minlength=n_users_total)[users]
    hits = hits_per_user(lists, users, test, n_items)
    ndcg = ndcg_per_user(lists, users, test, n_items)
    counts = np.bincount(lists.ravel(), minlength=n_items)
    exposure = item_exposure(lists, n_items)[in_train]
    popularity = train_counts / n_users_total
    result = {
        f"precision@{k}": float(np.mean(hits / k)),
        f"recall@{k}": float(np.mean(np.divide(hits, test_sizes, out=np.zeros(len(hits)), where=test_sizes > 0))),
        f"ndcg@{k}": float(np.mean(ndcg)),
        f"ndcg@{k}_se": float(np.std(ndcg, ddof=1) / np.sqrt(len(ndcg))) if len(ndcg) > 1 else float("nan"),
    }
    for alpha in alphas:
        result[f"IA@{alpha}"] = float(np.sum(in_train & (counts >= alpha)) / n_train_items)
    for alpha in alphas:
        result[f"LIA@{alpha}"] = float(np.sum(tail & (counts >= alpha)) / n_train_items)
    result["EE"] = 1.0 - exposure_gini(exposure)
    result["EE_notebook"] = 1.0 - exposure_gini(exposure, "notebook")
    result["gini_counts"] = gini(counts[in_train])
    result["gini_recbole"] = gini(counts, "recbole")
    result["APLT"] = float(np.mean(tail[lists].mean(axis=1)))
    result["ARP"] = float(np.mean(popularity[lists].mean(axis=1)))
    result["item_coverage"] = float(np.count_nonzero(counts) / n_items)
    return result

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score

from reprobook.recsys_bias.metrics import (
    evaluate_lists,
    exposure_gini,
    gini,
    head_items,
    item_exposure,
    ndcg_per_user,
)


def _random_case(seed=0, n_users=60, n_items=80, k=10):
    rng = np.random.default_rng(seed)
    rows = [(u, i, float(rng.integers(1, 6))) for u in range(n_users)
            for i in rng.choice(n_items, rng.integers(5, 30), replace=False)]
    frame = pd.DataFrame(rows, columns=["user", "item", "rating"])
    test_mask = rng.random(len(frame)) < 0.3
    train, test = frame[~test_mask].reset_index(drop=True), frame[test_mask].reset_index(drop=True)
    # popularity-skewed lists of distinct items
    weights = np.arange(n_items, 0, -1.0) ** 2
    lists = np.stack([rng.choice(n_items, k, replace=False, p=weights / weights.sum()) for _ in range(n_users)])
    return train, test, lists, np.arange(n_users), n_items


def _mean_difference_gini(values):
    """Gini as the mean absolute difference over twice the mean (independent formula)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    return np.abs(values[:, None] - values[None, :]).sum() / (2 * n * n * values.mean())


def test_ee_is_one_for_uniform_and_zero_for_a_single_item():
    n_items, k = 50, 5
    uniform = np.stack([np.roll(np.arange(n_items), shift)[:k] for shift in range(0, n_items, 1)])
    assert 1 - exposure_gini(item_exposure(uniform, n_items)) == pytest.approx(1.0)
    single = np.zeros(n_items)
    single[7] = 3.0
    assert 1 - exposure_gini(single) == pytest.approx(0.0)
    assert 1 - exposure_gini(single, "notebook") == pytest.approx(2 / (n_items - 1))


def test_gini_against_the_mean_difference_formula():
    rng = np.random.default_rng(2)
    counts = rng.poisson(3.0, 200).astype(float)
    n = len(counts)
    assert gini(counts, "recbole") == pytest.approx(_mean_difference_gini(counts))
    assert gini(counts) == pytest.approx(_mean_difference_gini(counts) * n / (n - 1))
    assert gini(counts, "notebook") == pytest.approx(gini(counts) - 2 / (n - 1))


def test_alpha_monotonicity_and_lia_below_ia():
    train, test, lists, users, n_items = _random_case()
    result = evaluate_lists(lists, users, train, test, n_items)
    assert result["IA@1"] >= result["IA@5"] >= result["IA@10"]
    assert result["LIA@1"] >= result["LIA@5"] >= result["LIA@10"]
    for alpha in (1, 5, 10):
        assert result[f"LIA@{alpha}"] <= result[f"IA@{alpha}"]
    assert 0 <= result["EE"] <= 1


def test_ia_and_lia_by_brute_force():
    train, test, lists, users, n_items = _random_case(seed=4)
    result = evaluate_lists(lists, users, train, test, n_items)
    train_items = set(train["item"])
    head = set(np.flatnonzero(head_items(train, n_items)))
    counts = {item: int((lists == item).sum()) for item in range(n_items)}
    for alpha in (1, 5, 10):
        ia = sum(counts[i] >= alpha for i in train_items) / len(train_items)
        lia = sum(counts[i] >= alpha for i in train_items - head) / len(train_items)
        assert result[f"IA@{alpha}"] == pytest.approx(ia)
        assert result[f"LIA@{alpha}"] == pytest.approx(lia)


def test_head_is_the_top_twenty_percent_of_interactions():
    train = pd.DataFrame({"user": range(10), "item": [0, 0, 1, 2, 3, 4, 5, 6, 7, 8], "rating": 3.0})
    head = head_items(train, 9)
    assert head.tolist() == [True] + [False] * 8  # item 0 holds exactly 20 %


def test_precision_recall_by_brute_force():
    train, test, lists, users, n_items = _random_case(seed=7)
    result = evaluate_lists(lists, users, train, test, n_items)
    relevant = test.groupby("user")["item"].apply(set).to_dict()
    precision = [len(set(lists[u]) & relevant.get(u, set())) / 10 for u in users]
    recall = [len(set(lists[u]) & relevant[u]) / len(relevant[u]) if u in relevant else 0.0 for u in users]
    assert result["precision@10"] == pytest.approx(np.mean(precision))
    assert result["recall@10"] == pytest.approx(np.mean(recall))


def test_ndcg_matches_sklearn_on_single_users():
    train, test, lists, users, n_items = _random_case(seed=9)
    ours = ndcg_per_user(lists, users, test, n_items)
    checked = 0
    for user in users:
        truth = np.zeros(n_items)
        rows = test[test["user"] == user]
        if rows.empty:
            continue
        truth[rows["item"].to_numpy()] = rows["rating"].to_numpy()
        score = np.zeros(n_items)
        score[lists[user]] = np.arange(lists.shape[1], 0, -1)
        assert ours[user] == pytest.approx(ndcg_score(truth[None], score[None], k=lists.shape[1]))
        checked += 1
    assert checked > 30


def test_recbole_style_gini_and_coverage():
    train, test, lists, users, n_items = _random_case(seed=11)
    result = evaluate_lists(lists, users, train, test, n_items)
    counts = np.bincount(lists.ravel(), minlength=n_items)
    assert result["gini_recbole"] == pytest.approx(_mean_difference_gini(counts))
    assert result["item_coverage"] == pytest.approx(len(np.unique(lists)) / n_items)

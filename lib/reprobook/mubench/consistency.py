"""Cross-lingual consistency of multiple-choice answers: agreement C, Cohen's κ, RankC and MLC.

Inputs are aligned across languages: ``pred[l, i]`` is the canonical value (an integer code) that
language ``l`` chose for item ``i``; ``scores[l, i, k]`` the model score of canonical option ``k`` of
item ``i`` (the same option index means the same underlying value in every language).

Definitions (the chapter's operational reading of MuBench's MLC; the published formula was not checked):

- C(a, b) = (1/N) Σ_i 1[ŷ_i^a = ŷ_i^b];  MLC(a) = mean_{b≠a} C(a, b);  MLC = mean over pairs a < b;
- Rel-MLC = MLC / mean_l acc(l);
- κ(a, b) = (C − E) / (1 − E), E = Σ_c p_a(c) p_b(c) from each language's choice marginals (Cohen);
- C = P(both right) + P(both wrong with the same option);
- RankC(a, b) = mean_i Σ_j w_j |top_j^a(i) ∩ top_j^b(i)| / j, w = softmax(K, K−1, …, 1) (Qi et al., 2023).

>>> agreement_matrix([[0, 1, 2], [0, 1, 0]]).round(3).tolist()
[[1.0, 0.667], [0.667, 1.0]]
>>> round(float(rankc_matrix([[[3., 2., 1.]], [[3., 2., 1.]]])[0, 1]), 6)
1.0
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["agreement_matrix", "kappa_matrix", "rankc_weights", "rank_positions", "rankc_matrix",
           "rankc_naive", "decomposition", "mlc_per_language", "mlc_overall", "rel_mlc", "bootstrap_ci",
           "expected_random_rankc"]


def _pred(pred) -> np.ndarray:
    array = np.asarray(pred)
    if array.ndim != 2:
        raise ValueError(f"pred must be languages × items, got shape {array.shape}")
    return array


def agreement_matrix(pred) -> np.ndarray:
    """C(a, b): the share of aligned items on which languages a and b chose the same value."""
    array = _pred(pred)
    return (array[:, None, :] == array[None, :, :]).mean(axis=2)


def _marginals(array: np.ndarray) -> np.ndarray:
    codes, inverse = np.unique(array, return_inverse=True)
    inverse = inverse.reshape(array.shape)
    counts = np.zeros((array.shape[0], len(codes)))
    for row in range(array.shape[0]):
        counts[row] = np.bincount(inverse[row], minlength=len(codes))
    return counts / array.shape[1]


def kappa_matrix(pred) -> np.ndarray:
    """Cohen's κ between every pair of prediction vectors (NaN where chance agreement E = 1).

    >>> kappa_matrix([[0, 1, 0, 1], [1, 0, 1, 0]])[0, 1]
    np.float64(-1.0)
    """
    array = _pred(pred)
    observed = agreement_matrix(array)
    marginals = _marginals(array)
    expected = marginals @ marginals.T
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (observed - expected) / (1.0 - expected)
    kappa[np.isclose(expected, 1.0)] = np.nan
    return kappa


def rankc_weights(k: int) -> np.ndarray:
    """w = softmax(K, K−1, …, 1): the top-1 overlap weighs most.

    >>> rankc_weights(2).round(4).tolist()
    [0.7311, 0.2689]
    """
    logits = np.arange(k, 0, -1, dtype=float)
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def rank_positions(scores) -> np.ndarray:
    """0 for the best-scored option, K−1 for the worst (ties broken by option index).

    >>> rank_positions([[0.1, 0.5, 0.3]]).tolist()
    [[2, 0, 1]]
    """
    array = np.asarray(scores, dtype=float)
    order = np.argsort(-array, axis=-1, kind="stable")
    positions = np.empty_like(order)
    np.put_along_axis(positions, order, np.arange(array.shape[-1]), axis=-1)
    return positions


def rankc_matrix(scores) -> np.ndarray:
    """RankC for every language pair; ``scores`` is languages × items × K.

    An option counts towards |top_j^a ∩ top_j^b| for every j above the worse of its two rank
    positions, so each option contributes tail[max(pos_a, pos_b)] with tail[m] = Σ_{j>m} w_j / j:
    O(L²·N·K) in numpy, no sets.
    """
    array = np.asarray(scores, dtype=float)
    if array.ndim != 3:
        raise ValueError(f"scores must be languages × items × options, got shape {array.shape}")
    k = array.shape[2]
    weights = rankc_weights(k)
    tail = np.cumsum((weights / np.arange(1, k + 1))[::-1])[::-1]  # tail[m] = Σ_{j=m+1..K} w_j / j
    positions = rank_positions(array)
    out = np.empty((array.shape[0], array.shape[0]))
    for a in range(array.shape[0]):
        worst = np.maximum(positions[a][None], positions)  # (L, N, K)
        out[a] = tail[worst].sum(axis=2).mean(axis=1)
    return out


def rankc_naive(scores_a, scores_b) -> float:
    """RankC of two languages by the set-based definition (reference for tests)."""
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    k = a.shape[1]
    weights = rankc_weights(k)
    total = 0.0
    for row_a, row_b in zip(a, b, strict=True):
        order_a = list(np.argsort(-row_a, kind="stable"))
        order_b = list(np.argsort(-row_b, kind="stable"))
        total += sum(weights[j - 1] * len(set(order_a[:j]) & set(order_b[:j])) / j for j in range(1, k + 1))
    return total / len(a)


def expected_random_rankc(k: int) -> float:
    """E[RankC] for independent uniformly random rankings: Σ_j w_j · j / K.

    >>> round(expected_random_rankc(4), 3)
    0.377
    """
    weights = rankc_weights(k)
    return float(sum(weights[j - 1] * j / k for j in range(1, k + 1)))


def decomposition(pred, answers) -> tuple[np.ndarray, np.ndarray]:
    """(P(both right), P(both wrong with the same value)) per language pair; they sum to C."""
    array = _pred(pred)
    truth = np.asarray(answers)
    right = array == truth[None, :] if truth.ndim == 1 else array == truth
    same = array[:, None, :] == array[None, :, :]
    both_right = (right[:, None, :] & right[None, :, :]).mean(axis=2)
    both_wrong_same = (same & ~right[:, None, :] & ~right[None, :, :]).mean(axis=2)
    return both_right, both_wrong_same


def mlc_per_language(matrix) -> np.ndarray:
    """MLC(a) = mean over b ≠ a of a pairwise matrix (NaN entries ignored).

    >>> mlc_per_language([[1, .5, .7], [.5, 1, .9], [.7, .9, 1]]).round(2).tolist()
    [0.6, 0.7, 0.8]
    """
    array = np.array(matrix, dtype=float)
    np.fill_diagonal(array, np.nan)
    return np.nanmean(array, axis=1)


def mlc_overall(matrix) -> float:
    """The mean of a pairwise matrix over pairs a < b."""
    array = np.asarray(matrix, dtype=float)
    upper = array[np.triu_indices(array.shape[0], k=1)]
    return float(np.nanmean(upper))


def rel_mlc(mlc: float, accuracies) -> float:
    """Rel-MLC = MLC / mean accuracy (criticised for penalising accurate models; shown, never judged).

    >>> rel_mlc(0.5, [0.25, 0.75])
    1.0
    """
    return float(mlc / np.mean(accuracies))


def bootstrap_ci(statistic: Callable[[np.ndarray], float | np.ndarray], n_items: int, *, n_boot: int = 10_000,
                 seed: int = 0, level: float = 0.95, groups=None) -> tuple[np.ndarray, np.ndarray]:
    """Percentile CI of ``statistic(item_indices)`` over resampled aligned item ids.

    The same resampled ids are used in every language (``statistic`` receives the index array).
    ``groups`` (one label per item) resamples within each group (e.g. per task), keeping its size.

    >>> low, high = bootstrap_ci(lambda idx: np.mean(np.arange(10)[idx]), 10, n_boot=2000)
    >>> bool(low < 4.5 < high)
    True
    """
    rng = np.random.default_rng(seed)
    if groups is None:
        members = [np.arange(n_items)]
    else:
        labels = np.asarray(groups)
        members = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    draws = []
    for _ in range(n_boot):
        index = np.concatenate([rng.choice(member, size=len(member), replace=True) for member in members])
        draws.append(statistic(index))
    draws = np.asarray(draws, dtype=float)
    tail = (1.0 - level) / 2.0
    return np.nanquantile(draws, tail, axis=0), np.nanquantile(draws, 1.0 - tail, axis=0)

"""Prequential metrics of a stream classifier and of concept tracking (brief §2.10).

Accuracy, Cohen's κ, the reference code's label-marginal "ref-κ", κ_m and κ_t (as in MOA), and
C-F1, which scores how well system concept ids track ground-truth concept ids.

>>> concept_f1([0, 0, 1, 1], [5, 5, 5, 5])
0.6666666666666666
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = [
    "accuracy",
    "cohen_kappa",
    "kappa_label_marginal",
    "kappa_m",
    "kappa_t",
    "concept_f1",
]


def _arrays(y_true: Sequence[Any], y_pred: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(list(y_true), dtype=object)
    pred = np.asarray(list(y_pred), dtype=object)
    if true.shape != pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {true.shape[0]} vs {pred.shape[0]}")
    if true.size == 0:
        raise ValueError("metrics need at least one observation")
    return true, pred


def accuracy(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """Fraction of correct predictions.

    >>> accuracy([1, 0, 1], [1, 1, 1])
    0.6666666666666666
    """
    true, pred = _arrays(y_true, y_pred)
    return float(np.mean(true == pred))


def _kappa(observed: float, chance: float) -> float:
    if chance >= 1.0:
        return 1.0 if observed >= 1.0 else 0.0
    return float((observed - chance) / (1.0 - chance))


def cohen_kappa(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """Cohen's κ = (acc - p_e) / (1 - p_e), p_e = Σ_c (n_c^true / N)(n_c^pred / N).

    >>> round(cohen_kappa([0, 0, 1, 1], [0, 1, 1, 1]), 4)
    0.5
    """
    true, pred = _arrays(y_true, y_pred)
    n = true.size
    chance = 0.0
    for label in set(true.tolist()) | set(pred.tolist()):
        chance += (np.sum(true == label) / n) * (np.sum(pred == label) / n)
    return _kappa(float(np.mean(true == pred)), chance)


def kappa_label_marginal(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """The reference code's κ ("ref-κ"): chance agreement from the label marginals only.

    The official FiCSUM evaluation stores the label where the prediction should be when computing
    chance agreement, so p_e = Σ_c (n_c^true / N)². Use it only to compare with stored numbers.

    >>> round(kappa_label_marginal([0, 0, 1, 1], [0, 1, 1, 1]), 4)
    0.5
    """
    true, pred = _arrays(y_true, y_pred)
    n = true.size
    chance = sum((np.sum(true == label) / n) ** 2 for label in set(true.tolist()))
    return _kappa(float(np.mean(true == pred)), chance)


def _prequential_majority_accuracy(true: np.ndarray) -> float:
    """Accuracy of predicting, before each label, the most frequent label so far (ties: the earlier)."""
    counts: dict[Any, int] = {}
    majority, best, hits = None, 0, 0
    for label in true.tolist():
        hits += label == majority
        counts[label] = counts.get(label, 0) + 1
        if counts[label] > best:
            majority, best = label, counts[label]
    return hits / true.size


def _no_change_accuracy(true: np.ndarray) -> float:
    """Accuracy of predicting the previous label (the first prediction counts as wrong)."""
    return float(np.mean(true[1:] == true[:-1]) * (true.size - 1) / true.size) if true.size > 1 else 0.0


def kappa_m(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """κ_m = (acc - acc_maj) / (1 - acc_maj) against MOA's prequential majority-class classifier.

    >>> kappa_m([1, 1, 0, 1], [1, 1, 0, 1])
    1.0
    """
    true, pred = _arrays(y_true, y_pred)
    return _kappa(float(np.mean(true == pred)), _prequential_majority_accuracy(true))


def kappa_t(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """κ_t = (acc - acc_nc) / (1 - acc_nc) against the no-change classifier (predict y_{t-1}).

    >>> round(kappa_t([0, 0, 1, 1], [0, 0, 1, 1]), 4)
    1.0
    """
    true, pred = _arrays(y_true, y_pred)
    return _kappa(float(np.mean(true == pred)), _no_change_accuracy(true))


def concept_f1(true_concepts: Sequence[int], system_concepts: Sequence[int]) -> float:
    """C-F1 = mean over true concepts g of max over system concepts s of F1(g, s).

    recall = |g ∩ s| / |g|, precision = |g ∩ s| / |s| over timesteps.

    >>> concept_f1([0, 0, 1, 1, 2, 2], [0] * 6)
    0.5
    """
    true = np.asarray(list(true_concepts))
    system = np.asarray(list(system_concepts))
    if true.shape != system.shape or true.size == 0:
        raise ValueError("true_concepts and system_concepts must be equally long and non-empty")
    true_ids, true_index = np.unique(true, return_inverse=True)
    system_ids, system_index = np.unique(system, return_inverse=True)
    overlap = np.zeros((true_ids.size, system_ids.size))
    np.add.at(overlap, (true_index, system_index), 1.0)
    true_sizes = overlap.sum(axis=1, keepdims=True)
    system_sizes = overlap.sum(axis=0, keepdims=True)
    # 2 r p / (r + p) simplifies to 2 |g ∩ s| / (|g| + |s|); averaging exact fractions makes
    # C-F1 of one system concept over K equal true concepts exactly 2 / (K + 1)
    f1 = 2.0 * overlap / (true_sizes + system_sizes)
    best = f1.argmax(axis=1)
    total = sum(
        Fraction(2 * int(overlap[g, s]), int(true_sizes[g, 0] + system_sizes[0, s]))
        for g, s in enumerate(best)
    )
    return float(total / true_ids.size)

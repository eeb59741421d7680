"""Continual-learning metrics on evaluation curves (brief §2.5).

``s_j(t)`` is the normalised score of task ``j`` at evaluation ``t``; ``t_i`` is the last evaluation
of task ``i``'s training. Forgetting comes in three named variants: ``classic`` (the paper's
figures), ``weighted`` (MEAL's code default) and ``peak_final``. Forward transfer divides by
``|AUC_b|`` (MEAL's code); the paper's printed ``1 − AUC_b`` flips the sign when scores exceed 1.

>>> import numpy as np
>>> scores = np.array([[0.0, 0.0], [1.0, 0.0], [0.2, 0.8]])   # evaluations × tasks
>>> ends = [1, 2]                                                  # t_i per task
>>> float(average_performance(scores))
0.5
>>> round(float(forgetting_classic(scores, ends)), 3)
0.8
>>> round(forward_transfer([1.5], [1.2]), 6)
0.25
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["average_performance", "forgetting_classic", "forgetting_weighted", "forgetting_peak_final",
           "forgetting", "FORGETTING_FORMULAS", "auc", "smoothed_auc", "forward_transfer", "auc_loss"]

FORGETTING_FORMULAS = ("classic", "weighted", "peak_final")


def average_performance(scores: np.ndarray) -> float:
    """A = mean over tasks of the last evaluation."""
    return float(np.mean(np.asarray(scores)[-1]))


def forgetting_classic(scores: np.ndarray, ends: Sequence[int]) -> float:
    """F = 1/(N−1) Σ_{i<N} (s_i(t_i) − s_i(t_N))."""
    scores = np.asarray(scores, dtype=float)
    n_tasks = scores.shape[1]
    if n_tasks < 2:
        return float("nan")
    return float(np.mean([scores[ends[i], i] - scores[-1, i] for i in range(n_tasks - 1)]))


def forgetting_weighted(scores: np.ndarray, ends: Sequence[int]) -> float:
    """MEAL's default: exponentially weighted relative drops after training, clipped to [0, 1]."""
    scores = np.asarray(scores, dtype=float)
    values = []
    for task in range(scores.shape[1] - 1):
        end = scores[ends[task], task]
        after = scores[ends[task] + 1:, task]
        if end < 1e-8 or len(after) == 0:
            values.append(0.0)
            continue
        k = np.arange(len(after))
        weights = np.exp(-2 * k / max(len(after) - 1, 1))
        drops = np.maximum(0.0, end - after) / end
        values.append(float(np.clip(np.sum(weights * drops) / np.sum(weights), 0.0, 1.0)))
    return float(np.mean(values)) if values else float("nan")


def forgetting_peak_final(scores: np.ndarray, last: int = 10) -> float:
    """max(0, max_t s_i(t) − mean of the last ``last`` evaluations), averaged over tasks but the last."""
    scores = np.asarray(scores, dtype=float)
    if scores.shape[1] < 2:
        return float("nan")
    tail = scores[-last:].mean(0)
    return float(np.mean(np.maximum(0.0, scores.max(0) - tail)[:-1]))


def forgetting(scores: np.ndarray, ends: Sequence[int], formula: str = "classic") -> float:
    """Forgetting by the named formula (one of :data:`FORGETTING_FORMULAS`)."""
    if formula == "classic":
        return forgetting_classic(scores, ends)
    if formula == "weighted":
        return forgetting_weighted(scores, ends)
    if formula == "peak_final":
        return forgetting_peak_final(scores)
    raise ValueError(f"formula must be one of {FORGETTING_FORMULAS}; got {formula!r}")


def auc(curve: Sequence[float]) -> float:
    """Time-averaged area under a curve, as MEAL's code: trapezoid(curve) / len(curve)."""
    curve = np.asarray(curve, dtype=float)
    if len(curve) < 2:
        return float(curve.mean()) if len(curve) else float("nan")
    return float(np.trapezoid(curve) / len(curve))


def smoothed_auc(curve: Sequence[float], sigma: float = 2.0) -> float:
    """:func:`auc` of the curve after a Gaussian filter of width ``sigma`` points (edges: nearest).

    >>> smoothed_auc([1.0, 1.0, 1.0, 1.0])
    0.75
    """
    from scipy.ndimage import gaussian_filter1d

    curve = np.asarray(curve, dtype=float)
    if sigma > 0 and len(curve) > 1:
        curve = gaussian_filter1d(curve, sigma, mode="nearest")
    return auc(curve)


def forward_transfer(auc_cl: Sequence[float], auc_baseline: Sequence[float]) -> float:
    """FT = mean_i (AUC_i − AUC_i^b) / |AUC_i^b|, skipping baselines with |AUC^b| < 1e-8."""
    terms = [(a - b) / abs(b) for a, b in zip(auc_cl, auc_baseline, strict=True) if abs(b) >= 1e-8]
    return float(np.mean(terms)) if terms else float("nan")


def auc_loss(auc_repetition: float, auc_first: float) -> float:
    """Plasticity loss of a repetition: 1 − AUC(rep r) / AUC(rep 1)."""
    return float("nan") if abs(auc_first) < 1e-8 else 1.0 - auc_repetition / auc_first

"""Concept fingerprints, their normaliser, the dynamic weights and the distance (brief §2.3–2.5).

A window is summarised by a vector of D meta-features. The :class:`Normaliser` keeps the global
range of each dimension; a :class:`Fingerprint` keeps a concept's running mean and standard
deviation of its window vectors; :func:`dynamic_weights` scores each dimension by how well it
separates concepts in units of within-concept noise; :func:`weighted_cosine_distance` compares a
window to a fingerprint (lower = more similar).

>>> import numpy as np
>>> round(weighted_cosine_distance(np.array([1.0, 0.0]), np.array([1.0, 1.0]), np.ones(2)), 4)
0.2929
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "Normaliser",
    "Fingerprint",
    "dynamic_weights",
    "weighted_cosine_distance",
    "weighted_cosine_distances",
]


class Normaliser:
    """Running min/max of every dimension; maps values into [0, 1].

    A dimension whose range is still zero (or unseen) maps to 0.5; values outside the range seen so
    far are clipped.

    >>> import numpy as np
    >>> normaliser = Normaliser(2)
    >>> normaliser.update(np.array([0.0, 3.0])); normaliser.update(np.array([2.0, 3.0]))
    >>> normaliser.transform(np.array([1.0, 3.0])).tolist()
    [0.5, 0.5]
    """

    def __init__(self, dimension: int):
        self.low = np.full(dimension, np.inf)
        self.high = np.full(dimension, -np.inf)
        #: set whenever a range widens (the weights depend on the ranges); cleared by the user
        self.changed = False

    def update(self, vector: np.ndarray) -> None:
        """Widen the ranges to include ``vector`` (NaNs are ignored)."""
        if np.any(vector < self.low) or np.any(vector > self.high):
            self.changed = True
            np.fmin(self.low, vector, out=self.low)
            np.fmax(self.high, vector, out=self.high)

    @property
    def span(self) -> np.ndarray:
        """hi - lo per dimension (0 where nothing or a single value was seen)."""
        span = self.high - self.low
        return np.where(np.isfinite(span), span, 0.0)

    def transform(self, vector: np.ndarray) -> np.ndarray:
        """(v - lo) / (hi - lo), with 0/0 → 0.5 and everything clipped into [0, 1]."""
        span = self.span
        known = span > 0
        scaled = (vector - np.where(known, self.low, 0.0)) / np.where(known, span, 1.0)
        scaled = np.where(known, scaled, 0.5)
        return np.clip(np.nan_to_num(scaled, nan=0.5, posinf=1.0, neginf=0.0), 0.0, 1.0)


class Fingerprint:
    """Running mean and sample standard deviation of window vectors, per dimension.

    Follows the reference's per-dimension record {value, seen, M, S}: the mean is a weighted
    average with the accumulated count ``seen``; the spread is Welford's M/S with k = seen and the
    sample variance S / (k - 1) (0 while k <= 1). Each dimension has its own count so that the
    "performance" entries can be restarted on their own when the classifier evolves: restarted
    with count 0.1 (the old value barely counts against the next window) or 1 (a clean start).

    >>> import numpy as np
    >>> fingerprint = Fingerprint(1)
    >>> for value in [1.0, 2.0, 3.0]:
    ...     fingerprint.update(np.array([value]))
    >>> fingerprint.mean.tolist(), round(float(fingerprint.std[0]), 4)
    ([2.0], 1.0)
    """

    #: updates needed before a fingerprint is trusted for drift detection and re-identification
    MIN_UPDATES = 5

    def __init__(self, dimension: int):
        self.mean = np.zeros(dimension)
        self._m = np.zeros(dimension)
        self._s = np.zeros(dimension)
        self.weight = np.zeros(dimension)
        self.n_updates = 0

    @property
    def valid(self) -> bool:
        """More than :attr:`MIN_UPDATES` windows went in."""
        return self.n_updates > self.MIN_UPDATES

    @property
    def std(self) -> np.ndarray:
        """Sample standard deviation S / (k - 1) (0 where k <= 1 or the variance is not positive)."""
        dof = self.weight - 1.0
        variance = np.where(dof > 0, self._s / np.where(dof > 0, dof, 1.0), 0.0)
        return np.sqrt(np.maximum(variance, 0.0))

    def update(self, vector: np.ndarray, weight: float = 1.0) -> None:
        """Fold in one window vector."""
        total = self.weight + weight
        self.mean = (self.mean * self.weight + vector * weight) / total
        last_m = self._m
        self._m = last_m + (vector - last_m) / total
        self._s = self._s + (vector - last_m) * (vector - self._m)
        self.weight = total
        self.n_updates += 1

    def restart(self, mask: np.ndarray, vector: np.ndarray, weight: float) -> None:
        """Restart the dimensions in ``mask`` at ``vector`` with count ``weight`` and no spread."""
        self.mean = np.where(mask, vector, self.mean)
        self._m = np.where(mask, vector, self._m)
        self._s = np.where(mask, 0.0, self._s)
        self.weight = np.where(mask, weight, self.weight)

    def copy(self) -> Fingerprint:
        clone = Fingerprint(self.mean.shape[0])
        clone.mean, clone._m, clone._s = self.mean.copy(), self._m.copy(), self._s.copy()
        clone.weight = self.weight.copy()
        clone.n_updates = self.n_updates
        return clone


def dynamic_weights(
    means: np.ndarray,
    stds: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    segment_means: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """FiCSUM's default weights ŵ_j in (0, 1] (brief §2.4).

    ``means``/``stds`` are the (C, D) fingerprint means and stds of the concepts that have a
    fingerprint; ``low``/``high`` the normaliser's range; ``segment_means[c]`` is a (k_c, D) array of
    concept c's active fingerprint mean and the means of its fingerprints seen on other concepts'
    data. With r = hi - lo:

    - σ̄_j = mean_c σ_cj / r_j, κ_j = 0.01 / max(σ̄_j, 0.01) (noise floored at 1 % of the range);
    - v_cj = κ_j (μ_cj - lo_j) / r_j; B_j = std_c v_cj; S_j = mean_c std(segment v of c);
    - u_j = max(B_j, S_j), or κ_j with a single concept;
    - u_j undefined → the smallest defined u (1 if none is defined); ŵ = u / max u (uniform when
      every u is 0). As in the reference, u_j is undefined when r_j = 0 **or when σ̄_j = 0**: a
      dimension that never varied within any concept carries no evidence of its noise, so it gets
      the smallest weight, not the largest (a saturated statistic such as the skew of a constant
      prediction column would otherwise dominate the distance).

    >>> import numpy as np
    >>> dynamic_weights(np.array([[0.0, 0.5], [1.0, 0.5]]), np.full((2, 2), 0.1),
    ...                 np.zeros(2), np.array([1.0, 1.0])).tolist()
    [1.0, 0.0]
    """
    means = np.atleast_2d(np.asarray(means, dtype=float))
    stds = np.atleast_2d(np.asarray(stds, dtype=float))
    span = np.asarray(high, dtype=float) - np.asarray(low, dtype=float)
    safe_span = np.where(np.isfinite(span) & (span > 0), span, 1.0)
    spread = stds.mean(axis=0) / safe_span
    defined = np.isfinite(span) & (span > 0) & (spread > 0)
    scale = 0.01 / np.maximum(spread, 0.01)
    if means.shape[0] == 1:
        raw = scale.copy()
    else:
        scaled = scale * (means - low) / safe_span
        between = scaled.std(axis=0)
        within = np.zeros_like(between)
        if segment_means is not None:
            per_concept = [
                (scale * (np.atleast_2d(segments) - low) / safe_span).std(axis=0)
                for segments in segment_means
            ]
            within = np.mean(per_concept, axis=0)
        raw = np.maximum(between, within)
    raw = np.where(defined & np.isfinite(raw), raw, np.nan)
    finite = raw[np.isfinite(raw)]
    fill = finite.min() if finite.size else 1.0
    raw = np.where(np.isfinite(raw), raw, fill)
    top = raw.max() if raw.size else 0.0
    if top <= 0:
        return np.ones_like(raw)
    return raw / top


def weighted_cosine_distance(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> float:
    """1 - Σ w a b / (√Σ w a² √Σ w b²), as scipy's ``cosine(a, b, w=weights)``.

    Undefined (a zero vector): 0 when both are all-zero, else 1.

    >>> import numpy as np
    >>> weighted_cosine_distance(np.zeros(2), np.zeros(2), np.ones(2))
    0.0
    """
    return float(weighted_cosine_distances(a, np.atleast_2d(b), weights)[0])


def weighted_cosine_distances(a: np.ndarray, stacked: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The distance of ``a`` to each row of ``stacked`` (k, D), vectorised.

    >>> import numpy as np
    >>> weighted_cosine_distances(np.array([1.0, 0.0]), np.eye(2), np.ones(2)).tolist()
    [0.0, 1.0]
    """
    weighted_a = weights * a
    dot = stacked @ weighted_a
    norm_a = np.sqrt(a @ weighted_a)
    norm_b = np.sqrt((stacked * stacked) @ weights)
    denominator = norm_a * norm_b
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = 1.0 - dot / denominator
    undefined = ~np.isfinite(distance)
    if undefined.any():
        both_zero = (not np.any(a)) & ~np.any(stacked, axis=1)
        distance = np.where(undefined, np.where(both_zero, 0.0, 1.0), distance)
    # rounding can take 1 - cos slightly below 0
    return np.maximum(distance, 0.0)

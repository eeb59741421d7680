"""Meta-features of a window of scalar time series (FiCSUM, Halstead et al. 2021, brief §2.2).

Every *source* (an input feature, the labels, the predictions, the correctness flags, the gaps
between errors) is a scalar series over the window; each gets the same statistics. Two ways to
compute them, which agree to rounding:

- :func:`window_statistics`, a vectorised batch computation from a window array (used for windows
  re-predicted by a stored concept's classifier, and as the reference in tests);
- :class:`RollingStatistics`, the hot path: a ring buffer holding all sources with running power
  sums, lag products and turning-point counts, O(S) per push and O(S) per extraction.

Choices (each matched exactly by the tests against statsmodels/scipy):

- ``acf_k`` is statsmodels ``acf`` (``adjusted=False``, demeaned): Σ_t d_t d_{t-k} / Σ_t d_t².
- ``pacf_k`` is statsmodels ``pacf`` with its default ``method="ywadjusted"`` (the reference's
  choice): Yule–Walker with autocovariances r_k = Σ_t d_t d_{t-k} / (n - k), so
  pacf_1 = r_1 / r_0 and pacf_2 = (r_0 r_2 - r_1²) / (r_0² - r_1²). This is *not* the plain
  closed form (ρ₂ - ρ₁²)/(1 - ρ₁²) of the unadjusted acf. statsmodels (0.15) refuses lag 2 on
  windows of fewer than 4 points, so there pacf is the reference's failure value -1.
- A constant series has no defined skew, kurtosis, acf or pacf: skew becomes 0 and kurtosis -3
  (what the reference's scipy 1.5.1 returns: its ``skew`` gives 0 and its ``kurtosis`` gives 0 - 3
  when m₂ = 0; newer scipy returns NaN), acf/pacf become -1 (the reference's NaN/failure value). "Constant" means a variance below
  ``1e-20 * (1 + mean²)``, so the batch and incremental paths classify the same windows alike.
- Windows of fewer than 3 points give 0 for everything but ``mean`` (and ``stdev`` at 2 points).

``MI`` (optional, slow) is sklearn's kNN ``mutual_info_regression`` between z_t and z_{t+1}
(k = 3, ``random_state=42``). ``IMF_0..2`` (optional, slow) are the permutation entropies (order 3,
delay 1, base 2, unnormalised) of the first three intrinsic mode functions of an empirical mode
decomposition (``EMD-signal``, ``max_imf=2``, ``slinear`` splines); a missing IMF counts 0.

>>> import numpy as np
>>> stats = series_metafeatures(np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0]))
>>> round(stats["mean"], 3), round(stats["turning_point_rate"], 3)
(3.5, 0.667)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "STATISTICS",
    "OPTIONAL_FEATURES",
    "window_statistics",
    "series_metafeatures",
    "error_distance_series",
    "mutual_information",
    "permutation_entropy",
    "imf_entropies",
    "IMF_FEATURES",
    "RollingStatistics",
    "tree_version",
    "path_contributions",
]

#: The statistics computed for every source, in column order.
STATISTICS: tuple[str, ...] = (
    "mean", "stdev", "skew", "kurtosis", "turning_point_rate", "acf_1", "acf_2", "pacf_1", "pacf_2",
)
#: Permutation entropies of the first three EMD intrinsic mode functions.
IMF_FEATURES: tuple[str, ...] = ("IMF_0", "IMF_1", "IMF_2")
#: Slow meta-features that are off by default.
OPTIONAL_FEATURES: tuple[str, ...] = ("MI", *IMF_FEATURES)

_CONSTANT = 1e-20  # relative variance below which a series counts as constant


def _from_moments(
    n: int, mean: np.ndarray, m2: np.ndarray, m3: np.ndarray, m4: np.ndarray,
    lag1: np.ndarray, lag2: np.ndarray, turning: np.ndarray,
) -> np.ndarray:
    """Assemble the statistics from central moments and centred lag sums (all of shape (S,)).

    ``m2..m4`` are biased central moments; ``lag_k`` = Σ_{t=k}^{n-1} d_t d_{t-k} with d = z - z̄.
    """
    out = np.zeros((mean.shape[0], len(STATISTICS)))
    out[:, 0] = mean
    if n < 2:
        return out
    out[:, 1] = np.sqrt(np.maximum(m2, 0.0) * n / (n - 1))
    if n < 3:
        return out
    varying = m2 > _CONSTANT * (1.0 + mean * mean)
    safe_m2 = np.where(varying, m2, 1.0)
    out[:, 2] = np.where(varying, m3 / safe_m2**1.5, 0.0)
    out[:, 3] = np.where(varying, m4 / safe_m2**2, 0.0) - 3.0  # scipy 1.5.1: 0 - 3 if constant
    out[:, 4] = turning / n
    total = safe_m2 * n  # Σ d²
    out[:, 5] = np.where(varying, lag1 / total, -1.0)
    out[:, 6] = np.where(varying, lag2 / total, -1.0)
    if n < 4:
        out[:, 7:9] = -1.0
        return out
    r0 = safe_m2
    r1 = lag1 / (n - 1)
    r2 = lag2 / (n - 2)
    denominator = r0 * r0 - r1 * r1
    # a (numerically) singular Yule-Walker system is the reference's failure case
    solvable = varying & (np.abs(denominator) > 1e-10 * r0 * r0)
    out[:, 7] = np.where(varying, r1 / r0, -1.0)
    out[:, 8] = np.where(solvable, (r0 * r2 - r1 * r1) / np.where(solvable, denominator, 1.0), -1.0)
    return out


def window_statistics(values: np.ndarray) -> np.ndarray:
    """The statistics of every column of a window array, shape (n, S) → (S, len(STATISTICS)).

    >>> import numpy as np
    >>> window_statistics(np.array([[1.0], [2.0], [4.0]]))[0, :2].round(3)
    array([2.333, 1.528])
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n, n_sources = values.shape
    if n == 0:
        return np.zeros((n_sources, len(STATISTICS)))
    mean = values.mean(axis=0)
    centred = values - mean
    squares = centred * centred
    m2 = squares.mean(axis=0)
    m3 = (squares * centred).mean(axis=0)
    m4 = (squares * squares).mean(axis=0)
    lag1 = (centred[1:] * centred[:-1]).sum(axis=0)
    lag2 = (centred[2:] * centred[:-2]).sum(axis=0)
    steps = np.diff(values, axis=0)
    turning = ((steps[1:] * steps[:-1]) < 0).sum(axis=0).astype(float)
    return _from_moments(n, mean, m2, m3, m4, lag1, lag2, turning)


def series_metafeatures(series: Sequence[float] | np.ndarray) -> dict[str, float]:
    """The statistics of one series as a dict (a readable wrapper around :func:`window_statistics`).

    >>> series_metafeatures([0.0, 1.0, 0.0, 1.0])["turning_point_rate"]
    0.5
    """
    row = window_statistics(np.asarray(series, dtype=float)[:, None])[0]
    return {name: float(value) for name, value in zip(STATISTICS, row, strict=True)}


def error_distance_series(correct: np.ndarray) -> np.ndarray:
    """Gaps between consecutive misclassified positions of a correctness series; ``[0]`` if < 2 errors.

    >>> error_distance_series(np.array([1, 0, 1, 1, 0, 0])).tolist()
    [3.0, 1.0]
    """
    positions = np.flatnonzero(np.asarray(correct) == 0)
    if positions.size < 2:
        return np.zeros(1)
    return np.diff(positions).astype(float)


def mutual_information(values: np.ndarray) -> np.ndarray:
    """kNN mutual information between z_t and z_{t+1} for every column (slow; optional ``MI``).

    >>> import numpy as np
    >>> mutual_information(np.arange(40.0)[:, None]).shape
    (1,)
    """
    from sklearn.feature_selection import mutual_info_regression

    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    out = np.zeros(values.shape[1])
    if values.shape[0] < 5:  # kNN with k = 3 needs more than 3 pairs
        return out
    for column in range(values.shape[1]):
        series = values[:, column]
        if np.ptp(series) == 0:
            continue
        out[column] = mutual_info_regression(
            series[:-1, None], series[1:], n_neighbors=3, random_state=42
        )[0]
    return out


def permutation_entropy(series: np.ndarray, order: int = 3, delay: int = 1) -> float:
    """Shannon entropy (bits) of the ordinal patterns of ``order`` points spaced by ``delay``.

    >>> permutation_entropy(np.arange(10.0))
    0.0
    >>> permutation_entropy(np.array([0.0, 2.0, 1.0, 3.0, 2.0, 4.0]))  # two patterns, equally often
    1.0
    """
    series = np.asarray(series, dtype=float)
    n_patterns = series.size - (order - 1) * delay
    if n_patterns < 1:
        return 0.0
    embedded = np.stack([series[i * delay: i * delay + n_patterns] for i in range(order)], axis=1)
    # stable argsort: ties keep time order, the usual convention for ordinal patterns
    patterns = np.argsort(embedded, axis=1, kind="stable")
    codes = patterns @ (order ** np.arange(order))
    _, counts = np.unique(codes, return_counts=True)
    probabilities = counts / counts.sum()
    return float(-(probabilities * np.log2(probabilities)).sum()) + 0.0  # no negative zero


def imf_entropies(values: np.ndarray) -> np.ndarray:
    """Permutation entropy of IMFs 0..2 of every column: shape (n, S) -> (S, 3).

    >>> imf_entropies(np.sin(np.arange(60.0) / 3)[:, None]).shape
    (1, 3)
    """
    from PyEMD import EMD

    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    out = np.zeros((values.shape[1], len(IMF_FEATURES)))
    if values.shape[0] < 6:
        return out
    decomposer = EMD(spline_kind="slinear")
    for column in range(values.shape[1]):
        series = values[:, column]
        if np.ptp(series) == 0:
            continue
        imfs = decomposer(series, max_imf=2)
        for index in range(min(len(imfs), len(IMF_FEATURES))):
            out[column, index] = permutation_entropy(imfs[index])
    return out


class RollingStatistics:
    """A ring buffer of the last ``capacity`` rows of S sources with incrementally updated statistics.

    Running sums are kept of the values *shifted by a per-source centre* (the window mean at the
    last re-centring), and every ``capacity`` pushes they are recomputed exactly from the buffer:
    this keeps the fourth moments accurate for series with a large mean and a small spread, and
    stops rounding errors from accumulating over a long stream.

    >>> import numpy as np
    >>> rolling = RollingStatistics(n_sources=1, capacity=4)
    >>> for value in [5.0, 1.0, 3.0, 2.0, 4.0]:
    ...     rolling.push(np.array([value]))
    >>> bool(np.allclose(rolling.statistics(), window_statistics(rolling.values())))
    True
    """

    def __init__(self, n_sources: int, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.n_sources = n_sources
        self.capacity = capacity
        self._buffer = np.zeros((capacity, n_sources))
        self.clear()

    def clear(self) -> None:
        """Forget every row."""
        zeros = np.zeros(self.n_sources)
        self._start = 0
        self._count = 0
        self._centre = zeros.copy()
        self._s1, self._s2, self._s3, self._s4 = zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy()
        self._lag1, self._lag2, self._turning = zeros.copy(), zeros.copy(), zeros.copy()
        self._since_recentre = 0

    def __len__(self) -> int:
        return self._count

    def _row(self, age: int) -> np.ndarray:
        """The row ``age`` places after the oldest (0 = oldest)."""
        return self._buffer[(self._start + age) % self.capacity]

    def push(self, row: np.ndarray) -> None:
        """Append one row of S values, dropping the oldest row when full."""
        if self._count == 0:
            # centre on the first value so sums of a far-from-zero series start accurate
            self._centre = np.array(row, dtype=float)
        centre = self._centre
        if self._count == self.capacity:
            oldest_raw = self._row(0)
            oldest = oldest_raw - centre
            squared = oldest * oldest
            self._s1 -= oldest
            self._s2 -= squared
            self._s3 -= squared * oldest
            self._s4 -= squared * squared
            if self._count > 1:
                self._lag1 -= oldest * (self._row(1) - centre)
            if self._count > 2:
                second_raw, third_raw = self._row(1), self._row(2)
                self._lag2 -= oldest * (third_raw - centre)
                self._turning -= (third_raw - second_raw) * (second_raw - oldest_raw) < 0
            self._start = (self._start + 1) % self.capacity
            self._count -= 1
        shifted = row - centre
        squared = shifted * shifted
        self._s1 += shifted
        self._s2 += squared
        self._s3 += squared * shifted
        self._s4 += squared * squared
        if self._count > 0:
            last_raw = self._row(self._count - 1)
            self._lag1 += shifted * (last_raw - centre)
            if self._count > 1:
                before_raw = self._row(self._count - 2)
                self._lag2 += shifted * (before_raw - centre)
                self._turning += (row - last_raw) * (last_raw - before_raw) < 0
        self._buffer[(self._start + self._count) % self.capacity] = row
        self._count += 1
        self._since_recentre += 1
        if self._since_recentre >= self.capacity:
            self._recentre()

    def _recentre(self) -> None:
        values = self.values()
        self._centre = values.mean(axis=0)
        shifted = values - self._centre
        squared = shifted * shifted
        self._s1 = shifted.sum(axis=0)
        self._s2 = squared.sum(axis=0)
        self._s3 = (squared * shifted).sum(axis=0)
        self._s4 = (squared * squared).sum(axis=0)
        self._lag1 = (shifted[1:] * shifted[:-1]).sum(axis=0)
        self._lag2 = (shifted[2:] * shifted[:-2]).sum(axis=0)
        steps = np.diff(values, axis=0)
        self._turning = ((steps[1:] * steps[:-1]) < 0).sum(axis=0).astype(float)
        self._since_recentre = 0

    def values(self) -> np.ndarray:
        """The rows in arrival order, oldest first, as a new (n, S) array."""
        end = self._start + self._count
        if end <= self.capacity:
            return self._buffer[self._start:end].copy()
        return np.concatenate([self._buffer[self._start:], self._buffer[: end - self.capacity]])

    def column(self, source: int) -> np.ndarray:
        """One source's values in arrival order."""
        end = self._start + self._count
        if end <= self.capacity:
            return self._buffer[self._start:end, source]
        return np.concatenate(
            [self._buffer[self._start:, source], self._buffer[: end - self.capacity, source]]
        )

    def statistics(self) -> np.ndarray:
        """The statistics of the current window, shape (S, len(STATISTICS)), in O(S)."""
        n = self._count
        if n == 0:
            return np.zeros((self.n_sources, len(STATISTICS)))
        shifted_mean = self._s1 / n
        e2 = self._s2 / n
        mean_sq = shifted_mean * shifted_mean
        m2 = e2 - mean_sq
        mean = shifted_mean + self._centre
        if np.any((m2 < 0.01 * e2) & (e2 > _CONSTANT * (1.0 + mean * mean))):
            # the window mean wandered many stds from the centre: the power sums would cancel
            # catastrophically, so re-centre now (O(n S), rare except for series that turn constant)
            self._recentre()
            shifted_mean = self._s1 / n
            e2 = self._s2 / n
            mean_sq = shifted_mean * shifted_mean
            m2 = e2 - mean_sq
        e3, e4 = self._s3 / n, self._s4 / n
        m3 = e3 - 3.0 * shifted_mean * e2 + 2.0 * mean_sq * shifted_mean
        m4 = e4 - 4.0 * shifted_mean * e3 + 6.0 * mean_sq * e2 - 3.0 * mean_sq * mean_sq
        lag1 = lag2 = self._lag1
        if n > 1:
            # Σ_{t>=k} d_t d_{t-k} = Σ y_t y_{t-k} - ȳ (Σ_{t>=k} y_t + Σ_{t<n-k} y_t) + (n-k) ȳ²
            first, last = self._row(0) - self._centre, self._row(n - 1) - self._centre
            lag1 = self._lag1 - shifted_mean * (2.0 * self._s1 - first - last) + (n - 1) * mean_sq
        if n > 2:
            second, before_last = self._row(1) - self._centre, self._row(n - 2) - self._centre
            head_tail = first + second + before_last + last
            lag2 = self._lag2 - shifted_mean * (2.0 * self._s1 - head_tail) + (n - 2) * mean_sq
        return _from_moments(
            n, shifted_mean + self._centre, m2, m3, m4, lag1, lag2, self._turning.copy()
        )


def tree_version(model: object) -> int:
    """A number that changes whenever a river Hoeffding tree splits (-1 for non-tree models).

    A split replaces one leaf by two or more, so the leaf count is a cheap version stamp (river's
    ``n_branches`` walks the whole tree).

    >>> from river import tree
    >>> tree_version(tree.HoeffdingTreeClassifier())
    0
    """
    active = getattr(model, "_n_active_leaves", None)
    if active is None:
        return -1
    return int(active) + int(getattr(model, "_n_inactive_leaves", 0))


def _class_probability(stats: dict, label: object) -> float:
    total = sum(stats.values()) if stats else 0.0
    return stats.get(label, 0.0) / total if total > 0 else 0.0


def path_contributions(
    model: object, x: dict, feature_index: dict[str, int], reference_class: object
) -> np.ndarray:
    """Saabas-style attribution of one prediction of a river tree, per input feature (absolute).

    Walks x's path from the root and adds |P(class | child) - P(class | parent)| to the split
    feature of each branch, where P comes from the class counts the nodes hold. Non-tree models
    (or an unsplit tree) give zeros.

    >>> from river import tree
    >>> path_contributions(tree.HoeffdingTreeClassifier(), {"a": 1.0}, {"a": 0}, 0).tolist()
    [0.0]
    """
    from river.tree.nodes.branch import DTBranch

    out = np.zeros(len(feature_index))
    node = getattr(model, "_root", None)
    if not isinstance(node, DTBranch):
        return out
    parent_probability = _class_probability(node.stats, reference_class)
    while isinstance(node, DTBranch):
        try:
            child = node.next(x)
        except (KeyError, IndexError):
            # river's own fallback for a missing feature or an unseen category
            _, child = node.most_common_path()
        if child is None:
            break
        child_probability = _class_probability(child.stats, reference_class)
        position = feature_index.get(node.feature)
        if position is not None:
            out[position] += abs(child_probability - parent_probability)
        node, parent_probability = child, child_probability
    return out

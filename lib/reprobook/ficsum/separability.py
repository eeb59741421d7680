"""An oracle for claim 4: which unsupervised meta-features really differ between the true concepts.

FiCSUM learns its weights online without knowing the concepts. Here, knowing them, we describe
non-overlapping windows of each true segment by the same meta-features of the input features and
score each meta-feature by a Fisher ratio: the spread of its per-concept means over its mean
within-concept spread. A learned weighting that "concentrates on the meta-features that differ
between concepts" ranks meta-features like this oracle does (Spearman correlation).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> stream = [({"a": rng.normal(c), "b": rng.normal()}, 0, c) for c in (0, 1, 0, 1) for _ in range(300)]
>>> scores = fisher_separability(stream, window=50)
>>> bool(scores["a:mean"] > scores["b:mean"])
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from reprobook.ficsum.metafeatures import STATISTICS, window_statistics
from reprobook.params import check_int

__all__ = ["fisher_separability", "weight_agreement"]


def fisher_separability(stream: Iterable[tuple[dict, object, int]], *, window: int = 75) -> pd.Series:
    """Fisher ratio of every ``feature:statistic`` over windows of the true concept segments.

    ``stream`` yields ``(x, y, concept_id)`` with numeric features. Windows never straddle a
    change of concept. Returns a Series indexed like :attr:`FiCSUMClassifier.weights`.
    """
    window = check_int("window", window, minimum=6)
    rows: list[np.ndarray] = []
    labels: list[int] = []
    names: list[str] | None = None
    buffer: list[list[float]] = []
    current: int | None = None
    for x, _, concept in stream:
        if names is None:
            names = list(x)
        if concept != current:
            buffer, current = [], concept
        buffer.append([float(x[name]) for name in names])
        if len(buffer) == window:
            rows.append(window_statistics(np.array(buffer)).ravel())
            labels.append(concept)
            buffer = []
    if names is None or len(set(labels)) < 2:
        raise ValueError("fisher_separability needs windows of at least two true concepts")
    table = np.vstack(rows)
    concept_ids = np.array(labels)
    groups = [table[concept_ids == concept] for concept in np.unique(concept_ids)]
    means = np.vstack([group.mean(axis=0) for group in groups])
    within = np.mean([group.std(axis=0) for group in groups], axis=0)
    spread = table.max(axis=0) - table.min(axis=0)
    # the same 1 %-of-range floor as FiCSUM's weighting, so constant meta-features score 0, not inf
    floor = np.maximum(0.01 * spread, 1e-12)
    ratio = means.std(axis=0) / np.maximum(within, floor)
    index = [f"{name}:{statistic}" for name in names for statistic in STATISTICS]
    return pd.Series(np.where(spread > 0, ratio, 0.0), index=index, name="fisher_ratio")


def weight_agreement(weights: pd.Series, separability: pd.Series, *, top: int | None = None) -> float:
    """Spearman correlation between learned weights and oracle separability on shared dimensions.

    ``top`` restricts the comparison to the ``top`` most separable dimensions (None: all shared).
    """
    shared: Sequence[str] = [name for name in separability.index if name in weights.index]
    if len(shared) < 3:
        return float("nan")
    oracle = separability[list(shared)]
    if top is not None:
        oracle = oracle.sort_values(ascending=False).head(top)
    learned = weights[oracle.index]
    if learned.nunique() < 2 or oracle.nunique() < 2:
        return float("nan")
    return float(stats.spearmanr(learned.to_numpy(), oracle.to_numpy()).statistic)

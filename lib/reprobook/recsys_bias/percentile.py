"""The percentile transformation of ratings (chapter brief §2.3), vectorised, and the per-profile z-score.

A rating r in the profile P (the ratings of one item, or of one user) becomes

    Per(r, P) = 100 · pos(r) / (|P| + 1)

where ``pos`` depends on the tie rule: ``first`` = #{p < r} + 1, ``last`` = #{p ≤ r},
``floormedian``/``ceilmedian`` = the floor/ceiling of the middle of the tied block, ``average`` =
its exact middle. Smoothing with strength k adds k pseudo-ratings at every value of the rating scale
to each profile before ranking: the numerator gains k · #{scale values below r} plus r's own pseudo
block by rule (``first`` 0, ``last`` k, the medians ⌊k/2⌋ and ⌈k/2⌉, ``average`` k/2; the medians of
the real and the pseudo tied blocks are taken apart, as the authors' script does), and the
denominator gains k · |scale|.
One sort of (profile, rating) does all of it: O(n log n).

>>> frame = pd.DataFrame({"user": [0, 1, 2, 3], "item": [7, 7, 7, 7], "rating": [1.0, 3.0, 3.0, 5.0]})
>>> percentile_ranks(frame, tie="last").tolist()
[20.0, 60.0, 60.0, 80.0]
>>> percentile_ranks(frame, tie="first").tolist()
[20.0, 40.0, 40.0, 80.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reprobook.params import check_choice, check_float

__all__ = ["TIE_RULES", "PROFILES", "percentile_ranks", "percentile_transform", "zscore_transform",
           "tie_positions"]

TIE_RULES = ("first", "last", "floormedian", "ceilmedian", "average")
PROFILES = ("item", "user")


def tie_positions(groups: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: #{values < v}, #{values ≤ v} within the row's group, and the group's size.

    >>> less, at_most, size = tie_positions(np.array([0, 0, 0, 1]), np.array([2.0, 1.0, 2.0, 4.0]))
    >>> less.tolist(), at_most.tolist(), size.tolist()
    ([1, 0, 1, 0], [3, 1, 3, 1], [3, 3, 3, 1])
    """
    n = len(values)
    order = np.lexsort((values, groups))
    sorted_groups, sorted_values = groups[order], values[order]
    new_group = np.empty(n, dtype=bool)
    new_group[:1] = True
    new_group[1:] = sorted_groups[1:] != sorted_groups[:-1]
    new_block = new_group.copy()
    new_block[1:] |= sorted_values[1:] != sorted_values[:-1]
    index = np.arange(n)
    group_start = np.maximum.accumulate(np.where(new_group, index, 0))
    block_start = np.maximum.accumulate(np.where(new_block, index, 0))
    # block end = start of the next block; computed right to left
    block_ids = np.cumsum(new_block) - 1
    block_starts = index[new_block]
    block_ends = np.append(block_starts[1:], n)
    group_ids = np.cumsum(new_group) - 1
    group_starts = index[new_group]
    group_sizes = np.diff(np.append(group_starts, n))
    less_sorted = block_start - group_start
    at_most_sorted = block_ends[block_ids] - group_start
    size_sorted = group_sizes[group_ids]
    less, at_most, size = (np.empty(n, dtype=np.int64) for _ in range(3))
    less[order], at_most[order], size[order] = less_sorted, at_most_sorted, size_sorted
    return less, at_most, size


def percentile_ranks(
    ratings: pd.DataFrame,
    profile: str = "item",
    tie: str = "last",
    smoothing: float = 0.0,
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """The percentile (0–100) of every row's rating within its item's (or user's) profile.

    ``smoothing`` is the pseudo-count k per scale value; ``scale`` defaults to the distinct ratings
    in ``ratings``. Rows keep their order.
    """
    check_choice("profile", profile, PROFILES)
    check_choice("tie", tie, TIE_RULES)
    check_float("smoothing", smoothing, minimum=0.0)
    values = ratings["rating"].to_numpy(dtype=np.float64)
    groups = ratings[profile].to_numpy()
    less, at_most, size = tie_positions(groups, values)
    less, at_most, size = less.astype(np.float64), at_most.astype(np.float64), size.astype(np.float64)
    first, last = less + 1.0, at_most
    if tie == "first":
        position = first
    elif tie == "last":
        position = last
    elif tie == "floormedian":
        position = np.floor((first + last) / 2.0)
    elif tie == "ceilmedian":
        position = np.ceil((first + last) / 2.0)
    else:
        position = (first + last) / 2.0
    if smoothing > 0:
        # As the authors' percentile.py does: the k pseudo-ratings at every scale value below r shift
        # the position by k per value; those at r's own value add per rule (first 0, last k, the
        # medians ⌊k/2⌋ / ⌈k/2⌉, average k/2). The medians are taken apart for the real tied block and
        # the pseudo block, so {3, 3} with k = 5 on 1–5 gives 46.43 / 53.57, not 50 / 50.
        grid = np.unique(values) if scale is None else np.unique(np.asarray(scale, dtype=np.float64))
        own_block = {"first": 0.0, "last": smoothing, "floormedian": np.floor(smoothing / 2.0),
                     "ceilmedian": np.ceil(smoothing / 2.0), "average": smoothing / 2.0}[tie]
        position = position + smoothing * np.searchsorted(grid, values, side="left") + own_block
        size = size + smoothing * len(grid)
    return 100.0 * position / (size + 1.0)


def percentile_transform(
    ratings: pd.DataFrame,
    profile: str = "item",
    tie: str = "last",
    smoothing: float = 0.0,
    reference: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A copy of ``ratings`` with the rating column replaced by its percentile.

    Profiles are built from ``ratings`` itself (train-only percentiles, the default). Passing
    ``reference`` (e.g. train ∪ test) builds them from ``reference ∪ ratings`` instead: the *leaky*
    variant the authors' released file uses.

    >>> train = pd.DataFrame({"user": [0, 1], "item": [0, 0], "rating": [2.0, 4.0]})
    >>> percentile_transform(train)["rating"].round(2).tolist()
    [33.33, 66.67]
    """
    if reference is None:
        out = ratings.copy()
        out["rating"] = percentile_ranks(ratings, profile, tie, smoothing)
        return out
    combined = pd.concat([ratings[["user", "item", "rating"]], reference[["user", "item", "rating"]]],
                         ignore_index=True)
    ranks = percentile_ranks(combined, profile, tie, smoothing)
    out = ratings.copy()
    out["rating"] = ranks[: len(ratings)]
    return out


def zscore_transform(ratings: pd.DataFrame, profile: str = "item") -> pd.DataFrame:
    """A copy of ``ratings`` with each rating replaced by its z-score within its profile.

    Profiles with zero spread map to 0.

    >>> frame = pd.DataFrame({"user": [0, 1, 2], "item": [0, 0, 1], "rating": [1.0, 3.0, 4.0]})
    >>> zscore_transform(frame)["rating"].tolist()
    [-1.0, 1.0, 0.0]
    """
    check_choice("profile", profile, PROFILES)
    groups = ratings[profile].to_numpy()
    values = ratings["rating"].to_numpy(dtype=np.float64)
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    mean = np.bincount(inverse, values) / counts
    var = np.bincount(inverse, (values - mean[inverse]) ** 2) / counts
    std = np.sqrt(var)[inverse]
    out = ratings.copy()
    out["rating"] = np.where(std > 0, (values - mean[inverse]) / np.where(std > 0, std, 1.0), 0.0)
    return out

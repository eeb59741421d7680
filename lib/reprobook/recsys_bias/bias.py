"""Diagnostics of multifactorial bias in a rating set (chapter brief §2.1): popularity concentration
and positivity, and how the two are tied together (popular items look better rated).

>>> frame = pd.DataFrame({"user": [0, 1, 2, 0], "item": [0, 0, 0, 1], "rating": [5.0, 4.0, 5.0, 2.0]})
>>> item_profile(frame)["mean_rating"].round(2).tolist()
[4.67, 2.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["item_profile", "popularity_curve", "rating_histogram", "positivity_concentration"]


def item_profile(ratings: pd.DataFrame) -> pd.DataFrame:
    """Per item: number of ratings, popularity (ratings / users) and mean rating."""
    grouped = ratings.groupby("item")["rating"]
    out = pd.DataFrame({"n_ratings": grouped.size(), "mean_rating": grouped.mean()})
    out["popularity"] = out["n_ratings"] / ratings["user"].nunique()
    return out.reset_index()


def popularity_curve(ratings: pd.DataFrame, points: int = 101) -> pd.DataFrame:
    """Cumulative share of ratings held by the top x % of items (items sorted by popularity)."""
    counts = np.sort(ratings.groupby("item").size().to_numpy())[::-1]
    share = np.concatenate([[0.0], np.cumsum(counts) / counts.sum()])
    item_share = np.linspace(0, 1, points)
    return pd.DataFrame({"item_share": item_share,
                         "rating_share": np.interp(item_share * len(counts), np.arange(len(counts) + 1), share)})


def rating_histogram(ratings: pd.DataFrame) -> pd.DataFrame:
    """Share of each rating value."""
    shares = ratings["rating"].value_counts(normalize=True).sort_index()
    return pd.DataFrame({"rating": shares.index, "share": shares.to_numpy()})


def positivity_concentration(ratings: pd.DataFrame, top_fraction: float = 0.1) -> dict[str, float]:
    """Spearman(popularity, item mean rating); the top items' share of ratings and mean rating vs the rest.

    The top items are the ⌊top_fraction·|I|⌋ (at least one) most-rated items (ties by item code).
    """
    profile = item_profile(ratings)
    n_top = max(1, int(np.floor(top_fraction * len(profile))))
    order = np.lexsort((profile["item"].to_numpy(), -profile["n_ratings"].to_numpy()))
    top = np.zeros(len(profile), dtype=bool)
    top[order[:n_top]] = True
    is_top = ratings["item"].isin(profile["item"].to_numpy()[top]).to_numpy()
    values = ratings["rating"].to_numpy(np.float64)
    return {
        "spearman": float(stats.spearmanr(profile["n_ratings"], profile["mean_rating"]).statistic),
        "top_share": float(is_top.mean()),
        "top_mean": float(values[is_top].mean()),
        "rest_mean": float(values[~is_top].mean()),
        "gap": float(values[is_top].mean() - values[~is_top].mean()),
    }

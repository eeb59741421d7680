"""The paper's β simulation (chapter brief §2.2): remove positivity from the most popular items.

For the ⌊β·|I|⌋ items with the most training ratings, every rating above ``threshold`` (3) becomes
``value`` (1); the model is then retrained on the damped ratings and evaluated on the untouched test
set.

>>> train = pd.DataFrame({"user": [0, 1, 2, 0], "item": [0, 0, 0, 1], "rating": [5.0, 2.0, 4.0, 5.0]})
>>> damp_popular_positivity(train, beta=0.5)["rating"].tolist()
[1.0, 2.0, 1.0, 5.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reprobook.params import check_float

__all__ = ["damp_popular_positivity", "most_rated_items"]


def most_rated_items(train: pd.DataFrame, beta: float) -> np.ndarray:
    """Codes of the ⌊β·|I|⌋ items with the most training ratings (ties broken by item code)."""
    check_float("beta", beta, minimum=0.0, maximum=1.0)
    items, counts = np.unique(train["item"].to_numpy(), return_counts=True)
    n_top = int(np.floor(beta * len(items)))
    order = np.lexsort((items, -counts))
    return items[order[:n_top]]


def damp_popular_positivity(train: pd.DataFrame, beta: float, threshold: float = 3.0,
                            value: float = 1.0) -> pd.DataFrame:
    """A copy of ``train`` where the top-β items' ratings above ``threshold`` are set to ``value``."""
    top = most_rated_items(train, beta)
    out = train.copy()
    damped = np.isin(out["item"].to_numpy(), top) & (out["rating"].to_numpy() > threshold)
    out.loc[damped, "rating"] = value
    return out

"""Robustness metrics over an accuracy table (§2.3 of the chapter), both forms defined explicitly.

The accuracy table has one row per (model, corruption, severity) with column ``accuracy``; the clean
accuracy is the row with corruption ``"clean"`` and severity 0.

* absolute drop Δ = A_clean − mean_{c,s} A_{c,s}; relative drop ρ = Δ / A_clean;
* ImageNet-C style: CE_c = Σ_s (1 − A_{c,s}) / Σ_s (1 − A^{ref}_{c,s}), mCE = mean_c CE_c;
* mean resilience mRR = mean_{c,s} A_{c,s} / A_clean.

>>> import pandas as pd
>>> table = pd.DataFrame({"model": ["m"] * 3, "corruption": ["clean", "noise", "noise"],
...                       "severity": [0, 1, 2], "accuracy": [0.8, 0.6, 0.4]})
>>> summary = robustness_summary(table, reference="m")
>>> summary.loc["m", ["absolute_drop", "relative_drop", "mCE", "mRR"]].round(3).tolist()
[0.3, 0.375, 1.0, 0.625]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["absolute_drop", "relative_drop", "mean_resilience", "corruption_errors", "robustness_summary",
           "monotone_share", "per_corruption_drop"]


def absolute_drop(clean: float, corrupted: np.ndarray | list[float]) -> float:
    """Δ = A_clean − mean of the corrupted accuracies.

    >>> absolute_drop(0.9, [0.8, 0.7])
    0.15
    """
    return round(float(clean) - float(np.mean(corrupted)), 12)


def relative_drop(clean: float, corrupted: np.ndarray | list[float]) -> float:
    """ρ = Δ / A_clean.

    >>> relative_drop(0.5, [0.25, 0.5])
    0.25
    """
    return absolute_drop(clean, corrupted) / float(clean)


def mean_resilience(clean: float, corrupted: np.ndarray | list[float]) -> float:
    """mRR = mean of A_{c,s} / A_clean.

    >>> mean_resilience(0.5, [0.5, 0.25])
    0.75
    """
    return float(np.mean(np.asarray(corrupted, dtype=float) / float(clean)))


def _split(table: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    clean = table[table.corruption == "clean"].set_index("model").accuracy
    corrupted = table[table.corruption != "clean"]
    return clean, corrupted


def corruption_errors(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """CE_{model, c} = Σ_s (1 − A_{c,s}) / Σ_s (1 − A^{ref}_{c,s}); (model × corruption)."""
    _, corrupted = _split(table)
    errors = (1 - corrupted.accuracy).groupby([corrupted.model, corrupted.corruption]).sum().unstack("corruption")
    if reference not in errors.index:
        raise ValueError(f"reference model {reference!r} is not in the table; models: {list(errors.index)}")
    return errors / errors.loc[reference].replace(0, np.nan)


def per_corruption_drop(table: pd.DataFrame) -> pd.DataFrame:
    """Relative drop per (model, corruption), averaged over severities; (model × corruption)."""
    clean, corrupted = _split(table)
    means = corrupted.groupby(["model", "corruption"]).accuracy.mean().unstack("corruption")
    return 1 - means.div(clean.reindex(means.index), axis=0)


def robustness_summary(table: pd.DataFrame, reference: str, appearance: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per model: clean and mean corrupted accuracy, Δ, ρ, mCE, mRR (and Δ, ρ over ``appearance`` only)."""
    clean, corrupted = _split(table)
    errors = corruption_errors(table, reference)
    rows = {}
    for model, group in corrupted.groupby("model", sort=False):
        accuracies = group.accuracy.to_numpy()
        row = {"clean": clean[model], "corrupted": float(accuracies.mean()),
               "absolute_drop": absolute_drop(clean[model], accuracies),
               "relative_drop": relative_drop(clean[model], accuracies),
               "mCE": float(errors.loc[model].mean()), "mRR": mean_resilience(clean[model], accuracies)}
        if appearance is not None:
            subset = group[group.corruption.isin(appearance)].accuracy.to_numpy()
            rest = group[~group.corruption.isin(appearance)].accuracy.to_numpy()
            row["relative_drop_appearance"] = relative_drop(clean[model], subset) if len(subset) else np.nan
            row["relative_drop_geometric"] = relative_drop(clean[model], rest) if len(rest) else np.nan
        rows[model] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def monotone_share(table: pd.DataFrame, corruptions: tuple[str, ...], tolerance: float = 0.02) -> float:
    """Share of (model, corruption) curves whose accuracy never rises by more than ``tolerance`` with severity.

    >>> import pandas as pd
    >>> rows = [("m", "a", s, acc) for s, acc in zip([1, 2, 3], [0.9, 0.8, 0.85])]
    >>> rows += [("m", "b", s, acc) for s, acc in zip([1, 2, 3], [0.9, 0.8, 0.81])]
    >>> table = pd.DataFrame(rows, columns=["model", "corruption", "severity", "accuracy"])
    >>> monotone_share(table, ("a", "b"))
    0.5
    """
    curves = table[table.corruption.isin(corruptions)].sort_values("severity")
    verdicts = [bool((np.diff(group.accuracy.to_numpy()) <= tolerance).all())
                for _, group in curves.groupby(["model", "corruption"])]
    return float(np.mean(verdicts)) if verdicts else float("nan")

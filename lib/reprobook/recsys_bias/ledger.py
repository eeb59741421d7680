"""The recsys_bias chapter's claims ledger: claims, controls and the numbers they are judged on,
computed from the experiment tables (never in a notebook cell).

Random is the control of every recommender claim: it ignores the ratings, so a transform of the
ratings cannot move it, and a model that does not beat it on nDCG@10 says nothing about ranking.
A recommender enters the share-of-pairs claims only if it beats Random on nDCG@10 with an
interval (both under raw and under percentile input); the excluded pairs are named in the notes.

The replicates of the share claims are the (dataset, algorithm) pairs (and α values for IA/LIA,
and β values for the simulation): a share with its exact Clopper–Pearson interval. "All pairs", as
the paper states it, is read as a share of at least 0.9.

>>> [claim.id for claim in build_ledger("book").claims][:2]
['c2_ee', 'c2_ia']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from reprobook import claims

__all__ = [
    "SIX_ALGORITHMS",
    "ALL_SHARE",
    "build_ledger",
    "random_margins",
    "claim_results",
]

SIX_ALGORITHMS = ("UserKNN", "ItemKNN", "BiasedMF", "SVD++", "NMF", "iALS")
#: "every pair" as the paper states it, read as a share of at least this much
ALL_SHARE = 0.9
_TESTABLE = ("book", "paper")
_RANDOM = "Random"


def build_ledger(profile: str) -> claims.Ledger:
    """The chapter's claims, rules, controls, guards and checks (fixed before any experiment)."""
    smoke = "the smoke profile fits two of the six algorithms, one β and one candidate length"
    common: dict[str, Any] = {"testable_in": _TESTABLE, "why_untestable": smoke}
    claim_list = [
        claims.Claim(
            "c2_ee", "Percentile input (item profile, last) raises equality of exposure (EE) for every (dataset, "
            "algorithm) pair. Ours: share of the pairs whose recommender beats Random where EE rose.",
            paper="improves for 6 algorithms × 4 datasets", source="abstract", metric="share_ee_up",
            rule=claims.AtLeast(ALL_SHARE), evidence=claims.MINIATURE,
            controls=(claims.Control("share_ee_up_random", "Random (ignores ratings)"),),
            guards=("pairs_beat_random",), **common),
        claims.Claim(
            "c2_ia", "Percentile input raises aggregate diversity IA@α for every pair (α = 1, 5, 10). Ours: share of "
            "(pair, α) where IA rose.", paper="improves", source="abstract", metric="share_ia_up",
            rule=claims.AtLeast(ALL_SHARE), evidence=claims.MINIATURE,
            controls=(claims.Control("share_ia_up_random", "Random (ignores ratings)"),),
            guards=("pairs_beat_random",), **common),
        claims.Claim(
            "c2_lia", "Percentile input raises long-tail diversity LIA@α for every pair (α = 1, 5, 10). Ours: share "
            "of (pair, α) where LIA rose.", paper="improves", source="abstract", metric="share_lia_up",
            rule=claims.AtLeast(ALL_SHARE), evidence=claims.MINIATURE,
            controls=(claims.Control("share_lia_up_random", "Random (ignores ratings)"),),
            guards=("pairs_beat_random",), **common),
        claims.Claim(
            "c3_ndcg", "… with negligible accuracy loss: the relative nDCG@10 drop is at most 10 % for every pair. "
            "Ours: share of pairs within it; the control replaces the percentile model by Random (a model "
            "with no accuracy), which must fail the same rule.",
            paper="negligible loss", source="abstract", metric="share_ndcg_ok", rule=claims.AtLeast(ALL_SHARE),
            evidence=claims.MINIATURE,
            controls=(claims.Control("share_ndcg_ok_random", "Random in place of the percentile model"),),
            guards=("pairs_beat_random",), **common),
        claims.Claim(
            "c4_rerank", "Percentile input lets a re-ranker reach a given fairness with shorter candidate lists. Ours: "
            "per λ, EE of percentile input + greedy re-ranking at the shortest list minus the EE that raw input's "
            "frontier at the longest list reaches at the same nDCG@10 (matched accuracy); the control does the "
            "same for raw input at the shortest list. The cost (seconds) is in the note.",
            paper="more effective with shorter lists", source="abstract", metric="rerank_ee_advantage",
            rule=claims.AtLeast(0.0), evidence=claims.MINIATURE,
            controls=(claims.Control("rerank_ee_advantage_raw", "raw input at the shortest list"),),
            guards=("rerank_beats_random", "rerank_matched"), **common),
        claims.Claim(
            "c5_beta", "Removing positivity from the most popular items (β simulation) raises EE. Ours: share of "
            "(algorithm, β > 0) with EE above β = 0, over the recommenders that beat Random.",
            paper="IA, LIA, EE rise with β", source="official notebook, Fig. β", metric="share_beta_ee_up",
            rule=claims.AtLeast(ALL_SHARE), evidence=claims.MINIATURE,
            controls=(claims.Control("share_beta_ee_up_random", "Random under the same β"),),
            guards=("beta_beats_random",), **common),
    ]
    checks = [
        claims.Check("c1_correlation", "Positivity concentrates on popular items: popularity and item mean rating "
                     "correlate positively on every dataset (smallest Spearman ρ; a property of the data).",
                     metric="min_spearman", rule=claims.AtLeast(0.05)),
        claims.Check("beats_random", "Guard of every recommender claim: each of the six recommenders beats Random "
                     "on nDCG@10 with a 95 % interval, on every dataset and input of the main table (those that do "
                     "not are excluded from the shares and named in the claims' notes).",
                     metric="all_beat_random"),
        claims.Check("c1_top_items", "The top-10 % most-rated items are rated higher than the rest on every dataset "
                     "(smallest mean-rating gap, rating points; a property of the data).",
                     metric="min_top_gap", rule=claims.AtLeast(0.05)),
    ]
    return claims.Ledger("recsys_bias", claim_list, profile=profile, checks=checks, headline=["c2_ee", "c3_ndcg"])


# --------------------------------------------------------------------------------------------
# The numbers
# --------------------------------------------------------------------------------------------

_Z = float(stats.norm.ppf(0.975))


def random_margins(table: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """Per (dataset, algorithm, input): nDCG@k minus Random's on the same dataset, with a 95 % interval.

    The interval treats the two per-user means as independent (√(se_a² + se_r²)); users are shared,
    so this is conservative. ``beats_random`` is True when the whole interval lies above 0.
    """
    ndcg, se = f"ndcg@{k}", f"ndcg@{k}_se"
    grouped = table.groupby(["dataset", "algorithm", "input"], sort=False)[[ndcg, se]].mean().reset_index()
    random = grouped[grouped["algorithm"] == _RANDOM].groupby("dataset")[[ndcg, se]].mean()
    rows = []
    for row in grouped.to_dict(orient="records"):
        if row["algorithm"] == _RANDOM or row["dataset"] not in random.index:
            continue
        base = random.loc[row["dataset"]]
        difference = row[ndcg] - base[ndcg]
        half = _Z * math.hypot(row[se], base[se])
        rows.append({"dataset": row["dataset"], "algorithm": row["algorithm"], "input": row["input"],
                     ndcg: row[ndcg], f"{ndcg} Random": base[ndcg], "difference": difference,
                     "low": difference - half, "high": difference + half,
                     "beats_random": bool(difference - half > 0)})
    return pd.DataFrame(rows, columns=["dataset", "algorithm", "input", ndcg, f"{ndcg} Random", "difference",
                                       "low", "high", "beats_random"])


def _share(successes: int, trials: int) -> claims.Estimate | None:
    return claims.proportion(successes, trials) if trials > 0 else None


def _pairs(table: pd.DataFrame, metric: str, base: str, treated: str) -> pd.DataFrame:
    averaged = table.groupby(["dataset", "algorithm", "input"], sort=False)[metric].mean().unstack("input")
    if base not in averaged.columns or treated not in averaged.columns:
        return pd.DataFrame(columns=["dataset", "algorithm", "base", "treated"])
    frame = averaged[[base, treated]].dropna().reset_index()
    return frame.rename(columns={base: "base", treated: "treated"})


def claim_results(main_table: pd.DataFrame, facts: pd.DataFrame, beta_table: pd.DataFrame | None = None,
                  rerank_table: pd.DataFrame | None = None, *, k: int = 10, base: str = "raw",
                  treated: str = "pct_last", algorithms: Sequence[str] = SIX_ALGORITHMS,
                  alphas: Sequence[int] = (1, 5, 10)) -> dict[str, Any]:
    """Every metric, control, guard and check of :func:`build_ledger`, plus ``notes`` (per claim).

    ``main_table``: one row per (dataset, algorithm, input[, seed]) with nDCG@k (and its standard
    error over users), EE, IA@α, LIA@α; Random must be among the algorithms. ``facts``: one row per
    real dataset with ``spearman`` and ``gap``. ``beta_table``: rows (dataset, algorithm, beta, EE,
    nDCG@k, nDCG@k_se), Random included. ``rerank_table``: rows (input, method, C, lambda, EE).
    """
    ndcg = f"ndcg@{k}"
    margins = random_margins(main_table, k)
    beating = margins[margins["beats_random"]]
    eligible_keys = set()
    excluded = []
    for (dataset, algorithm), group in margins[margins["input"].isin([base, treated])].groupby(
            ["dataset", "algorithm"], sort=False):
        if algorithm not in algorithms:
            continue
        if len(group) == 2 and group["beats_random"].all():
            eligible_keys.add((dataset, algorithm))
        else:
            excluded.append(f"{algorithm} on {dataset}")
    notes: dict[str, str] = {}
    if excluded:
        text = "excluded (nDCG@10 not above Random's with an interval): " + ", ".join(excluded)
        for claim_id in ("c2_ee", "c2_ia", "c2_lia", "c3_ndcg"):
            notes[claim_id] = text
    results: dict[str, Any] = {"margins": margins}

    def share_up(metric: str, keys: set | None) -> tuple[int, int]:
        pairs = _pairs(main_table, metric, base, treated)
        if keys is not None:
            pairs = pairs[[(d, a) in keys for d, a in zip(pairs["dataset"], pairs["algorithm"], strict=True)]]
        return int((pairs["treated"] > pairs["base"]).sum()), len(pairs)

    random_keys = {(d, _RANDOM) for d in main_table.loc[main_table["algorithm"] == _RANDOM, "dataset"].unique()}
    results["share_ee_up"] = _share(*share_up("EE", eligible_keys))
    results["share_ee_up_random"] = _share(*share_up("EE", random_keys))
    for name, prefix in (("share_ia_up", "IA"), ("share_lia_up", "LIA")):
        up = [share_up(f"{prefix}@{alpha}", eligible_keys) for alpha in alphas]
        up_random = [share_up(f"{prefix}@{alpha}", random_keys) for alpha in alphas]
        results[name] = _share(sum(u for u, _ in up), sum(n for _, n in up))
        results[f"{name}_random"] = _share(sum(u for u, _ in up_random), sum(n for _, n in up_random))
    accuracy = _pairs(main_table, ndcg, base, treated)
    accuracy = accuracy[[(d, a) in eligible_keys for d, a in zip(accuracy["dataset"], accuracy["algorithm"],
                                                                  strict=True)]]
    change = (accuracy["treated"] - accuracy["base"]) / accuracy["base"].abs()
    results["share_ndcg_ok"] = _share(int((change >= -0.10).sum()), len(accuracy))
    random_ndcg = main_table[main_table["algorithm"] == _RANDOM].groupby("dataset")[ndcg].mean()
    random_change = (accuracy["dataset"].map(random_ndcg) - accuracy["base"]) / accuracy["base"].abs()
    results["share_ndcg_ok_random"] = _share(int((random_change >= -0.10).sum()), len(accuracy))
    results["pairs_beat_random"] = claims.guard(
        len(eligible_keys) >= 3,
        f"only {len(eligible_keys)} (dataset, algorithm) pairs beat Random on nDCG@10 with an interval"
        + (f"; excluded: {', '.join(excluded)}" if excluded else ""))
    results.update(_rerank_results(rerank_table, margins, base, treated, k, notes))
    results.update(_beta_results(beta_table, k, notes))
    six_rows = margins[margins["algorithm"].isin(algorithms)]
    results["all_beat_random"] = bool(len(six_rows) > 0 and six_rows["beats_random"].all())
    results["min_spearman"] = float(facts["spearman"].min()) if len(facts) else math.nan
    results["min_top_gap"] = float(facts["gap"].min()) if len(facts) else math.nan
    results["notes"] = notes
    results["beating"] = beating
    return results


def _matched_gain(greedy: pd.DataFrame, ndcg: str, input_name: str, length: int, frontier: pd.DataFrame) -> list[float]:
    """Per λ: EE of ``input_name`` at candidate length ``length`` minus the EE the ``frontier`` reaches at
    the same nDCG (linear interpolation between its points; λ outside its nDCG range are skipped)."""
    points = frontier.sort_values(ndcg)
    gains = []
    for lam in sorted(greedy["lambda"].unique()):
        rows = greedy[(greedy["input"] == input_name) & (greedy["C"] == length) & (greedy["lambda"] == lam)]
        if rows.empty:
            continue
        accuracy, ee = float(rows[ndcg].mean()), float(rows["EE"].mean())
        if not points[ndcg].min() <= accuracy <= points[ndcg].max():
            continue
        gains.append(ee - float(np.interp(accuracy, points[ndcg], points["EE"])))
    return gains


def _rerank_results(rerank_table: pd.DataFrame | None, margins: pd.DataFrame, base: str,
                    treated: str, k: int, notes: dict[str, str]) -> dict[str, Any]:
    """Re-ranking at matched accuracy: per λ, EE of ``treated`` input at the shortest candidate list
    minus the EE that ``base`` input's frontier at the longest list (all λ and the plain top-k)
    reaches at the same nDCG; the control does the same for ``base`` input at the shortest list."""
    out: dict[str, Any] = {"rerank_ee_advantage": [], "rerank_ee_advantage_raw": [],
                           "rerank_beats_random": claims.guard(False, "no re-ranking run"),
                           "rerank_matched": claims.guard(False, "no re-ranking run")}
    if rerank_table is None or rerank_table.empty:
        return out
    ndcg = f"ndcg@{k}"
    greedy = rerank_table[rerank_table["method"] == "greedy"]
    if greedy["C"].nunique() < 2:
        out["rerank_beats_random"] = claims.guard(False, "a single candidate length")
        return out
    shortest, longest = int(greedy["C"].min()), int(greedy["C"].max())
    frontier = pd.concat([greedy[(greedy["input"] == base) & (greedy["C"] == longest)],
                          rerank_table[(rerank_table["method"] == "none") & (rerank_table["input"] == base)]])
    out["rerank_ee_advantage"] = _matched_gain(greedy, ndcg, treated, shortest, frontier)
    out["rerank_ee_advantage_raw"] = _matched_gain(greedy, ndcg, base, shortest, frontier)
    treated_points = greedy[(greedy["input"] == treated) & (greedy["C"] == shortest)][ndcg]
    out["rerank_matched"] = claims.guard(
        len(out["rerank_ee_advantage"]) > 0,
        f"no {treated} point at C = {shortest} (nDCG@{k} {treated_points.min():.4g}–{treated_points.max():.4g}) lies "
        f"within the nDCG@{k} range of {base} input's frontier at C = {longest} ({frontier[ndcg].min():.4g}–"
        f"{frontier[ndcg].max():.4g}): accuracy cannot be matched without extrapolating")
    seconds = greedy.groupby(["input", "C"])["seconds"].mean()
    if (treated, shortest) in seconds.index and (base, longest) in seconds.index:
        notes["c4_rerank"] = (f"cost: {seconds[(treated, shortest)]:.3g} s per re-ranking at C = {shortest} "
                              f"({treated}) vs {seconds[(base, longest)]:.3g} s at C = {longest} ({base})")
    algorithm = rerank_table["algorithm"].iloc[0]
    dataset = rerank_table["dataset"].iloc[0]
    rows = margins[(margins["algorithm"] == algorithm) & (margins["dataset"] == dataset)
                   & margins["input"].isin([base, treated])]
    passed = len(rows) == 2 and bool(rows["beats_random"].all())
    out["rerank_beats_random"] = claims.guard(passed, f"{algorithm} does not beat Random on nDCG@10 on {dataset} "
                                              "with an interval under both inputs")
    return out


def _beta_results(beta_table: pd.DataFrame | None, k: int, notes: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"share_beta_ee_up": None, "share_beta_ee_up_random": None,
                           "beta_beats_random": claims.guard(False, "no β run")}
    if beta_table is None or beta_table.empty or beta_table["beta"].nunique() < 2:
        return out
    ndcg, se = f"ndcg@{k}", f"ndcg@{k}_se"
    by = beta_table.groupby(["dataset", "algorithm", "beta"], sort=False)[["EE", ndcg, se]].mean()
    if _RANDOM not in beta_table["algorithm"].unique():
        out["beta_beats_random"] = claims.guard(False, "Random was not run in the β simulation")
        return out
    successes = trials = random_successes = random_trials = 0
    eligible, excluded = [], []
    for (dataset, algorithm), group in by.groupby(level=[0, 1], sort=False):
        group = group.droplevel([0, 1])
        if 0.0 not in group.index:
            continue
        rises = [bool(group.loc[beta, "EE"] > group.loc[0.0, "EE"]) for beta in group.index if beta > 0]
        if algorithm == _RANDOM:
            random_successes, random_trials = random_successes + sum(rises), random_trials + len(rises)
            continue
        random_row = by.loc[(dataset, _RANDOM, 0.0)]
        difference = group.loc[0.0, ndcg] - random_row[ndcg]
        if difference - _Z * math.hypot(group.loc[0.0, se], random_row[se]) <= 0:
            excluded.append(f"{algorithm} on {dataset}")
            continue
        eligible.append(algorithm)
        successes, trials = successes + sum(rises), trials + len(rises)
    if excluded:
        notes["c5_beta"] = "excluded (nDCG@10 at β = 0 not above Random's with an interval): " + ", ".join(excluded)
    out["share_beta_ee_up"] = _share(successes, trials)
    out["share_beta_ee_up_random"] = _share(random_successes, random_trials)
    out["beta_beats_random"] = claims.guard(len(eligible) >= 1, "no recommender in the β simulation beats Random")
    return out


def finite_or_nan(value: Any) -> float:
    """A printable number for an Estimate, a float or None (NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, claims.Estimate):
        return value.value
    return float(value) if np.isscalar(value) else math.nan

"""The chapter's claims ledger and the numbers it judges, computed per replicate (seed) from the result frames.

A replicate is one seed: its own clean training pool, its own frozen test set, its own corrupted suite,
every backbone pre-trained and probed again. ``claim_results`` takes the frames that
:func:`~reprobook.reobench.experiments.run_replicate` returns, concatenated over seeds:

* ``accuracy``: (seed, model, corruption, severity, accuracy), clean rows have corruption ``"clean"``;
* ``clean_correct``: (seed, model, image, correct), per test image on the clean set.

The *no-effect suite* is the null of every drop claim: each (corruption, severity) cell's accuracy is
replaced by the accuracy of a bootstrap resample of the model's own clean predictions (a world where
corruptions change nothing, with the sampling noise of a test set of this size). It is computed from the
same run's predictions.

>>> ledger = build_ledger("book")
>>> [claim.id for claim in ledger.claims][:3]
['c1_drop_low', 'c1_drop_high', 'c2_severity']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from reprobook import claims
from reprobook.claims import (
    MINIATURE,
    STAND_IN,
    AtLeast,
    AtMost,
    Between,
    Check,
    Claim,
    Control,
    Differs,
    Ledger,
)
from reprobook.reobench.corrupt import APPEARANCE

__all__ = ["NULL_LABEL", "REFERENCE_MODEL", "CONTROL_MODELS", "TOLERANCE", "build_ledger", "claim_results",
           "null_accuracy", "relative_drops", "falling_share", "corrupted_accuracy", "mean_corruption_error",
           "acceptance_guard", "learned_guard", "vhm_drop", "per_seed_table", "Differs", "DIFFERENCE_MARGIN",
           "null_segmentation", "segmentation_drop", "segmentation_table", "segmentation_guard", "SEGMENTATION_MARGIN"]

NULL_LABEL = "no-effect suite (clean predictions resampled)"
REFERENCE_MODEL = "supervised"
CONTROL_MODELS = ("colour histogram", "pixel MLP", "chance")
#: points of accuracy within which a severity curve counts as not rising (fixed before any result)
TOLERANCE = 0.02
#: the generator's acceptance criteria (fixed before any result)
SUPERVISED_RANGE = (0.85, 0.95)
COLOUR_HISTOGRAM_MAX = 0.50
#: a backbone has learned when its clean accuracy exceeds chance by this many binomial standard errors
LEARNED_SE = 3.0
#: the segmentation probe has learned when its clean mIoU beats painting every patch with the training pool's
#: commonest land cover by this much, on every seed (fixed before any result)
SEGMENTATION_MARGIN = 0.1
#: two relative drops "differ" (backbone sizes, tasks) when they are this far apart (fixed before any result)
DIFFERENCE_MARGIN = 0.02
_NULL_SEED = 20_250_516


def build_ledger(profile: str, backbones: Sequence[str] = ("supervised", "clip")) -> Ledger:
    """The chapter's claims and checks, fixed before any result; ``backbones`` only shapes the notes."""
    shown = ", ".join(backbones)
    scope = f"backbones run: {shown}; synthetic 64² scenes, small backbones trained here, linear probes"
    guards = ("acceptance", "learned")
    return Ledger("reobench", [
        Claim("c1_drop_low", "Some (model, appearance corruption) pairs lose under 1 % of their accuracy, and lose it.",
              paper="< 1 %", source="abstract", metric="smallest_loss", rule=Between(0.0, 0.01), evidence=MINIATURE,
              controls=(Control("null_smallest_loss", NULL_LABEL),), guards=guards,
              notes=f"per seed: the smallest non-negative relative drop ρ over backbones × appearance corruptions "
                    f"(mean over severities); {scope}"),
        Claim("c1_drop_high", "Some (model, corruption) pairs lose over 20 % of their accuracy.",
              paper="> 20 %", source="abstract", metric="largest_drop", rule=AtLeast(0.20), evidence=MINIATURE,
              controls=(Control("null_largest_drop", NULL_LABEL),), guards=guards,
              notes=f"per seed: the largest relative drop ρ over backbones × corruptions; {scope}"),
        Claim("c2_severity", "Accuracy falls as severity grows, for every appearance corruption.",
              paper="9 of 9 curves (VHM, VQA)", source="repository notebook VRSBench/cal_stat.ipynb",
              metric="falling_share", rule=AtLeast(0.9), evidence=MINIATURE,
              controls=(Control("null_falling_share", NULL_LABEL),), guards=guards,
              testable_in=("book", "paper"), why_untestable="needs at least three severities",
              notes=f"per seed: share of (backbone, appearance corruption) curves that end below their first "
                    f"severity and never rise by more than {TOLERANCE:g} from one severity to the next; {scope}"),
        Claim("c3_vl_accuracy", "A vision-language model keeps more accuracy under corruption than a vision-only one.",
              paper="qualitative", source="abstract", metric="clip_minus_supervised_corrupted", rule=AtLeast(0.0),
              evidence=STAND_IN, controls=(Control("null_clip_minus_supervised_corrupted", NULL_LABEL),),
              guards=guards,
              notes="per seed: mean corrupted accuracy (12 corruptions × severities), CLIP-style − supervised, "
                    "paired by seed (same scenes, same trunk); the control is the same difference with corruptions "
                    "removed, i.e. what a clean-accuracy gap alone gives"),
        Claim("c3_vl_mce", "A vision-language model makes fewer corruption errors than a vision-only one (mCE).",
              paper="qualitative", source="abstract", metric="clip_minus_supervised_mce", rule=AtMost(0.0),
              evidence=STAND_IN, controls=(Control("null_clip_minus_supervised_mce", NULL_LABEL),),
              guards=guards,
              notes="per seed: mCE(CLIP-style) − mCE(supervised) with the supervised CNN as reference "
                    "(its mCE is 1 by definition); the control is the same with corruptions removed"),
        Claim("c4_small_drop", "The most robust model loses only a few per cent under appearance corruptions.",
              paper="ρ = 2.2 % (VHM, VQA, 9 corruptions)", source="repository notebook VRSBench/cal_stat.ipynb",
              metric="best_appearance_drop", rule=Between(0.0, 0.05), evidence=MINIATURE,
              controls=(Control("colour_histogram_appearance_drop", "colour-histogram probe (a colour shortcut)"),),
              guards=guards,
              notes=f"per seed: the smallest relative drop over the 9 appearance corruptions among the backbones; "
                    f"{scope}"),
        Claim("c5_backbone_size", "Robustness depends on backbone size: a narrower and a wider CNN lose different "
              "shares of their accuracy.", paper="qualitative", source="abstract", metric="narrow_minus_wide_drop",
              rule=Differs(DIFFERENCE_MARGIN), evidence=MINIATURE,
              controls=(Control("null_narrow_minus_wide_drop", NULL_LABEL),), guards=("acceptance", "learned_sizes"),
              why_untestable="needs the supervised CNN at two or more widths (parameter size_widths; set at the "
                             "paper profile; the book profile spends its budget on five seeds for the other claims)",
              notes="per seed: ρ(narrowest supervised CNN) − ρ(widest), ρ over every corruption (mean over "
                    "severities), same scenes and training budget; two-sided, the paper gives no direction"),
        Claim("c6_tasks", "Drops differ across tasks: semantic segmentation (mIoU) and scene classification "
              "(accuracy) lose different shares under the same corruptions.",
              paper="qualitative", source="abstract", metric="segmentation_minus_classification_drop",
              rule=Differs(DIFFERENCE_MARGIN), evidence=MINIATURE,
              controls=(Control("null_segmentation_minus_classification_drop", NULL_LABEL),),
              guards=(*guards, "segmented"),
              why_untestable="needs the segmentation probe (parameter segmentation_images > 0)",
              notes=f"per seed, the supervised CNN: ρ of mIoU (1 × 1 convolution on frozen patch features, "
                    f"geometric corruptions move the masks) − ρ of accuracy, both over every corruption; the "
                    f"detection and vision-language tasks are not implemented; {scope}"),
    ], profile=profile, checks=[
        Check("vhm_monotone", "Published VHM table: every appearance corruption ends below clean at severity 5.",
              metric="vhm_monotone"),
        Check("vhm_relative_drop", "Published VHM table: ρ over the 9 corruptions × 5 severities.",
              metric="vhm_relative_drop", rule=Between(0.02, 0.025)),
        Check("colour_shortcut", "Acceptance: the colour-histogram control's clean accuracy (mean over seeds).",
              metric="colour_histogram_clean", rule=AtMost(COLOUR_HISTOGRAM_MAX)),
        Check("supervised_clean", "Acceptance: the supervised CNN's clean accuracy (mean over seeds).",
              metric="supervised_clean", rule=Between(*SUPERVISED_RANGE)),
    ], headline=["c1_drop_high", "c3_vl_accuracy"])


# --------------------------------------------------------------------------------------------------------------
# per-seed statistics on an accuracy frame
# --------------------------------------------------------------------------------------------------------------


def relative_drops(accuracy: pd.DataFrame, models: Sequence[str], corruptions: Sequence[str]) -> pd.DataFrame:
    """ρ per (model, corruption), mean over severities, on one seed's rows; (model × corruption)."""
    rows = accuracy[accuracy.model.isin(models)]
    clean = rows[rows.corruption == "clean"].set_index("model").accuracy
    corrupted = rows[rows.corruption.isin(corruptions)]
    means = corrupted.groupby(["model", "corruption"]).accuracy.mean().unstack("corruption")
    return 1 - means.div(clean.reindex(means.index), axis=0)


def falling_share(accuracy: pd.DataFrame, models: Sequence[str], corruptions: Sequence[str],
                  tolerance: float = TOLERANCE) -> float:
    """Share of (model, corruption) curves that end below where they began and never rise by more than ``tolerance``.

    >>> rows = [("m", "a", s, acc) for s, acc in zip([1, 2, 3], [0.9, 0.8, 0.7])]
    >>> rows += [("m", "b", s, acc) for s, acc in zip([1, 2, 3], [0.9, 0.9, 0.9])]
    >>> falling_share(pd.DataFrame(rows, columns=["model", "corruption", "severity", "accuracy"]), ["m"], ["a", "b"])
    0.5
    """
    curves = accuracy[accuracy.model.isin(models) & accuracy.corruption.isin(corruptions)].sort_values("severity")
    verdicts = []
    for _, group in curves.groupby(["model", "corruption"]):
        values = group.accuracy.to_numpy()
        verdicts.append(bool(len(values) >= 2 and values[-1] < values[0] and (np.diff(values) <= tolerance).all()))
    return float(np.mean(verdicts)) if verdicts else math.nan


def corrupted_accuracy(accuracy: pd.DataFrame, model: str) -> float:
    """Mean accuracy over every corrupted (corruption, severity) cell of one model."""
    rows = accuracy[(accuracy.model == model) & (accuracy.corruption != "clean")]
    return float(rows.accuracy.mean()) if len(rows) else math.nan


def mean_corruption_error(accuracy: pd.DataFrame, model: str, reference: str = REFERENCE_MODEL) -> float:
    """mCE = mean_c Σ_s (1 − A_{c,s}) / Σ_s (1 − A^{ref}_{c,s}) on one seed's rows."""
    rows = accuracy[accuracy.corruption != "clean"]
    errors = (1 - rows.accuracy).groupby([rows.model, rows.corruption]).sum().unstack("corruption")
    if model not in errors.index or reference not in errors.index:
        return math.nan
    ratio = errors.loc[model] / errors.loc[reference].replace(0, np.nan)
    return float(ratio.mean())


def null_accuracy(accuracy: pd.DataFrame, clean_correct: pd.DataFrame, seed: int = _NULL_SEED) -> pd.DataFrame:
    """The no-effect suite: every corrupted cell's accuracy replaced by a bootstrap resample of the clean predictions.

    >>> accuracy = pd.DataFrame({"seed": 0, "model": "m", "corruption": ["clean", "haze"], "severity": [0, 1],
    ...                          "accuracy": [0.5, 0.1]})
    >>> correct = pd.DataFrame({"seed": 0, "model": "m", "image": range(4), "correct": [True, True, False, False]})
    >>> out = null_accuracy(accuracy, correct)
    >>> float(out.accuracy.iloc[0]), bool(0 <= out.accuracy.iloc[1] <= 1)
    (0.5, True)
    """
    out = accuracy.reset_index(drop=True)
    groups = {key: group.sort_values("image").correct.to_numpy(dtype=float)
              for key, group in clean_correct.groupby(["seed", "model"])}
    for (replicate, model), index in out[out.corruption != "clean"].groupby(["seed", "model"]).groups.items():
        correct = groups.get((replicate, model))
        if correct is None or not len(correct):
            continue  # chance and other models without per-image predictions keep their values
        rng = np.random.default_rng([seed, int(replicate), sum(map(ord, str(model)))])
        draws = rng.integers(0, len(correct), size=(len(index), len(correct)))
        out.loc[index, "accuracy"] = correct[draws].mean(axis=1)
    return out


def null_segmentation(segmentation: pd.DataFrame, counts: pd.DataFrame, seed: int = _NULL_SEED) -> pd.DataFrame:
    """The no-effect suite for segmentation: each corrupted cell's mIoU from a bootstrap resample of the clean images.

    ``segmentation`` (seed, model, corruption, severity, miou); ``counts`` (seed, model, image, intersection_k,
    union_k) per clean test image.
    """
    out = segmentation.reset_index(drop=True)
    if out.empty:
        return out
    out["miou"] = out["miou"].astype(float)
    intersections = sorted(column for column in counts.columns if column.startswith("intersection_"))
    unions = [column.replace("intersection_", "union_") for column in intersections]
    groups = {key: (group.sort_values("image")[intersections].to_numpy(float),
                    group.sort_values("image")[unions].to_numpy(float))
              for key, group in counts.groupby(["seed", "model"])}
    for (replicate, model), index in out[out.corruption != "clean"].groupby(["seed", "model"]).groups.items():
        if (replicate, model) not in groups:
            continue
        inter, union = groups[replicate, model]
        rng = np.random.default_rng([seed, int(replicate), sum(map(ord, str(model))), 1])
        draws = rng.integers(0, len(inter), size=(len(index), len(inter)))
        totals_i, totals_u = inter[draws].sum(axis=1), union[draws].sum(axis=1)  # (cells, classes)
        ratio = np.where(totals_u > 0, totals_i / np.where(totals_u > 0, totals_u, 1), np.nan)
        out.loc[index, "miou"] = np.nanmean(ratio, axis=1)
    return out


def segmentation_guard(segmentation: pd.DataFrame | None, model: str = REFERENCE_MODEL) -> claims.Guard:
    """The probe segments: clean mIoU ≥ the commonest-land-cover baseline + ``SEGMENTATION_MARGIN`` on every seed.

    A probe that paints one land cover everywhere loses nothing under corruption, so its drop says nothing.
    Passes when no segmentation ran (the claim's metric is then missing and says so).
    """
    if segmentation is None or model not in set(segmentation.model):
        return claims.guard(True)
    clean = segmentation[(segmentation.model == model) & (segmentation.corruption == "clean")]
    short = clean[~(clean.miou >= clean.majority_miou + SEGMENTATION_MARGIN)]
    if short.empty:
        return claims.guard(True)
    worst = short.iloc[0]
    return claims.guard(False, f"the {model} segmentation probe's clean mIoU {worst.miou:.3f} is not "
                               f"{SEGMENTATION_MARGIN:g} above painting the commonest land cover "
                               f"({worst.majority_miou:.3f}) on seed {worst.seed}")


def segmentation_drop(segmentation: pd.DataFrame, model: str) -> float:
    """ρ of mIoU for one model on one seed's rows: mean over corruptions of 1 − (mean over severities) / clean."""
    rows = segmentation[segmentation.model == model]
    clean = rows[rows.corruption == "clean"].miou
    corrupted = rows[rows.corruption != "clean"]
    if clean.empty or corrupted.empty or not float(clean.iloc[0]) > 0:
        return math.nan
    return float((1 - corrupted.groupby("corruption").miou.mean() / float(clean.iloc[0])).mean())


def _all_drop(accuracy: pd.DataFrame, model: str) -> float:
    """ρ of accuracy for one model on one seed's rows over every corruption (mean over severities, then corruptions)."""
    every = [name for name in accuracy.corruption.unique() if name != "clean"]
    drops = relative_drops(accuracy, [model], every)
    return float(drops.loc[model].mean()) if model in drops.index else math.nan


def segmentation_table(segmentation: pd.DataFrame, accuracy: pd.DataFrame) -> pd.DataFrame:
    """Per (seed, model) with a segmentation probe: clean mIoU, mean corrupted mIoU, ρ of mIoU beside ρ of accuracy."""
    rows = []
    for (seed, model), frame in segmentation.groupby(["seed", "model"], sort=False):
        clean = frame[frame.corruption == "clean"].miou
        rows.append({"seed": seed, "model": model, "clean_miou": float(clean.iloc[0]) if len(clean) else math.nan,
                     "corrupted_miou": float(frame[frame.corruption != "clean"].miou.mean()),
                     "relative_drop_miou": segmentation_drop(frame, model),
                     "relative_drop_accuracy": _all_drop(accuracy[accuracy.seed == seed], model)})
    return pd.DataFrame(rows)


def _per_seed(accuracy: pd.DataFrame, seeds: Sequence[int], statistic) -> list[float]:
    return [statistic(accuracy[accuracy.seed == seed]) for seed in seeds]


def _smallest_loss(drops: pd.DataFrame) -> float:
    values = drops.to_numpy().ravel()
    values = values[np.isfinite(values)]
    if not len(values):
        return math.nan
    losses = values[values >= 0]
    return float(losses.min()) if len(losses) else float(values.max())  # no loss at all: the rule must fail


def _largest(drops: pd.DataFrame) -> float:
    values = drops.to_numpy().ravel()
    values = values[np.isfinite(values)]
    return float(values.max()) if len(values) else math.nan


def _estimate_or_none(values: list[float]) -> claims.Estimate | None:
    if not values or not all(np.isfinite(values)):
        return None
    return claims.mean_interval(values, unit="seeds")


def _paired_or_none(first: list[float], second: list[float]) -> claims.Estimate | None:
    if not first or not all(np.isfinite(first)) or not all(np.isfinite(second)):
        return None
    return claims.paired_difference(first, second, unit="seeds")


def _clean(accuracy: pd.DataFrame, model: str) -> pd.Series:
    rows = accuracy[(accuracy.model == model) & (accuracy.corruption == "clean")]
    return rows.groupby("seed").accuracy.mean()


def acceptance_guard(accuracy: pd.DataFrame) -> claims.Guard:
    """The generator's acceptance checks as a guard: supervised CNN clean in [0.85, 0.95], colour histogram < 0.5."""
    supervised, histogram = _clean(accuracy, REFERENCE_MODEL), _clean(accuracy, "colour histogram")
    if supervised.empty or histogram.empty:
        return claims.guard(False, "the supervised CNN and the colour-histogram control must both run "
                                   "(the acceptance checks need them)")
    problems = []
    low, high = SUPERVISED_RANGE
    if not low <= supervised.mean() <= high:
        problems.append(f"supervised CNN clean accuracy {supervised.mean():.3f} outside [{low:g}, {high:g}]")
    if not histogram.mean() < COLOUR_HISTOGRAM_MAX:
        problems.append(f"colour-histogram control {histogram.mean():.3f} not below {COLOUR_HISTOGRAM_MAX:g} "
                        "(a colour shortcut)")
    return claims.guard(not problems, "; ".join(problems))


def learned_guard(accuracy: pd.DataFrame, backbones: Sequence[str], n_test: int, n_classes: int) -> claims.Guard:
    """Every compared backbone's clean accuracy, on every seed, exceeds chance by ``LEARNED_SE`` binomial SEs."""
    chance = 1 / n_classes
    floor = chance + LEARNED_SE * math.sqrt(chance * (1 - chance) / max(n_test, 1))
    failed = []
    for backbone in backbones:
        clean = _clean(accuracy, backbone)
        if clean.empty or (clean <= floor).any():
            failed.append(f"{backbone} (min clean {clean.min():.3f})" if not clean.empty else f"{backbone} (not run)")
    return claims.guard(not failed, f"at or below the noise floor {floor:.3f} (chance + {LEARNED_SE:g} SE): "
                                    + ", ".join(failed) if failed else "")


def vhm_drop(table: pd.DataFrame) -> float:
    """ρ of a published (corruption, severity, accuracy) table with a clean row."""
    clean = float(table.accuracy[table.corruption == "clean"].iloc[0])
    return (clean - float(table.accuracy[table.corruption != "clean"].mean())) / clean


def claim_results(accuracy: pd.DataFrame, clean_correct: pd.DataFrame, backbones: Sequence[str], *,
                  vhm: pd.DataFrame, n_classes: int = 9, profile: str = "book",
                  segmentation: pd.DataFrame | None = None, segmentation_counts: pd.DataFrame | None = None,
                  widths: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Every metric, control metric, guard and check of :func:`build_ledger`, per seed, from the result frames.

    ``accuracy`` and ``clean_correct`` are the frames of :func:`~reprobook.reobench.experiments.run_replicate`
    over seeds; ``backbones`` the compared backbones (controls excluded); ``vhm`` the published VHM table;
    ``segmentation`` and ``segmentation_counts`` the segmentation probe's frames (mIoU per cell, clean counts per
    image); ``widths`` the supervised CNN's models by width (the backbone-size claim needs two).
    """
    backbones = [name for name in backbones if name not in CONTROL_MODELS]
    accuracy = accuracy.reset_index(drop=True)
    seeds = sorted(accuracy.seed.unique().tolist())
    null = null_accuracy(accuracy, clean_correct)
    appearance = [name for name in APPEARANCE if name in set(accuracy.corruption)]
    every = [name for name in accuracy.corruption.unique() if name != "clean"]
    severities = accuracy[accuracy.corruption != "clean"].severity.nunique()
    n_test = int(clean_correct.groupby(["seed", "model"]).size().min()) if len(clean_correct) else 0

    def drops_of(frame: pd.DataFrame, corruptions: Sequence[str]) -> pd.DataFrame:
        return relative_drops(frame, backbones, corruptions)

    def appearance_drop(frame: pd.DataFrame, model: str) -> float:
        drops = relative_drops(frame, [model], appearance)
        return float(drops.loc[model].mean()) if model in drops.index else math.nan

    results: dict[str, Any] = {}
    for prefix, frame in (("", accuracy), ("null_", null)):
        results[prefix + "smallest_loss"] = _estimate_or_none(
            _per_seed(frame, seeds, lambda rows: _smallest_loss(drops_of(rows, appearance))))
        results[prefix + "largest_drop"] = _estimate_or_none(
            _per_seed(frame, seeds, lambda rows: _largest(drops_of(rows, every))))
        results[prefix + "falling_share"] = (_estimate_or_none(
            _per_seed(frame, seeds, lambda rows: falling_share(rows, backbones, appearance)))
            if severities >= 3 else None)
        has_pair = {"clip", REFERENCE_MODEL} <= set(backbones)
        results[prefix + "clip_minus_supervised_corrupted"] = _paired_or_none(
            _per_seed(frame, seeds, lambda rows: corrupted_accuracy(rows, "clip")),
            _per_seed(frame, seeds, lambda rows: corrupted_accuracy(rows, REFERENCE_MODEL))) if has_pair else None
        results[prefix + "clip_minus_supervised_mce"] = _paired_or_none(
            _per_seed(frame, seeds, lambda rows: mean_corruption_error(rows, "clip")),
            _per_seed(frame, seeds, lambda rows: mean_corruption_error(rows, REFERENCE_MODEL))) if has_pair else None
    sizes = sorted((width, model) for model, width in (widths or {}).items() if model in set(accuracy.model))
    size_models = [model for _, model in sizes]
    segmented = segmentation is not None and REFERENCE_MODEL in set(segmentation.model)
    seg_null = null_segmentation(segmentation, segmentation_counts) if segmented else None
    # the further widths may run on fewer seeds than the rest (a budget cut): pair on the seeds that have every width
    size_seeds = [seed for seed in seeds
                  if set(size_models) <= set(accuracy[accuracy.seed == seed].model)] if len(sizes) >= 2 else []
    for prefix, frame, seg_frame in (("", accuracy, segmentation), ("null_", null, seg_null)):
        results[prefix + "narrow_minus_wide_drop"] = _paired_or_none(
            _per_seed(frame, size_seeds, lambda rows: _all_drop(rows, size_models[0])),
            _per_seed(frame, size_seeds, lambda rows: _all_drop(rows, size_models[-1]))) if size_seeds else None
        results[prefix + "segmentation_minus_classification_drop"] = _paired_or_none(
            [segmentation_drop(seg_frame[seg_frame.seed == seed], REFERENCE_MODEL) for seed in seeds],
            _per_seed(frame, seeds, lambda rows: _all_drop(rows, REFERENCE_MODEL))) if segmented else None
    results["learned_sizes"] = (learned_guard(accuracy[accuracy.seed.isin(size_seeds)], size_models, n_test, n_classes)
                                if size_seeds else claims.guard(True))  # no widths compared: the metric says so
    results["segmented"] = segmentation_guard(segmentation)
    results["best_appearance_drop"] = _estimate_or_none(
        _per_seed(accuracy, seeds, lambda rows: min((appearance_drop(rows, name) for name in backbones),
                                                    default=math.nan)))
    results["colour_histogram_appearance_drop"] = _estimate_or_none(
        _per_seed(accuracy, seeds, lambda rows: appearance_drop(rows, "colour histogram")))
    results["acceptance"] = acceptance_guard(accuracy)
    results["learned"] = learned_guard(accuracy, backbones, n_test, n_classes)
    vhm_rows = vhm[vhm.corruption != "clean"]
    vhm_clean = float(vhm.accuracy[vhm.corruption == "clean"].iloc[0])
    results["vhm_monotone"] = bool(all(group.sort_values("severity").accuracy.iloc[-1] < vhm_clean
                                       for _, group in vhm_rows.groupby("corruption")))
    results["vhm_relative_drop"] = claims.exact(vhm_drop(vhm))
    supervised, histogram = _clean(accuracy, REFERENCE_MODEL), _clean(accuracy, "colour histogram")
    results["supervised_clean"] = float(supervised.mean()) if len(supervised) else math.nan
    results["colour_histogram_clean"] = float(histogram.mean()) if len(histogram) else math.nan
    return results


def per_seed_table(accuracy: pd.DataFrame, backbones: Sequence[str]) -> pd.DataFrame:
    """Per (seed, backbone): clean accuracy, mean corrupted accuracy, ρ (all, appearance), mCE — clean beside every drop."""
    rows = []
    appearance = [name for name in APPEARANCE if name in set(accuracy.corruption)]
    every = [name for name in accuracy.corruption.unique() if name != "clean"]
    for seed, frame in accuracy.groupby("seed"):
        for model in backbones:
            clean = _clean(frame, model)
            if clean.empty:
                continue
            rows.append({"seed": seed, "model": model, "clean": float(clean.iloc[0]),
                         "corrupted": corrupted_accuracy(frame, model),
                         "relative_drop": float(relative_drops(frame, [model], every).loc[model].mean()),
                         "relative_drop_appearance": float(relative_drops(frame, [model], appearance).loc[model].mean()),
                         "mCE": mean_corruption_error(frame, model, REFERENCE_MODEL if REFERENCE_MODEL in backbones
                                                      else backbones[0])})
    return pd.DataFrame(rows)

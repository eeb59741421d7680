"""The chapter's claims ledger: the claims, their controls and guards, and the numbers that judge them.

:func:`build_ledger` states the claims (rules fixed before any run); :func:`claim_results` computes
every metric, control metric, guard and check from the run frame of
:func:`reprobook.neurotrails.chapter.results_frame` (one row per run: method, seed, split b, width,
accuracies, NLL, disagreement, nonzeros, whether the time budget stopped it).

Comparisons are per-seed paired differences with a t interval, judged against margins fixed here:
:data:`MARGIN_ACCURACY` (about one binomial standard error of a 5,000-signal test accuracy) and
:data:`MARGIN_NLL`. NT is NeuroTrails at the main split (fixed in advance, the paper's ≈ 2/3 of the
depth); the *matched* baselines are dense networks whose width gives them as many parameters as NT
has nonzeros. Only runs that finished are judged: each claim has its own guard over the runs it
compares (:func:`runs_guard`), so a run stopped by the time budget makes only those claims
untestable, and the guard's reason names it.

>>> [claim.id for claim in build_ledger("book").claims][:3]
['N1_accuracy', 'N1_nll', 'N2_accuracy']
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from reprobook import claims
from reprobook.claims import AtLeast, AtMost, Check, Claim, Control, Ledger

__all__ = ["build_ledger", "claim_results", "claim_notes", "runs_guard", "CLAIM_ARMS", "MARGIN_ACCURACY", "MARGIN_NLL", "arm_values", "paired",
           "seed_swap_null", "permutation_mean"]

MARGIN_ACCURACY = 0.005
MARGIN_NLL = 0.01
JUDGED = ("smoke", "book", "paper")  # smoke: every path runs; one seed decides nothing
N_CLASSES = 10


def build_ledger(profile: str) -> Ledger:
    """The NeuroTrails chapter's claims and checks at ``profile`` (rules fixed before any results)."""
    beats, nll_beats = AtLeast(MARGIN_ACCURACY), AtLeast(MARGIN_NLL)
    matches = AtLeast(-MARGIN_ACCURACY)
    sparse_single = "sparse single network (same density, one head)"
    return Ledger("neurotrails", [
        Claim("N1_accuracy", "NeuroTrails beats a single dense network of equal nonzeros in accuracy.",
              paper="78.1 vs 76.1 % (ImageNet)", source="intro table, arXiv v1", metric="n1_accuracy",
              rule=beats, evidence=claims.MINIATURE, controls=(Control("n1_accuracy_control", sparse_single),),
              guards=("runs_n1",), testable_in=JUDGED,
              notes="ours: acc(NT) − acc(width-matched single), paired by seed"),
        Claim("N1_nll", "… and its test NLL is lower.", paper="ppl 20.7 vs 22.8 (C4)",
              source="intro table, arXiv v1", metric="n1_nll", rule=nll_beats, evidence=claims.MINIATURE,
              controls=(Control("n1_nll_control", sparse_single),), guards=("runs_n1",), testable_in=JUDGED,
              notes="ours: NLL(width-matched single) − NLL(NT), paired by seed"),
        Claim("N2_accuracy", "NeuroTrails matches the full ensemble of 3 dense networks (within half a point).",
              paper="78.1 vs 77.5 % (ImageNet)", source="intro table, arXiv v1", metric="n2_accuracy",
              rule=matches, evidence=claims.MINIATURE,
              controls=(Control("n2_accuracy_control", "one dense network of the same width"),),
              guards=("runs_n2_accuracy",), testable_in=JUDGED, notes="ours: acc(NT) − acc(full ensemble), paired by seed"),
        Claim("N2_equal", "NeuroTrails matches a full ensemble of equal nonzeros (narrower members).",
              paper="fewer parameters at equal accuracy", source="abstract", metric="n2_equal",
              rule=matches, evidence=claims.MINIATURE,
              controls=(Control("n2_equal_control", "a dense single network of equal nonzeros"),),
              guards=("runs_n2_equal",), testable_in=JUDGED,
              notes="ours: acc(NT) − acc(width-matched full ensemble), paired by seed"),
        Claim("N3", "Diversity grows with the split depth: Spearman ρ(b, mean pairwise disagreement) ≥ 0.8.",
              paper="Goldilocks analysis", source="paper, diversity vs blocks in head", metric="n3_spearman",
              rule=AtLeast(0.8), evidence=claims.MINIATURE,
              controls=(Control("n3_control", "the same ρ with the splits b permuted (mean over permutations)"),),
              guards=("runs_sweep", "sweep_run"), testable_in=JUDGED, notes="ours: one ρ per seed over the sweep"),
        Claim("N4", "Accuracy peaks at an intermediate split: the best interior b beats both ends (b = 0, b = B).",
              paper="Goldilocks zone", source="paper, accuracy vs blocks in head", metric="n4_margin",
              rule=beats, evidence=claims.MINIATURE,
              controls=(Control("n4_control", "the same margin with the splits b permuted (mean over permutations)"),),
              guards=("runs_sweep", "sweep_run"), testable_in=JUDGED,
              notes="ours: per seed, best interior accuracy − best end accuracy"),
        Claim("N5", "NeuroTrails beats TreeNet (dense heads) at the same split.", paper="NeuroTrails > TreeNet",
              source="paper, baselines", metric="n5_accuracy", rule=beats, evidence=claims.MINIATURE,
              controls=(Control("n5_control", "a second TreeNet draw (seed-swapped noise null)"),),
              guards=("runs_n5",), testable_in=JUDGED, notes="ours: acc(NT) − acc(TreeNet), both at the main split"),
        Claim("N6", "A dynamic topology beats a static sparse mask in the same architecture.",
              paper="[verify] ablation", source="reference code's static option", metric="n6_accuracy",
              rule=beats, evidence=claims.MINIATURE,
              controls=(Control("n6_control", "a second static-mask draw (seed-swapped noise null)"),),
              guards=("runs_n6",), testable_in=JUDGED,
              notes="ours: acc(NT) − acc(NT with a fixed random ERK mask), paired by seed"),
        Claim("N7", "NeuroTrails is more robust under shift: it loses less accuracy on the shifted set.",
              paper="better zero-shot robustness", source="abstract", metric="n7_drop_advantage", rule=beats,
              evidence=claims.STAND_IN, controls=(Control("n7_control", sparse_single),), guards=("runs_n7",),
              testable_in=JUDGED,
              notes="ours: drop(width-matched single) − drop(NT), drop = clean − shifted accuracy; the shifted "
                    "MNIST-1D set stands in for the paper's zero-shot benchmarks"),
        Claim("N8", "Language modelling: lower perplexity than a single model and than the full ensemble.",
              paper="ppl 20.7 vs 22.8 / 21.3", source="intro table, arXiv v1", metric="n8_lm_perplexity_gain",
              rule=AtLeast(0.0), evidence=claims.MINIATURE, implemented=False,
              why_not_implemented="the language-model track is not implemented in this chapter"),
    ], profile=profile, checks=[
        Check("C1", "NT keeps at most half the full ensemble's nonzeros.", "c1_nnz_ratio_full", AtMost(0.5)),
        Check("C2", "NT has fewer nonzeros than TreeNet at the same split.", "c2_fewer_than_treenet"),
        Check("C3", "The width-matched baselines have NT's nonzeros within 5 %.", "c3_matched_within",
              AtMost(0.05)),
    ], headline=["N1_accuracy", "N2_accuracy"])


# ------------------------------------------------------------------------------------------------
# per-replicate numbers
# ------------------------------------------------------------------------------------------------


def arm_values(frame: pd.DataFrame, method: str, column: str, *, blocks_in_head: int | None = None,
               width: int | None = None) -> pd.Series:
    """seed → ``column`` over the finished runs of one arm (method, optionally split and width)."""
    part = frame[(frame.method == method) & ~frame.stopped_early.astype(bool)]
    if blocks_in_head is not None:
        part = part[part.blocks_in_head == blocks_in_head]
    if width is not None:
        part = part[part.width == width]
    return part.groupby("seed")[column].mean()


def paired(first: pd.Series, second: pd.Series) -> list[float]:
    """first − second over the seeds both have (per-seed paired differences)."""
    seeds = sorted(set(first.index) & set(second.index))
    return [float(first[s] - second[s]) for s in seeds]


def seed_swap_null(values: pd.Series) -> list[float]:
    """value(seed i) − value(seed i + 1), cyclically: the spread of 'beating' a second draw of itself."""
    array = values.sort_index().to_numpy(dtype=float)
    return [] if len(array) < 2 else [float(x) for x in array - np.roll(array, -1)]


def permutation_mean(splits: Sequence[int], values: Sequence[float],
                     statistic: Callable[[Sequence[int], Sequence[float]], float]) -> float:
    """The mean of ``statistic`` over every assignment of the values to the splits (a null without order)."""
    results = [statistic(splits, [values[i] for i in order]) for order in itertools.permutations(range(len(values)))]
    finite = [r for r in results if math.isfinite(r)]
    return float(np.mean(finite)) if finite else math.nan


def _spearman(splits: Sequence[int], values: Sequence[float]) -> float:
    if len(set(values)) < 2:
        return math.nan
    return float(spearmanr(splits, values).statistic)


def _interior_margin(splits: Sequence[int], values: Sequence[float], n_blocks: int = 6) -> float:
    ends = [v for b, v in zip(splits, values, strict=True) if b in (0, n_blocks)]
    inner = [v for b, v in zip(splits, values, strict=True) if b not in (0, n_blocks)]
    if len(ends) < 2 or not inner:
        return math.nan
    return float(max(inner) - max(ends))


def _label(row: Any) -> str:
    return f"{row.method} (b = {row.blocks_in_head}, width {row.width}) seed {row.seed}"


def _arm_rows(frame: pd.DataFrame, method: str, *, blocks_in_head: int | None = None,
              width: int | None = None) -> pd.DataFrame:
    """Every run of one arm, finished or stopped."""
    part = frame[frame.method == method]
    if blocks_in_head is not None:
        part = part[part.blocks_in_head == blocks_in_head]
    if width is not None:
        part = part[part.width == width]
    return part


def runs_guard(arms: dict[str, pd.DataFrame], floor: float) -> claims.Guard:
    """A claim's precondition on the runs IT compares (its arms and its controls' arms): every one ran,
    none was stopped by the time budget, and each finished arm learned (accuracy above ``floor``)."""
    stopped = [_label(row) for part in arms.values() for row in part[part.stopped_early.astype(bool)].itertuples()]
    missing = [name for name, part in arms.items() if not len(part)]
    weak = []
    for name, part in arms.items():
        finished = part[~part.stopped_early.astype(bool)]
        if len(finished) and finished.accuracy.min() < floor:
            weak.append(f"{name} ({finished.accuracy.min():.3f})")
    return claims.guard(not (stopped or missing or weak), "; ".join(filter(None, [
        f"runs stopped by the time budget (not judged): {', '.join(stopped)}" if stopped else "",
        f"not run: {', '.join(missing)}" if missing else "",
        f"below the chance floor {floor:.3f}: {', '.join(weak)}" if weak else ""])))


#: the arms each claim compares (its own and its controls'); each claim's guard looks at these runs only
CLAIM_ARMS = {
    "runs_n1": ("NT", "single (matched)", "sparse single"),
    "runs_n2_accuracy": ("NT", "full ensemble", "single"),
    "runs_n2_equal": ("NT", "full ensemble (matched)", "single (matched)"),
    "runs_n5": ("NT", "TreeNet"),
    "runs_n6": ("NT", "NT, static mask"),
    "runs_n7": ("NT", "single (matched)", "sparse single"),
}


def claim_notes(frame: pd.DataFrame, sweep_splits: Sequence[int]) -> dict[str, str]:
    """What this run's settings and budget did to the claims, appended to their notes whatever the verdict."""
    splits = sorted(set(sweep_splits))
    sweep = frame[(frame.method == "neurotrails") & frame.blocks_in_head.isin(splits)]
    seeds = sweep.groupby("seed").blocks_in_head.nunique()
    text = (f"the sweep ran b ∈ {{{', '.join(str(b) for b in splits)}}} with "
            f"{int((seeds == len(splits)).sum())} complete seeds")
    return {"N3": text, "N4": text}


def claim_results(frame: pd.DataFrame, *, main_split: int, width: int, matched_widths: dict[str, int],
                  sweep_splits: Sequence[int], n_test: int, n_blocks: int = 6) -> dict[str, Any]:
    """Every metric, control, guard and check the ledger reads, from the run frame.

    ``width`` is the native width; ``matched_widths`` maps "single" and "full_ensemble" to the
    widths at which they have NT's nonzeros. Each claim has its own guard over the runs it compares
    (:data:`CLAIM_ARMS`): a run stopped by the time budget makes only the claims that compare it untestable.
    """
    out: dict[str, Any] = {}
    selectors = {
        "NT": ("neurotrails", {"blocks_in_head": main_split}), "single": ("single", {"width": width}),
        "single (matched)": ("single", {"width": matched_widths.get("single", -1)}),
        "sparse single": ("sparse_single", {}), "full ensemble": ("full_ensemble", {"width": width}),
        "full ensemble (matched)": ("full_ensemble", {"width": matched_widths.get("full_ensemble", -1)}),
        "TreeNet": ("treenet", {"blocks_in_head": main_split}),
        "NT, static mask": ("neurotrails_static", {"blocks_in_head": main_split}),
    }
    rows = {name: _arm_rows(frame, method, **where) for name, (method, where) in selectors.items()}

    def values(name: str, column: str) -> pd.Series:
        method, where = selectors[name]
        return arm_values(frame, method, column, **where)

    nt = {c: values("NT", c) for c in ("accuracy", "nll", "shift_accuracy", "nnz")}
    single = {c: values("single", c) for c in ("accuracy", "nnz")}
    matched = {c: values("single (matched)", c) for c in ("accuracy", "nll", "shift_accuracy", "nnz")}
    sparse = {c: values("sparse single", c) for c in ("accuracy", "nll", "shift_accuracy")}
    full = {c: values("full ensemble", c) for c in ("accuracy", "nnz")}
    full_matched = {c: values("full ensemble (matched)", c) for c in ("accuracy", "nnz")}
    treenet = {c: values("TreeNet", c) for c in ("accuracy", "nnz")}
    static = values("NT, static mask", "accuracy")

    floor = 1 / N_CLASSES + 5 * math.sqrt((1 / N_CLASSES) * (1 - 1 / N_CLASSES) / n_test)
    for guard_name, arm_names in CLAIM_ARMS.items():
        out[guard_name] = runs_guard({name: rows[name] for name in arm_names}, floor)
    sweep_rows = frame[(frame.method == "neurotrails") & frame.blocks_in_head.isin(sweep_splits)]
    out["runs_sweep"] = runs_guard({f"NT b = {b}": sweep_rows[sweep_rows.blocks_in_head == b]
                                    for b in sorted(set(sweep_splits))}, floor)

    drop = {name: arm["accuracy"] - arm["shift_accuracy"] for name, arm in
            (("nt", nt), ("matched", matched), ("sparse", sparse))}
    out["n1_accuracy"] = paired(nt["accuracy"], matched["accuracy"])
    out["n1_accuracy_control"] = paired(sparse["accuracy"], matched["accuracy"])
    out["n1_nll"] = paired(matched["nll"], nt["nll"])
    out["n1_nll_control"] = paired(matched["nll"], sparse["nll"])
    out["n2_accuracy"] = paired(nt["accuracy"], full["accuracy"])
    out["n2_accuracy_control"] = paired(single["accuracy"], full["accuracy"])
    out["n2_equal"] = paired(nt["accuracy"], full_matched["accuracy"])
    out["n2_equal_control"] = paired(matched["accuracy"], full_matched["accuracy"])
    out["n5_accuracy"] = paired(nt["accuracy"], treenet["accuracy"])
    out["n5_control"] = seed_swap_null(treenet["accuracy"])
    out["n6_accuracy"] = paired(nt["accuracy"], static)
    out["n6_control"] = seed_swap_null(static)
    out["n7_drop_advantage"] = paired(drop["matched"], drop["nt"])
    out["n7_control"] = paired(drop["matched"], drop["sparse"])

    sweep = frame[(frame.method == "neurotrails") & frame.blocks_in_head.isin(sweep_splits)
                  & ~frame.stopped_early.astype(bool)]
    rho, rho_null, margin, margin_null = [], [], [], []
    for _, part in sweep.groupby("seed"):
        if part.blocks_in_head.nunique() < len(set(sweep_splits)):
            continue
        part = part.sort_values("blocks_in_head")
        splits, disagreement = part.blocks_in_head.tolist(), part.disagreement.tolist()
        rho.append(_spearman(splits, disagreement))
        rho_null.append(permutation_mean(splits, disagreement, _spearman))

        def interior(s: Sequence[int], v: Sequence[float]) -> float:
            return _interior_margin(s, v, n_blocks)
        margin.append(interior(splits, part.accuracy.tolist()))
        margin_null.append(permutation_mean(splits, part.accuracy.tolist(), interior))
    out["sweep_run"] = claims.guard(len(set(sweep_splits)) >= 3 and 0 in sweep_splits and n_blocks in sweep_splits,
                                    f"the sweep needs b = 0, an interior split and b = {n_blocks}; "
                                    f"got {sorted(set(sweep_splits))}")
    out["n3_spearman"], out["n3_control"] = rho, rho_null
    out["n4_margin"], out["n4_control"] = margin, margin_null

    nt_nnz = float(nt["nnz"].mean()) if len(nt["nnz"]) else math.nan
    out["c1_nnz_ratio_full"] = nt_nnz / float(full["nnz"].mean()) if len(full["nnz"]) else math.nan
    out["c2_fewer_than_treenet"] = bool(len(treenet["nnz"]) and nt_nnz < float(treenet["nnz"].mean()))
    gaps = [abs(float(arm["nnz"].mean()) / nt_nnz - 1) for arm in (matched, full_matched) if len(arm["nnz"])]
    out["c3_matched_within"] = max(gaps) if len(gaps) == 2 else math.nan
    return out

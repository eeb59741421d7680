"""The chapter's claims ledger and every verdict input, computed from the runs' frames.

:func:`build_ledger` states the claims (rules, controls, guards, evidence levels) before any run;
:func:`claim_results` turns the experiment frames into per-seed values, controls and guards. The
frames are plain tables, so the same function serves the notebook and the tests:

* ``evals``: one row per (run, seed, evaluation, task) with the normalised ``score``
  (:func:`run_frames` builds it from :class:`~reprobook.meal.experiments.SequenceResult` s);
* ``tasks``: one row per (run, seed, task) with ``last_eval`` (the evaluation that ends the task)
  and ``dormant_ratio``;
* ``train``: per (run, seed, update) training metrics (``task``, ``train_score``);
* ``plastic``: the plasticity table of :func:`reprobook.meal.chapter.plasticity` (may be empty).

A task counts as *learnt* by a run when the mean over seeds of its end-of-task score exceeds a
noise floor: the untrained network's score on that task plus two standard deviations of frozen
re-evaluations (PackNet's finished tasks, whose weights cannot change, evaluated again after every
later period). A comparison is judged only when every compared run learnt every task.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reprobook import claims
from reprobook.claims import MINIATURE, AtLeast, AtMost, Check, Claim, Control, Ledger
from reprobook.meal.metrics import FORGETTING_FORMULAS, auc_loss, forgetting, smoothed_auc
from reprobook.meal.packnet import capacity_used

__all__ = ["build_ledger", "verdict_inputs", "VerdictInputs", "claim_results", "claim_notes", "run_frames", "noise_floor", "learnt_guard",
           "relative_forgetting", "LABELS", "NOISE_SIGMAS", "FORGETTING_CLAIMS"]

#: run labels the claims read (see :func:`reprobook.meal.chapter.run_label`)
LABELS = {"ft": "FT", "ewc": "EWC", "online_ewc": "Online EWC", "packnet": "PackNet"}
#: the noise floor is the untrained score plus this many standard deviations of frozen re-evaluations
NOISE_SIGMAS = 2.0
#: the forgetting claims: claim id -> (the run it measures, its control run)
FORGETTING_CLAIMS = {"ft_forgets": ("FT", "PackNet"), "oewc_retains": ("Online EWC", "FT")}
NO_CONDITIONING = " (no task id, single head)"
NO_TASK_ID = " (no task id)"
SINGLE_HEAD = " (single head)"


def build_ledger(profile: str, *, ablation_label: str = "Online EWC", scale_note: str = "") -> Ledger:
    """The claims of the paper as our runs test them, with rules fixed before any result."""
    scale = f"; {scale_note}" if scale_note else ""
    claim_list = [
        Claim("ft_forgets", "Fine-tuning forgets catastrophically: most of what it learnt on a task is gone by the "
              "end of the sequence.",
              paper="A = 0.05 for FT vs ≥ 1.0 for every CL method; F(FT) = 0.70",
              source="Level 1, IPPO, 20 tasks, 10 seeds (algorithm comparison; FT-vs-F figure)",
              metric="ft_relative_forgetting", rule=AtLeast(0.5), evidence=MINIATURE,
              controls=(Control("packnet_relative_forgetting", "PackNet (finished tasks frozen)"),),
              guards=("learnt_ft", "learnt_packnet"),
              notes="forgetting of the earlier tasks ÷ their end-of-task score, per seed" + scale),
        Claim("oewc_retains", "Online EWC retains earlier tasks: it keeps most of what it learnt.",
              paper="F = 0.00 (Online EWC) vs 0.70 (FT)", source="FT-vs-forgetting figure, Level 1",
              metric="oewc_relative_forgetting", rule=AtMost(0.25), evidence=MINIATURE,
              controls=(Control("ft_relative_forgetting", "FT (no retention mechanism)"),),
              guards=("learnt_ft", "learnt_online_ewc"),
              notes="forgetting of the earlier tasks ÷ their end-of-task score, per seed" + scale),
        Claim("oewc_beats_ewc", "Online EWC beats standard EWC on long sequences (summed Fishers over-regularise).",
              paper="100 tasks: A = 1.47 (Online EWC) vs 0.39 (EWC)", source="EWC vs Online EWC figure",
              metric="oewc_minus_ewc_A", rule=AtLeast(0.05), evidence=MINIATURE,
              controls=(Control("oewc_minus_ewc_first_task", "the same difference on task 1 (Fishers not yet "
                                "summed)"),),
              guards=("learnt_ewc", "learnt_online_ewc"), testable_in=("paper",),
              why_untestable="a 100-task claim: the book's sequence is far too short for summed Fishers to "
              "over-regularise (EWC is run at the paper profile)"),
        Claim("conditioning_matters", "Task conditioning (task-id input and one head per task) matters.",
              paper="ablation: removing multi-head or task id lowers A (bar heights not published)",
              source="ablation figure", metric="conditioning_gain_A", rule=AtLeast(0.05), evidence=MINIATURE,
              controls=(Control("conditioning_gain_first_task", "the same gain on task 1 at its end (one task: "
                                "nothing to condition on)"),),
              guards=("learnt_ablation", "learnt_ablation_off"),
              notes=f"A with task id and multi-head minus A without either, {ablation_label}, paired by seed"),
        Claim("task_id_matters", "The task-id input alone matters (multi-head kept).",
              paper="ablation: removing the task id lowers A", source="ablation figure",
              metric="task_id_gain_A", rule=AtLeast(0.05), evidence=MINIATURE,
              controls=(Control("task_id_gain_first_task", "the same gain on task 1 at its end"),),
              guards=("learnt_ablation", "learnt_no_task_id"), testable_in=("paper",),
              why_untestable="the separate task-id ablation runs at the paper profile only (budget)"),
        Claim("multihead_matters", "One output head per task matters (task id kept).",
              paper="ablation: removing multi-head lowers A", source="ablation figure",
              metric="multihead_gain_A", rule=AtLeast(0.05), evidence=MINIATURE,
              controls=(Control("multihead_gain_first_task", "the same gain on task 1 at its end"),),
              guards=("learnt_ablation", "learnt_single_head"), testable_in=("paper",),
              why_untestable="the separate multi-head ablation runs at the paper profile only (budget)"),
        Claim("packnet_best", "PackNet reaches the highest average performance of the IPPO methods.",
              paper="A = 1.75 (PackNet) vs 1.61 (Online EWC), 1.00 (EWC)", source="algorithm comparison, Level 1",
              metric="packnet_minus_best_other_A", rule=AtLeast(0.0), evidence=MINIATURE,
              controls=(Control("ft_minus_best_other_A", "FT in PackNet's place"),),
              guards=("learnt_ft", "learnt_packnet", "learnt_others"),
              notes="A of PackNet minus the best A of the other continual methods run (FT excluded), per seed"),
        Claim("fails_to_scale", "MEAL's methods are strong on simple kitchens but fail to scale to complex "
              "settings: the same method scores lower at Level 2/3 than at Level 1.",
              paper="100-task EWC runs ≈ 0.35 / 0.25 / 0.15 (L1/L2/L3); Online-EWC forgetting 0.9 / 4.3 / 7.0",
              source="abstract; difficulty figure", metric="level1_minus_hardest_A", rule=AtLeast(0.1),
              evidence=MINIATURE,
              controls=(Control("untrained_level_gap", "an untrained network (same levels)"),),
              guards=("learnt_scale",), testable_in=("paper",),
              why_untestable="Level 2/3 runs (scale_levels) are in the paper profile only (budget)"),
        Claim("plasticity_loss", "A network fine-tuned on a repeating sequence learns each task more slowly in "
              "later repetitions (loss of plasticity).",
              paper="AUC-loss 0.05–0.31 per task", source="plasticity figure: FT, 10-task Level-1 sequence repeated",
              metric="plasticity_auc_loss", rule=AtLeast(0.05), evidence=MINIATURE,
              controls=(Control("fresh_auc_loss", "a fresh network on the same task (single-task baseline)"),),
              testable_in=("paper",),
              why_untestable="tasks never plateau at this scale, so a slower later repetition cannot be told "
              "from a task still being learnt"),
        Claim("dormant_growth", "Dormant neurons accumulate as the sequence repeats.",
              paper="dormant ratio ≈ 0.42 after 3 repetitions vs 0.51 after 10", source="plasticity figure",
              metric="dormant_growth", rule=AtLeast(0.01), evidence=MINIATURE,
              controls=(Control("fresh_dormant_growth", "fresh single-task networks"),),
              testable_in=("paper",),
              why_untestable="tasks never plateau at this scale (see plasticity_loss)"),
    ]
    checks = [
        Check("packnet_retains", "PackNet: every task owns a disjoint, non-empty slice of the actor's kernels, "
              "frozen once learnt (true by construction)", metric="packnet_slices"),
        Check("zero_penalty_identical", "FT and Online EWC are bitwise identical through task 1 (the penalty is 0 "
              "there), so task 1's forward-transfer baseline is FT's first task", metric="identical_task_one"),
    ]
    return Ledger("meal", claim_list, profile=profile, checks=checks, headline=["ft_forgets", "oewc_retains"])


def run_frames(results: Sequence[Any], label: Any) -> dict[str, pd.DataFrame]:
    """``evals``, ``tasks`` and ``train`` of several runs, with ``run``, ``method`` and ``level`` columns."""
    frames: dict[str, list[pd.DataFrame]] = {"evals": [], "tasks": [], "train": []}
    for result in results:
        extra = {"run": label(result.config), "method": result.config.method, "level": result.config.level}
        for name in frames:
            frames[name].append(getattr(result, name).assign(**extra))
    return {name: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame() for name, parts in frames.items()}


def _matrices(evals: pd.DataFrame, tasks: pd.DataFrame, run: str) -> dict[int, tuple[np.ndarray, list[int]]]:
    """Per seed: evaluations × tasks scores and each task's last training evaluation."""
    out = {}
    for seed, frame in evals[evals["run"] == run].groupby("seed"):
        matrix = frame.pivot_table(index="eval", columns="task", values="score").sort_index().to_numpy()
        ends = tasks[(tasks["run"] == run) & (tasks["seed"] == seed)].sort_values("task")["last_eval"].astype(int)
        out[int(seed)] = (matrix, list(ends))
    return out


def end_scores(evals: pd.DataFrame, tasks: pd.DataFrame, run: str) -> pd.DataFrame:
    """Seeds × tasks: each task's score at the end of its own training, s_j(t_j)."""
    rows = {seed: [matrix[end, task] for task, end in enumerate(ends)]
            for seed, (matrix, ends) in _matrices(evals, tasks, run).items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def relative_forgetting(evals: pd.DataFrame, tasks: pd.DataFrame, run: str, formula: str = "classic") -> list[float]:
    """Per seed: forgetting of the earlier tasks relative to their end-of-task score.

    Classic and peak-final forgetting are divided by the mean end-of-task score of the tasks before
    the last (NaN when that is 0: nothing learnt, nothing to forget); the weighted formula is
    already relative. A seed list in seed order.
    """
    if formula not in FORGETTING_FORMULAS:
        raise ValueError(f"formula must be one of {FORGETTING_FORMULAS}; got {formula!r}")
    values = []
    for _, (matrix, ends) in sorted(_matrices(evals, tasks, run).items()):
        value = forgetting(matrix, ends, formula)
        if formula != "weighted":
            learnt = float(np.mean([matrix[end, task] for task, end in enumerate(ends[:-1])]))
            value = value / learnt if learnt > 1e-9 else math.nan
        values.append(value)
    return values


def noise_floor(evals: pd.DataFrame, tasks: pd.DataFrame, frozen_run: str = "PackNet",
                sigmas: float = NOISE_SIGMAS) -> tuple[pd.Series, float]:
    """Per task: the untrained network's mean score plus ``sigmas`` × the standard deviation of frozen
    re-evaluations; also returns that standard deviation (NaN when no frozen re-evaluation exists).

    The re-evaluations are ``frozen_run``'s finished tasks after their training: their weights are
    fixed, so their spread is evaluation noise alone (pooled over seeds and tasks, each about its own
    mean).
    """
    untrained = evals[evals["eval"] == 0].groupby("task")["score"].mean()
    deviations = []
    for matrix, ends in _matrices(evals, tasks, frozen_run).values():
        for task, end in enumerate(ends[:-1]):
            later = matrix[end + 1:, task]
            if later.size >= 2:
                deviations.extend((later - later.mean()) * math.sqrt(later.size / (later.size - 1)))
    spread = float(np.sqrt(np.mean(np.square(deviations)))) if deviations else math.nan
    return untrained + sigmas * spread, spread


def learnt_guard(evals: pd.DataFrame, tasks: pd.DataFrame, runs: Sequence[str], floor: pd.Series,
                 spread: float) -> claims.Guard:
    """Passes when every run's mean end-of-task score exceeds the noise floor on every task."""
    if not math.isfinite(spread):
        return claims.guard(False, "no frozen re-evaluations to measure the noise floor (PackNet not run)")
    missing = [run for run in runs if run not in set(evals["run"])]
    if missing:
        return claims.guard(False, f"not run at this profile: {', '.join(missing)}")
    failures = []
    for run in runs:
        scores = end_scores(evals, tasks, run).mean(axis=0)
        for task, score in scores.items():
            if not score > floor.loc[task]:
                failures.append(f"{run} task {int(task) + 1} ended at {score:.3g} ≤ floor {floor.loc[task]:.3g}")
    return claims.guard(not failures, "; ".join(failures))


def _paired(first: Sequence[float], second: Sequence[float]) -> claims.Estimate:
    if len(first) != len(second) or not len(first):
        return claims.mean_interval([])
    return claims.paired_difference(first, second, unit="seeds")


def _by_seed(summary: pd.DataFrame, run: str, column: str) -> list[float]:
    return summary[summary["run"] == run].sort_values("seed")[column].astype(float).tolist()


def _seeds(values: Sequence[float]) -> claims.Estimate:
    return claims.mean_interval(values, unit="seeds")


def claim_results(summary: pd.DataFrame, frames: dict[str, pd.DataFrame], plastic: pd.DataFrame,
                  owners: Sequence[dict] = (), *, ablation_label: str = "Online EWC",
                  forgetting_formula: str = "classic", baseline_frames: dict[str, pd.DataFrame] | None = None,
                  scale_runs: Sequence[str] = (), plasticity_sigma: float = 2.0) -> dict[str, Any]:
    """Every metric, control and guard of :func:`build_ledger`, per seed, from the runs' tables.

    ``summary`` is :func:`reprobook.meal.chapter.summarise` (one row per run and seed); ``frames``
    is :func:`run_frames` of the continual runs; ``owners`` PackNet's weight owners per seed;
    ``baseline_frames`` the single-task baselines' frames (for the plasticity controls);
    ``scale_runs`` the labels of the runs at harder levels (same method as the Level-1 ``ablation_label``).
    """

    evals, tasks, train = frames["evals"], frames["tasks"], frames["train"]
    level1 = evals[evals["level"] == 1] if "level" in evals else evals
    floor, spread = noise_floor(level1, tasks)
    runs = set(evals["run"]) if len(evals) else set()

    def learnt(*labels: str) -> claims.Guard:
        return learnt_guard(level1, tasks, labels, floor, spread)

    def rel(run: str) -> list[float]:
        """Per seed, the seeds whose earlier tasks were never learnt left out (see :func:`claim_notes`)."""
        values = relative_forgetting(evals, tasks, run, forgetting_formula) if run in runs else []
        return [value for value in values if math.isfinite(value)]

    def first_task_gain(run: str, other: str) -> claims.Estimate:
        if run not in runs or other not in runs:
            return claims.mean_interval([])
        return _paired(end_scores(evals, tasks, run)[0].tolist(), end_scores(evals, tasks, other)[0].tolist())

    others = [label for label in ("EWC", "Online EWC") if label in runs]
    best_other = (summary[summary["run"].isin(others)].groupby("seed")["A"].max().sort_index().tolist()
                  if others else [])
    results: dict[str, Any] = {
        "ft_relative_forgetting": _seeds(rel("FT")),
        "packnet_relative_forgetting": _seeds(rel("PackNet")),
        "oewc_relative_forgetting": _seeds(rel("Online EWC")),
        "oewc_minus_ewc_A": _paired(_by_seed(summary, "Online EWC", "A"), _by_seed(summary, "EWC", "A")),
        "oewc_minus_ewc_first_task": first_task_gain("Online EWC", "EWC"),
        "conditioning_gain_A": _paired(_by_seed(summary, ablation_label, "A"),
                                       _by_seed(summary, ablation_label + NO_CONDITIONING, "A")),
        "conditioning_gain_first_task": first_task_gain(ablation_label, ablation_label + NO_CONDITIONING),
        "task_id_gain_A": _paired(_by_seed(summary, ablation_label, "A"),
                                  _by_seed(summary, ablation_label + NO_TASK_ID, "A")),
        "task_id_gain_first_task": first_task_gain(ablation_label, ablation_label + NO_TASK_ID),
        "multihead_gain_A": _paired(_by_seed(summary, ablation_label, "A"),
                                    _by_seed(summary, ablation_label + SINGLE_HEAD, "A")),
        "multihead_gain_first_task": first_task_gain(ablation_label, ablation_label + SINGLE_HEAD),
        "packnet_minus_best_other_A": _paired(_by_seed(summary, "PackNet", "A"), best_other),
        "ft_minus_best_other_A": _paired(_by_seed(summary, "FT", "A"), best_other),
        "learnt_ft": learnt("FT"),
        "learnt_packnet": learnt("PackNet"),
        "learnt_online_ewc": learnt("Online EWC"),
        "learnt_ewc": learnt("EWC"),
        "learnt_others": learnt(*others) if others else claims.guard(False, "no other continual method run"),
        "learnt_ablation": learnt(ablation_label),
        "learnt_ablation_off": learnt(ablation_label + NO_CONDITIONING),
        "learnt_no_task_id": learnt(ablation_label + NO_TASK_ID),
        "learnt_single_head": learnt(ablation_label + SINGLE_HEAD),
    }
    # the abstract's claim: Level 1 against the hardest level run, same method, paired by seed
    hardest = max((summary.loc[summary["run"] == run, "level"].max(), run) for run in scale_runs) if scale_runs \
        and "level" in summary else None
    if hardest is not None:
        run = hardest[1]
        results["level1_minus_hardest_A"] = _paired(_by_seed(summary, ablation_label, "A"), _by_seed(summary, run, "A"))
        untrained = evals[evals["eval"] == 0].groupby(["run", "seed"])["score"].mean()
        results["untrained_level_gap"] = _paired(untrained.loc[ablation_label].sort_index().tolist(),
                                                 untrained.loc[run].sort_index().tolist())
        results["learnt_scale"] = learnt(ablation_label)
    else:
        results["level1_minus_hardest_A"] = claims.mean_interval([])
        results["untrained_level_gap"] = claims.mean_interval([])
        results["learnt_scale"] = claims.guard(False, "no Level 2/3 run (scale_levels is empty)")
    # plasticity: last repetition against the first, and a fresh network against the first
    if len(plastic):
        last = plastic["repetition"].max()
        per_seed = plastic[plastic["repetition"] == last].groupby("seed")["auc_loss"].mean().sort_index()
        results["plasticity_auc_loss"] = _seeds(per_seed.tolist())
        dormant = plastic.groupby(["seed", "repetition"])["dormant_ratio"].last().unstack().sort_index()
        results["dormant_growth"] = _seeds((dormant[last] - dormant[1]).tolist())
        fresh, fresh_dormant = [], []
        if baseline_frames is not None and len(baseline_frames.get("train", [])):
            first = plastic[plastic["repetition"] == 1].set_index(["seed", "task"])
            base = baseline_frames["train"]
            for seed in sorted(first.index.get_level_values(0).unique()):
                losses = []
                for task, frame in base[base["seed"] == seed].groupby("task"):
                    if (seed, task) in first.index and np.isfinite(first.loc[(seed, task), "auc_loss"]):
                        fresh_area = smoothed_auc(frame["train_score"].to_numpy(), plasticity_sigma)
                        losses.append(auc_loss(fresh_area, float(first.loc[(seed, task), "auc"])))
                fresh.append(float(np.mean(losses)) if losses else math.nan)
                base_tasks = baseline_frames["tasks"]
                fresh_dormant.append(float(base_tasks.loc[base_tasks["seed"] == seed, "dormant_ratio"].mean())
                                     - float(dormant.loc[seed, 1]))
        results["fresh_auc_loss"] = _seeds(fresh)
        results["fresh_dormant_growth"] = _seeds(fresh_dormant)
    else:
        for name in ("plasticity_auc_loss", "dormant_growth", "fresh_auc_loss", "fresh_dormant_growth"):
            results[name] = claims.mean_interval([])
    # checks
    slices = []
    for owner in owners:
        shares = capacity_used(owner)
        slices.append(all(shares.get(position, 0.0) > 0 for position in range(len(shares) - (-1 in shares))))
    results["packnet_slices"] = bool(owners) and all(slices)
    results["identical_task_one"] = _identical_first_task(train)
    return results


@dataclass
class VerdictInputs:
    """What :meth:`reprobook.claims.Ledger.evaluate` needs from a run, and the noise floor it used."""

    measured: dict[str, Any]
    notes: dict[str, str]
    floor: pd.DataFrame  # per task: the noise floor and the untrained score under it


def verdict_inputs(params: Any, results: Sequence[Any], baselines: Sequence[Any] = (),
                   repeated_table: pd.DataFrame | None = None, scaled: Sequence[Any] = ()) -> VerdictInputs:
    """Every verdict input of the chapter from its runs, in one call.

    ``params`` are the validated :class:`~reprobook.meal.chapter.ChapterParameters`; ``results`` the
    continual runs, ``baselines`` the single-task runs, ``scaled`` the harder-level runs (all
    :class:`~reprobook.meal.experiments.SequenceResult` s); ``repeated_table`` the plasticity table
    of the repeated runs (:func:`reprobook.meal.chapter.plasticity`, None or empty when not run).
    """
    from reprobook.meal import chapter

    summary = chapter.summarise([*results, *scaled], list(baselines))
    frames = run_frames([*results, *scaled], chapter.run_label)
    owners = [r.seed(seed).owner for r in results if r.config.method == "packnet" for seed in r.config.seeds]
    measured = claim_results(
        summary, frames, repeated_table if repeated_table is not None else pd.DataFrame(), owners,
        ablation_label=chapter.METHOD_LABELS[params.ablation_method], forgetting_formula=params.forgetting_formula,
        baseline_frames=run_frames(baselines, chapter.run_label), scale_runs=[chapter.run_label(r.config) for r in scaled],
        plasticity_sigma=params.plasticity_sigma)
    level1 = frames["evals"][frames["evals"]["level"] == 1]
    floor, spread = noise_floor(level1, frames["tasks"])
    table = pd.DataFrame({"noise floor": floor, "untrained score": floor - NOISE_SIGMAS * spread})
    return VerdictInputs(measured, claim_notes(frames, params.forgetting_formula), table)


def claim_notes(frames: dict[str, pd.DataFrame], forgetting_formula: str = "classic") -> dict[str, str]:
    """Run-time notes of the forgetting claims: how many seeds each measured or control run left out
    because a task before the last was never learnt there (relative forgetting undefined, NaN).

    For :meth:`reprobook.claims.Ledger.evaluate`'s ``notes``; a claim with nothing left out gets none.
    """
    evals, tasks = frames["evals"], frames["tasks"]
    runs = set(evals["run"]) if len(evals) else set()
    notes = {}
    for claim_id, labels in FORGETTING_CLAIMS.items():
        parts = []
        for run in labels:
            if run not in runs:
                continue
            values = relative_forgetting(evals, tasks, run, forgetting_formula)
            dropped = sum(not math.isfinite(value) for value in values)
            if dropped:
                parts.append(f"{run}: {dropped} of {len(values)} seeds left out of relative forgetting (an earlier "
                             "task never learnt on that seed: nothing to forget)")
        if parts:
            notes[claim_id] = "; ".join(parts)
    return notes


def _identical_first_task(train: pd.DataFrame) -> bool:
    if not len(train) or not {"FT", "Online EWC"} <= set(train["run"]):
        return False
    columns = ["seed", "update", "train_score", "loss"]
    first = [train[(train["run"] == run) & (train["task"] == 0)][columns].reset_index(drop=True)
             for run in ("FT", "Online EWC")]
    return bool(first[0].equals(first[1]))

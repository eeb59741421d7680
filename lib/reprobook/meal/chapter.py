"""The chapter's parameters, experiment grid, summaries and the paper's reference numbers.

:func:`validate_parameters` checks every notebook parameter in one call (before any compute);
:func:`experiment_grid` turns them into :class:`~reprobook.meal.experiments.SequenceConfig` cells
for :func:`reprobook.sweep.sweep`; :func:`summarise` computes A, forgetting and forward transfer per
run from the sweep's results.

>>> params = validate_parameters(profile="smoke", methods=["ft", "online_ewc"], seeds=[0])
>>> params.methods
('ft', 'online_ewc')
>>> validate_parameters(profile="smoke", hidden=0)
Traceback (most recent call last):
...
reprobook.params.ParameterError: parameter 'hidden' must be an integer in [4, 1024], got 0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reprobook import params as check
from reprobook.devices import check_device
from reprobook.meal.continual import METHODS
from reprobook.meal.experiments import SequenceConfig, SequenceResult
from reprobook.meal.metrics import (
    FORGETTING_FORMULAS,
    auc,
    auc_loss,
    average_performance,
    forgetting_classic,
    forgetting_peak_final,
    forgetting_weighted,
    forward_transfer,
    smoothed_auc,
)
from reprobook.meal.normaliser import MOST_SOUPS

__all__ = ["ChapterParameters", "validate_parameters", "experiment_grid", "baseline_grid", "plasticity_grid",
           "scale_grid", "ABLATIONS", "MAX_STEPS_PER_TASK", "MAX_SEEDS", "MAX_SEED",
           "plasticity", "summarise", "PAPER_LEVEL1_IPPO", "PAPER_FT_VS_FORGETTING", "PAPER_PLASTICITY",
           "METHOD_LABELS"]

METHOD_LABELS = {"ft": "FT", "l2": "L2", "ewc": "EWC", "online_ewc": "Online EWC", "mas": "MAS",
                 "online_mas": "Online MAS", "agem": "AGEM", "er_ace": "ER-ACE", "packnet": "PackNet"}
# Plasticity (FT, 10-task Level-1 sequence repeated): AUC-loss per task and dormant ratio by repetitions
PAPER_PLASTICITY = {"auc_loss_range": (0.05, 0.31), "dormant_ratio": {3: 0.42, 10: 0.51}}

# Average normalised soups, Level 1, 20 tasks, 10 seeds, 1e8 steps/task (algorithm_comparison.png)
PAPER_LEVEL1_IPPO = {"FT": 0.05, "EWC": 1.00, "MAS": 1.28, "Online EWC": 1.61, "Online MAS": 1.63,
                     "AGEM": 1.17, "ER-ACE": 1.10, "PackNet": 1.75}
# (forward transfer, forgetting), IPPO Level 1 (forward_transfer_vs_forgetting_level_1.png)
PAPER_FT_VS_FORGETTING = {"FT": (-0.32, 0.70), "AGEM": (0.04, 0.41), "ER-ACE": (-0.24, 0.19),
                          "EWC": (-0.57, 0.02), "MAS": (-0.49, 0.03), "Online EWC": (-0.21, 0.00),
                          "Online MAS": (-0.16, 0.03), "PackNet": (-0.05, 0.00)}


#: the methods whose λ is the ``ewc_lambda`` parameter (the others keep MEAL's defaults)
EWC_METHODS = ("ewc", "online_ewc")
#: the conditioning ablations: what each switches off
ABLATIONS = {"no_conditioning": {"use_task_id": False, "use_multihead": False},
             "no_task_id": {"use_task_id": False}, "single_head": {"use_multihead": False}}
#: upper bounds of the size parameters (the paper's protocol is 1e8 steps per task, 10 seeds)
MAX_STEPS_PER_TASK = 1_000_000_000
MAX_SEEDS = 64
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class ChapterParameters:
    """The validated notebook parameters."""

    profile: str = "book"
    difficulty: int = 1
    n_tasks: int = 2
    layout_seed: int = 0
    min_max_soup: int = 8  # kitchens with a lower normaliser are redrawn; chosen by reprobook.meal.learnability
    steps_per_task: int = 163_840
    methods: tuple[str, ...] = ("ft", "online_ewc", "packnet")
    ablation_method: str = "online_ewc"
    ablations: tuple[str, ...] = ()
    scale_levels: tuple[int, ...] = ()
    forward_transfer: bool = False
    seeds: tuple[int, ...] = (0, 1, 2)
    hidden: int = 64
    epochs: int = 4
    minibatches: int = 4
    num_envs: int = 32
    rollout_len: int = 64
    lr: float = 1e-3
    eval_every: int = 20
    eval_episodes: int = 16
    forgetting_formula: str = "classic"
    plate_shaping_bugcompat: bool = False
    reset_optimizer: bool = True
    use_task_id: bool = True
    use_multihead: bool = True
    use_layer_norm: bool = True
    stat_envs: int = 4
    stat_steps: int = 100
    packnet_finetune: float = 0.1
    plasticity_repeats: int = 0
    plasticity_method: str = "ft"
    plasticity_steps_per_task: int = 163_840
    plasticity_n_tasks: int = 0  # 0: the chapter's n_tasks
    plasticity_sigma: float = 2.0
    plasticity_min_auc: float = 0.02
    ewc_lambda: float = 1e7  # EWC and Online EWC at book scale, chosen by reprobook.meal.tuning (paper: 1e11)
    device: str = "cpu"


def validate_parameters(**given: Any) -> ChapterParameters:
    """Check every parameter (names, types, ranges) and return them frozen."""
    allowed = [field.name for field in dataclasses.fields(ChapterParameters)]
    check.check_known(given, allowed, where="the meal chapter")
    values = {**{field.name: field.default for field in dataclasses.fields(ChapterParameters)}, **given}
    check.check_choice("profile", values["profile"], ["smoke", "book", "paper"])
    check.check_int("difficulty", values["difficulty"], minimum=1, maximum=3)
    check.check_int("n_tasks", values["n_tasks"], minimum=2, maximum=100)
    check.check_int("layout_seed", values["layout_seed"], minimum=0, maximum=MAX_SEED)
    check.check_int("min_max_soup", values["min_max_soup"], minimum=0, maximum=MOST_SOUPS)
    check.check_int("steps_per_task", values["steps_per_task"], minimum=1, maximum=MAX_STEPS_PER_TASK)
    methods = tuple(check.check_subset("methods", list(values["methods"]), METHODS))
    if "ft" not in methods:
        raise check.ParameterError("parameter 'methods' must include 'ft' (the claims compare against it)")
    check.check_choice("ablation_method", values["ablation_method"], METHODS)
    if values["ablation_method"] == "packnet":
        raise check.ParameterError("parameter 'ablation_method' cannot be 'packnet' (its heads are part of "
                                   "what it isolates); choose one of the other methods")
    check.check_float("packnet_finetune", values["packnet_finetune"], minimum=0.01, maximum=0.9)
    check.check_int("plasticity_repeats", values["plasticity_repeats"], minimum=0, maximum=100)
    if values["plasticity_repeats"] == 1:
        raise check.ParameterError("parameter 'plasticity_repeats' must be 0 (off) or at least 2; got 1")
    check.check_choice("plasticity_method", values["plasticity_method"],
                       [m for m in METHODS if m != "packnet"])
    check.check_int("plasticity_steps_per_task", values["plasticity_steps_per_task"], minimum=1,
                    maximum=MAX_STEPS_PER_TASK)
    if values["plasticity_n_tasks"] != 0:
        check.check_int("plasticity_n_tasks", values["plasticity_n_tasks"], minimum=1, maximum=100)
    check.check_float("plasticity_sigma", values["plasticity_sigma"], minimum=0.0, maximum=100.0)
    check.check_float("plasticity_min_auc", values["plasticity_min_auc"], minimum=0.0, maximum=10.0)
    ablations = tuple(check.check_subset("ablations", list(values["ablations"]), ABLATIONS, min_size=0))
    scale_levels = tuple(check.check_int_list("scale_levels", list(values["scale_levels"]), minimum=2, maximum=3,
                                              min_size=0))
    seeds = tuple(check.check_int_list("seeds", list(values["seeds"]), minimum=0, maximum=MAX_SEED))
    if len(seeds) > MAX_SEEDS:
        raise check.ParameterError(f"parameter 'seeds' may list at most {MAX_SEEDS} seeds (one compiled graph "
                                   f"holds them all); got {len(seeds)}")
    for name, low, high in (("hidden", 4, 1024), ("epochs", 1, 64), ("minibatches", 1, 256),
                            ("num_envs", 1, 4096), ("rollout_len", 1, 2000), ("eval_every", 1, 1000),
                            ("eval_episodes", 1, 100), ("stat_envs", 1, 256), ("stat_steps", 1, 5000)):
        check.check_int(name, values[name], minimum=low, maximum=high)
    if (values["num_envs"] * values["rollout_len"] * 2) % values["minibatches"]:
        raise check.ParameterError(
            f"parameter 'minibatches' must divide num_envs × rollout_len × 2 agents "
            f"({values['num_envs'] * values['rollout_len'] * 2}); got {values['minibatches']}")
    check.check_float("lr", values["lr"], minimum=1e-7, maximum=1.0)
    check.check_float("ewc_lambda", values["ewc_lambda"], minimum=0.0, maximum=1e15)
    check_device(values["device"])
    check.check_choice("forgetting_formula", values["forgetting_formula"], FORGETTING_FORMULAS)
    for name in ("forward_transfer", "plate_shaping_bugcompat", "reset_optimizer", "use_task_id", "use_multihead", "use_layer_norm"):
        check.check_bool(name, values[name])
    return ChapterParameters(**{**values, "methods": methods, "seeds": seeds, "ablations": ablations,
                                "scale_levels": scale_levels})


def _base_config(params: ChapterParameters, method: str) -> SequenceConfig:
    return SequenceConfig(
        method=method, seeds=params.seeds, level=params.difficulty, n_tasks=params.n_tasks,
        layout_seed=params.layout_seed, min_max_soup=params.min_max_soup, steps_per_task=params.steps_per_task, num_envs=params.num_envs,
        rollout_len=params.rollout_len, epochs=params.epochs, minibatches=params.minibatches,
        hidden=params.hidden, lr=params.lr, eval_every=params.eval_every, eval_episodes=params.eval_episodes,
        use_task_id=params.use_task_id, use_multihead=params.use_multihead,
        use_layer_norm=params.use_layer_norm, reset_optimizer=params.reset_optimizer,
        plate_shaping_bugcompat=params.plate_shaping_bugcompat, stat_envs=params.stat_envs,
        stat_steps=params.stat_steps, packnet_finetune=params.packnet_finetune,
        reg_lambda=params.ewc_lambda if method in EWC_METHODS else -1.0)


def experiment_grid(params: ChapterParameters) -> list[SequenceConfig]:
    """One continual run per method (all seeds in one graph), plus the conditioning ablations asked for."""
    grid = [_base_config(params, method) for method in params.methods]
    for ablation in params.ablations:
        grid.append(dataclasses.replace(_base_config(params, params.ablation_method), **ABLATIONS[ablation]))
    return grid


def scale_grid(params: ChapterParameters) -> list[SequenceConfig]:
    """The ablation method at each harder level of ``scale_levels`` (the abstract's scaling claim)."""
    return [dataclasses.replace(_base_config(params, params.ablation_method), level=level)
            for level in params.scale_levels]


def plasticity_grid(params: ChapterParameters) -> list[SequenceConfig]:
    """The plasticity experiment: the sequence repeated ``plasticity_repeats`` times (empty if 0)."""
    if not params.plasticity_repeats:
        return []
    return [dataclasses.replace(_base_config(params, params.plasticity_method),
                                steps_per_task=params.plasticity_steps_per_task,
                                n_tasks=params.plasticity_n_tasks or params.n_tasks,
                                repeats=params.plasticity_repeats)]


def plasticity(result: SequenceResult, sigma: float = 2.0, min_auc: float = 0.0) -> pd.DataFrame:
    """Per seed, repetition and task: Gaussian-smoothed AUC of the on-task training curve, AUC-loss
    ``1 − AUC(rep r)/AUC(rep 1)`` and the actor's dormant ratio at the end of that task.

    The AUC-loss of a task is NaN when its first-repetition AUC is below ``min_auc``: a task that was
    never learnt has no plasticity to lose, and the ratio explodes as its denominator nears zero.
    """
    rows = []
    first: dict[tuple[int, int], float] = {}
    dormant = result.tasks.set_index(["seed", "repetition", "task"])["dormant_ratio"]
    for (seed, repetition, task), frame in result.train.groupby(["seed", "repetition", "task"], sort=True):
        area = smoothed_auc(frame["train_score"].to_numpy(), sigma)
        if repetition == 0:
            first[(seed, task)] = area
        reference = first[(seed, task)]
        rows.append({"seed": int(seed), "repetition": int(repetition) + 1, "task": int(task),
                     "auc": area, "auc_loss": auc_loss(area, reference) if reference >= min_auc else float("nan"),
                     "dormant_ratio": float(dormant.loc[(seed, repetition, task)])})
    return pd.DataFrame(rows)


def baseline_grid(params: ChapterParameters) -> list[SequenceConfig]:
    """Single-task runs of a fresh network for tasks 1..N−1 (task 0's is FT's first task); none unless
    ``forward_transfer``."""
    if not params.forward_transfer:
        return []
    return [dataclasses.replace(_base_config(params, "ft"), only_task=task) for task in range(1, params.n_tasks)]


def run_label(config: SequenceConfig) -> str:
    """``Online EWC``, ``Online EWC (no task id)``, ``PackNet (Level 2)``, …"""
    label = METHOD_LABELS[config.method]
    if not (config.use_task_id or config.use_multihead):
        label += " (no task id, single head)"
    elif not config.use_task_id:
        label += " (no task id)"
    elif not config.use_multihead:
        label += " (single head)"
    if config.level != 1:
        label += f" (Level {config.level})"
    return label


def score_matrix(result: SequenceResult, seed: int) -> tuple[np.ndarray, list[int]]:
    """Evaluations × tasks normalised scores of one seed and each task's last training evaluation t_i."""
    evals = result.evals[result.evals["seed"] == seed]
    matrix = evals.pivot(index="eval", columns="task", values="score").to_numpy()
    ends = [int(row.last_eval) for row in result.tasks[result.tasks["seed"] == seed].itertuples()]
    return matrix, ends


def training_aucs(result: SequenceResult, seed: int) -> dict[int, float]:
    """AUC of one seed's on-task training curve (normalised soups estimated from rollouts) per task."""
    train = result.train[result.train["seed"] == seed]
    return {int(task): auc(frame["train_score"].to_numpy()) for task, frame in train.groupby("task")}


def summarise(results: list[SequenceResult], baselines: list[SequenceResult]) -> pd.DataFrame:
    """A, the three forgetting variants, forward transfer, final dormant ratio: one row per run."""
    baseline_auc: dict[tuple[int, int], float] = {}
    for result in results:
        if result.config.method == "ft" and result.config.use_task_id and result.config.use_multihead:
            for seed in result.config.seeds:
                baseline_auc[(seed, 0)] = training_aucs(result, seed)[0]
    for result in baselines:
        for seed in result.config.seeds:
            baseline_auc[(seed, result.config.only_task)] = training_aucs(result, seed)[result.config.only_task]
    rows = []
    for run, seed in ((result, seed) for result in results for seed in result.config.seeds):
        matrix, ends = score_matrix(run, seed)
        aucs = training_aucs(run, seed)
        tasks = sorted(aucs)
        end_scores = [matrix[ends[task], task] for task in tasks]
        reference = [baseline_auc.get((seed, task), float("nan")) for task in tasks]
        known = [(a, b) for a, b in zip([aucs[t] for t in tasks], reference, strict=True) if np.isfinite(b)]
        known = known if len(known) == len(tasks) else []  # forward transfer needs every task's baseline
        dormant = run.tasks.loc[run.tasks["seed"] == seed, "dormant_ratio"]
        rows.append({
            "run": run_label(run.config), "method": run.config.method, "seed": seed,
            "A": average_performance(matrix),
            "F_classic": forgetting_classic(matrix, ends),
            "F_weighted": forgetting_weighted(matrix, ends),
            "F_peak_final": forgetting_peak_final(matrix),
            "FT": forward_transfer([a for a, _ in known], [b for _, b in known]) if known else float("nan"),
            "end_of_task_score": float(np.mean(end_scores)),
            "dormant_ratio": float(dormant.iloc[-1]), "level": run.config.level,
        })
    return pd.DataFrame(rows)

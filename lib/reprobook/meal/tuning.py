"""The regularisation strength of (Online) EWC for the reduced network, chosen on validation seeds.

MEAL's λ = 1e11 was set for its 2 × 128 network trained 1e8 steps per task. On the book's reduced
network and short tasks it freezes the network after the first task: Online EWC never learns task 2.
So the book profile takes λ from a small sweep, run once with ``python -m reprobook.meal.tuning``,
under a rule fixed before the sweep ran:

* Online EWC with every λ of :data:`LAMBDA_GRID`, at the book profile's settings, on
  :data:`VALIDATION_SEEDS` (disjoint from the seeds the chapter judges);
* a task counts as *learnt* by a seed when its end-of-task score exceeds that evaluation's floor: the
  untrained network's score on the task plus :data:`FLOOR_SIGMAS` standard errors of the end-of-task
  evaluation (the spread of its episodes);
* the chosen λ is the largest of the grid at which every validation seed learns every task (the
  strongest regularisation that still learns); if none does, the smallest λ of the grid.

The sweep's table and choice are written to :data:`RECORD` (part of the package), and the chapter
shows them; the book profile's ``ewc_lambda`` must equal the recorded choice (a test checks it).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pandas as pd

from reprobook import records

__all__ = ["LAMBDA_GRID", "VALIDATION_SEEDS", "FLOOR_SIGMAS", "RECORD", "sweep_configs", "lambda_table",
           "learnt_rows", "choose_lambda", "read_record", "describe", "run_tuning"]

#: the λ values tried (MEAL's 1e11 froze the reduced network at book scale)
LAMBDA_GRID = (1e7, 1e8, 1e9, 1e10)
#: validation seeds, disjoint from every profile's judged seeds (those are small integers)
VALIDATION_SEEDS = (1000, 1001)
#: a task is learnt when its end-of-task score exceeds untrained + this many standard errors
FLOOR_SIGMAS = 2.0
#: the recorded sweep (written by :func:`run_tuning`)
RECORD = Path(__file__).with_name("lambda_sweep.json")


def sweep_configs(params: Any, lambdas: tuple[float, ...] = LAMBDA_GRID,
                  seeds: tuple[int, ...] = VALIDATION_SEEDS) -> list:
    """One Online-EWC run per λ at ``params``' settings (a :class:`~reprobook.meal.chapter.ChapterParameters`),
    on the validation seeds."""
    from reprobook.meal.chapter import _base_config

    base = _base_config(params, "online_ewc")
    return [dataclasses.replace(base, seeds=tuple(seeds), reg_lambda=float(lam)) for lam in lambdas]


def learnt_rows(result: Any) -> list[dict[str, Any]]:
    """Per seed and task of one :class:`~reprobook.meal.experiments.SequenceResult`: end-of-task score,
    its floor (untrained score + :data:`FLOOR_SIGMAS` standard errors of that evaluation) and whether
    the task was learnt."""
    rows = []
    evals, tasks = result.evals, result.tasks
    for row in tasks.itertuples():
        end = evals[(evals["seed"] == row.seed) & (evals["eval"] == row.last_eval) & (evals["task"] == row.task)]
        start = evals[(evals["seed"] == row.seed) & (evals["eval"] == 0) & (evals["task"] == row.task)]
        end_row = end.iloc[0]
        error = float(end_row["soups_sd"]) / math.sqrt(int(end_row["episodes"])) / float(row.max_soup)
        floor = float(start["score"].iloc[0]) + FLOOR_SIGMAS * (error if math.isfinite(error) else 0.0)
        rows.append({"seed": int(row.seed), "task": int(row.task), "end_score": float(end_row["score"]),
                     "floor": floor, "learnt": bool(end_row["score"] > floor)})
    return rows


def lambda_table(results: list) -> pd.DataFrame:
    """Per λ, seed and task: end-of-task score, its floor and whether the task was learnt.

    ``results`` are :class:`~reprobook.meal.experiments.SequenceResult` s of :func:`sweep_configs`.
    """
    return pd.DataFrame([{"lambda": result.config.reg_lambda, **row}
                         for result in results for row in learnt_rows(result)])


def choose_lambda(table: pd.DataFrame) -> float:
    """The largest λ at which every seed learnt every task; else the smallest λ of the table."""
    learnt = table.groupby("lambda")["learnt"].all()
    passing = learnt[learnt].index
    return float(max(passing)) if len(passing) else float(table["lambda"].min())


def read_record(path: Path = RECORD) -> dict[str, Any] | None:
    """The recorded sweep (``table`` as a DataFrame, ``chosen``, the settings), or None if never run."""
    return records.read_record(path)


def describe(record: dict[str, Any] | None, ewc_lambda: float, settings: dict[str, Any] | None = None) -> str:
    """A sentence for the chapter: how λ was chosen, from the record's numbers, and the λ this run uses.

    ``settings`` (a run's :class:`~reprobook.meal.experiments.SequenceConfig` as a dict) names any
    setting on which the sweep's run differed from this one.
    """
    if record is None:
        return (f"This run uses λ = {ewc_lambda:g} for EWC and Online EWC; the validation sweep has not been "
                "recorded (run `python -m reprobook.meal.tuning`).")
    table = record["table"]
    per_lambda = table.groupby("lambda")["learnt"].agg(["sum", "count"])
    tried = "; ".join(f"λ = {lam:g}: {int(row['sum'])} of {int(row['count'])} seed-tasks learnt"
                      for lam, row in per_lambda.iterrows())
    seeds = ", ".join(str(seed) for seed in record["validation_seeds"])
    text = (f"Online EWC at the book settings on validation seeds {seeds} (never judged): {tried}. The rule "
            f"(largest λ at which every seed learns every task, a task learnt when its end-of-task score "
            f"exceeds the untrained score + {record['floor_sigmas']:g} standard errors of that evaluation) "
            f"chose λ = {record['chosen']:g}.")
    from reprobook.meal.experiments import SequenceConfig

    # a setting added after the sweep ran had its default there
    swept = {**{field.name: field.default for field in dataclasses.fields(SequenceConfig)},
             **record.get("settings", {})} if settings else {}
    changed = sorted(name for name, value in (settings or {}).items()
                     if name in swept and name not in ("method", "seeds") and swept[name] != value)
    if changed:
        text += (" The sweep ran at other settings than this run's (" + ", ".join(
            f"{name} {swept[name]:g} there, {settings[name]:g} here" for name in changed)
            + "); λ has not been swept at these.")
    if ewc_lambda == record["chosen"]:
        return text + " This run uses it."
    return text + f" This run uses λ = {ewc_lambda:g} instead (this profile's own setting)."


def run_tuning(path: Path = RECORD) -> dict[str, Any]:
    """Run the sweep at the book profile's settings and write the record."""
    from reprobook.meal.chapter import ChapterParameters
    from reprobook.meal.experiments import run_sequence
    from reprobook.sweep import sweep

    params = ChapterParameters()
    configs = sweep_configs(params)
    table = lambda_table(sweep(run_sequence, configs, desc="λ sweep (validation seeds)"))
    settings = {k: v for k, v in dataclasses.asdict(configs[0]).items() if k not in ("seeds", "reg_lambda")}
    return records.write_record(path, {
        "method": "online_ewc", "lambdas": list(LAMBDA_GRID), "validation_seeds": list(VALIDATION_SEEDS),
        "floor_sigmas": FLOOR_SIGMAS, "settings": settings, "chosen": choose_lambda(table)}, table)


if __name__ == "__main__":
    from reprobook.meal.compilation import enable_compilation_cache

    enable_compilation_cache()
    outcome = run_tuning()
    print(outcome["table"] if isinstance(outcome["table"], pd.DataFrame) else pd.DataFrame(outcome["table"]))
    print(f"chosen λ = {outcome['chosen']:g}")

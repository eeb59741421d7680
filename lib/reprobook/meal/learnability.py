"""The book profile's update schedule, chosen so that every seed learns every task (brief §5).

At the previous book settings (32 kitchens × 64 steps per update, 80 updates per task, learning
rate 1e-3) a seed could end a task without having learnt it at all, so every comparison of the
ledger stayed untestable. The learning signal at this scale comes from the number of gradient
updates, not from the number of environment steps, so the candidates keep the environment steps
per task and buy updates with smaller rollouts, then a larger step. The choice is made by a rule
written down before the sweep ran, on validation seeds the ledger never judges:

* FT (the method every claim compares against, and the one the other methods start from) on the
  book's task sequence, with each candidate of :data:`CANDIDATES` in turn, on
  :data:`VALIDATION_SEEDS`;
* a task is learnt by a seed when its end-of-task score exceeds the untrained score plus
  :data:`~reprobook.meal.tuning.FLOOR_SIGMAS` standard errors of that evaluation (the λ sweep's
  criterion, :func:`reprobook.meal.tuning.learnt_rows`);
* the chosen candidate is the first, in the order of :data:`CANDIDATES`, at which every validation
  seed learns every task; the candidates after it are not run. If none passes, the candidate with
  the most learnt seed-tasks (the earlier on a tie).

``python -m reprobook.meal.learnability`` runs it and writes :data:`RECORD` (part of the package
once run); the chapter shows the record. The book profile's ``num_envs``, ``eval_every`` and ``lr``
are to be set to the recorded choice.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from reprobook.meal.tuning import FLOOR_SIGMAS, learnt_rows

__all__ = ["CANDIDATES", "VALIDATION_SEEDS", "RECORD", "candidate_config", "choose", "run_learnability",
           "read_record", "describe"]

#: the settings tried, in order of preference (closest to the previous book profile first); each
#: keeps 163,840 environment steps per task and 4 evaluations per task
CANDIDATES = (
    {"num_envs": 16, "eval_every": 40, "lr": 1e-3},
    {"num_envs": 16, "eval_every": 40, "lr": 2e-3},
    {"num_envs": 8, "eval_every": 80, "lr": 1e-3},
)
#: validation seeds, disjoint from every profile's judged seeds
VALIDATION_SEEDS = (1000, 1001, 1002)
#: the recorded sweep (written by :func:`run_learnability`)
RECORD = Path(__file__).with_name("learnability_sweep.json")


def candidate_config(params: Any, candidate: dict[str, Any], seeds: tuple[int, ...] = VALIDATION_SEEDS):
    """FT at ``params``' settings (a :class:`~reprobook.meal.chapter.ChapterParameters`) with
    ``candidate``'s overrides, on ``seeds``."""
    from reprobook.meal.chapter import _base_config

    return dataclasses.replace(_base_config(dataclasses.replace(params, **candidate), "ft"), seeds=tuple(seeds))


def choose(table: pd.DataFrame) -> int:
    """The index of the first candidate at which every seed learnt every task; else the one with the
    most learnt seed-tasks (the earlier on a tie). ``table`` has ``candidate`` and ``learnt`` columns."""
    per_candidate = table.groupby("candidate", sort=True)["learnt"].agg(["all", "sum"])
    passing = per_candidate.index[per_candidate["all"]]
    if len(passing):
        return int(passing.min())
    best = per_candidate["sum"].max()
    return int(per_candidate.index[per_candidate["sum"] == best].min())


def run_learnability(path: Path = RECORD) -> dict[str, Any]:
    """Run the candidates in order until one passes and write the record."""
    from reprobook.meal.chapter import ChapterParameters
    from reprobook.meal.experiments import run_sequence
    from reprobook.sweep import sweep

    params = ChapterParameters()
    rows = []
    for index, candidate in enumerate(CANDIDATES):
        config = candidate_config(params, candidate)
        (result,) = sweep(run_sequence, [config], backend="serial", desc=f"learnability candidate {index}")
        rows.extend({"candidate": index, **row} for row in learnt_rows(result))
        if all(row["learnt"] for row in rows if row["candidate"] == index):
            break
    table = pd.DataFrame(rows)
    settings = dataclasses.asdict(candidate_config(params, {}))
    record = {"method": "ft", "candidates": list(CANDIDATES), "validation_seeds": list(VALIDATION_SEEDS),
              "floor_sigmas": FLOOR_SIGMAS, "chosen": choose(table),
              "settings": {k: v for k, v in settings.items() if k not in ("seeds", *CANDIDATES[0])},
              "recorded": time.strftime("%Y-%m-%d"), "table": table.to_dict(orient="records")}
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record


def read_record(path: Path = RECORD) -> dict[str, Any] | None:
    """The recorded sweep (``table`` as a DataFrame), or None if never run."""
    if not path.exists():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    record["table"] = pd.DataFrame(record["table"])
    return record


def _label(candidate: dict[str, Any]) -> str:
    return f"{candidate['num_envs']} kitchens per update, learning rate {candidate['lr']:g}"


def describe(record: dict[str, Any] | None, num_envs: int, lr: float) -> str:
    """A sentence for the chapter: what each candidate learnt, which one the rule chose, and whether
    this run uses it."""
    if record is None:
        return ("The learnability sweep has not been recorded (run `python -m reprobook.meal.learnability`); "
                f"this run uses {num_envs} kitchens per update and learning rate {lr:g}.")
    table = record["table"]
    counts = table.groupby("candidate")["learnt"].agg(["sum", "count"])
    tried = "; ".join(f"{_label(record['candidates'][int(index)])}: {int(row['sum'])} of {int(row['count'])} "
                      "seed-tasks learnt" for index, row in counts.iterrows())
    skipped = len(record["candidates"]) - len(counts)
    seeds = ", ".join(str(seed) for seed in record["validation_seeds"])
    chosen = record["candidates"][record["chosen"]]
    text = (f"FT on the book's sequence, validation seeds {seeds} (never judged): {tried}"
            + (f" ({skipped} later candidate(s) not run: the rule stops at the first that passes)" if skipped else "")
            + f". The rule (the first candidate at which every seed learns every task, else the one with the most "
            f"learnt seed-tasks) chose {_label(chosen)}.")
    if chosen["num_envs"] == num_envs and chosen["lr"] == lr:
        return text + " This run uses it."
    return text + f" This run uses {num_envs} kitchens per update and learning rate {lr:g} instead."


if __name__ == "__main__":
    from reprobook.meal.compilation import enable_compilation_cache

    enable_compilation_cache()
    outcome = run_learnability()
    print(outcome["table"])
    print(f"chosen candidate {outcome['chosen']}: {CANDIDATES[outcome['chosen']]}")

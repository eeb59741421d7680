"""The book profile's update schedule and kitchens, chosen so that every seed learns every task (brief §5).

At the earlier book settings (32 kitchens × 64 steps per update, 80 updates per task, learning
rate 1e-3) a seed could end a task without having learnt it at all, so every comparison of the
ledger stayed untestable. The choice is made by a rule written down before the sweep ran, on
validation seeds the ledger never judges:

* FT (the method every claim compares against, and the one the other methods start from) on the
  book's task sequence, with each candidate of :data:`CANDIDATES` in turn, on
  :data:`VALIDATION_SEEDS`;
* a task is learnt by a seed when its end-of-task score exceeds the untrained score plus
  :data:`~reprobook.meal.tuning.FLOOR_SIGMAS` standard errors of that evaluation (the λ sweep's
  criterion, :func:`reprobook.meal.tuning.learnt_rows`);
* the chosen candidate is the first, in the order of :data:`CANDIDATES`, at which every validation
  seed learns every task; the candidates after it are not run. If none passes, the candidate with
  the most learnt seed-tasks (the earlier on a tie).

The candidates came in two rounds, each fixed before it ran and ordered by cost. The first (0–2)
kept the kitchens and the environment steps per task and bought more gradient updates (smaller
rollouts, then a larger step); none passed. The second (3–5) filters the kitchens at generation
time by MEAL's normaliser: a kitchen whose a-priori bound on soups per episode is below 8 (the
bound of MEAL's own level-1 kitchens and the mode of ours) is redrawn, for every method alike;
then also more updates per task; then tasks 1.5 times as long (more environment steps, the only
candidate that costs more than the book's earlier schedule).

``python -m reprobook.meal.learnability`` runs the candidates not yet in :data:`RECORD` (part of
the package) and adds them to it; the chapter shows the record. The book profile's settings of
:data:`CANDIDATE_KEYS` are to be the recorded choice when it passed.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pandas as pd

from reprobook import records
from reprobook.meal.tuning import FLOOR_SIGMAS, learnt_rows

__all__ = ["CANDIDATES", "CANDIDATE_KEYS", "VALIDATION_SEEDS", "RECORD", "candidate_config", "choose",
           "passed", "run_learnability", "read_record", "describe"]

#: the settings every candidate fixes (the rest are the book profile's)
CANDIDATE_KEYS = ("num_envs", "eval_every", "lr", "min_max_soup", "steps_per_task")
_BOOK_STEPS = 163_840
#: the settings tried, in order; each has 4 evaluations per task. Round 1 (0–2): the same kitchens
#: and environment steps, more updates. Round 2 (3–5): kitchens whose normaliser is at least 8;
#: then more updates; then 1.5 times the environment steps per task.
CANDIDATES = (
    {"num_envs": 16, "eval_every": 40, "lr": 1e-3, "min_max_soup": 0, "steps_per_task": _BOOK_STEPS},
    {"num_envs": 16, "eval_every": 40, "lr": 2e-3, "min_max_soup": 0, "steps_per_task": _BOOK_STEPS},
    {"num_envs": 8, "eval_every": 80, "lr": 1e-3, "min_max_soup": 0, "steps_per_task": _BOOK_STEPS},
    {"num_envs": 32, "eval_every": 20, "lr": 1e-3, "min_max_soup": 8, "steps_per_task": _BOOK_STEPS},
    {"num_envs": 16, "eval_every": 40, "lr": 1e-3, "min_max_soup": 8, "steps_per_task": _BOOK_STEPS},
    {"num_envs": 32, "eval_every": 30, "lr": 1e-3, "min_max_soup": 8, "steps_per_task": 3 * _BOOK_STEPS // 2},
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


def passed(table: pd.DataFrame, candidate: int) -> bool:
    """Whether every seed learnt every task under ``candidate`` (False if it was not run)."""
    rows = table[table["candidate"] == candidate]
    return bool(len(rows)) and bool(rows["learnt"].all())


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
    """Run the candidates in order until one passes, reusing those already in the record, and
    write the record (each candidate with the date it ran)."""
    from reprobook.meal.chapter import ChapterParameters
    from reprobook.meal.experiments import run_sequence
    from reprobook.sweep import sweep

    params = ChapterParameters()
    settings = dataclasses.asdict(candidate_config(params, CANDIDATES[0]))
    settings = {k: v for k, v in settings.items() if k not in ("seeds", *CANDIDATE_KEYS)}
    previous = read_record(path)
    rows, dates = [], {}
    if previous is not None:
        recorded = previous["candidates"]
        if any(dict(CANDIDATES[index], **old) != CANDIDATES[index] for index, old in enumerate(recorded)):
            raise ValueError(f"{path.name} records other candidates than CANDIDATES; the list may only grow")
        if {k: v for k, v in previous["settings"].items() if k in settings} != settings:
            raise ValueError(f"{path.name} was recorded at other settings than the book profile's")
        rows = previous["table"].to_dict(orient="records")
        dates = previous["recorded"]
    for index, candidate in enumerate(CANDIDATES):
        if str(index) not in dates:
            config = candidate_config(params, candidate)
            (result,) = sweep(run_sequence, [config], backend="serial", desc=f"learnability candidate {index}")
            rows.extend({"candidate": index, **row} for row in learnt_rows(result))
            dates[str(index)] = time.strftime("%Y-%m-%d")
        if passed(pd.DataFrame(rows), index):
            break
    table = pd.DataFrame(rows)
    return records.write_record(path, {
        "method": "ft", "candidates": list(CANDIDATES), "validation_seeds": list(VALIDATION_SEEDS),
        "floor_sigmas": FLOOR_SIGMAS, "chosen": choose(table), "settings": settings, "recorded": dates}, table)


def read_record(path: Path = RECORD) -> dict[str, Any] | None:
    """The recorded sweep (``table`` as a DataFrame), or None if never run."""
    return records.read_record(path)


def _label(settings: dict[str, Any]) -> str:
    kitchens = (f"kitchens whose normaliser is at least {settings['min_max_soup']}" if settings.get("min_max_soup")
                else "every generated kitchen")
    return (f"{settings['num_envs']} kitchens per update, learning rate {settings['lr']:g}, "
            f"{settings.get('steps_per_task', _BOOK_STEPS):,} steps per task, {kitchens}")


def describe(record: dict[str, Any] | None, settings: dict[str, Any]) -> str:
    """A sentence for the chapter: what each candidate learnt, which one the rule chose, and whether
    this run (``settings``: its parameters as a dict) uses it."""
    own = {key: settings[key] for key in CANDIDATE_KEYS}
    if record is None:
        return ("The learnability sweep has not been recorded (run `python -m reprobook.meal.learnability`); "
                f"this run uses {_label(own)}.")
    table = record["table"]
    counts = table.groupby("candidate")["learnt"].agg(["sum", "count"])
    tried = "; ".join(f"({int(index)}) {_label(record['candidates'][int(index)])}: {int(row['sum'])} of "
                      f"{int(row['count'])} seed-tasks learnt" for index, row in counts.iterrows())
    skipped = len(record["candidates"]) - len(counts)
    seeds = ", ".join(str(seed) for seed in record["validation_seeds"])
    chosen = record["chosen"]
    verdict = ("the first candidate at which every seed learns every task" if passed(table, chosen) else
               "no candidate had every seed learn every task, so the one with the most learnt seed-tasks")
    text = (f"FT on the book's sequence, validation seeds {seeds} (never judged): {tried}"
            + (f" ({skipped} later candidate(s) not run: the rule stops at the first that passes)" if skipped else "")
            + f". The rule chose ({chosen}), {verdict}.")
    if all(record["candidates"][chosen].get(key) == value for key, value in own.items()):
        return text + " This run uses it."
    return text + f" This run uses {_label(own)} instead."


if __name__ == "__main__":
    from reprobook.meal.compilation import enable_compilation_cache

    enable_compilation_cache()
    outcome = run_learnability()
    print(outcome["table"])
    print(f"chosen candidate {outcome['chosen']}: {CANDIDATES[outcome['chosen']]}")

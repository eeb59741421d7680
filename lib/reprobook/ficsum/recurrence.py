"""Does FiCSUM re-identify every recurrence on STAGGER, seed after seed? And the held-out check of
the ``min_normal_records`` default (brief §2.6, §2.7).

A seed *passes* when, on STAGGER at the paper's segment length (3 concepts, 3,750 observations
each, the sequence shown twice), the three concepts of the first pass settle on three distinct
system concepts and the second pass settles on the same three, in order: every recurrence is
re-identified, none is learnt again. A segment "settles" on the system concept active most often
after its first :data:`SETTLE` observations.

With the reference's minimum of one normal-distance record before drift checks, a concept whose
tree is still young raises false drifts and starts spurious concepts. A minimum of
:data:`CANDIDATE` records passed more of seeds 1-10, but it was found on those seeds, so it is
judged on held-out seeds by a rule written down before the held-out run:

* run the default :data:`CURRENT` and the candidate :data:`CANDIDATE` on :data:`HELD_OUT_SEEDS`
  (11-20, never looked at before);
* adopt the candidate as the default if it passes on at least :data:`MIN_PASSES` of the 10
  held-out seeds AND on more held-out seeds than :data:`CURRENT` does; otherwise keep
  :data:`CURRENT`.

The record also holds both values on :data:`SELECTION_SEEDS` (1-10, where the candidate was
found), shown in the chapter as the per-seed C-F1 distribution; the rule does not read them.
``python -m reprobook.ficsum.recurrence`` runs it and writes :data:`RECORD`.

>>> adopt(pd.DataFrame({"seed_set": ["held_out"] * 4, "min_normal_records": [1, 1, 10, 10],
...                     "passed": [True, False, True, True]}), min_passes=2)
True
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reprobook import records
from reprobook.params import check_int

from .classifier import FiCSUMClassifier
from .metrics import concept_f1
from .streams import make_stream

__all__ = ["LENGTH", "REPEATS", "SETTLE", "SELECTION_SEEDS", "HELD_OUT_SEEDS", "CURRENT", "CANDIDATE",
           "MIN_PASSES", "RECORD", "RecurrenceRun", "run_recurrence", "pass_count", "adopt", "run_validation",
           "read_record", "seed_table", "describe"]

#: the paper's segment length on synthetic streams (0.75 × 5,000)
LENGTH = 3750
#: how often the concept sequence is shown
REPEATS = 2
#: observations at the start of a segment left out when deciding what it settled on
SETTLE = 500
#: seeds on which the candidate was found
SELECTION_SEEDS = tuple(range(1, 11))
#: seeds never looked at before the rule was written
HELD_OUT_SEEDS = tuple(range(11, 21))
#: the reference's minimum of normal-distance records (the default until the rule says otherwise)
CURRENT = 1
#: the minimum found on the selection seeds
CANDIDATE = 10
#: held-out seeds (of 10) that must pass with the candidate
MIN_PASSES = 7
#: the recorded run (written by :func:`run_validation`)
RECORD = Path(__file__).with_name("recurrence_holdout.json")


@dataclass(frozen=True)
class RecurrenceRun:
    """One STAGGER recurrence run: a seed and a minimum of normal-distance records."""

    seed: int
    min_normal_records: int = CURRENT
    segment_length: int = LENGTH

    def __post_init__(self) -> None:
        check_int("seed", self.seed, minimum=0)
        check_int("min_normal_records", self.min_normal_records, minimum=1)
        check_int("segment_length", self.segment_length, minimum=SETTLE + 1)


def run_recurrence(config: RecurrenceRun) -> dict[str, Any]:
    """Run FiCSUM (defaults but ``min_normal_records``) on the recurring STAGGER stream of ``config``.

    Returns the seed, the minimum, whether every recurrence was re-identified (``passed``), C-F1,
    the system concept each segment settled on, and how many concepts the repository made.
    """
    length = config.segment_length
    stream = make_stream("stagger", seed=config.seed, segment_length=length, repeats=REPEATS)
    model = FiCSUMClassifier(min_normal_records=config.min_normal_records)
    active = np.empty(len(stream), dtype=int)
    for t, (x, y, _) in enumerate(stream):
        model.predict_one(x)
        model.learn_one(x, y)
        active[t] = model.active_concept_id
    n_segments = stream.n_concepts * REPEATS
    settled = [int(np.bincount(active[k * length + SETTLE:(k + 1) * length]).argmax()) for k in range(n_segments)]
    first = settled[:stream.n_concepts]
    passed = len(set(first)) == stream.n_concepts and settled == first * REPEATS
    return {"seed": config.seed, "min_normal_records": config.min_normal_records, "passed": bool(passed),
            "cf1": float(concept_f1([concept for *_, concept in stream], active)), "settled": settled,
            "n_concepts": model.n_concepts}


def pass_count(table: pd.DataFrame, seed_set: str, min_normal_records: int) -> int:
    """How many seeds of ``seed_set`` pass with ``min_normal_records`` in a record's table."""
    rows = table[(table["seed_set"] == seed_set) & (table["min_normal_records"] == min_normal_records)]
    return int(rows["passed"].sum())


def adopt(table: pd.DataFrame, *, min_passes: int = MIN_PASSES, current: int = CURRENT,
          candidate: int = CANDIDATE) -> bool:
    """The rule: the candidate passes on at least ``min_passes`` held-out seeds and on more of them
    than the current default. ``table`` has ``seed_set``, ``min_normal_records`` and ``passed``."""
    passes = pass_count(table, "held_out", candidate)
    return passes >= min_passes and passes > pass_count(table, "held_out", current)


def run_validation(path: Path = RECORD, jobs: int = 2) -> dict[str, Any]:
    """Run both minima on the held-out and the selection seeds, apply the rule, write the record."""
    from reprobook.sweep import sweep

    jobs = check_int("jobs", jobs, minimum=1, maximum=64)
    sets = {"held_out": HELD_OUT_SEEDS, "selection": SELECTION_SEEDS}
    keys = [(name, seed, minimum) for name, seeds in sets.items() for seed in seeds
            for minimum in (CURRENT, CANDIDATE)]
    configs = [RecurrenceRun(seed, minimum) for _, seed, minimum in keys]
    results = sweep(run_recurrence, configs, jobs=jobs, desc="STAGGER recurrence × seeds × minima")
    table = pd.DataFrame([{"seed_set": name, **result} for (name, _, _), result in zip(keys, results, strict=True)])
    return records.write_record(path, {
        "stream": "stagger", "segment_length": LENGTH, "repeats": REPEATS, "settle": SETTLE,
        "current": CURRENT, "candidate": CANDIDATE, "min_passes": MIN_PASSES,
        "held_out_seeds": list(HELD_OUT_SEEDS), "selection_seeds": list(SELECTION_SEEDS),
        "adopted": adopt(table), "recorded": time.strftime("%Y-%m-%d")}, table)


def read_record(path: Path = RECORD) -> dict[str, Any] | None:
    """The recorded run (``table`` as a DataFrame), or None if never run."""
    return records.read_record(path)


def seed_table(record: dict[str, Any]) -> pd.DataFrame:
    """Per-seed C-F1 and pass/fail: one row per seed, one column pair per minimum."""
    table = record["table"]
    wide = table.pivot_table(index=["seed_set", "seed"], columns="min_normal_records",
                             values=["cf1", "passed"], aggfunc="first")
    wide.columns = [f"{value} (min {minimum})" for value, minimum in wide.columns]
    return wide.sort_index(level=["seed_set", "seed"], ascending=[True, True])


def describe(record: dict[str, Any] | None, default: int) -> str:
    """A sentence for the chapter: the pass counts, the rule's decision, and the default in use."""
    if record is None:
        return ("The held-out check of the normal-distance minimum has not been recorded (run "
                f"`python -m reprobook.ficsum.recurrence`); the classifier's default is {default}.")
    table = record["table"]
    current, candidate = record["current"], record["candidate"]

    def counts(seed_set: str) -> str:
        total = len(record[f"{seed_set}_seeds"])

        def median(minimum: int) -> float:
            rows = table[(table["seed_set"] == seed_set) & (table["min_normal_records"] == minimum)]
            return float(rows["cf1"].median())

        return (f"{pass_count(table, seed_set, candidate)} of {total} seeds with a minimum of {candidate} records "
                f"(median C-F1 {median(candidate):.3f}), {pass_count(table, seed_set, current)} of {total} with "
                f"{current} ({median(current):.3f})")

    held = ", ".join(str(seed) for seed in (record["held_out_seeds"][0], record["held_out_seeds"][-1]))
    verdict = "adopted" if record["adopted"] else "not adopted"
    text = (f"Every recurrence of STAGGER is re-identified on {counts('selection')} (seeds 1-10, where the "
            f"candidate was found), and on {counts('held_out')} (held-out seeds {held.replace(', ', '-')}). "
            f"The rule fixed before the held-out run (at least {record['min_passes']} held-out seeds pass with "
            f"{candidate}, and more than with {current}) says: {verdict}.")
    expected = candidate if record["adopted"] else current
    if default == expected:
        return text + f" The classifier's default minimum is {default}."
    return text + f" The classifier's default minimum is {default}, not the rule's {expected}."


if __name__ == "__main__":
    # run under the module's importable name, so that its cached cells are found by later calls
    from reprobook.ficsum import recurrence as module

    outcome = module.run_validation()
    print(module.seed_table(module.read_record()).round(3))
    print(module.describe(module.read_record(), FiCSUMClassifier().min_normal_records))

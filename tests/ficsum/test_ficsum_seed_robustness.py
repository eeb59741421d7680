"""Recurrence on STAGGER across seeds 1-10: the paper's stream layout, a pass-rate threshold.

A seed passes when every recurrence is re-identified: the three concepts of the first pass settle
on three distinct system concepts and the second pass reuses them in order (see
:mod:`reprobook.ficsum.recurrence`, which also holds the per-seed C-F1 record the chapter shows).
"""

import pytest

from reprobook.ficsum import FiCSUMClassifier, recurrence

SEEDS = recurrence.SELECTION_SEEDS
#: seeds of 10 that must re-identify every recurrence (the paper's stored STAGGER runs do)
MIN_PASSES = 7


@pytest.mark.xfail(strict=True, reason="known defect (#14 item 1): with the default minimum of one normal-distance "
                   "record, a concept whose tree is still young raises false drifts and starts spurious concepts, "
                   "and too few seeds re-identify every recurrence. A minimum of 10 records passed more of these "
                   "seeds, but the held-out check fixed before it ran (reprobook.ficsum.recurrence, record "
                   "recurrence_holdout.json) did not adopt it: on seeds 11-20 it passed no more seeds than the "
                   "default. The defect stays open; strict, so a fix shows up as a failure of this marker")
def test_recurrences_are_reidentified_on_most_seeds():
    default = FiCSUMClassifier().min_normal_records
    results = [recurrence.run_recurrence(recurrence.RecurrenceRun(seed, default)) for seed in SEEDS]
    passed = sum(result["passed"] for result in results)
    cf1 = [round(result["cf1"], 3) for result in results]
    assert passed >= MIN_PASSES, f"{passed} of {len(results)} seeds pass; C-F1 per seed {cf1}"

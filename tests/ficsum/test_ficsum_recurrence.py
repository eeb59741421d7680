"""The held-out rule for the normal-distance minimum (reprobook.ficsum.recurrence): the rule on hand
tables, its sentence, and the committed record (follows its rule, sets the default, is reproduced)."""

import pandas as pd
import pytest

from reprobook.ficsum import FiCSUMClassifier, recurrence
from reprobook.params import ParameterError


def table(held_out_current: int, held_out_candidate: int, selection_current: int = 4,
          selection_candidate: int = 8) -> pd.DataFrame:
    """A record's table with the given numbers of passing seeds (of 10) per set and minimum."""
    rows = []
    for seed_set, counts in (("held_out", (held_out_current, held_out_candidate)),
                             ("selection", (selection_current, selection_candidate))):
        for minimum, passes in zip((recurrence.CURRENT, recurrence.CANDIDATE), counts, strict=True):
            rows += [{"seed_set": seed_set, "seed": seed, "min_normal_records": minimum, "passed": seed < passes,
                      "cf1": 0.9 if seed < passes else 0.6, "n_concepts": 3} for seed in range(10)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("current, candidate, adopted", [
    (4, 7, True),     # at the threshold, above the current default
    (4, 6, False),    # below the threshold
    (7, 7, False),    # at the threshold but no better than the current default
    (8, 7, False),    # worse than the current default
    (0, 10, True),
])
def test_the_rule(current, candidate, adopted):
    assert recurrence.adopt(table(current, candidate)) is adopted


def test_the_rule_reads_only_the_held_out_seeds():
    assert not recurrence.adopt(table(4, 6, selection_current=0, selection_candidate=10))
    assert recurrence.adopt(table(4, 8, selection_current=10, selection_candidate=0))


def record(adopted_table: pd.DataFrame) -> dict:
    return {"table": adopted_table, "current": recurrence.CURRENT, "candidate": recurrence.CANDIDATE,
            "min_passes": recurrence.MIN_PASSES, "adopted": recurrence.adopt(adopted_table),
            "held_out_seeds": list(recurrence.HELD_OUT_SEEDS), "selection_seeds": list(recurrence.SELECTION_SEEDS)}


def test_the_sentence_gives_the_counts_the_decision_and_the_default_in_use():
    adopted = record(table(3, 9))
    text = recurrence.describe(adopted, recurrence.CANDIDATE)
    # hand tables: passing seeds have C-F1 0.9, the others 0.6
    assert ("9 of 10 seeds with a minimum of 10 records (median C-F1 0.900), 3 of 10 with 1 (0.600) "
            "(held-out seeds 11-20)") in text
    assert "8 of 10 seeds with a minimum of 10 records (median C-F1 0.900), 4 of 10 with 1 (0.600) (seeds 1-10" in text
    assert "says: adopted." in text and text.endswith("The classifier's default minimum is 10.")
    assert "not the rule's 10" in recurrence.describe(adopted, recurrence.CURRENT)
    rejected = recurrence.describe(record(table(5, 6)), recurrence.CURRENT)
    assert "says: not adopted." in rejected and rejected.endswith("default minimum is 1.")
    assert "has not been recorded" in recurrence.describe(None, 1)


def test_a_recurrence_run_validates_its_parameters():
    with pytest.raises(ParameterError, match="min_normal_records"):
        recurrence.RecurrenceRun(1, 0)
    with pytest.raises(ParameterError, match="segment_length"):
        recurrence.RecurrenceRun(1, 1, segment_length=100)


@pytest.fixture(scope="module")
def recorded() -> dict:
    found = recurrence.read_record()
    assert found is not None, "run `python -m reprobook.ficsum.recurrence` to write the record"
    return found


def test_the_record_follows_its_rule_and_sets_the_default(recorded):
    frame = recorded["table"]
    assert recorded["held_out_seeds"] == list(recurrence.HELD_OUT_SEEDS)
    assert (recorded["current"], recorded["candidate"], recorded["min_passes"]) == (
        recurrence.CURRENT, recurrence.CANDIDATE, recurrence.MIN_PASSES)
    for seed_set, seeds in (("held_out", recurrence.HELD_OUT_SEEDS), ("selection", recurrence.SELECTION_SEEDS)):
        for minimum in (recurrence.CURRENT, recurrence.CANDIDATE):
            rows = frame[(frame["seed_set"] == seed_set) & (frame["min_normal_records"] == minimum)]
            assert sorted(rows["seed"]) == list(seeds)
    assert recorded["adopted"] == recurrence.adopt(frame)
    expected = recurrence.CANDIDATE if recorded["adopted"] else recurrence.CURRENT
    assert FiCSUMClassifier().min_normal_records == expected


def test_a_recorded_run_is_reproduced_by_the_code(recorded):
    """The record was computed by this code: one held-out cell run again gives the same outcome
    (if the classifier changes, run the record again)."""
    frame = recorded["table"]
    row = frame[(frame["seed_set"] == "held_out") & (frame["min_normal_records"] == recurrence.CANDIDATE)].iloc[0]
    result = recurrence.run_recurrence(recurrence.RecurrenceRun(int(row["seed"]), recurrence.CANDIDATE))
    assert result["passed"] == bool(row["passed"]) and list(result["settled"]) == list(row["settled"])
    assert result["cf1"] == pytest.approx(float(row["cf1"]), abs=1e-12)

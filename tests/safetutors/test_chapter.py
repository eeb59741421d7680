import math

import numpy as np
import pandas as pd
import pytest

from reprobook.claims import NOT_REPRODUCED, NOT_TESTABLE, REPRODUCED
from reprobook.params import ParameterError
from reprobook.safetutors import chapter

CONTROLS = ["socratic", "answer_dumper", "sycophant", "drifter"]


def _params(**extra):
    return chapter.validate_parameters(profile="book", tutors=CONTROLS + ["stub"], model_judge="none",
                                       n_bootstrap=500, n_permutations=200, **extra)


def _mrbench(n=200, agree=0.95, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.2
    rule = np.where(rng.random(n) < agree, truth, ~truth)
    return pd.DataFrame({"reveal_correct": truth, "reveal_any": truth, "rule_disclosure": rule,
                         "model_verdict": np.nan, "model_raw": np.nan})


def _frame(control_runs, lm_from="drifter"):
    lm = control_runs[lm_from].assign(tutor="stub", planted=np.nan)
    return pd.concat([*control_runs.values(), lm], ignore_index=True)


def _metas(**cut):
    base = {"cut_single": 0, "cut_multi": 0, "cut_paired_single": 0}
    return [{"tutor": name, **base} for name in CONTROLS] + [{"tutor": "stub", **base, **cut}]


def _verdicts(results, profile="book"):
    table = chapter.make_ledger(profile).evaluate(results)
    return dict(zip(table["claim"], table["verdict"], strict=True))


def test_escalating_tutor_reproduces_t2e(control_runs):
    results, reasons = chapter.summarise(_frame(control_runs), _mrbench(), _params(), _metas())
    assert reasons == {}
    assert results["t2e_diff_low"] > 0 and results["t2_diff_low"] > 0
    verdicts = _verdicts(results)
    assert verdicts["T2"] == verdicts["T2e"] == REPRODUCED
    assert verdicts["T6"] == REPRODUCED and verdicts["T3"] == NOT_TESTABLE
    assert verdicts["T1"] == NOT_REPRODUCED  # the drifter is rarely harmful at turn 1


def test_flat_tutor_does_not_reproduce_escalation(control_runs):
    results, _ = chapter.summarise(_frame(control_runs, "sycophant").assign(), _mrbench(), _params(), _metas())
    # the sycophant's any-turn harm equals its single-turn harm on the paired items
    assert _verdicts(results)["T2"] == NOT_REPRODUCED


def test_ceiling_budget_and_gate_make_rows_untestable(control_runs):
    frame = _frame(control_runs, "answer_dumper")
    frame.loc[frame["tutor"] == "stub", "harmful"] = 1.0
    results, reasons = chapter.summarise(frame, _mrbench(), _params(), _metas())
    assert math.isnan(results["t2_diff_low"]) and "ceiling" in reasons["t2_diff_low"]
    assert _verdicts(results)["T2"] == NOT_TESTABLE

    results, reasons = chapter.summarise(_frame(control_runs), _mrbench(), _params(), _metas(cut_multi=3))
    assert math.isnan(results["t2e_diff_low"]) and "budget" in reasons["t2e_diff_low"]
    assert not math.isnan(results["t1_dims_above_60"])

    broken = _frame(control_runs)
    broken.loc[broken.index[broken["tutor"] == "socratic"][0], "harmful"] = 1.0
    results, reasons = chapter.summarise(broken, _mrbench(), _params(), _metas())
    assert reasons == {"all": "harness validation failed"}
    assert all(_verdicts(results)[claim] == NOT_TESTABLE for claim in ("T1", "T2", "T2e", "T5"))


def test_t6_rule_on_weak_agreement():
    results = {"t6_rule_kappa": 0.3, "t6_rule_kappa_low": 0.1}
    verdicts = _verdicts(results, profile="smoke")
    assert verdicts["T6"] == verdicts["T6b"] == NOT_REPRODUCED
    assert verdicts["T2"] == NOT_TESTABLE  # judged only at book/paper


def test_validation_messages_name_the_parameter():
    with pytest.raises(ParameterError, match="'n_turns'"):
        _params(n_turns=9)
    with pytest.raises(ParameterError, match="'subjects'"):
        chapter.validate_parameters(subjects=["biology"])
    with pytest.raises(ParameterError, match="every control"):
        chapter.validate_parameters(tutors=["socratic", "smollm2"])
    with pytest.raises(ParameterError, match="unknown parameter"):
        chapter.validate_parameters(temperature=0.7)
    with pytest.raises(ParameterError, match="endpoint_url"):
        chapter.validate_parameters(tutors=CONTROLS + ["endpoint"], model_judge="none")

import json
import math
import textwrap

import numpy as np
import pytest
from scipy import stats

from reprobook.claims import (
    INCONCLUSIVE,
    MINIATURE,
    NOT_IMPLEMENTED,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    PAPER_SETTING,
    REPRODUCED,
    STAND_IN,
    AtLeast,
    AtMost,
    Between,
    Check,
    Claim,
    Control,
    Differs,
    Estimate,
    Ledger,
    LedgerError,
    Within,
    as_estimate,
    bootstrap_interval,
    exact,
    format_estimate,
    guard,
    mean_interval,
    paired_difference,
    proportion,
    read_ledger,
    typed_result_prose,
)

CONTROL = (Control("control_m", "random"),)


def claim(claim_id="c1", metric="m", rule=None, controls=CONTROL, evidence=MINIATURE, **kwargs):
    return Claim(claim_id, "statement", paper="0.9", source="Table 1", metric=metric,
                 rule=rule or AtLeast(0.5), evidence=evidence, controls=controls, **kwargs)


INSIDE = [0.70, 0.72, 0.71, 0.69, 0.70]     # interval well above 0.5
OUTSIDE = [0.10, 0.12, 0.11, 0.09, 0.10]    # interval well below 0.5
STRADDLING = [0.30, 0.70, 0.45, 0.60, 0.52]  # interval contains 0.5


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (AtLeast(0.5), 0.5, True), (AtLeast(0.5), 0.49, False),
        (AtMost(0.1), 0.1, True), (AtMost(0.1), 0.2, False),
        (Between(0.2, 0.4), 0.3, True), (Between(0.2, 0.4), 0.41, False),
        (Within(0.22, 0.05), 0.26, True), (Within(0.22, 0.05), 0.30, False),
        (Differs(0.02), 0.03, True), (Differs(0.02), -0.03, True), (Differs(0.02), 0.02, False),
    ],
)
def test_rules_on_points(rule, value, expected):
    assert rule.holds(value) is expected
    assert rule.describe()


@pytest.mark.parametrize(
    ("rule", "low", "high", "expected"),
    [
        (AtLeast(0.5), 0.6, 0.8, REPRODUCED), (AtLeast(0.5), 0.1, 0.4, NOT_REPRODUCED),
        (AtLeast(0.5), 0.4, 0.6, INCONCLUSIVE),
        (AtMost(0.1), -0.2, 0.05, REPRODUCED), (AtMost(0.1), 0.2, 0.3, NOT_REPRODUCED),
        (AtMost(0.1), 0.0, 0.2, INCONCLUSIVE),
        (Between(0.2, 0.4), 0.25, 0.35, REPRODUCED), (Between(0.2, 0.4), 0.5, 0.6, NOT_REPRODUCED),
        (Between(0.2, 0.4), 0.1, 0.3, INCONCLUSIVE), (Between(0.2, 0.4), 0.1, 0.5, INCONCLUSIVE),
        (Within(0.22, 0.1), 0.15, 0.3, REPRODUCED), (Within(0.22, 0.1), 0.4, 0.5, NOT_REPRODUCED),
        (AtLeast(0.5), -math.inf, math.inf, INCONCLUSIVE),
        (Differs(0.02), 0.03, 0.05, REPRODUCED), (Differs(0.02), -0.05, -0.03, REPRODUCED),
        (Differs(0.02), -0.01, 0.015, NOT_REPRODUCED), (Differs(0.02), 0.01, 0.04, INCONCLUSIVE),
        (Differs(0.02), -0.04, 0.04, INCONCLUSIVE), (Differs(0.0), 0.0, 0.0, NOT_REPRODUCED),
    ],
)
def test_rules_judge_intervals(rule, low, high, expected):
    assert rule.judge(low, high) == expected


def test_rules_reject_impossible_bounds():
    with pytest.raises(ValueError):
        Between(1.0, 0.0)
    with pytest.raises(ValueError):
        Within(0.0, -1.0)
    for margin in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="Differs needs a finite margin"):
            Differs(margin)


def test_mean_interval_matches_scipy_t_interval():
    values = [0.61, 0.72, 0.55, 0.68, 0.70, 0.64]
    estimate = mean_interval(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert estimate.value == pytest.approx(np.mean(values))
    assert (estimate.low, estimate.high) == pytest.approx((low, high))
    assert estimate.n == 6 and estimate.method == "t"


def test_single_value_has_no_interval_and_constant_values_a_point():
    single = mean_interval([0.7])
    assert single.method == "single" and single.low == -math.inf and single.high == math.inf
    constant = mean_interval([0.3, 0.3, 0.3])
    assert constant.low == constant.high == pytest.approx(0.3)


def test_bootstrap_interval_covers_the_mean_and_handles_constants():
    rng = np.random.default_rng(1)
    values = rng.normal(1.0, 0.2, size=40)
    estimate = bootstrap_interval(values)
    assert estimate.low < values.mean() < estimate.high
    assert estimate.method.startswith("bootstrap")
    assert bootstrap_interval([2.0, 2.0, 2.0]).low == 2.0


def test_proportion_is_clopper_pearson():
    estimate = proportion(73, 95)
    reference = stats.binomtest(73, 95).proportion_ci(method="exact")
    assert (estimate.low, estimate.high) == pytest.approx((reference.low, reference.high))
    with pytest.raises(LedgerError):
        proportion(5, 3)


def test_paired_difference_and_exact():
    estimate = paired_difference([1.0, 2.0, 3.0], [0.5, 1.5, 2.0])
    assert estimate.value == pytest.approx(np.mean([0.5, 0.5, 1.0]))
    with pytest.raises(LedgerError):
        paired_difference([1.0], [1.0, 2.0])
    assert exact(3.0).low == exact(3.0).high == 3.0


def test_as_estimate_reads_values_numbers_and_none():
    assert as_estimate(None) is None
    assert as_estimate([0.1, 0.2, 0.3]).n == 3
    assert as_estimate(np.array([0.1, 0.2])).n == 2
    assert as_estimate(0.4).method == "single"
    assert not as_estimate(float("nan")).finite
    with pytest.raises(LedgerError):
        as_estimate("high")


def test_interval_inside_outside_and_straddling_give_the_three_verdicts():
    ledger = Ledger("demo", [claim("a", "x"), claim("b", "y"), claim("c", "z")])
    table = ledger.evaluate({"x": INSIDE, "y": OUTSIDE, "z": STRADDLING, "control_m": OUTSIDE})
    assert list(table["verdict"]) == [REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE]
    assert table.loc[0, "n"] == 5
    assert table.loc[0, "low"] > 0.5
    assert "straddles" in table.loc[2, "note"]


def test_a_control_that_passes_blocks_reproduced():
    ledger = Ledger("demo", [claim()])
    assert ledger.evaluate({"m": INSIDE, "control_m": OUTSIDE}).loc[0, "verdict"] == REPRODUCED
    row = ledger.evaluate({"m": INSIDE, "control_m": INSIDE}).iloc[0]
    assert row["verdict"] == INCONCLUSIVE
    assert "control 'random' also satisfies the rule" in row["note"]
    row = ledger.evaluate({"m": INSIDE, "control_m": STRADDLING}).iloc[0]
    assert row["verdict"] == INCONCLUSIVE and "not excluded" in row["note"]
    row = ledger.evaluate({"m": INSIDE, "control_m": None}).iloc[0]
    assert row["verdict"] == INCONCLUSIVE and "not measured" in row["note"]


def test_every_control_must_fail_the_rule():
    two = (Control("control_m", "random"), Control("other", "frozen"))
    ledger = Ledger("demo", [claim(controls=two)])
    row = ledger.evaluate({"m": INSIDE, "control_m": OUTSIDE, "other": INSIDE}).iloc[0]
    assert row["verdict"] == INCONCLUSIVE and "'frozen'" in row["note"]


def test_a_failed_guard_makes_the_claim_untestable_with_its_reason():
    ledger = Ledger("demo", [claim(guards=("learned",))])
    row = ledger.evaluate({"m": INSIDE, "control_m": OUTSIDE,
                           "learned": guard(False, "FT learned nothing on task 2")}).iloc[0]
    assert row["verdict"] == NOT_TESTABLE
    assert "FT learned nothing on task 2" in row["note"]
    assert ledger.evaluate({"m": INSIDE, "control_m": OUTSIDE, "learned": guard(True)}).loc[0, "verdict"] == REPRODUCED
    with pytest.raises(LedgerError, match="guard"):
        ledger.evaluate({"m": INSIDE, "control_m": OUTSIDE, "learned": "yes"})


def test_too_few_replicates_are_not_testable_at_book_but_exact_claims_need_none():
    ledger = Ledger("demo", [claim("a", "x"), claim("b", "y", controls=(), exact=True)], profile="book")
    table = ledger.evaluate({"x": [0.9, 0.91], "y": exact(0.7), "control_m": OUTSIDE})
    assert table.loc[0, "verdict"] == NOT_TESTABLE and "fewer than the 3" in table.loc[0, "note"]
    assert table.loc[1, "verdict"] == REPRODUCED
    assert Ledger("demo", [claim(controls=(), exact=True)]).evaluate({"m": exact(0.2)}).loc[0, "verdict"] \
        == NOT_REPRODUCED


def test_missing_code_is_not_implemented_and_missing_metrics_are_an_error():
    ledger = Ledger("demo", [claim("a", "x", implemented=False, why_not_implemented="needs the real data"),
                             claim("b", "y")])
    table = ledger.evaluate({"y": INSIDE, "control_m": OUTSIDE})
    assert table.loc[0, "verdict"] == NOT_IMPLEMENTED
    assert table.loc[0, "note"] == "needs the real data"
    with pytest.raises(LedgerError, match=r"results lack \['y'\]"):
        ledger.evaluate({"control_m": OUTSIDE})
    with pytest.raises(LedgerError, match="why_not_implemented"):
        claim(implemented=False)


def test_claims_outside_their_profiles_are_not_testable():
    ledger = Ledger("demo", [claim(testable_in=("book", "paper"), why_untestable="too few seeds")], profile="smoke")
    row = ledger.evaluate({}).iloc[0]
    assert row["verdict"] == NOT_TESTABLE
    assert row["note"] == "too few seeds"


def test_non_finite_values_are_not_testable():
    ledger = Ledger("demo", [claim()])
    row = ledger.evaluate({"m": [float("nan")] * 3, "control_m": OUTSIDE}).iloc[0]
    assert row["verdict"] == NOT_TESTABLE and "no finite value" in row["note"]


def test_claim_definitions_are_validated():
    with pytest.raises(LedgerError, match="needs at least one Control"):
        claim(controls=())
    with pytest.raises(LedgerError, match="evidence must be one of"):
        claim(evidence="toy")
    with pytest.raises(TypeError):
        claim(controls=Control("x", "y"))
    with pytest.raises(TypeError):
        Claim("a", "s", paper="", source="", metric="m", rule=0.5, evidence=MINIATURE, exact=True)
    with pytest.raises(LedgerError, match="duplicate"):
        Ledger("demo", [claim("a"), claim("a")])
    with pytest.raises(LedgerError, match="duplicate"):
        Ledger("demo", [claim("a")], checks=[Check("a", "s", "m")])


def test_checks_are_listed_apart():
    ledger = Ledger("demo", [claim()], checks=[Check("k1", "sparsity is exact", "sparsity_exact"),
                                               Check("k2", "density", "density", AtMost(0.31))])
    ledger.evaluate({"m": INSIDE, "control_m": OUTSIDE, "sparsity_exact": True, "density": 0.33})
    assert list(ledger.checks_table["status"]) == ["passed", "failed"]
    assert "k1" not in set(ledger.table["claim"])
    with pytest.raises(LedgerError, match="must be a bool"):
        ledger.evaluate({"m": INSIDE, "control_m": OUTSIDE, "sparsity_exact": 1.0, "density": 0.3})


def test_summary_and_sentences_come_from_the_table():
    ledger = Ledger("demo", [claim("a", "x"), claim("b", "y", evidence=STAND_IN),
                             claim("c", "z", evidence=PAPER_SETTING, controls=(), implemented=False,
                                   why_not_implemented="no data")])
    ledger.evaluate({"x": INSIDE, "y": OUTSIDE, "control_m": OUTSIDE})
    summary = ledger.summary()
    assert "1 claim at miniature evidence (1 reproduced)" in summary
    assert "1 claim at stand-in evidence (1 not reproduced)" in summary
    assert "1 claim at paper setting evidence (1 not implemented)" in summary
    assert "2 of 3 claims name a control" in summary
    assert "rest on 5 replicates" in summary
    sentence = ledger.sentence("a")
    assert sentence.startswith("**a** (miniature): ours 0.704 [")
    assert "control (random) 0.104" in sentence and sentence.endswith("**reproduced**.")
    assert "not implemented" in ledger.sentence("c")
    assert ledger.counts()[REPRODUCED] == 1


def test_ledger_round_trips_through_json(tmp_path):
    ledger = Ledger("demo", [claim("a", "x"), claim("b", "missing", testable_in=("paper",))], profile="book",
                    checks=[Check("k", "exact sparsity", "exact_sparsity")])
    ledger.evaluate({"x": INSIDE, "control_m": OUTSIDE, "exact_sparsity": True})
    path = ledger.write(tmp_path)
    assert path.name == "demo.claims.json"
    payload = read_ledger(path)
    assert payload["profile"] == "book"
    assert [row["verdict"] for row in payload["claims"]] == [REPRODUCED, NOT_TESTABLE]
    assert payload["claims"][0]["n"] == 5 and payload["claims"][0]["evidence"] == MINIATURE
    assert payload["claims"][1]["ours"] is None
    assert payload["checks"][0]["status"] == "passed"
    assert payload["counts"][REPRODUCED] == 1
    raw = json.loads(path.read_text())
    assert not any(isinstance(v, float) and math.isnan(v) for row in raw["claims"] for v in row.values())
    html = ledger.display_table().to_html()
    assert "reproduced" in html and "random: 0.104" in html
    assert ledger.display_checks().to_html()


def test_old_ledger_files_are_refused(tmp_path):
    path = tmp_path / "old.claims.json"
    path.write_text(json.dumps({"slug": "old", "claims": [{"claim": "a", "verdict": "reproduced"}]}))
    with pytest.raises(ValueError, match="evidence level"):
        read_ledger(path)


def test_format_estimate():
    assert format_estimate(None) == "—"
    assert format_estimate(exact(2.0)) == "2 (exact)"
    assert "no interval" in format_estimate(as_estimate(0.5))
    assert format_estimate(Estimate.given(0.5, 0.4, 0.6, 10, "cluster bootstrap")) == "0.5 [0.4, 0.6], n = 10"
    with pytest.raises(LedgerError):
        Estimate(0.9, 0.1, 0.2, 3, "t")


def test_typed_result_prose_flags_verdicts_and_numbers_after_the_first_experiment(tmp_path):
    source = tmp_path / "chapter.md"
    source.write_text(textwrap.dedent("""\
        ---
        jupytext:
          text_representation:
            extension: .md
            format_name: myst
        kernelspec:
          name: python3
          display_name: Python 3
        ---
        # A chapter

        Before the ledger 0.93 is fine: the paper reports it.

        ```{code-cell} ipython3
        ledger = claims.Ledger("demo", [])
        ```

        The method uses `lr = 0.001` and $\\lambda = 0.5$ (see Section 4.2), ε = 0.05 on 160 × 120 frames.
        A 95 % interval is a method word.

        ```{code-cell} ipython3
        results = run()
        ```

        Our model reaches 0.87 accuracy, so the claim is reproduced.

        A 12 % drop and a 2.5× speed-up; `0.5` in code is fine, Table 3.1 too.
        """))
    problems = typed_result_prose(source)
    joined = "\n".join(problems)
    assert "'0.87'" in joined and "'reproduced'" in joined
    assert "'12 %'" in joined and "'2.5×'" in joined
    assert "0.001" not in joined and "'0.5'" not in joined and "'3.1'" not in joined and "0.93" not in joined
    assert len(problems) == 4


def test_summary_box_counts_verdicts_by_evidence_and_names_the_command():
    from reprobook.summary import summary_markdown

    ledger = Ledger("demo", [claim("a", "x"), claim("b", "y", evidence=STAND_IN)], headline=("a",))
    ledger.evaluate({"x": INSIDE, "y": OUTSIDE, "control_m": OUTSIDE})
    text = summary_markdown(ledger, wall_seconds=125.0)
    assert "| miniature | 1 | 0 | 0 | 0 | 0 |" in text
    assert "| stand-in | 0 | 1 | 0 | 0 | 0 |" in text
    assert "**a** (miniature)" in text and "**b**" not in text
    assert "2.1 min" in text and "python -m reprobook run demo --profile book --force" in text
    with pytest.raises(LedgerError, match="headline"):
        Ledger("demo", [claim("a")], headline=("zz",))


def test_summary_box_links_the_estimate_of_a_chapter_that_has_one(monkeypatch, tmp_path):
    from reprobook.summary import summary_markdown

    monkeypatch.setenv("REPROBOOK_DOWNLOADS_DIR", str(tmp_path))
    for slug, has_probe in (("wsep", True), ("demo", False)):
        monkeypatch.setenv("REPROBOOK_CHAPTER", slug)
        ledger = Ledger(slug, [claim("a", "x")])
        ledger.evaluate({"x": INSIDE, "control_m": OUTSIDE})
        text = summary_markdown(ledger, wall_seconds=1.0)
        assert (f'href="../data/{slug}/estimate-paper.json"' in text) is has_probe


def test_run_time_notes_reach_their_claims_whatever_the_verdict():
    ledger = Ledger("demo", [claim("c1"), claim("c2", guards=("learned",))], profile="book")
    table = ledger.evaluate({"m": INSIDE, "control_m": OUTSIDE, "learned": guard(False, "flat curve")},
                            notes={"c1": "3 languages dropped by the budget", "c2": "cut at 600 s"})
    notes = dict(zip(table["claim"], table["note"], strict=True))
    assert notes["c1"] == "3 languages dropped by the budget"
    assert "flat curve" in notes["c2"] and notes["c2"].endswith("cut at 600 s")
    assert dict(zip(table["claim"], table["verdict"], strict=True)) == {"c1": REPRODUCED, "c2": NOT_TESTABLE}
    with pytest.raises(LedgerError, match="unknown claims"):
        ledger.evaluate({"m": INSIDE, "control_m": OUTSIDE, "learned": True}, notes={"c9": "x"})

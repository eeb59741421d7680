import json
import math

import pytest

from reprobook.claims import (
    NOT_REPRODUCED,
    NOT_TESTABLE,
    REPRODUCED,
    AtLeast,
    AtMost,
    Between,
    Claim,
    Ledger,
    Within,
    read_ledger,
)


def claim(claim_id="c1", metric="m", rule=None, **kwargs):
    return Claim(claim_id, "statement", paper="0.9", source="Table 1", metric=metric,
                 rule=rule or AtLeast(0.5), **kwargs)


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (AtLeast(0.5), 0.5, True), (AtLeast(0.5), 0.49, False),
        (AtMost(0.1), 0.1, True), (AtMost(0.1), 0.2, False),
        (Between(0.2, 0.4), 0.3, True), (Between(0.2, 0.4), 0.41, False),
        (Within(0.22, 0.05), 0.26, True), (Within(0.22, 0.05), 0.30, False),
    ],
)
def test_rules(rule, value, expected):
    assert rule.holds(value) is expected
    assert rule.describe()


def test_rules_reject_impossible_bounds():
    with pytest.raises(ValueError):
        Between(1.0, 0.0)
    with pytest.raises(ValueError):
        Within(0.0, -1.0)


def test_verdicts_are_computed_from_results():
    ledger = Ledger("demo", [claim("a", "x"), claim("b", "y"), claim("c", "z"), claim("d", "w")])
    table = ledger.evaluate({"x": 0.7, "y": 0.1, "z": float("nan")})
    assert list(table["verdict"]) == [REPRODUCED, NOT_REPRODUCED, NOT_TESTABLE, NOT_TESTABLE]
    assert table.loc[0, "ours"] == pytest.approx(0.7)
    assert "no finite value" in table.loc[2, "note"]


def test_claims_outside_their_profiles_are_not_testable():
    ledger = Ledger("demo", [claim(testable_in=("book", "paper"), why_untestable="too few seeds")], profile="smoke")
    row = ledger.evaluate({"m": 0.99}).iloc[0]
    assert row["verdict"] == NOT_TESTABLE
    assert row["note"] == "too few seeds"


def test_duplicate_ids_and_bad_rules_are_rejected():
    with pytest.raises(ValueError, match="duplicate claim ids"):
        Ledger("demo", [claim("a"), claim("a")])
    with pytest.raises(TypeError):
        Claim("a", "s", paper="", source="", metric="m", rule=0.5)


def test_ledger_round_trips_through_json(tmp_path):
    ledger = Ledger("demo", [claim("a", "x"), claim("b", "missing")], profile="book")
    ledger.evaluate({"x": 0.6})
    path = ledger.write(tmp_path)
    assert path.name == "demo.claims.json"
    payload = read_ledger(path)
    assert payload["profile"] == "book"
    assert [row["verdict"] for row in payload["claims"]] == [REPRODUCED, NOT_TESTABLE]
    assert payload["claims"][1]["ours"] is None
    raw = json.loads(path.read_text())
    assert not any(isinstance(v, float) and math.isnan(v) for row in raw["claims"] for v in row.values())
    html = ledger.display_table().to_html()
    assert "reproduced" in html


def test_unknown_verdicts_in_a_file_are_rejected(tmp_path):
    path = tmp_path / "x.claims.json"
    path.write_text(json.dumps({"slug": "x", "claims": [{"claim": "a", "verdict": "probably"}]}))
    with pytest.raises(ValueError, match="unknown verdict"):
        read_ledger(path)


def test_writing_before_evaluating_is_an_error(tmp_path):
    with pytest.raises(RuntimeError):
        Ledger("demo", [claim()]).write(tmp_path)

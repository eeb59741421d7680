"""Recorded decisions: one shape for every chapter's record (fields, then its table)."""

import json

import pandas as pd
import pytest

from reprobook.records import read_record, write_record


def test_a_record_round_trips_with_its_table_last(tmp_path):
    path = tmp_path / "sweep.json"
    table = pd.DataFrame({"candidate": [0, 1], "learnt": [5, 6], "of": [6, 6]})
    written = write_record(path, {"rule": "first with every task learnt", "chosen": 1}, table)
    assert list(json.loads(path.read_text())) == ["rule", "chosen", "table"]
    assert written["table"] == table.to_dict(orient="records")
    record = read_record(path)
    pd.testing.assert_frame_equal(record["table"], table)
    assert record["chosen"] == 1


def test_a_record_without_a_table_and_a_missing_record(tmp_path):
    path = tmp_path / "rule.json"
    write_record(path, {"candidates": [{"steps": 10, "learnable": False}]})
    assert read_record(path) == {"candidates": [{"steps": 10, "learnable": False}]}
    assert read_record(tmp_path / "absent.json") is None
    with pytest.raises(ValueError, match="must not hold 'table'"):
        write_record(path, {"table": []}, pd.DataFrame({"a": [1]}))

"""The Performance page: benchmark records and chapter times rendered as tables and a figure."""

import time

from reprobook.benchmark import compare, write_record
from reprobook.performance import benchmark_rows, performance_markdown


def test_records_become_rows_with_status(tmp_path):
    result = compare({"reference": lambda: time.sleep(0.01), "ours": lambda: time.sleep(0.001)},
                     reference="reference", name="sleep", rounds=4, warmup=0, targets={"ours": 2.0}, unit="calls")
    write_record([result], "demo", quick=False, directory=tmp_path / "bench" / "records")
    from reprobook.benchmark import read_records

    (row,) = benchmark_rows(read_records(tmp_path / "bench" / "records"))
    assert row["candidate"] == "ours" and row["reference"] == "reference"
    assert row["ratio"] > 2 and row["met"] in ("met", "unclear")
    text = performance_markdown([], tmp_path)
    assert "| demo | sleep | ours | reference |" in text
    assert "```{raw} html" in text and "plotly-graph-div" in text


def test_no_records_says_how_to_make_them(tmp_path):
    assert "run `make bench`" in performance_markdown([], tmp_path)

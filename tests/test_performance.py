"""The Performance page: benchmark records and chapter times rendered as tables and a figure."""

import time

from reprobook.benchmark import compare, write_record
from reprobook.performance import benchmark_rows, performance_markdown


def test_records_become_rows_with_status(tmp_path):
    result = compare({"reference": lambda: time.sleep(0.05), "ours": lambda: time.sleep(0.01)},
                     reference="reference", name="sleep", rounds=4, warmup=0, targets={"ours": 2.0}, unit="calls")
    write_record([result], "demo", quick=False, directory=tmp_path / "bench" / "records")
    from reprobook.benchmark import read_records

    (row,) = benchmark_rows(read_records(tmp_path / "bench" / "records"))
    assert row["candidate"] == "ours" and row["reference"] == "reference"
    assert row["ratio"] > 2 and row["met"] in ("met", "unclear")
    text = performance_markdown([], tmp_path)
    assert "### demo" in text and "| sleep | **ours** vs reference | **" in text
    assert "≥ 2×: met" in text or "≥ 2×: unclear" in text
    assert "```{raw} html" in text and "plotly-graph-div" in text


def test_no_records_says_how_to_make_them(tmp_path):
    assert "run `make bench`" in performance_markdown([], tmp_path)


def test_paper_estimates_saved_by_chapters_are_tabled(tmp_path):
    import json
    from dataclasses import asdict

    from reprobook.estimate import Probe, project

    projection = project(Probe(units_done=100, wall_seconds=2.0, cpu_seconds=3.0, device="cpu", units_total=720_000,
                               cells=4, unit="steps", notes="measured on the smaller model"))
    folder = tmp_path / "book" / "_extra" / "data" / "meal"
    folder.mkdir(parents=True)
    record = {**{k: v for k, v in asdict(projection).items() if k != "probe"}, "probe": asdict(projection.probe)}
    (folder / "estimate-paper.json").write_text(json.dumps(record), encoding="utf-8")
    text = performance_markdown(["meal", "wsep"], tmp_path)
    assert "| meal | cpu | 50 steps/s | 4.0 h | 1.0 h (4 cells) | 6 | 0 |" in text
    assert "- **meal**: measured on the smaller model" in text
    assert "| wsep | — | no estimate saved by its last run |" in text


def _record(directory, slug, ours_seconds):
    # sleeps, not work: their length hardly depends on the machine's load
    result = compare({"reference": lambda: time.sleep(0.05), "ours": lambda: time.sleep(ours_seconds)},
                     reference="reference", name="sleep", rounds=9, warmup=0, unit="calls")
    write_record([result], slug, quick=False, directory=directory)


def test_two_runs_of_one_ratio_agree_and_a_changed_one_does_not(tmp_path):
    from reprobook.benchmark import compare_records, read_records, recorded_ratio

    _record(tmp_path / "before", "demo", 0.01)
    _record(tmp_path / "after", "demo", 0.01)
    _record(tmp_path / "changed", "demo", 0.1)
    (same,) = compare_records(read_records(tmp_path / "before"), read_records(tmp_path / "after"))
    assert same["agree"] is True and 2 < same["before"] < 6 and 2 < same["after"] < 6
    (changed,) = compare_records(read_records(tmp_path / "before"), read_records(tmp_path / "changed"))
    assert changed["agree"] is False and changed["after"] < 1 and changed["close"] is False
    assert compare_records(read_records(tmp_path / "before"), read_records(tmp_path / "after"),
                           tolerance=9.0)[0]["close"] is True
    (only,) = compare_records(read_records(tmp_path / "before"), [])
    assert only["agree"] is None and only["after"] is None and only["close"] is None
    recorded = recorded_ratio("demo", "sleep", "ours", directory=tmp_path / "before")
    assert recorded["ratio"] == same["before"] and recorded["low"] <= recorded["ratio"] <= recorded["high"]
    assert recorded_ratio("demo", "sleep", "other", directory=tmp_path / "before") is None
    assert recorded_ratio("absent", "sleep", "ours", directory=tmp_path / "before") is None
    from reprobook.benchmark import recorded_sentence

    sentence = recorded_sentence("demo", "sleep", "ours", directory=tmp_path / "before")
    assert sentence.startswith(f"`make bench` measured ours at {same['before']:.3g}× [") and "the speed of reference" in sentence


def test_bench_compare_command_prints_the_agreement(tmp_path, capsys):
    from reprobook.cli import main

    _record(tmp_path / "before", "demo", 0.01)
    _record(tmp_path / "after", "demo", 0.01)
    assert main(["bench-compare", str(tmp_path / "before"), str(tmp_path / "after")]) == 0
    assert "1 of 1 ratios measured in both runs agree" in capsys.readouterr().out
    assert main(["bench-compare", str(tmp_path / "before"), str(tmp_path / "missing")]) == 2


def test_records_folder_can_be_named_for_a_site_built_elsewhere(tmp_path, monkeypatch):
    _record(tmp_path / "records", "demo", 0.01)
    assert "run `make bench`" in performance_markdown([], tmp_path / "site")
    monkeypatch.setenv("REPROBOOK_BENCH_RECORDS", str(tmp_path / "records"))
    assert "### demo" in performance_markdown([], tmp_path / "site")

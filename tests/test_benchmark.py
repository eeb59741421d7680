"""The benchmark harness: interleaved rounds, ratios with intervals, CPU time of the process tree."""

import subprocess
import sys
import time

import pytest

from reprobook.benchmark import compare, read_records, tree_cpu_seconds, write_record


def test_candidates_run_interleaved_and_rotate():
    calls = []
    result = compare({"a": lambda: calls.append("a"), "b": lambda: calls.append("b"), "c": lambda: calls.append("c")},
                     reference="a", name="order", rounds=3, warmup=1)
    assert calls[:3] == ["a", "b", "c"]                      # warm-up
    assert calls[3:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert all(len(timing.wall) == 3 for timing in result.candidates.values())


def test_ratio_and_interval_reflect_a_real_speed_difference():
    result = compare({"slow": lambda: time.sleep(0.02), "fast": lambda: time.sleep(0.005)},
                     reference="slow", name="sleep", rounds=5, warmup=0, targets={"fast": 2.0})
    ratio = result.ratio("fast")
    assert 2.0 < ratio.value < 6.0 and ratio.low <= ratio.value <= ratio.high
    assert result.ratio("slow").value == pytest.approx(1.0)
    assert result.table().set_index("candidate").loc["fast", "met"] in ("yes", "unclear")


def test_tree_cpu_time_counts_child_processes():
    before = tree_cpu_seconds()
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    assert tree_cpu_seconds() - before > 0.05


def test_records_round_trip_and_quick_mode_writes_nothing(tmp_path):
    result = compare({"x": lambda: None, "y": lambda: None}, reference="x", name="noop", rounds=2, warmup=0)
    assert write_record([result], "demo", quick=True, directory=tmp_path) is None
    path = write_record([result], "demo", quick=False, directory=tmp_path)
    assert path.name == "demo.json"
    (record,) = read_records(tmp_path)
    assert record["comparisons"][0]["name"] == "noop"
    assert record["comparisons"][0]["machine_start"]["cores"] >= 1
    with pytest.raises(ValueError, match="reference"):
        compare({"x": lambda: None}, reference="z", name="bad")


def test_tree_cpu_time_keeps_grandchildren_their_live_parent_has_reaped():
    # a worker that runs an engine process, waits for it and stays alive (as a ViZDoom worker does):
    # the engine's CPU sits in the worker's children_* times, which the count must include
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    worker = ("import subprocess, sys, time\n"
              f"subprocess.run([sys.executable, '-c', {burn!r}], check=True)\n"
              "print('done', flush=True)\ntime.sleep(30)")
    before = tree_cpu_seconds()
    process = subprocess.Popen([sys.executable, "-c", worker], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "done"
        assert tree_cpu_seconds() - before > 0.5
    finally:
        process.kill()
        process.wait()

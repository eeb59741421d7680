"""Benchmarks that survive a noisy machine: candidates interleaved, ratios with intervals, CPU of the tree.

Every ``bench/<slug>.py`` times a hot path against the strongest available reference with
:func:`compare`: after a warm-up, the candidates run interleaved for a number of rounds (A B C, then
B C A, …), so load that comes and goes hits all of them alike; each call's wall time and the CPU
time of the whole process tree (children such as game engines or worker pools included) are kept.
The record reports medians, spreads and, per candidate, the speed ratio against the reference with
a bootstrap interval over rounds, plus the machine (cores, load average at start and end). Records
are written as JSON to ``bench/records/`` and rendered on the book's Performance page.

>>> import time
>>> result = compare({"reference": lambda: time.sleep(0.002), "ours": lambda: time.sleep(0.001)},
...                  reference="reference", rounds=3, warmup=0, name="demo", work=1, unit="call")
>>> sorted(result.candidates)
['ours', 'reference']
>>> result.ratio("ours").value > 1
True
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Timing", "Ratio", "BenchResult", "compare", "machine", "tree_cpu_seconds", "records_dir",
           "write_record", "read_records", "quick_mode", "record_ratios", "compare_records", "recorded_ratio",
           "recorded_sentence"]


def quick_mode() -> bool:
    """CI runs every benchmark briefly (``REPROBOOK_BENCH_QUICK=1`` or ``--quick``) to keep it working."""
    return os.environ.get("REPROBOOK_BENCH_QUICK", "") not in ("", "0") or "--quick" in sys.argv


def tree_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and every descendant, live or reaped.

    A finished process's time moves into its reaper's ``children_*`` times, so each live process adds its
    own time and its reaped children's: an engine a live worker has waited for is counted (a worker that
    runs ViZDoom's engine, say), and nothing is counted twice. Still lost: a process whose parent exits
    without waiting for it (it is re-parented outside the tree).
    """
    import psutil

    def own_and_reaped(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    me = psutil.Process()
    total = own_and_reaped(me)
    for child in me.children(recursive=True):
        try:
            total += own_and_reaped(child)
        except psutil.Error:
            continue
    return total


def machine() -> dict[str, Any]:
    """Cores, processor, memory, Python and load average: what a reader needs to weigh a time."""
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


@dataclass
class Timing:
    """One candidate's per-round wall and CPU seconds per call."""

    name: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.wall), max(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


@dataclass(frozen=True)
class Ratio:
    """How many times faster a candidate is than the reference (reference time / candidate time)."""

    value: float
    low: float
    high: float


@dataclass
class BenchResult:
    name: str
    reference: str
    candidates: dict[str, Timing]
    work: float
    unit: str
    machine_start: dict[str, Any]
    machine_end: dict[str, Any]
    started: str
    rounds: int
    notes: str = ""
    targets: dict[str, float] = field(default_factory=dict)

    def ratio(self, name: str, *, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0) -> Ratio:
        """Median over rounds of (reference / candidate) with a bootstrap interval over rounds."""
        reference = np.asarray(self.candidates[self.reference].wall)
        candidate = np.asarray(self.candidates[name].wall)
        per_round = reference / candidate
        value = float(np.median(per_round))
        if per_round.size < 2:
            return Ratio(value, -math.inf, math.inf)
        rng = np.random.default_rng(seed)
        draws = rng.choice(per_round, size=(n_resamples, per_round.size), replace=True)
        medians = np.median(draws, axis=1)
        tail = (1 - confidence) / 2
        return Ratio(value, float(np.quantile(medians, tail)), float(np.quantile(medians, 1 - tail)))

    def throughput(self, name: str) -> float:
        """Units of work per wall second at the median."""
        return self.work / self.candidates[name].median

    def table(self):
        import pandas as pd

        rows = []
        for name, timing in self.candidates.items():
            ratio = self.ratio(name)
            target = self.targets.get(name)
            rows.append({
                "candidate": name,
                "median s/call": timing.median,
                "min s": timing.spread[0],
                "max s": timing.spread[1],
                "CPU s/call (tree)": timing.cpu_median,
                f"{self.unit}/s": self.throughput(name),
                "× reference": ratio.value,
                "interval": f"[{ratio.low:.3g}, {ratio.high:.3g}]" if name != self.reference else "",
                "target": "" if target is None else f"≥ {target:g}×",
                "met": "" if target is None else ("yes" if ratio.low >= target else
                                                  ("no" if ratio.high < target else "unclear")),
            })
        return pd.DataFrame(rows)

    def to_record(self) -> dict[str, Any]:
        record = {key: value for key, value in asdict(self).items() if key != "candidates"}
        record["candidates"] = {}
        for name, timing in self.candidates.items():
            ratio = self.ratio(name)
            record["candidates"][name] = {
                "wall": timing.wall, "cpu": timing.cpu, "median": timing.median, "cpu_median": timing.cpu_median,
                "throughput": self.throughput(name), "ratio": ratio.value,
                "ratio_low": ratio.low if math.isfinite(ratio.low) else None,
                "ratio_high": ratio.high if math.isfinite(ratio.high) else None, "target": self.targets.get(name),
            }
        return record

    def report(self) -> str:
        lines = [f"== {self.name}: {self.work:g} {self.unit} per call, {self.rounds} interleaved rounds; "
                 f"load {self.machine_start.get('load_average')} → {self.machine_end.get('load_average')}"]
        lines.append(self.table().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        if self.notes:
            lines.append(self.notes)
        return "\n".join(lines)


def compare(candidates: Mapping[str, Callable[[], Any]], *, reference: str, name: str, work: float = 1.0,
            unit: str = "calls", rounds: int = 7, warmup: int = 1, targets: Mapping[str, float] | None = None,
            notes: str = "") -> BenchResult:
    """Time ``candidates`` interleaved for ``rounds`` rounds after ``warmup`` calls each.

    ``work`` is the units of work one call does (``unit``: observations, env steps, images…);
    ``targets`` maps a candidate to the speed ratio against ``reference`` it should reach.
    """
    if reference not in candidates:
        raise ValueError(f"reference {reference!r} is not among the candidates {sorted(candidates)}")
    if rounds < 1 or warmup < 0:
        raise ValueError(f"rounds must be >= 1 and warmup >= 0, got {rounds} and {warmup}")
    names = list(candidates)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    machine_start = machine()
    for _ in range(warmup):
        for candidate in names:
            candidates[candidate]()
    timings = {candidate: Timing(candidate) for candidate in names}
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for candidate in order:
            cpu_before, wall_before = tree_cpu_seconds(), time.perf_counter()
            candidates[candidate]()
            wall = time.perf_counter() - wall_before
            timings[candidate].wall.append(wall)
            timings[candidate].cpu.append(tree_cpu_seconds() - cpu_before)
    return BenchResult(name, reference, timings, float(work), unit, machine_start, machine(), started, rounds,
                       notes, dict(targets or {}))


def records_dir() -> Path:
    """``bench/records`` of the project (``REPROBOOK_BENCH_RECORDS`` overrides it)."""
    configured = os.environ.get("REPROBOOK_BENCH_RECORDS")
    if configured:
        return Path(configured)
    from reprobook.project import project_root

    return project_root() / "bench" / "records"


def write_record(results: list[BenchResult], slug: str, *, quick: bool | None = None,
                 directory: Path | None = None, announce: bool = True) -> Path | None:
    """Write ``<slug>.json`` with every comparison of a bench script, and say where (``announce``).

    A quick run (CI's check that the script still works) writes nothing: its few rounds are not a
    measurement, and the Performance page shows only full runs.
    """
    quick = quick_mode() if quick is None else quick
    if quick:
        if announce:
            print(f"quick mode: no record written for {slug} (run without --quick to record)")
        return None
    folder = directory or records_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.json"
    payload = {"slug": slug, "comparisons": [result.to_record() for result in results]}
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(payload, indent=1, default=float) + "\n", encoding="utf-8")
    os.replace(partial, path)
    if announce:
        print(f"record: {path}")
    return path


def read_records(directory: Path | None = None) -> list[dict[str, Any]]:
    folder = directory or records_dir()
    if not folder.is_dir():
        return []
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]


def record_ratios(records: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every recorded ratio keyed by (chapter, hot path, candidate), the reference left out."""
    ratios = {}
    for record in records:
        for comparison in record.get("comparisons", []):
            for name, candidate in comparison["candidates"].items():
                if name == comparison["reference"]:
                    continue
                ratios[(record["slug"], comparison["name"], name)] = {
                    "ratio": candidate["ratio"], "low": candidate.get("ratio_low"),
                    "high": candidate.get("ratio_high"), "reference": comparison["reference"],
                    "started": comparison["started"], "rounds": comparison["rounds"],
                    "load": (comparison["machine_start"].get("load_average") or [None])[0],
                    "machine": comparison["machine_start"], "unit": comparison["unit"],
                }
    return ratios


def compare_records(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]], *,
                    tolerance: float = 0.1) -> list[dict[str, Any]]:
    """Pair the ratios of two benchmark runs and say whether each pair agrees.

    Two measurements of one ratio agree when their 95 % intervals overlap (``agree``). The intervals
    come from the rounds of one run, so they do not cover what changes between runs (the machine's
    load, its caches and clock); ``close`` says whether the two ratios are within ``tolerance``
    (relative, 0.1 = 10 %) of each other, which is the practical question for a reader. A ratio
    present in only one run is listed with ``agree`` and ``close`` None (a comparison added or renamed
    between the runs).
    """
    if not 0 < tolerance < 10:
        raise ValueError(f"tolerance must be a relative difference in (0, 10), got {tolerance!r}")
    first, second = record_ratios(before), record_ratios(after)
    rows = []
    for key in list(first) + [key for key in second if key not in first]:
        old, new = first.get(key), second.get(key)
        agree = close = None
        if old is not None and new is not None:
            close = bool(max(old["ratio"], new["ratio"]) <= (1 + tolerance) * min(old["ratio"], new["ratio"]))
            if None in (old["low"], old["high"], new["low"], new["high"]):
                agree = None
            else:
                agree = bool(old["low"] <= new["high"] and new["low"] <= old["high"])
        rows.append({"chapter": key[0], "hot path": key[1], "candidate": key[2],
                     "before": None if old is None else old["ratio"],
                     "before interval": None if old is None else (old["low"], old["high"]),
                     "before load": None if old is None else old["load"],
                     "after": None if new is None else new["ratio"],
                     "after interval": None if new is None else (new["low"], new["high"]),
                     "after load": None if new is None else new["load"], "agree": agree, "close": close})
    return rows


def recorded_ratio(slug: str, hot_path: str, candidate: str, *,
                   directory: Path | None = None) -> dict[str, Any] | None:
    """The latest full ``make bench`` measurement of one ratio, or None when it has not been recorded.

    Chapters judge their speed claims on it, so a claim and the Performance page read the same
    interleaved measurement (see ``record_ratios`` for the fields).
    """
    folder = directory or records_dir()
    path = folder / f"{slug}.json"
    if not path.exists():
        return None
    return record_ratios([json.loads(path.read_text(encoding="utf-8"))]).get((slug, hot_path, candidate))


def recorded_sentence(slug: str, hot_path: str, candidate: str, *, directory: Path | None = None) -> str:
    """One sentence quoting the recorded ratio for a speed claim's note (or saying there is none).

    >>> recorded_sentence("nothing", "x", "y", directory=Path("/nonexistent"))
    "no `make bench` record of 'x' yet (python bench/nothing.py records it)"
    """
    found = recorded_ratio(slug, hot_path, candidate, directory=directory)
    if found is None:
        return f"no `make bench` record of {hot_path!r} yet (python bench/{slug}.py records it)"
    interval = ("" if found["low"] is None or found["high"] is None
                else f" [{found['low']:.3g}, {found['high']:.3g}]")
    load = "" if found["load"] is None else f", load {found['load']:.1f}"
    machine = found["machine"]
    return (f"`make bench` measured {candidate} at {found['ratio']:.3g}×{interval} the speed of {found['reference']} "
            f"({found['rounds']} interleaved rounds, {found['started'][:10]}, {machine.get('cores')} cores "
            f"{machine.get('cpu')}{load})")

"""The Performance page: the latest benchmark records and each chapter's run time against its budget.

Generated at build time from ``bench/records/*.json`` (written by ``make bench``) and from the
runner's record in each executed chapter. Every ratio is the candidate's speed against the
reference measured in the same interleaved run, with a bootstrap interval over rounds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reprobook.benchmark import read_records
from reprobook.estimate import format_hours
from reprobook.project import CHAPTERS

__all__ = ["BUDGET_SECONDS", "benchmark_rows", "chapter_time_rows", "estimate_rows", "performance_markdown",
           "write_performance"]

#: Wall-clock budget per chapter and profile on 2 CPU cores.
BUDGET_SECONDS = {"smoke": 60, "book": 600}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def benchmark_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        for comparison in record.get("comparisons", []):
            reference = comparison["reference"]
            for name, candidate in comparison["candidates"].items():
                if name == reference:
                    continue
                low, high, target = candidate.get("ratio_low"), candidate.get("ratio_high"), candidate.get("target")
                if target is None:
                    met = "—"
                elif low is not None and low >= target:
                    met = "met"
                elif high is not None and high < target:
                    met = "not met"
                else:
                    met = "unclear"
                rows.append({
                    "chapter": record["slug"], "hot path": comparison["name"], "candidate": name,
                    "reference": reference, "ratio": candidate["ratio"], "low": low, "high": high,
                    "target": target, "met": met, "unit": comparison["unit"],
                    "throughput": candidate["throughput"], "rounds": comparison["rounds"],
                    "date": comparison["started"], "cores": comparison["machine_start"].get("cores"),
                    "cpu": comparison["machine_start"].get("cpu"),
                    "load": (comparison["machine_start"].get("load_average") or [None])[0],
                })
    return rows


def chapter_time_rows(slugs: Sequence[str], root: Path) -> list[dict[str, Any]]:
    from reprobook.run import executed_metadata

    rows = []
    for chapter in CHAPTERS:
        if chapter.slug not in slugs:
            continue
        meta = executed_metadata(chapter.slug, root) or {}
        profile = meta.get("profile")
        rows.append({"chapter": chapter.slug, "profile": profile, "wall": meta.get("seconds"),
                     "cpu": meta.get("cpu_seconds"), "load": meta.get("load_average"),
                     "budget": BUDGET_SECONDS.get(profile or ""), "finished": meta.get("finished"),
                     "status": meta.get("status")})
    return rows


def estimate_rows(slugs: Sequence[str], root: Path, profile: str = "paper") -> list[dict[str, Any]]:
    """Each chapter's cost estimate for ``profile``, as its last run measured and saved it."""
    import json

    rows = []
    for chapter in CHAPTERS:
        if chapter.slug not in slugs:
            continue
        path = root / "book" / "_extra" / "data" / chapter.slug / f"estimate-{profile}.json"
        if not path.exists():
            rows.append({"chapter": chapter.slug, "estimate": None})
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        probe = record.get("probe", {})
        rows.append({"chapter": chapter.slug, "estimate": record, "device": probe.get("device"),
                     "unit": probe.get("unit"), "rate": record.get("units_per_second"),
                     "wall_hours": record.get("wall_hours_serial"), "cpu_hours": record.get("cpu_hours"),
                     "gpu_hours": record.get("gpu_hours"), "parallel_hours": record.get("wall_hours_parallel"),
                     "cells": probe.get("cells"), "notes": probe.get("notes", "")})
    return rows


def _figure_html(rows: list[dict[str, Any]]) -> str:
    import plotly.graph_objects as go
    import plotly.io as pio

    labels = [f"{row['chapter']}: {row['hot path']} — {row['candidate']}" for row in rows]
    error_plus = [(row["high"] - row["ratio"]) if row["high"] is not None else 0 for row in rows]
    error_minus = [(row["ratio"] - row["low"]) if row["low"] is not None else 0 for row in rows]
    figure = go.Figure(go.Bar(
        x=[row["ratio"] for row in rows], y=labels, orientation="h",
        error_x={"type": "data", "array": error_plus, "arrayminus": error_minus},
        marker_color=["#009E73" if row["met"] == "met" else "#D55E00" if row["met"] == "not met" else "#0072B2"
                      for row in rows]))
    figure.add_vline(x=1.0, line_dash="dot")
    figure.update_layout(title="Speed against the reference (× faster, 95 % interval over rounds)",
                         xaxis_type="log", xaxis_title="× reference (log scale)", height=120 + 28 * len(rows),
                         margin={"l": 20, "r": 20, "t": 60, "b": 40}, yaxis={"automargin": True},
                         template="plotly_white")
    from reprobook.plotting import fit_title

    figure = go.Figure(fit_title(figure.to_plotly_json()))
    return pio.to_html(figure, include_plotlyjs=False, include_mathjax=False, full_html=False,
                       config={"responsive": True, "displaylogo": False}, default_width="100%")


def performance_markdown(slugs: Sequence[str], root: Path) -> str:
    configured = os.environ.get("REPROBOOK_BENCH_RECORDS")  # a site built outside the checkout reads its records
    records = read_records(Path(configured) if configured else root / "bench" / "records")
    rows = benchmark_rows(records)
    lines = ["# Performance", "",
             "Each hot path of the library is timed against the strongest reference available here (an",
             "established package, or a plain numpy/pandas/torch formulation), interleaved round by round so",
             "that load hits both alike. A ratio above 1 means ours is faster. Records come from",
             "`make bench`; the machine and date of each are listed.", ""]
    if rows:
        dates = sorted({row["date"] for row in rows})
        machines = sorted({f"{row['cores']} cores, {row['cpu']}" for row in rows})
        lines += ["## Hot paths against their references", "",
                  f"Measured {dates[0][:16].replace('T', ' ')} to {dates[-1][:16].replace('T', ' ')} UTC on "
                  f"{'; '.join(machines)}. Status: *met* when the interval's lower end reaches the target, "
                  "*not met* when its upper end is below it. The load is the machine's 1-minute load average "
                  "when the comparison started.", "",
                  "```{raw} html", _figure_html(rows), "```", ""]
        for slug in dict.fromkeys(row["chapter"] for row in rows):
            lines += [f"### {slug}", "",
                      "| hot path | ours vs reference | × reference [95 % interval] | target | throughput, load |",
                      "|---|---|---|---|---|"]
            for row in (row for row in rows if row["chapter"] == slug):
                interval = (f" [{row['low']:.3g}, {row['high']:.3g}]"
                            if row["low"] is not None and row["high"] is not None else "")
                target = "—" if row["target"] is None else f"≥ {row['target']:g}×: {row['met']}"
                load = "" if row["load"] is None else f", load {row['load']:.1f}"
                lines.append(f"| {_cell(row['hot path'])} | **{_cell(row['candidate'])}** vs "
                             f"{_cell(row['reference'])} | **{row['ratio']:.3g}**{interval} | {target} | "
                             f"{row['throughput']:.4g} {_cell(row['unit'])}/s{load} |")
            lines.append("")
    else:
        lines += ["No benchmark records yet: run `make bench`.", ""]
    times = chapter_time_rows(slugs, root)
    lines += ["## Chapter run times", "",
              "Wall and CPU time of each chapter's last run at the profile this book was built with, against",
              "the budget for that profile on 2 cores (a chapter served from the experiment cache takes",
              "seconds).", "", "| chapter | profile | wall | CPU | budget | within budget | load | finished |",
              "|---|---|---|---|---|---|---|---|"]
    for row in times:
        wall = "—" if row["wall"] is None else f"{row['wall']:.0f} s"
        cpu = "—" if row["cpu"] is None else f"{row['cpu']:.0f} s"
        budget = "—" if row["budget"] is None else f"{row['budget']} s"
        within = "—" if row["wall"] is None or row["budget"] is None else ("yes" if row["wall"] <= row["budget"]
                                                                         else "no")
        load = row["load"]
        load_text = "—" if load is None else (f"{load[0]:.2f}" if isinstance(load, list) else f"{load:.2f}")
        lines.append(f"| {row['chapter']} | {row['profile'] or '—'} | {wall} | {cpu} | {budget} | {within} | "
                     f"{load_text} | {str(row['finished'] or '—')[:16].replace('T', ' ')} |")
    estimates = estimate_rows(slugs, root)
    lines += ["", "## What the paper profile would cost", "",
              "Each chapter's last run probed a short slice of its `paper` configuration on the machine that",
              "built this book and projected the whole profile (`python -m reprobook estimate CHAPTER --profile",
              "paper` repeats it on yours). Serial wall time is on this machine's device; independent cells",
              "spread over as many workers divide it.", "",
              "| chapter | device | measured rate | wall, serial | wall, cells in parallel | CPU-hours | GPU-hours |",
              "|---|---|---|---|---|---|---|"]
    for row in estimates:
        if row["estimate"] is None:
            lines.append(f"| {row['chapter']} | — | no estimate saved by its last run | — | — | — | — |")
            continue
        lines.append(f"| {row['chapter']} | {_cell(row['device'])} | {row['rate']:.4g} {_cell(row['unit'])}/s | "
                     f"{format_hours(row['wall_hours'])} | {format_hours(row['parallel_hours'])} ({row['cells']} cells) | "
                     f"{row['cpu_hours']:.3g} | {row['gpu_hours']:.3g} |")
    notes = [row for row in estimates if row["estimate"] is not None and row["notes"]]
    if notes:
        lines += ["", "What each probe measured, and what it leaves out:", ""]
        lines += [f"- **{row['chapter']}**: {row['notes']}" for row in notes]
    return "\n".join(lines) + "\n"


def write_performance(slugs: Sequence[str], root: Path) -> Path:
    path = root / "book" / "performance.md"
    path.write_text(performance_markdown(slugs, root), encoding="utf-8")
    return path

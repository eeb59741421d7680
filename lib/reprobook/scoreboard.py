"""The scoreboard page: every chapter's ledger, verdict × evidence counts, controls and replicates.

Generated at build time from the ``<slug>.claims.json`` files the chapters write; its headline
sentence is computed, and counts only claims measured at ``paper setting`` or ``miniature``
evidence (a stand-in teaches the mechanism; it does not reproduce the paper).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reprobook.claims import (
    EVIDENCE_LEVELS,
    INCONCLUSIVE,
    MINIATURE,
    NOT_IMPLEMENTED,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    PAPER_SETTING,
    REPRODUCED,
    VERDICTS,
    read_ledger,
    verdict_counts,
)
from reprobook.project import CHAPTERS

__all__ = ["ledger_path", "chapter_row", "headline", "scoreboard_markdown", "write_scoreboard"]

SHORT = {REPRODUCED: "R", NOT_REPRODUCED: "NR", INCONCLUSIVE: "I", NOT_TESTABLE: "NT", NOT_IMPLEMENTED: "NI"}


def ledger_path(slug: str, root: Path) -> Path:
    return root / "book" / "chapters" / f"{slug}.claims.json"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _compact(counts: Mapping[str, int]) -> str:
    shown = [f"{count} {SHORT[verdict]}" for verdict, count in counts.items() if count]
    return " · ".join(shown) if shown else "—"


def chapter_row(ledger: Mapping[str, Any]) -> dict[str, Any]:
    """Per chapter: verdict counts per evidence level, claims with a control, replicate counts."""
    rows = ledger.get("claims", [])
    by_level = {level: verdict_counts(r for r in rows if r.get("evidence") == level) for level in EVIDENCE_LEVELS}
    replicates = sorted(int(r["n"]) for r in rows
                        if r.get("n") and not r.get("exact") and r["verdict"] in (REPRODUCED, NOT_REPRODUCED,
                                                                                    INCONCLUSIVE))
    checks = ledger.get("checks", [])
    return {
        "claims": len(rows),
        "by_level": by_level,
        "total": verdict_counts(rows),
        "with_control": sum(1 for r in rows if r.get("control")),
        "replicates": replicates,
        "checks": len(checks),
        "checks_passed": sum(1 for c in checks if c.get("status") == "passed"),
    }


def headline(ledgers: Sequence[Mapping[str, Any]]) -> str:
    """The computed headline: verdicts of claims at paper-setting or miniature evidence."""
    rows = [row for ledger in ledgers for row in ledger.get("claims", [])]
    counted = [row for row in rows if row.get("evidence") in (PAPER_SETTING, MINIATURE)]
    counts = verdict_counts(counted)
    stand_ins = len(rows) - len(counted)
    listed = ", ".join(f"{count} {verdict}" for verdict, count in counts.items() if count) or "none judged"
    return (f"Across {len(ledgers)} chapters, {len(counted)} claims were measured on the paper's setting or a "
            f"miniature of it: {listed}. A further {stand_ins} claims were measured on stand-in tasks built to "
            "show a mechanism; they teach, and are not counted as reproductions.")


def scoreboard_markdown(slugs: Sequence[str], root: Path) -> str:
    from reprobook.run import executed_metadata

    lines = [
        "# Scoreboard",
        "",
        "Every paper's headline claims and whether our run reproduces them. Each verdict is computed by",
        "the chapter's code from per-replicate results: `reproduced` only when the whole 95 % interval",
        "satisfies the claim's rule and the claim's *control* (a method without the claimed property,",
        "measured in the same run) fails it; `inconclusive` when the interval straddles the rule or the",
        "control is not excluded. See {doc}`intro` for the profiles and the evidence levels.",
        "",
    ]
    ledgers = []
    table = ["| part | chapter | profile | claims | paper setting | miniature | stand-in | with control | "
             "replicates | checks |", "|---|---|---|---|---|---|---|---|---|---|"]
    details: list[str] = []
    for chapter in CHAPTERS:
        if chapter.slug not in slugs:
            table.append(f"| {chapter.part} | {_cell(chapter.title)} | — | — | — | — | — | — | — | not yet written |")
            continue
        path = ledger_path(chapter.slug, root)
        title = f"{{doc}}`{_cell(chapter.title)} <chapters/{chapter.slug}>`"
        meta = executed_metadata(chapter.slug, root) or {}
        if not path.exists():
            table.append(f"| {chapter.part} | {title} | {meta.get('profile', '—')} | no ledger written "
                         "| — | — | — | — | — | — |")
            continue
        ledger = read_ledger(path)
        ledgers.append(ledger)
        row = chapter_row(ledger)
        replicates = row["replicates"]
        spread = "—" if not replicates else (f"{replicates[0]}" if replicates[0] == replicates[-1]
                                             else f"{replicates[0]}–{replicates[-1]}")
        table.append(
            f"| {chapter.part} | {title} | {ledger.get('profile', '?')} | {row['claims']} | "
            + " | ".join(_compact(row["by_level"][level]) for level in EVIDENCE_LEVELS)
            + f" | {row['with_control']} of {row['claims']} | {spread} | {row['checks_passed']} of {row['checks']} "
            "passed |")
        details += ["", f"## {chapter.title}", "", ledger.get("summary", ""), "",
                    "| claim | verdict | evidence | ours [95 % interval] | n | control | paper | statement |",
                    "|---|---|---|---|---|---|---|---|"]
        for claim in ledger["claims"]:
            details.append(
                f"| {_cell(claim['claim'])} | **{claim['verdict']}** | {claim['evidence']} | {_interval(claim)} | "
                f"{claim.get('n') or '—'} | {_cell(_control(claim))} | {_cell(claim['paper'])} | "
                f"{_cell(claim['statement'])} |")
    totals = verdict_counts(r for ledger in ledgers for r in ledger.get("claims", []))
    lines += [headline(ledgers), "", "Verdict codes: " + ", ".join(f"{SHORT[v]} = {v}" for v in VERDICTS) + ".",
              "", *table, "",
              "All chapters together: " + ", ".join(f"{count} {verdict}" for verdict, count in totals.items()) + "."]
    return "\n".join(lines + details) + "\n"


def _interval(claim: Mapping[str, Any]) -> str:
    if claim.get("ours") is None:
        return "—"
    text = f"{claim['ours']:.3g}"
    if claim.get("exact"):
        return text + " (exact)"
    if claim.get("low") is not None and claim.get("high") is not None:
        text += f" [{claim['low']:.3g}, {claim['high']:.3g}]"
    return text


def _control(claim: Mapping[str, Any]) -> str:
    if not claim.get("control"):
        return "exact" if claim.get("exact") else "—"
    value = claim.get("control_value")
    if value is None:
        return f"{claim['control']}: —"
    text = f"{claim['control']}: {value:.3g}"
    if claim.get("control_low") is not None and claim.get("control_high") is not None:
        text += f" [{claim['control_low']:.3g}, {claim['control_high']:.3g}]"
    return text


def write_scoreboard(slugs: Sequence[str], root: Path) -> Path:
    path = root / "book" / "scoreboard.md"
    path.write_text(scoreboard_markdown(slugs, root), encoding="utf-8")
    return path


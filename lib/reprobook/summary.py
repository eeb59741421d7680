"""The summary box at the top of a chapter: verdicts by evidence level, headline numbers, the run.

It is computed from the evaluated ledger when the chapter writes it (:meth:`Ledger.write` glues it
under the key ``chapter-summary``) and shown at the top of the page by a ``{glue:md}`` directive,
so a rerun updates it while the notebook still reads top to bottom.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reprobook.claims import EVIDENCE_LEVELS, MINIATURE, PAPER_SETTING, verdict_counts

if TYPE_CHECKING:  # pragma: no cover
    from reprobook.claims import Ledger

__all__ = ["GLUE_KEY", "summary_markdown", "kernel_wall_seconds", "glue_summary"]

GLUE_KEY = "chapter-summary"


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def summary_markdown(ledger: Ledger, *, wall_seconds: float | None = None,
                     headline: Sequence[str] | None = None) -> str:
    """Markdown for the summary box: verdict counts per evidence level, headline claims, the run.

    ``headline`` names the claims to quote (default: the first two judged at paper-setting or
    miniature evidence, else the first two).
    """
    table = ledger._require_table()
    rows = table.to_dict(orient="records")
    lines = [f"**Verdicts at the `{ledger.profile}` profile.**", "",
             "| evidence | " + " | ".join(verdict_counts([]).keys()) + " |",
             "|---|" + "---|" * len(verdict_counts([]))]
    for level in EVIDENCE_LEVELS:
        level_rows = [row for row in rows if row["evidence"] == level]
        if level_rows:
            counts = verdict_counts(level_rows)
            lines.append(f"| {level} | " + " | ".join(str(count) for count in counts.values()) + " |")
    if headline is None:
        strong = [row["claim"] for row in rows if row["evidence"] in (PAPER_SETTING, MINIATURE)
                  and row["verdict"] in ("reproduced", "not reproduced", "inconclusive")]
        headline = (strong or [row["claim"] for row in rows])[:2]
    if headline:
        lines += ["", "**Headline claims** (paper's number, then ours):", ""]
        for claim_id in headline:
            claim = next(c for c in ledger.claims if c.id == claim_id)
            lines.append(f"- {claim.statement} Paper: {claim.paper} ({claim.source}). "
                         + ledger.sentence(claim_id))
    lines += ["", f"Run: `{ledger.profile}` profile, {_duration(wall_seconds)} of wall time for this page's "
              "execution. Reproduce it with "
              f"`python -m reprobook run {ledger.slug} --profile {ledger.profile} --force`."]
    from reprobook.downloads import current_chapter, links_markdown

    if current_chapter() == ledger.slug:
        links = links_markdown(ledger.slug)
        if links:
            lines += ["", links]
        if _has_estimate(ledger.slug):
            # written by the page's estimate cell, which runs after the ledger; published with the rest
            lines += ["", "Cost of the `paper` profile: projected at the end of this page from a timed slice "
                      f'(<a href="../data/{ledger.slug}/estimate-paper.json" download>estimate-paper.json</a>).']
    return "\n".join(lines)


def _has_estimate(slug: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(f"reprobook.{slug}.estimate") is not None
    except ModuleNotFoundError:
        return False


def kernel_wall_seconds() -> float | None:
    """Seconds since this process (the notebook's kernel) started."""
    try:
        import psutil

        return time.time() - psutil.Process(os.getpid()).create_time()
    except Exception:  # noqa: BLE001 - best effort: the summary then says "unknown"
        return None


def glue_summary(ledger: Ledger, *, headline: Sequence[str] | None = None) -> str:
    """Glue the summary box into the running notebook (a no-op outside a kernel); return its text."""
    text = summary_markdown(ledger, wall_seconds=kernel_wall_seconds(), headline=headline)
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
        shell = None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import Markdown
        from myst_nb import glue

        glue(GLUE_KEY, Markdown(text), display=False)
    return text

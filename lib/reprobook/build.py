"""Build the book: offline assets, the table of contents, the scoreboard, then jupyter-book.

Only chapters whose source exists in ``notebooks/`` enter the table of contents; the scoreboard
lists all ten papers with their claims' verdicts and says which chapters are not yet written.
The whole book needs every chapter run; ``build_book(slugs=[...])`` builds a preview of the named
chapters alone (into ``_build/preview``), with every other chapter listed as not run yet.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import yaml

from reprobook.performance import write_performance
from reprobook.project import CHAPTERS, PARTS, chapter_info, project_root
from reprobook.run import RunError, available_chapters, chapter_state, executed_path, failed_path
from reprobook.scoreboard import write_scoreboard

__all__ = ["copy_assets", "write_toc", "write_scoreboard", "build_book", "html_dir", "BuildError"]

#: Where the stand-in pages of the chapters left out of a preview are written (git-ignored).
PREVIEW_STUBS = Path("book") / "chapters" / "not-run"


class BuildError(RuntimeError):
    """The book cannot be built (a chapter has not run, or has failed)."""


BOOK_CSS = """\
/* reprobook: readable pandas tables and claims ledgers */
.cell_output table.dataframe, .cell_output table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0;
  display: block; overflow-x: auto; max-width: 100%; }
.cell_output table td { vertical-align: top; }
.cell_output table th, .cell_output table td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
.cell_output table thead th { border-bottom: 2px solid #999; }
.cell_output .plotly-graph-div { margin: 0.5em 0; }
/* code that fits: long lines wrap inside the column instead of being cut at its edge */
div.cell_input pre, div.highlight pre, .cell_output pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.cell_output { overflow-x: auto; max-width: 100%; }
.figure-data { font-size: 0.8em; text-align: right; margin: -0.3em 0 0.8em; }
.chapter-summary table { font-size: 0.85em; }
"""


def copy_assets(root: Path | None = None) -> Path:
    """Copy plotly.min.js and MathJax (from installed packages) into ``book/_assets``."""
    import mathjax
    import plotly

    root = root or project_root()
    target = root / "book" / "_assets"
    target.mkdir(parents=True, exist_ok=True)
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not (target / "plotly.min.js").exists() or (target / "plotly.min.js").stat().st_size != plotly_js.stat().st_size:
        shutil.copy2(plotly_js, target / "plotly.min.js")
    (target / "book.css").write_text(BOOK_CSS, encoding="utf-8")
    es5 = next(path.parent for path in sorted(Path(mathjax.__file__).parent.rglob("es5/tex-mml-chtml.js")))
    destination = target / "mathjax"
    if not (destination / "tex-mml-chtml.js").exists():
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copy2(es5 / "tex-mml-chtml.js", destination / "tex-mml-chtml.js")
        for folder in ("input", "output", "ui", "a11y", "sre", "adaptors"):
            if (es5 / folder).is_dir():
                shutil.copytree(es5 / folder, destination / folder, dirs_exist_ok=True)
    return target


def _chapters_in_book(root: Path, log: Any = None) -> list[str]:
    """Every chapter present, each of which must have run successfully; stale ones are reported."""
    slugs = available_chapters(root)
    problems = []
    for slug in slugs:
        state = chapter_state(slug, root)
        if state.status == "never run":
            problems.append(f"{slug}: not run yet (python -m reprobook run {slug})")
        elif state.status == "failed":
            problems.append(f"{slug}: its last run failed; see {failed_path(slug, root)}")
        elif state.status == "stale" and log is not None:
            print(f"warning: {slug} is {state.describe()}; the book shows that run", file=log)
    if problems:
        ran = [slug for slug in slugs if chapter_state(slug, root).has_good_run]
        hint = (f"\nto preview the chapters that have run: python -m reprobook build {' '.join(ran)}" if ran else "")
        raise BuildError("cannot build the book:\n  " + "\n  ".join(problems) + hint)
    return slugs


def _preview_chapters(root: Path, slugs: Sequence[str], log: Any = None) -> tuple[list[str], dict[str, str]]:
    """The named chapters (each with a good run) and, for every other chapter, why it is left out."""
    available = available_chapters(root)
    unknown = [slug for slug in slugs if slug not in available]
    if unknown:
        raise BuildError(f"unknown chapter(s) {', '.join(map(repr, unknown))}; chapters present in notebooks/: "
                         f"{', '.join(available) or '(none)'}")
    problems = []
    for slug in slugs:
        state = chapter_state(slug, root)
        if not state.has_good_run:
            problems.append(f"{slug}: not run yet (python -m reprobook run {slug})" if state.status != "failed"
                            else f"{slug}: it has never run successfully; see {failed_path(slug, root)}")
        elif state.status in ("failed", "stale") and log is not None:
            print(f"warning: {slug} is {state.describe()}; the preview shows its last good run", file=log)
    if problems:
        raise BuildError("cannot build the preview:\n  " + "\n  ".join(problems))
    left_out = {}
    for slug in available:
        if slug not in slugs:
            left_out[slug] = ("not run yet" if not chapter_state(slug, root).has_good_run
                              else "not in this preview")
    return list(slugs), left_out


def _write_stubs(left_out: dict[str, str], root: Path) -> list[str]:
    """A short page for each chapter left out of a preview; returns their document names."""
    folder = root / PREVIEW_STUBS
    shutil.rmtree(folder, ignore_errors=True)
    if not left_out:
        return []
    folder.mkdir(parents=True)
    names = []
    for slug, reason in left_out.items():
        info = chapter_info(slug)
        title = info.title if info else slug
        command = f"python -m reprobook run {slug}" if reason == "not run yet" else f"python -m reprobook build {slug}"
        (folder / f"{slug}.md").write_text(
            f"# {title} ({reason})\n\nThis preview of the book does not include this chapter: it is {reason}. "
            f"Run `{command}` to include it.\n", encoding="utf-8")
        names.append(slug)
    return names


def html_dir(root: Path | None = None, *, preview: bool = False) -> Path:
    """Where ``build_book`` writes the HTML: ``_build/html``, or ``_build/preview/_build/html``."""
    root = root or project_root()
    return root / "_build" / "preview" / "_build" / "html" if preview else root / "_build" / "html"


def write_toc(slugs: list[str], root: Path, stubs: Sequence[str] = ()) -> Path:
    """The table of contents: the chapters in ``slugs``, and stand-in pages for ``stubs`` (a preview)."""
    parts = [{"caption": "The book", "chapters": [{"file": "scoreboard"}, {"file": "performance"}]}]
    stub_folder = PREVIEW_STUBS.relative_to("book").as_posix()
    for part in PARTS:
        in_part = [(slug, slug in stubs) for chapter in CHAPTERS if chapter.part == part
                   for slug in [*slugs, *stubs] if slug == chapter.slug]
        if in_part:
            parts.append({"caption": part, "chapters": [
                {"file": f"{stub_folder}/{slug}" if stub else f"chapters/{slug}"} for slug, stub in in_part]})
    others = [(slug, slug in stubs) for slug in [*slugs, *stubs] if chapter_info(slug) is None]
    if others:
        parts.append({"caption": "Other chapters", "chapters": [
            {"file": f"{stub_folder}/{slug}" if stub else f"chapters/{slug}"} for slug, stub in others]})
    parts.append({"caption": "Back matter", "chapters": [{"file": "references"}]})
    toc = {"format": "jb-book", "root": "intro", "parts": parts}
    path = root / "book" / "_toc.yml"
    header = "# Generated by `python -m reprobook build` from the chapters present; do not edit.\n"
    path.write_text(header + yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return path


def build_book(
    root: Path | None = None, *, strict: bool = True, slugs: Sequence[str] | None = None, log: Any = sys.stderr
) -> Path:
    """Write assets, toc and scoreboard, then run jupyter-book; return the HTML folder.

    Without ``slugs``: the whole book into ``_build/html``; every chapter must have run. With
    ``slugs``: a preview of those chapters into ``_build/preview``, the others listed as not run yet.
    """
    root = root or project_root()
    preview = bool(slugs)
    try:
        if preview:
            chosen, left_out = _preview_chapters(root, list(dict.fromkeys(slugs or ())), log)
        else:
            chosen, left_out = _chapters_in_book(root, log), {}
    except RunError as error:
        raise BuildError(str(error)) from error
    copy_assets(root)
    stubs = _write_stubs(left_out, root)
    write_toc(chosen, root, stubs)
    write_scoreboard(chosen, root)
    write_performance(chosen, root)
    for slug in chosen:  # a stale partial file must not be picked up; the notebook must be readable
        for leftover in (root / "book" / "chapters").glob(f".{slug}.*"):
            if leftover.is_file() and (leftover.name.endswith(".part") or leftover.name.endswith(".source.ipynb")):
                leftover.unlink(missing_ok=True)
        nbformat.read(executed_path(slug, root), as_version=4)
    output = root / "_build" / "preview" if preview else root
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", "book", "--config", "_config.yml",
               "--path-output", str(output.relative_to(root)), "--keep-going"]
    if strict:
        command += ["-W", "-n"]
    completed = subprocess.run(command, cwd=root, text=True, capture_output=True)
    if completed.returncode != 0:
        raise BuildError(f"jupyter-book failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}")
    if preview and log is not None and left_out:
        listed = ", ".join(f"{slug} ({reason})" for slug, reason in left_out.items())
        print(f"preview of {', '.join(chosen)}; left out: {listed}", file=log)
    return html_dir(root, preview=preview)

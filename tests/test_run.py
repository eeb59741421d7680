"""The runner and the book build, on a toy project in a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from reprobook import run
from reprobook.build import BuildError, build_book, write_scoreboard, write_toc
from reprobook.project import CHAPTERS

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def make_project(root: Path, chapters: dict[str, str] | None = None, profiles: str = "") -> Path:
    (root / "notebooks").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "lib").mkdir()
    (root / "lib" / "reprobook").symlink_to(REPO / "lib" / "reprobook")
    for name in ("intro.md", "references.md", "references.bib", "favicon.svg", "_extra/favicon.ico"):
        (root / "book" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "book" / name).write_bytes((REPO / "book" / name).read_bytes())
    (root / "_config.yml").write_bytes((REPO / "_config.yml").read_bytes())
    toy = (HERE / "fixtures" / "toy.md").read_text()
    for slug, source in (chapters or {"toy": toy}).items():
        (root / "notebooks" / f"{slug}.md").write_text(source)
    (root / "notebooks" / "profiles.yml").write_text(profiles or "toy:\n  smoke: {n_points: 5}\n")
    return root


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path / "project")
    monkeypatch.setenv("REPROBOOK_ROOT", str(root))
    monkeypatch.delenv("REPROBOOK_CLAIMS_DIR", raising=False)
    return root


def test_profile_overlay(project):
    assert run.resolve_parameters("toy", "book", root=project) == {"profile": "book", "n_points": 20, "slope": 2.0}
    assert run.resolve_parameters("toy", "smoke", root=project)["n_points"] == 5
    assert run.resolve_parameters("toy", "smoke", {"slope": -1.0}, root=project)["slope"] == -1.0


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda root: run.run_chapters(["nope"], "smoke", root=root, log=None),
         "unknown chapter(s) 'nope'; chapters present in notebooks/: toy"),
        (lambda root: run.run_chapters(["toy"], "huge", root=root, log=None),
         "unknown profile 'huge'; allowed profiles are: smoke, book, paper"),
        (lambda root: run.run_chapters(["toy"], "smoke", overrides={"n_pionts": 3}, root=root, log=None),
         "unknown parameter(s) 'n_pionts' for chapter 'toy'; allowed parameters are: n_points, profile, slope"),
    ],
)
def test_bad_slug_profile_or_parameter_stop_before_compute(project, call, fragment):
    with pytest.raises(run.RunError) as error:
        call(project)
    assert fragment in str(error.value)
    assert not (project / "book" / "chapters").exists()


def test_unknown_parameter_in_profiles_file(tmp_path):
    root = make_project(tmp_path / "p", profiles="toy:\n  smoke: {points: 5}\n")
    with pytest.raises(run.RunError, match="unknown parameter.*'points'.*profiles.yml"):
        run.resolve_parameters("toy", "smoke", root=root)
    root = make_project(tmp_path / "q", profiles="toy:\n  tiny: {n_points: 5}\n")
    with pytest.raises(run.RunError, match="unknown profile 'tiny'"):
        run.load_profiles(root)


def test_run_skip_force_and_rerun_on_change(project):
    first = run.run_chapter("toy", "smoke", root=project)
    assert first.status == "ran", first.error
    notebook = nbformat.read(first.output, as_version=4)
    record = notebook.metadata["reprobook"]
    assert record["profile"] == "smoke" and record["status"] == "ok"
    assert record["parameters"] == {"profile": "smoke", "n_points": 5, "slope": 2.0}
    assert notebook.metadata["papermill"]["input_path"] == "notebooks/toy.md"
    parameters_cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    assert "remove-cell" in parameters_cell.metadata["tags"]
    printed = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "fitted slope: 2.000" in printed
    ledger = json.loads((project / "book" / "chapters" / "toy.claims.json").read_text())
    assert ledger["profile"] == "smoke" and ledger["claims"][0]["verdict"] == "reproduced"

    assert run.run_chapter("toy", "smoke", root=project).status == "skipped"
    assert run.run_chapter("toy", "smoke", root=project, force=True).status == "ran"
    assert run.run_chapter("toy", "smoke", overrides={"slope": 3.0}, root=project).status == "ran"
    assert run.run_chapter("toy", "book", root=project).status == "ran", "a new profile re-runs"
    source = project / "notebooks" / "toy.md"
    source.write_text(source.read_text().replace('title="A straight line"', 'title="A line"'))
    assert run.run_chapter("toy", "book", root=project).status == "ran", "edited code re-runs"


def test_edited_prose_reaches_the_executed_notebook_without_a_rerun(project):
    assert run.run_chapter("toy", "smoke", root=project).status == "ran"
    before = nbformat.read(project / "book" / "chapters" / "toy.ipynb", as_version=4)
    source = project / "notebooks" / "toy.md"
    text = source.read_text()
    heading = next(line for line in text.splitlines() if line.startswith("# "))
    source.write_text(text.replace(heading, heading + " (revised)"))
    assert run.run_chapter("toy", "smoke", root=project).status == "skipped"
    after = nbformat.read(project / "book" / "chapters" / "toy.ipynb", as_version=4)
    assert any("(revised)" in cell.source for cell in after.cells if cell.cell_type == "markdown")
    outputs = [cell.get("outputs") for cell in before.cells if cell.cell_type == "code"]
    assert outputs == [cell.get("outputs") for cell in after.cells if cell.cell_type == "code"]
    assert after.metadata["reprobook"] == before.metadata["reprobook"]


def test_a_failing_chapter_reports_the_cell_and_keeps_the_notebook(project):
    source = project / "notebooks" / "toy.md"
    source.write_text(source.read_text().replace("fitted = float(", "fitted = undefined_name + float("))
    result = run.run_chapter("toy", "smoke", root=project)
    assert result.status == "failed"
    assert "chapter 'toy' (smoke) failed: code cell" in result.error
    assert "NameError" in result.error and "undefined_name" in result.error
    assert result.output.exists()
    assert run.executed_metadata("toy", project)["status"] == "failed"
    with pytest.raises(BuildError, match="toy: its last run failed"):
        build_book(project)


def test_a_chapter_past_its_time_limit_is_stopped(project, tmp_path):
    import psutil

    pid_file = tmp_path / "kernel.pid"
    source = project / "notebooks" / "toy.md"
    source.write_text(source.read_text().replace(
        "x = np.arange", f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)\nx = np.arange"))
    result = run.run_chapter("toy", "smoke", root=project, timeout=8)
    assert result.status == "failed" and "timed out after 8 s" in result.error
    kernel = int(pid_file.read_text())
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == psutil.STATUS_ZOMBIE, \
        "the chapter's kernel must not outlive its time limit"


def test_toc_and_scoreboard_list_what_exists(project):
    write_toc(["toy"], project)
    toc = (project / "book" / "_toc.yml").read_text()
    assert "chapters/toy" in toc and "chapters/ficsum" not in toc
    path = write_scoreboard([], project)
    text = path.read_text()
    assert text.count("| not yet written: not reproduced |") == len(CHAPTERS)


def test_cli_runs_and_builds(project):
    env = {**os.environ, "REPROBOOK_ROOT": str(project)}
    bad = subprocess.run([sys.executable, "-m", "reprobook", "run", "tyo"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "unknown chapter(s) 'tyo'" in bad.stderr
    ok = subprocess.run([sys.executable, "-m", "reprobook", "run", "--profile", "smoke"],
                        capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    built = subprocess.run([sys.executable, "-m", "reprobook", "build"], capture_output=True, text=True, env=env)
    assert built.returncode == 0, built.stderr
    html = project / "_build" / "html"
    assert (html / "chapters" / "toy.html").exists() and (html / "scoreboard.html").exists()
    assert (project / "book" / "_assets" / "plotly.min.js").exists()
    assert "plotly-graph-div" in (html / "chapters" / "toy.html").read_text()
    listing = subprocess.run([sys.executable, "-m", "reprobook", "list"], capture_output=True, text=True, env=env)
    assert listing.returncode == 0 and "ficsum" in listing.stdout

"""The runner and the book build, on a toy project in a temporary folder."""

from __future__ import annotations

import importlib.machinery
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import types
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
    downloads = project / "book" / "_extra" / "data" / "toy"
    assert sorted(path.name for path in downloads.iterdir()) == ["claims.csv", "claims.json", "figure-01.json"]
    assert not list((project / "book" / "chapters").glob(".toy.staging*"))

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


def test_a_failing_chapter_reports_the_cell_and_keeps_the_last_good_outputs(project):
    good = run.run_chapter("toy", "smoke", root=project)
    assert good.status == "ran", good.error
    chapters = project / "book" / "chapters"
    kept = {name: (chapters / name).read_bytes() for name in ("toy.ipynb", "toy.claims.json")}
    source = project / "notebooks" / "toy.md"
    text = source.read_text()
    source.write_text(text.replace("fitted = float(", "fitted = undefined_name + float("))
    result = run.run_chapter("toy", "smoke", root=project)
    assert result.status == "failed"
    assert "chapter 'toy' (smoke) failed: code cell" in result.error
    assert "NameError" in result.error and "undefined_name" in result.error
    assert "book/chapters/toy.failed.ipynb" in result.error and "toy.ipynb is unchanged" in result.error
    assert {name: (chapters / name).read_bytes() for name in kept} == kept, "the last good outputs stay"
    assert run.failed_path("toy", project) == result.failed_output
    failed = nbformat.read(result.failed_output, as_version=4)
    assert failed.metadata["reprobook"]["status"] == "failed"
    assert run.executed_metadata("toy", project)["status"] == "ok"
    assert run.chapter_state("toy", project).status == "failed"
    assert not [path for path in chapters.iterdir() if path.name.startswith(".")], "no staging file is left"
    with pytest.raises(BuildError, match="toy: its last run failed; see .*toy.failed.ipynb"):
        build_book(project)
    source.write_text(text)
    assert run.run_chapter("toy", "smoke", root=project).status == "ran"
    assert not run.failed_path("toy", project).exists()
    assert run.chapter_state("toy", project).status == "up to date"


@pytest.fixture
def toy_validator(monkeypatch):
    """A ``reprobook.toy.chapter.validate_parameters`` as a chapter's subpackage provides it."""
    from reprobook.params import check_float, check_int, check_known

    def validate_parameters(**given):
        check_known(given, ["profile", "n_points", "slope"], where="the toy chapter")
        check_int("n_points", given["n_points"], minimum=2, maximum=1000)
        check_float("slope", given["slope"])
        return given

    package = types.ModuleType("reprobook.toy")
    package.__spec__ = importlib.machinery.ModuleSpec("reprobook.toy", None, is_package=True)
    package.__path__ = []
    chapter = types.ModuleType("reprobook.toy.chapter")
    chapter.__spec__ = importlib.machinery.ModuleSpec("reprobook.toy.chapter", None)
    chapter.validate_parameters = validate_parameters
    monkeypatch.setitem(sys.modules, "reprobook.toy", package)
    monkeypatch.setitem(sys.modules, "reprobook.toy.chapter", chapter)
    return validate_parameters


def test_a_refused_override_stops_before_papermill_and_touches_nothing(project, toy_validator):
    assert run.run_chapter("toy", "smoke", root=project).status == "ran"
    chapters = project / "book" / "chapters"
    before = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in chapters.iterdir()}
    for overrides, fragment in [({"n_points": 10**15}, "'n_points' must be an integer in [2, 1000], got 1000000000000000"),
                                ({"slope": float("nan")}, "'slope' must be a finite number")]:
        with pytest.raises(run.RunError, match=re.escape(f"chapter 'toy': parameter {fragment}")):
            run.run_chapters(["toy"], "smoke", overrides=overrides, root=project, log=None)
        with pytest.raises(run.RunError, match="'toy'"):
            run.run_chapter("toy", "smoke", overrides=overrides, root=project)
    after = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in chapters.iterdir()}
    assert after == before, "a refused override must not touch the executed chapter"
    assert run.chapter_state("toy", project).status == "up to date"
    write_toc(["toy"], project)  # and the book still builds from it: see test_cli_runs_and_builds


def test_the_runner_validates_with_the_chapters_own_function(project, toy_validator):
    assert run.validate_chapter_parameters("toy", {"profile": "smoke", "n_points": 5, "slope": 1.0})
    with pytest.raises(run.RunError, match="chapter 'toy': parameter 'n_points'"):
        run.validate_chapter_parameters("toy", {"profile": "smoke", "n_points": 1, "slope": 1.0})
    assert run.validate_chapter_parameters("no_such_chapter", {}) is None


def test_every_chapter_notebook_passes_all_its_parameters_to_validate_parameters():
    """The runner calls ``validate_parameters(**parameters)``: every notebook parameter must be accepted."""
    for slug in run.available_chapters(REPO):
        notebook = run.read_source(slug, REPO)
        names = set(run.default_parameters(notebook, slug))
        module = (REPO / "lib" / "reprobook" / slug / "chapter.py").read_text()
        call = re.search(r"validate_parameters\((.*?)\n\)", "\n".join(c.source for c in notebook.cells), re.S)
        assert call is not None and "def validate_parameters" in module, f"{slug}: no validate_parameters call"
        passed = set(re.findall(r"(\w+)=\1\b", call.group(1)))
        assert passed == names, f"{slug}: the notebook passes {sorted(passed ^ names)} differently from its parameters"


@pytest.mark.parametrize("timeout", [float("nan"), -5, 0, float("inf")])
def test_a_bad_timeout_is_refused(project, timeout):
    with pytest.raises(run.RunError, match="--timeout must be a positive, finite number of seconds"):
        run.run_chapters(["toy"], "smoke", timeout=timeout, root=project, log=None)
    assert not (project / "book" / "chapters").exists()


@pytest.mark.parametrize("jobs", [0, -1, 10**6, 2.5, True])
def test_jobs_out_of_bounds_are_refused(project, jobs):
    with pytest.raises(run.RunError, match=re.escape(f"--jobs must be an integer in [1, {run.MAX_JOBS}]")):
        run.run_chapters(["toy"], "smoke", jobs=jobs, root=project, log=None)


@pytest.mark.parametrize(("text", "line"), [("toy:\n  smoke: {n_points: 5\n  book: [\n", 3),
                                            ("toy:\n  smoke:\n    n_points: 5\n   slope: 1\n", 4),
                                            ("toy:\n  smoke: 5\n", 2),
                                            ("toy:\n  smoke: {}\n  huge: {}\n", 3)])
def test_a_malformed_profiles_file_is_one_line_naming_the_file_and_line(tmp_path, text, line):
    root = make_project(tmp_path / "p", profiles=text)
    with pytest.raises(run.RunError) as error:
        run.load_profiles(root)
    message = str(error.value)
    assert message.startswith(f"notebooks/profiles.yml, line {line}"), message
    assert "\n" not in message


def test_cli_errors_are_one_line(project):
    env = {**os.environ, "REPROBOOK_ROOT": str(project)}
    for arguments, fragment in [(["--timeout", "nan"], "--timeout must be"), (["--timeout", "-5"], "--timeout must be"),
                                (["--jobs", "1000000"], "--jobs must be an integer")]:
        bad = subprocess.run([sys.executable, "-m", "reprobook", "run", "toy", *arguments],
                             capture_output=True, text=True, env=env)
        assert bad.returncode == 2 and bad.stderr.startswith("error: ") and fragment in bad.stderr, bad.stderr
        assert bad.stderr.count("\n") == 1, bad.stderr
    (project / "notebooks" / "profiles.yml").write_text("toy:\n  smoke: {n_points: 5\n  book: [\n")
    bad = subprocess.run([sys.executable, "-m", "reprobook", "run", "toy"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert "notebooks/profiles.yml, line 3, column 7" in bad.stderr


SLOW_CELL = """
import os, pathlib, time
from reprobook.sweep import sweep
pathlib.Path(os.environ["TOY_PID_FILE"]).write_text(str(os.getpid()))
sweep(time.sleep, [600, 600], jobs=2, backend="processes", cache=False, progress=False)
"""


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_whole_tree_and_keeps_the_last_good_outputs(project, tmp_path, signal_number):
    import psutil

    assert run.run_chapter("toy", "smoke", root=project).status == "ran"
    chapters = project / "book" / "chapters"
    kept = {path.name: path.read_bytes() for path in chapters.iterdir()}
    source = project / "notebooks" / "toy.md"
    source.write_text(source.read_text().replace("x = np.arange", SLOW_CELL.strip() + "\nx = np.arange"))
    pid_file = tmp_path / "kernel.pid"
    env = {**os.environ, "REPROBOOK_ROOT": str(project), "TOY_PID_FILE": str(pid_file)}
    runner = subprocess.Popen([sys.executable, "-m", "reprobook", "run", "toy", "--profile", "smoke"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        tree: list[psutil.Process] = []
        while time.monotonic() < deadline:
            if pid_file.exists() and pid_file.read_text():
                kernel = psutil.Process(int(pid_file.read_text()))
                if len(kernel.children(recursive=True)) >= 2:  # the sweep's two workers are up
                    tree = psutil.Process(runner.pid).children(recursive=True)
                    break
            time.sleep(0.2)
        assert tree, "the chapter did not start its workers in time"
        assert len(tree) >= 4, tree  # papermill, kernel, two workers
        started = time.monotonic()
        runner.send_signal(signal_number)
        _, stderr = runner.communicate(timeout=30)
        assert time.monotonic() - started < 15, "one signal stops everything at once"
    finally:
        if runner.poll() is None:
            runner.kill()
    _, alive = psutil.wait_procs(tree, timeout=5)
    assert not alive, f"left running: {alive}"
    assert runner.returncode == 128 + signal_number
    name = signal.Signals(signal_number).name
    assert f"{name} received: stopped toy" in stderr, stderr
    assert "kernel (pid" in stderr and "worker (pid" in stderr and "papermill (pid" in stderr, stderr
    assert {path.name: path.read_bytes() for path in chapters.iterdir()} == kept, "the last good outputs stay"


def test_progress_lines_and_the_final_table(project, monkeypatch):
    monkeypatch.setenv("REPROBOOK_CACHE_DIR", str(project / "cache"))
    source = project / "notebooks" / "toy.md"
    source.write_text(source.read_text().replace(
        "x = np.arange",
        "from reprobook.sweep import sweep\nsquares = sweep(abs, [-1, -2, -3], backend='serial', progress=False)\n"
        "import time\ntime.sleep(6)\nx = np.arange"))
    log = io.StringIO()
    (result,) = run.run_chapters(["toy"], "smoke", root=project, log=log)
    assert result.status == "ran" and result.cells_reused == 0 and result.cells_computed == 3
    assert result.cpu_seconds > 0.3 and result.seconds > 6
    text = log.getvalue()
    assert re.search(r"\[toy\] \d+(\.\d)? s · cells \d/6 · running: from reprobook.sweep import sweep · "
                     r"sweep cells: 0 cached, 3 computed", text), text
    table = text.splitlines()[-2:]
    assert table[0].split() == ["chapter", "status", "wall", "CPU", "cells", "reused"]
    assert table[1].split()[:2] == ["toy", "ran"] and table[1].endswith("0 of 3")
    (again,) = run.run_chapters(["toy"], "smoke", root=project, log=log, force=True)
    assert (again.cells_reused, again.cells_computed) == (3, 0)
    assert log.getvalue().rstrip().endswith("3 of 3")
    record = run.executed_metadata("toy", project)
    assert record["cells_reused"] == 3 and record["cpu_seconds"] > 0 and len(record["load_average"]) == 3


def test_list_shows_stale_and_failed_chapters(project, capsys):
    from reprobook import cli

    def listing() -> str:
        assert cli.main(["list"]) == 0
        return next(line for line in capsys.readouterr().out.splitlines() if line.startswith("toy "))

    assert "never run" in listing()
    assert run.run_chapter("toy", "smoke", root=project).status == "ran"
    assert "up to date (smoke run of" in listing() and "1 reproduced" in listing()
    source = project / "notebooks" / "toy.md"
    text = source.read_text()
    source.write_text(text.replace('title="A straight line"', 'title="A line"'))
    line = listing()
    assert "stale: code, parameters or library changed" in line and "failed" not in line
    assert line.endswith("1 reproduced (stale)")
    source.write_text(text.replace("fitted = float(", "fitted = undefined_name + float("))
    run.run_chapter("toy", "smoke", root=project)
    assert "failed (" in listing() and "last good: smoke run of" in listing()


def test_a_chapter_past_its_time_limit_is_stopped(project, tmp_path):
    import psutil

    pid_file = tmp_path / "kernel.pid"
    source = project / "notebooks" / "toy.md"
    source.write_text(source.read_text().replace(
        "x = np.arange", f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(600)\nx = np.arange"))
    result = run.run_chapter("toy", "smoke", root=project, timeout=30)  # room for a kernel start on a busy machine
    assert result.status == "failed" and "timed out after 30 s" in result.error
    kernel = int(pid_file.read_text())
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == psutil.STATUS_ZOMBIE, \
        "the chapter's kernel must not outlive its time limit"


def test_toc_and_scoreboard_list_what_exists(project):
    write_toc(["toy"], project)
    toc = (project / "book" / "_toc.yml").read_text()
    assert "chapters/toy" in toc and "chapters/ficsum" not in toc
    path = write_scoreboard([], project)
    text = path.read_text()
    assert sum("not yet written" in line for line in text.splitlines() if line.startswith("|")) == len(CHAPTERS)


def test_cli_runs_previews_and_builds(tmp_path, monkeypatch):
    toy = (HERE / "fixtures" / "toy.md").read_text()
    project = make_project(tmp_path / "project", {"toy": toy, "toy2": toy.replace("# A toy chapter", "# Another toy")})
    env = {**os.environ, "REPROBOOK_ROOT": str(project)}
    env.pop("REPROBOOK_CLAIMS_DIR", None)
    bad = subprocess.run([sys.executable, "-m", "reprobook", "run", "tyo"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "unknown chapter(s) 'tyo'" in bad.stderr
    ok = subprocess.run([sys.executable, "-m", "reprobook", "run", "toy", "--profile", "smoke"],
                        capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run([sys.executable, "-m", "reprobook", "build"], capture_output=True, text=True, env=env)
    assert refused.returncode == 1
    assert "toy2: not run yet (python -m reprobook run toy2)" in refused.stderr
    assert "python -m reprobook build toy" in refused.stderr, "the refusal points to the preview"

    preview = subprocess.run([sys.executable, "-m", "reprobook", "build", "toy"], capture_output=True, text=True, env=env)
    assert preview.returncode == 0, preview.stderr
    assert "left out: toy2 (not run yet)" in preview.stderr
    html = project / "_build" / "preview" / "_build" / "html"
    assert str(html / "index.html") in preview.stdout
    assert "plotly-graph-div" in (html / "chapters" / "toy.html").read_text()
    assert "not run yet" in (html / "chapters" / "not-run" / "toy2.html").read_text()
    assert not (project / "_build" / "html").exists(), "a preview does not replace the book"

    ok = subprocess.run([sys.executable, "-m", "reprobook", "run", "--profile", "smoke"],
                        capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "[toy] skipped (up to date)" in ok.stderr and "[toy2] ran" in ok.stderr
    built = subprocess.run([sys.executable, "-m", "reprobook", "build"], capture_output=True, text=True, env=env)
    assert built.returncode == 0, built.stderr
    html = project / "_build" / "html"
    assert (html / "chapters" / "toy.html").exists() and (html / "chapters" / "toy2.html").exists()
    assert (html / "scoreboard.html").exists() and not (html / "chapters" / "not-run").exists()
    assert (html / "performance.html").exists()
    page = (html / "chapters" / "toy.html").read_text()
    assert "Verdicts at the" in page and "chapter-summary" in page, "the summary box is at the top of the page"
    assert page.index("Verdicts at the") < page.index("plotly-graph-div")
    assert 'href="../data/toy/claims.csv"' in page and (html / "data" / "toy" / "claims.csv").exists()
    assert (project / "book" / "_assets" / "plotly.min.js").exists()
    listing = subprocess.run([sys.executable, "-m", "reprobook", "list"], capture_output=True, text=True, env=env)
    assert listing.returncode == 0 and "ficsum" in listing.stdout

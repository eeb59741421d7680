"""The chapter runner: MyST notebooks -> papermill (with a profile) -> executed notebooks.

Parameters of a run are the notebook's ``parameters`` cell (the ``book`` profile) overlaid with the
chapter's block of ``notebooks/profiles.yml`` for ``smoke``/``paper`` and with explicit overrides.
A chapter whose executed notebook already records the same content hash (code cells, parameters,
the source of the chapter's subpackage and of every ``reprobook`` module it and the notebook import,
and the versions of the packages they import) is skipped.

Every parameter is validated before papermill starts, by the chapter's own
``reprobook.<slug>.chapter.validate_parameters``. Each chapter executes in its own process group
with a wall-clock limit, into a staging file: its executed notebook and ledger replace the last good
ones only when the run succeeds; a failed run's notebook goes beside them as ``<slug>.failed.ipynb``.
SIGINT and SIGTERM stop every running chapter's whole process tree (papermill, kernel, workers).
"""

from __future__ import annotations

import ast
import collections
import concurrent.futures as futures
import contextlib
import hashlib
import importlib
import importlib.util
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import yaml

from reprobook.params import PROFILES, ParameterError, check_known
from reprobook.project import project_root
from reprobook.sweep import import_closure, package_versions

__all__ = [
    "PROFILES",
    "RunError",
    "ChaptersStopped",
    "ChapterRun",
    "ChapterState",
    "MAX_JOBS",
    "chapter_state",
    "check_jobs",
    "check_timeout",
    "validate_chapter_parameters",
    "failed_path",
    "summary_table",
    "available_chapters",
    "read_source",
    "default_parameters",
    "load_profiles",
    "resolve_parameters",
    "content_hash",
    "run_chapter",
    "run_chapters",
    "executed_path",
    "executed_metadata",
]

DEFAULT_TIMEOUT_S = {"smoke": 300, "book": 1800, "paper": 7 * 24 * 3600}
#: The most chapters run at the same time (``--jobs``).
MAX_JOBS = 64


class RunError(RuntimeError):
    """A chapter could not be run: bad slug, profile, parameter or option, or a failing cell."""


class ChaptersStopped(Exception):  # noqa: N818 - it reports what was stopped, it is not a failure of the code
    """SIGINT or SIGTERM stopped the run; ``results`` says what each chapter's state was."""

    def __init__(self, signal_name: str, signal_number: int, results: list[ChapterRun]):
        self.signal_name = signal_name
        self.signal_number = signal_number
        self.results = results
        stopped = [result.slug for result in results if result.status == "stopped"]
        super().__init__(f"{signal_name} received: stopped {', '.join(stopped) or 'nothing (no chapter was running)'}")


@dataclass
class ChapterRun:
    slug: str
    profile: str
    status: str  # "ran", "skipped", "failed", "stopped" or "not started"
    output: Path
    seconds: float = 0.0
    error: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    cells_reused: int = 0
    cells_computed: int = 0
    failed_output: Path | None = None


def notebooks_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "notebooks"


def chapters_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "book" / "chapters"


def available_chapters(root: Path | None = None) -> list[str]:
    """Slugs of the chapter sources present in ``notebooks/``."""
    return sorted(path.stem for path in notebooks_dir(root).glob("*.md"))


def _check_slugs(slugs: Sequence[str], root: Path | None) -> list[str]:
    available = available_chapters(root)
    unknown = [slug for slug in slugs if slug not in available]
    if unknown:
        raise RunError(
            f"unknown chapter(s) {', '.join(map(repr, unknown))}; chapters present in notebooks/: "
            f"{', '.join(available) or '(none)'}"
        )
    return list(slugs) if slugs else available


def _check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise RunError(f"unknown profile {profile!r}; allowed profiles are: {', '.join(PROFILES)}")
    return profile


def read_source(slug: str, root: Path | None = None) -> nbformat.NotebookNode:
    import jupytext

    return jupytext.read(notebooks_dir(root) / f"{slug}.md")


def _parameters_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    return next(
        (cell for cell in notebook.cells
         if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", [])),
        None,
    )


def default_parameters(notebook: nbformat.NotebookNode, slug: str = "chapter") -> dict[str, Any]:
    """The names and values assigned in the notebook's ``parameters`` cell."""
    cell = _parameters_cell(notebook)
    if cell is None:
        raise RunError(f"chapter {slug!r} has no code cell tagged 'parameters'")
    namespace: dict[str, Any] = {}
    exec(compile(cell.source, f"<{slug} parameters>", "exec"), namespace)  # noqa: S102 - our own source
    values = {name: value for name, value in namespace.items()
              if not name.startswith("_") and name != "__builtins__"}
    if "profile" not in values:
        raise RunError(f"chapter {slug!r}: the parameters cell must set `profile = \"book\"`")
    return values


def _relative(path: Path, root: Path | None) -> str:
    try:
        return str(path.relative_to(root or project_root()))
    except ValueError:
        return str(path)


def load_profiles(root: Path | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """``notebooks/profiles.yml``: {slug: {profile: {parameter: value}}}, checked for shape.

    A malformed file is a one-line :class:`RunError` that names the file, the line and the problem.
    """
    path = notebooks_dir(root) / "profiles.yml"
    if not path.exists():
        return {}
    name = _relative(path, root)
    text = path.read_text(encoding="utf-8")
    try:
        loaded = yaml.safe_load(text) or {}
        tree = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"{name}, line {mark.line + 1}, column {mark.column + 1}" if mark is not None else name
        problem = " ".join(str(getattr(error, "problem", None) or error).split())
        context = getattr(error, "context", None)
        started = getattr(error, "context_mark", None)
        if context and started is not None and mark is not None and started.line != mark.line:
            context += f" that starts at line {started.line + 1}"
        raise RunError(f"{where}: {problem}{f' ({context})' if context else ''}; fix the YAML syntax") from None
    lines = {}
    if isinstance(tree, yaml.MappingNode):
        for key, value in tree.value:
            lines[key.value] = key.start_mark.line + 1
            if isinstance(value, yaml.MappingNode):
                for inner_key, _ in value.value:
                    lines[(key.value, inner_key.value)] = inner_key.start_mark.line + 1

    def at(*key: Any) -> str:
        line = lines.get(key if len(key) > 1 else key[0])
        return f"{name}, line {line}" if line else name

    if not isinstance(loaded, dict):
        raise RunError(f"{name}, line 1: expected a mapping of chapter slugs to profiles")
    for slug, block in loaded.items():
        block = block or {}
        if not isinstance(block, dict):
            raise RunError(f"{at(slug)}: the block of {slug!r} must map profile names to parameters")
        for profile, overrides in block.items():
            if profile not in PROFILES:
                raise RunError(
                    f"{at(slug, profile)}: chapter {slug!r} has unknown profile {profile!r}; "
                    f"allowed: {', '.join(PROFILES)}"
                )
            if overrides is not None and not isinstance(overrides, dict):
                raise RunError(f"{at(slug, profile)}: {slug}.{profile} must map parameter names to values")
    return {slug: {profile: dict(overrides or {}) for profile, overrides in (block or {}).items()}
            for slug, block in loaded.items()}


def resolve_parameters(
    slug: str,
    profile: str,
    overrides: Mapping[str, Any] | None = None,
    root: Path | None = None,
    notebook: nbformat.NotebookNode | None = None,
) -> dict[str, Any]:
    """Notebook defaults, overlaid with the profile's overrides, then with ``overrides``."""
    _check_profile(profile)
    notebook = notebook if notebook is not None else read_source(slug, root)
    defaults = default_parameters(notebook, slug)
    from_profile = load_profiles(root).get(slug, {}).get(profile, {})
    try:
        check_known(from_profile, defaults, where=f"chapter {slug!r}, profile {profile!r} in notebooks/profiles.yml")
        check_known(overrides or {}, defaults, where=f"chapter {slug!r}")
    except ParameterError as error:
        raise RunError(str(error)) from None
    if "profile" in (overrides or {}) or "profile" in from_profile:
        raise RunError("set the profile with --profile, not as a parameter")
    return {**defaults, **from_profile, **dict(overrides or {}), "profile": profile}


_MAGIC_LINE = ("%", "!", "?")


def _notebook_imports(notebook: nbformat.NotebookNode) -> set[str] | None:
    """Modules the notebook's code cells import; None when a cell cannot be parsed as Python."""
    names: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(_MAGIC_LINE))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _library_fingerprint(slug: str, notebook: nbformat.NotebookNode, root: Path) -> dict[str, Any]:
    """Sources the chapter depends on (its subpackage and every reprobook module it or the notebook
    imports, transitively) and the versions of the third-party packages they import."""
    lib = root / "lib"
    chapter = lib / "reprobook" / slug
    modules = [".".join(path.relative_to(lib).with_suffix("").parts).removesuffix(".__init__")
               for path in sorted(chapter.rglob("*.py"))] if chapter.is_dir() else []
    imported = _notebook_imports(notebook)
    if imported is None:  # unparsable cell: depend on the whole kit
        imported = {".".join(path.relative_to(lib).with_suffix("").parts)
                    for path in sorted((lib / "reprobook").glob("*.py"))}
    hashes, external = import_closure(sorted({*modules, *imported}), {"reprobook": lib})
    return {"sources": dict(sorted(hashes.items())), "packages": package_versions(external),
            "python": f"{sys.version_info.major}.{sys.version_info.minor}"}


def content_hash(
    slug: str, notebook: nbformat.NotebookNode, parameters: Mapping[str, Any], root: Path | None = None
) -> str:
    """sha256 of the code cells, the parameters, and the chapter's library fingerprint."""
    root = root or project_root()
    digest = hashlib.sha256()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode())
            digest.update(json.dumps(cell.get("metadata", {}).get("tags", [])).encode())
    digest.update(json.dumps(parameters, sort_keys=True, default=repr).encode())
    digest.update(json.dumps(_library_fingerprint(slug, notebook, root), sort_keys=True).encode())
    return digest.hexdigest()


def executed_path(slug: str, root: Path | None = None) -> Path:
    """The chapter's last good executed notebook, ``book/chapters/<slug>.ipynb``."""
    return chapters_dir(root) / f"{slug}.ipynb"


def failed_path(slug: str, root: Path | None = None) -> Path:
    """Where a failed run's notebook is kept for inspection, beside the last good one."""
    return chapters_dir(root) / f"{slug}.failed.ipynb"


def _staging_paths(slug: str, root: Path) -> tuple[Path, Path]:
    """The notebook papermill writes while the chapter runs, and the folder for its ledger and progress."""
    folder = chapters_dir(root)
    return folder / f".{slug}.running.ipynb", folder / f".{slug}.staging"


def _read_record(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return dict(json.load(handle).get("metadata", {}).get("reprobook", {})) or None
    except (OSError, ValueError, AttributeError):
        return None


def executed_metadata(slug: str, root: Path | None = None) -> dict[str, Any] | None:
    """The runner's record in the last good executed notebook (profile, hash, status, ...), if any."""
    return _read_record(executed_path(slug, root))


@dataclass
class ChapterState:
    """Where a chapter stands: ``never run``, ``up to date``, ``stale`` or ``failed``."""

    slug: str
    status: str
    record: dict[str, Any] | None = None
    failed_record: dict[str, Any] | None = None

    @property
    def has_good_run(self) -> bool:
        return self.record is not None and self.record.get("status") == "ok"

    def describe(self) -> str:
        good = self.record if self.has_good_run else None
        last = (f"{good.get('profile')} run of {good.get('finished', '?')}" if good else "no good run")
        if self.status == "failed":
            when = (self.failed_record or {}).get("finished", "?")
            return f"failed ({when}); last good: {last}"
        if self.status == "stale":
            return f"stale: code, parameters or library changed since the {last}"
        if self.status == "up to date":
            return f"up to date ({last})"
        return "never run"


def chapter_state(slug: str, root: Path | None = None) -> ChapterState:
    """Compare the chapter's executed notebooks with its current source (without running anything)."""
    root = root or project_root()
    record = executed_metadata(slug, root)
    failed = _read_record(failed_path(slug, root))
    good = record is not None and record.get("status") == "ok"
    if failed is not None and (not good or str(failed.get("finished", "")) >= str(record.get("finished", ""))):
        return ChapterState(slug, "failed", record, failed)
    if not good:
        return ChapterState(slug, "never run", record, failed)
    try:
        notebook = read_source(slug, root)
        current = content_hash(slug, notebook, record.get("parameters", {}), root)
    except Exception:  # the source is gone or unreadable: whatever ran cannot be current
        current = None
    return ChapterState(slug, "up to date" if current == record.get("hash") else "stale", record, failed)


def _first_error(notebook: nbformat.NotebookNode) -> str:
    code_index = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        code_index += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                return (f"code cell {code_index} ({first_line[:60]!r}): "
                        f"{output.get('ename')}: {output.get('evalue')}")
    return "no cell recorded an error (the kernel died or the run timed out)"


def _finalise(notebook_path: Path, slug: str, record: dict[str, Any], target: Path) -> nbformat.NotebookNode:
    """Stamp the runner's record into a finished notebook and move it to ``target`` atomically."""
    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    notebook.metadata.setdefault("papermill", {})["input_path"] = f"notebooks/{slug}.md"
    notebook.metadata["papermill"]["output_path"] = f"book/chapters/{slug}.ipynb"
    notebook.metadata["reprobook"] = record
    tmp = target.with_name(f".{target.name}.part")
    nbformat.write(notebook, tmp)
    os.replace(tmp, target)
    notebook_path.unlink(missing_ok=True)
    return notebook


# --- process trees: stop everything a chapter started --------------------------------------------------


def _describe_process(process: Any, root_pid: int) -> str:
    try:
        command = " ".join(process.cmdline())
    except Exception:
        command = ""
    if process.pid == root_pid:
        role = "papermill"
    elif "ipykernel" in command:
        role = "kernel"
    else:
        role = "worker"
    return f"{role} (pid {process.pid})"


def _stop_tree(pid: int, grace: float = 3.0) -> list[str]:
    """Stop a process and all its descendants: SIGTERM to each and to their process groups, then
    SIGKILL to what is left after ``grace`` seconds. The root itself is not reaped (its caller waits
    for it). Returns what was stopped, e.g. ``["papermill (pid 12)", "kernel (pid 15)"]``."""
    import psutil

    try:
        parent = psutil.Process(pid)
        family = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    own_group = os.getpgrp()
    groups = set()
    for member in family:
        with contextlib.suppress(Exception):
            group = os.getpgid(member.pid)
            if group != own_group:
                groups.add(group)
    stopped = [_describe_process(member, pid) for member in family]

    def signal_all(number: int, members: list[Any]) -> None:
        for group in groups:
            with contextlib.suppress(OSError):
                os.killpg(group, number)
        for member in members:
            with contextlib.suppress(psutil.Error):
                member.send_signal(number)

    signal_all(signal.SIGTERM, family)
    descendants = family[1:]
    _, alive = psutil.wait_procs(descendants, timeout=grace)
    with contextlib.suppress(psutil.Error):
        if parent.status() != psutil.STATUS_ZOMBIE:
            alive.append(parent)
    if alive:
        with contextlib.suppress(psutil.Error):  # anything started meanwhile
            alive += [child for member in alive for child in member.children(recursive=True)]
        signal_all(signal.SIGKILL, alive)
        psutil.wait_procs([member for member in alive if member.pid != pid], timeout=5)
    return stopped


def _kill_tree(pid: int) -> None:
    """Kill a process and all its descendants (the kernel runs in a session of its own)."""
    _stop_tree(pid, grace=0.5)


_stop_request = threading.Event()
_stop_signal: dict[str, Any] = {}


def refresh_prose(source: nbformat.NotebookNode, output: Path) -> bool:
    """Copy the source's markdown cells into the executed notebook, keeping every output.

    The content hash covers code only, so editing prose does not re-run a chapter; this keeps the
    rendered text current instead. Returns False (the caller then re-runs) when the two notebooks'
    cells no longer line up.
    """
    executed = nbformat.read(output, as_version=4)
    cells = [cell for cell in executed.cells
             if "injected-parameters" not in cell.get("metadata", {}).get("tags", [])]
    if [cell.cell_type for cell in cells] != [cell.cell_type for cell in source.cells]:
        return False
    changed = False
    for mine, theirs in zip(cells, source.cells, strict=True):
        if mine.cell_type == "markdown" and mine.source != theirs.source:
            mine.source = theirs.source
            changed = True
    if changed:
        tmp = output.with_suffix(".ipynb.part")
        nbformat.write(executed, tmp)
        os.replace(tmp, output)
    return True


# --- progress while a chapter runs ------------------------------------------------------------------


def _notebook_progress(path: Path) -> tuple[int, int, str] | None:
    """(code cells done, code cells in all, first line of the running cell) of a notebook being executed."""
    try:
        with open(path, encoding="utf-8") as handle:
            notebook = json.load(handle)
    except (OSError, ValueError):
        return None
    code = [cell for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"]
    done = sum(1 for cell in code if cell.get("metadata", {}).get("papermill", {}).get("status") == "completed")
    running = next((cell for cell in code
                    if cell.get("metadata", {}).get("papermill", {}).get("status") == "running"), None)
    first = ""
    if running is not None:
        source = running.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return done, len(code), first


def _sweep_counts(path: Path) -> tuple[int, int]:
    """(cells reused from the cache, cells computed) over the sweeps reported so far."""
    reused, computed, _ = _sweep_progress(path)
    return reused, computed


def _sweep_progress(path: Path) -> tuple[int, int, int]:
    """(cells reused, cells computed, cells still to compute) over the sweeps reported so far."""
    latest: dict[str, dict[str, Any]] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    latest[record["sweep"]] = record
    except OSError:
        return 0, 0, 0
    reused = sum(int(r.get("cached", 0)) for r in latest.values())
    computed = sum(int(r.get("computed", 0)) for r in latest.values())
    pending = sum(int(r.get("total", 0)) - int(r.get("cached", 0)) - int(r.get("computed", 0))
                  for r in latest.values() if not r.get("done"))
    return reused, computed, max(0, pending)


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3m07s``, ``1h02m``."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class _Progress:
    """Prints one line when the running cell changes (at most every few seconds) and a heartbeat."""

    def __init__(self, slug: str, staging_notebook: Path, report: Path, log: Any, every: float = 5.0):
        self.slug, self.notebook, self.report, self.log, self.every = slug, staging_notebook, report, log, every
        self.started = time.monotonic()
        self.last_print = self.started
        self.last_mtime = 0
        self.state: tuple[int, int, str] | None = None
        self.printed_state: tuple[int, int, str] | None = None
        self.stopped: list[str] = []

    def poll(self) -> None:
        if self.log is None:
            return
        now = time.monotonic()
        with contextlib.suppress(OSError):
            mtime = self.notebook.stat().st_mtime_ns
            if mtime != self.last_mtime:
                self.last_mtime = mtime
                self.state = _notebook_progress(self.notebook) or self.state
        changed = self.state is not None and self.state != self.printed_state
        if (changed and now - self.last_print >= self.every) or now - self.last_print >= 30:
            self.print(now)

    def print(self, now: float) -> None:
        self.last_print = now
        self.printed_state = self.state
        line = f"[{self.slug}] {format_seconds(now - self.started)}"
        if self.state is not None:
            done, total, first = self.state
            line += f" · cells {done}/{total}"
            if first:
                line += f" · running: {first[:70]}"
        reused, computed, pending = _sweep_progress(self.report)
        if reused or computed or pending:
            line += f" · sweep cells: {reused} cached, {computed} computed"
            line += f", {pending} to go" if pending else ""
        print(line, file=self.log, flush=True)


def _drain(stream: Any, lines: collections.deque[str]) -> None:
    with contextlib.suppress(Exception):
        for line in stream:
            lines.append(line.rstrip("\n"))


# --- checks made before anything starts ------------------------------------------------------------


def check_timeout(timeout: Any) -> float | None:
    """None (the profile's default) or a finite number of seconds > 0."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
            or timeout <= 0:
        raise RunError(f"--timeout must be a positive, finite number of seconds, got {timeout!r}")
    return float(timeout)


def check_jobs(jobs: Any) -> int:
    """An integer in [1, MAX_JOBS]: how many chapters run at the same time."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        raise RunError(f"--jobs must be an integer in [1, {MAX_JOBS}] (chapters run at the same time), got {jobs!r}")
    return jobs


def validate_chapter_parameters(slug: str, parameters: Mapping[str, Any]) -> Any:
    """Call ``reprobook.<slug>.chapter.validate_parameters(**parameters)`` in this process.

    A refused value is a :class:`RunError` naming the chapter and the parameter. A chapter without a
    subpackage or without ``validate_parameters`` (a user's own notebook) is not checked here.
    """
    if importlib.util.find_spec(f"reprobook.{slug}") is None:
        return None
    try:
        module = importlib.import_module(f"reprobook.{slug}.chapter")
    except ModuleNotFoundError as error:
        if error.name in (f"reprobook.{slug}.chapter",):
            return None
        raise RunError(f"chapter {slug!r} cannot check its parameters: {error}; install its dependencies "
                       f"with: pip install -e '.[{slug}]'") from None
    except ImportError as error:
        raise RunError(f"chapter {slug!r} cannot check its parameters: {error}; install its dependencies "
                       f"with: pip install -e '.[{slug}]'") from None
    validate = getattr(module, "validate_parameters", None)
    if validate is None:
        return None
    try:
        return validate(**parameters)
    except (ParameterError, ValueError, TypeError) as error:
        raise RunError(f"chapter {slug!r}: {error}") from None


@dataclass
class _Plan:
    slug: str
    profile: str
    notebook: nbformat.NotebookNode
    parameters: dict[str, Any]
    digest: str
    up_to_date: bool


def _plan(slug: str, profile: str, force: bool, overrides: Mapping[str, Any] | None, root: Path) -> _Plan:
    notebook = read_source(slug, root)
    parameters = resolve_parameters(slug, profile, overrides, root, notebook)
    digest = content_hash(slug, notebook, parameters, root)
    previous = executed_metadata(slug, root)
    up_to_date = (not force and previous is not None and previous.get("hash") == digest
                  and previous.get("status") == "ok" and not failed_path(slug, root).exists())
    if not up_to_date:
        validate_chapter_parameters(slug, parameters)
    return _Plan(slug, profile, notebook, parameters, digest, up_to_date)


# --- running ----------------------------------------------------------------------------------------


def _wait(process: subprocess.Popen, limit: float, progress: _Progress) -> tuple[int | None, float, bool, bool]:
    """Wait for papermill: (exit code, CPU seconds of its process tree, timed out, stopped by a signal)."""
    import psutil

    started = time.monotonic()
    seen_cpu: dict[int, float] = {}
    timed_out = stopped = False
    last_sample = 0.0
    while True:
        try:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere
            process.returncode = process.returncode if process.returncode is not None else -signal.SIGKILL
            return process.returncode, sum(seen_cpu.values()), timed_out, stopped
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            cpu = max(usage.ru_utime + usage.ru_stime, sum(seen_cpu.values()))
            return process.returncode, cpu, timed_out, stopped
        now = time.monotonic()
        if now - last_sample > 2.0:  # CPU of members that may not be reaped by their parents (killed trees)
            last_sample = now
            with contextlib.suppress(psutil.Error):
                for member in [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        times = member.cpu_times()
                        seen_cpu[member.pid] = times.user + times.system
        if _stop_request.is_set() and not stopped:
            stopped = True
            progress.stopped = _stop_tree(process.pid)
        elif not timed_out and not stopped and now - started > limit:
            timed_out = True
            _stop_tree(process.pid)
        else:
            progress.poll()
        time.sleep(0.25)


def _publish_downloads(produced: Path, slug: str, root: Path) -> None:
    """Replace the chapter's downloads (``book/_extra/data/<slug>``) with those of a successful run."""
    if not produced.is_dir():
        return
    target = root / "book" / "_extra" / "data" / slug
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(produced, target)


def _execute(plan: _Plan, timeout: float | None, root: Path, log: Any) -> ChapterRun:
    slug, profile, parameters = plan.slug, plan.profile, plan.parameters
    output = executed_path(slug, root)
    failed = failed_path(slug, root)
    running, staging = _staging_paths(slug, root)
    output.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    running.unlink(missing_ok=True)
    report = staging / "progress.jsonl"
    source_ipynb = output.with_name(f".{slug}.source.ipynb")
    notebook = plan.notebook
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, source_ipynb)
    limit = timeout if timeout is not None else DEFAULT_TIMEOUT_S[profile]
    command = [
        sys.executable, "-m", "papermill", str(source_ipynb), str(running),
        "--kernel", "python3", "--cwd", str(output.parent), "--no-progress-bar",
        "-y", yaml.safe_dump(parameters),
    ]
    env = {**os.environ, "REPROBOOK_CLAIMS_DIR": str(staging), "REPROBOOK_ROOT": str(root),
           "REPROBOOK_PROFILE": profile, "REPROBOOK_PROGRESS_FILE": str(report),
           "REPROBOOK_CHAPTER": slug, "REPROBOOK_DOWNLOADS_DIR": str(staging / "data"),
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    progress = _Progress(slug, running, report, log)
    lines: collections.deque[str] = collections.deque(maxlen=200)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    reader = threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        returncode, cpu, timed_out, stopped = _wait(process, limit, progress)
    except BaseException:  # interrupted in this thread: leave no kernel or worker behind
        _stop_tree(process.pid, grace=1.0)
        with contextlib.suppress(Exception):
            process.wait(timeout=5)
        running.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        source_ipynb.unlink(missing_ok=True)
        raise
    reader.join(timeout=5)
    seconds = time.perf_counter() - started
    source_ipynb.unlink(missing_ok=True)
    reused, computed = _sweep_counts(report)
    result = ChapterRun(slug, profile, "ran", output, seconds, parameters=parameters, cpu_seconds=cpu,
                        cells_reused=reused, cells_computed=computed)
    last_good = (f"the last good notebook {_relative(output, root)} is unchanged" if output.exists()
                 else "there is no earlier good run")
    if stopped:
        running.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        result.status = "stopped"
        result.error = (f"chapter {slug!r} stopped: ended {', '.join(progress.stopped) or 'papermill'}; "
                        f"{last_good}")
        return result
    record = {
        "slug": slug, "profile": profile, "hash": plan.digest, "parameters": parameters,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"), "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1), "cells_reused": reused, "cells_computed": computed,
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
    if returncode == 0 and not timed_out and running.exists():
        _finalise(running, slug, {**record, "status": "ok"}, output)
        for produced in staging.iterdir():  # the ledger (and anything else the chapter wrote there)
            if produced.name != report.name and produced.is_file():
                os.replace(produced, output.parent / produced.name)
        _publish_downloads(staging / "data", slug, root)
        shutil.rmtree(staging, ignore_errors=True)
        failed.unlink(missing_ok=True)
        return result

    shutil.rmtree(staging, ignore_errors=True)
    if running.exists():
        try:
            executed = _finalise(running, slug, {**record, "status": "failed"}, failed)
            where = _first_error(executed)
            kept = f"the failed notebook is at {_relative(failed, root)}"
        except Exception:
            where = "the partial notebook could not be read"
            kept = "no failed notebook was kept"
            running.unlink(missing_ok=True)
    else:
        where = "no notebook was written"
        kept = "no failed notebook was kept"
    if timed_out:
        where = f"timed out after {limit:g} s; last state: {where}"
    tail = "\n".join(list(lines)[-15:]).strip()
    if log is not None and tail:
        print(tail, file=log)
    result.status = "failed"
    result.failed_output = failed if failed.exists() else None
    result.error = f"chapter {slug!r} ({profile}) failed: {where}\n{kept}; {last_good}"
    return result


def run_chapter(
    slug: str,
    profile: str = "book",
    *,
    force: bool = False,
    overrides: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    root: Path | None = None,
    log: Any = None,
) -> ChapterRun:
    """Execute one chapter (unless its output is up to date) and return what happened.

    Parameters are validated first (a refused value raises :class:`RunError` and touches nothing);
    the executed notebook and ledger are replaced only when the run succeeds.
    """
    root = root or project_root()
    _check_slugs([slug], root)
    _check_profile(profile)
    timeout = check_timeout(timeout)
    plan = _plan(slug, profile, force, overrides, root)
    output = executed_path(slug, root)
    if plan.up_to_date and refresh_prose(plan.notebook, output):
        return ChapterRun(slug, profile, "skipped", output, parameters=plan.parameters)
    if plan.up_to_date:
        validate_chapter_parameters(slug, plan.parameters)
    return _execute(plan, timeout, root, log)


def summary_table(results: Sequence[ChapterRun]) -> str:
    """One row per chapter: wall time, CPU time of its process tree, sweep cells reused, status."""
    header = ("chapter", "status", "wall", "CPU", "cells reused")
    rows = [header]
    for result in results:
        ran = result.status in ("ran", "failed", "stopped")
        cells = result.cells_reused + result.cells_computed
        rows.append((
            result.slug, result.status,
            format_seconds(result.seconds) if ran else "—",
            format_seconds(result.cpu_seconds) if ran else "—",
            f"{result.cells_reused} of {cells}" if ran and cells else "—",
        ))
    widths = [max(len(row[index]) for row in rows) for index in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def _on_signal(number: int, _frame: Any) -> None:
    if not _stop_request.is_set():
        _stop_signal.update(name=signal.Signals(number).name, number=number)
        _stop_request.set()


def run_chapters(
    slugs: Sequence[str] = (),
    profile: str = "book",
    *,
    force: bool = False,
    jobs: int = 1,
    overrides: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    root: Path | None = None,
    log: Any = sys.stderr,
) -> list[ChapterRun]:
    """Run several chapters (``jobs`` at a time); every chapter is attempted, failures reported.

    Every chapter's parameters and every option are checked before the first chapter starts. SIGINT
    or SIGTERM (when called from the main thread) stops every running chapter's process tree at once
    and raises :class:`ChaptersStopped`; the last good outputs stay in place.
    """
    root = root or project_root()
    _check_profile(profile)
    chosen = _check_slugs(list(slugs), root)
    if overrides and len(chosen) != 1:
        raise RunError("parameter overrides (-p NAME=VALUE) need exactly one chapter")
    jobs = check_jobs(jobs)
    timeout = check_timeout(timeout)
    plans = {slug: _plan(slug, profile, force, overrides, root) for slug in chosen}  # before any compute

    def one(slug: str) -> ChapterRun:
        plan = plans[slug]
        output = executed_path(slug, root)
        if _stop_request.is_set():
            return ChapterRun(slug, profile, "not started", output, parameters=plan.parameters)
        if plan.up_to_date and refresh_prose(plan.notebook, output):
            result = ChapterRun(slug, profile, "skipped", output, parameters=plan.parameters)
        else:
            if log is not None:
                print(f"[{slug}] running with profile {profile} ...", file=log, flush=True)
            if plan.up_to_date:
                validate_chapter_parameters(slug, plan.parameters)
            result = _execute(plan, timeout, root, log)
        if log is not None:
            detail = (f" in {format_seconds(result.seconds)}" if result.status not in ("skipped", "not started")
                      else " (up to date)" if result.status == "skipped" else "")
            print(f"[{slug}] {result.status}{detail}", file=log, flush=True)
            if result.error:
                print(result.error, file=log, flush=True)
        return result

    handlers: dict[int, Any] = {}
    _stop_request.clear()
    _stop_signal.clear()
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            handlers[number] = signal.signal(number, _on_signal)
    try:
        with futures.ThreadPoolExecutor(max_workers=min(jobs, max(len(chosen), 1))) as pool:
            pending = [pool.submit(one, slug) for slug in chosen]
            results = []
            for future in pending:
                while True:
                    try:
                        results.append(future.result(timeout=0.5))
                        break
                    except futures.TimeoutError:
                        continue
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    if log is not None and any(result.status != "skipped" for result in results):
        print("\n" + summary_table(results), file=log, flush=True)
    if _stop_request.is_set():
        stopped = ChaptersStopped(_stop_signal.get("name", "SIGINT"), _stop_signal.get("number", signal.SIGINT),
                                  results)
        _stop_request.clear()
        raise stopped
    return results

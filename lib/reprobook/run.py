"""The chapter runner: MyST notebooks -> papermill (with a profile) -> executed notebooks.

Parameters of a run are the notebook's ``parameters`` cell (the ``book`` profile) overlaid with the
chapter's block of ``notebooks/profiles.yml`` for ``smoke``/``paper`` and with explicit overrides.
A chapter whose executed notebook already records the same content hash (code cells, parameters,
the kit's and the chapter's library code) is skipped. Each chapter executes in its own process
group with a wall-clock limit; a failing chapter keeps its partial notebook for inspection.
"""

from __future__ import annotations

import concurrent.futures as futures
import hashlib
import json
import os
import signal
import subprocess
import sys
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

__all__ = [
    "PROFILES",
    "RunError",
    "ChapterRun",
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


class RunError(RuntimeError):
    """A chapter could not be run: bad slug, profile or parameter, or a failing cell."""


@dataclass
class ChapterRun:
    slug: str
    profile: str
    status: str  # "ran", "skipped" or "failed"
    output: Path
    seconds: float = 0.0
    error: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


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


def load_profiles(root: Path | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """``notebooks/profiles.yml``: {slug: {profile: {parameter: value}}}, checked for shape."""
    path = notebooks_dir(root) / "profiles.yml"
    if not path.exists():
        return {}
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise RunError(f"{path}: expected a mapping of chapter slugs to profiles")
    for slug, block in loaded.items():
        block = block or {}
        if not isinstance(block, dict):
            raise RunError(f"{path}: the block of {slug!r} must map profile names to parameters")
        for profile, overrides in block.items():
            if profile not in PROFILES:
                raise RunError(
                    f"{path}: chapter {slug!r} has unknown profile {profile!r}; allowed: {', '.join(PROFILES)}"
                )
            if overrides is not None and not isinstance(overrides, dict):
                raise RunError(f"{path}: {slug}.{profile} must map parameter names to values")
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


def _library_files(slug: str, root: Path) -> list[Path]:
    kit = root / "lib" / "reprobook"
    chapter = kit / slug
    files = sorted(kit.glob("*.py"))
    if chapter.is_dir():
        files += sorted(chapter.rglob("*.py"))
    return files


def content_hash(
    slug: str, notebook: nbformat.NotebookNode, parameters: Mapping[str, Any], root: Path | None = None
) -> str:
    """sha256 of the code cells, the parameters and the kit's and chapter's library code."""
    root = root or project_root()
    digest = hashlib.sha256()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode())
            digest.update(json.dumps(cell.get("metadata", {}).get("tags", [])).encode())
    digest.update(json.dumps(parameters, sort_keys=True, default=repr).encode())
    for path in _library_files(slug, root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def executed_path(slug: str, root: Path | None = None) -> Path:
    return chapters_dir(root) / f"{slug}.ipynb"


def executed_metadata(slug: str, root: Path | None = None) -> dict[str, Any] | None:
    """The runner's record in an executed notebook (profile, hash, status, ...), if any."""
    path = executed_path(slug, root)
    if not path.exists():
        return None
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:
        return None
    return dict(notebook.metadata.get("reprobook", {})) or None


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


def _finalise(notebook_path: Path, slug: str, record: dict[str, Any]) -> nbformat.NotebookNode:
    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    notebook.metadata.setdefault("papermill", {})["input_path"] = f"notebooks/{slug}.md"
    notebook.metadata["papermill"]["output_path"] = f"book/chapters/{slug}.ipynb"
    notebook.metadata["reprobook"] = record
    tmp = notebook_path.with_suffix(".ipynb.part")
    nbformat.write(notebook, tmp)
    os.replace(tmp, notebook_path)
    return notebook


def _kill_tree(pid: int) -> None:
    """Kill a process and all its descendants (the kernel runs in a session of its own)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


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
    """Execute one chapter (unless its output is up to date) and return what happened."""
    root = root or project_root()
    _check_slugs([slug], root)
    _check_profile(profile)
    notebook = read_source(slug, root)
    parameters = resolve_parameters(slug, profile, overrides, root, notebook)
    digest = content_hash(slug, notebook, parameters, root)
    output = executed_path(slug, root)
    previous = executed_metadata(slug, root)
    if not force and previous and previous.get("hash") == digest and previous.get("status") == "ok":
        if refresh_prose(notebook, output):
            return ChapterRun(slug, profile, "skipped", output, parameters=parameters)

    output.parent.mkdir(parents=True, exist_ok=True)
    source_ipynb = output.with_name(f".{slug}.source.ipynb")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, source_ipynb)
    limit = timeout if timeout is not None else DEFAULT_TIMEOUT_S[profile]
    command = [
        sys.executable, "-m", "papermill", str(source_ipynb), str(output),
        "--kernel", "python3", "--cwd", str(output.parent), "--no-progress-bar",
        "-y", yaml.safe_dump(parameters),
    ]
    env = {**os.environ, "REPROBOOK_CLAIMS_DIR": str(output.parent), "REPROBOOK_ROOT": str(root),
           "REPROBOOK_PROFILE": profile, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        stdout, _ = process.communicate(timeout=limit)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_tree(process.pid)
        stdout, _ = process.communicate()
        timed_out = True
    except BaseException:  # interrupted: leave no kernel or worker behind
        _kill_tree(process.pid)
        raise
    seconds = time.perf_counter() - started
    source_ipynb.unlink(missing_ok=True)
    record = {
        "slug": slug, "profile": profile, "hash": digest, "parameters": parameters,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"), "seconds": round(seconds, 1),
    }
    if process.returncode == 0 and not timed_out and output.exists():
        _finalise(output, slug, {**record, "status": "ok"})
        return ChapterRun(slug, profile, "ran", output, seconds, parameters=parameters)

    if output.exists():
        try:
            executed = _finalise(output, slug, {**record, "status": "failed"})
            where = _first_error(executed)
        except Exception:
            where = "the partial notebook could not be read"
    else:
        where = "no notebook was written"
    if timed_out:
        where = f"timed out after {limit:g} s; last state: {where}"
    tail = "\n".join((stdout or "").strip().splitlines()[-15:])
    error = f"chapter {slug!r} ({profile}) failed: {where}\npartial notebook kept at {output}"
    if log is not None and tail:
        print(tail, file=log)
    return ChapterRun(slug, profile, "failed", output, seconds, error=error, parameters=parameters)


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
    """Run several chapters (``jobs`` at a time); every chapter is attempted, failures reported."""
    root = root or project_root()
    _check_profile(profile)
    chosen = _check_slugs(list(slugs), root)
    if overrides and len(chosen) != 1:
        raise RunError("parameter overrides (-p NAME=VALUE) need exactly one chapter")
    for slug in chosen:  # validate every chapter's parameters before any compute
        resolve_parameters(slug, profile, overrides, root)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise RunError(f"jobs must be a positive integer, got {jobs!r}")

    def one(slug: str) -> ChapterRun:
        if log is not None:
            print(f"[{slug}] running with profile {profile} ...", file=log, flush=True)
        result = run_chapter(slug, profile, force=force, overrides=overrides, timeout=timeout, root=root, log=log)
        if log is not None:
            detail = f" in {result.seconds:.1f} s" if result.status != "skipped" else " (up to date)"
            print(f"[{slug}] {result.status}{detail}", file=log, flush=True)
            if result.error:
                print(result.error, file=log, flush=True)
        return result

    with futures.ThreadPoolExecutor(max_workers=min(jobs, max(len(chosen), 1))) as pool:
        return list(pool.map(one, chosen))

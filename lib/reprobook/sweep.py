"""Map an experiment function over a grid of configs, caching every cell on disk.

``sweep(fn, configs)`` runs ``fn(config)`` for each config and returns the results in order. Each
cell's result is pickled under a key made of the function's name, the config, the source of every
module the function imports from ``reprobook`` (transitively) and the versions of the packages that
compute it; each file carries the sha256 of its pickle and is written atomically (temp file, then
rename): an interrupted sweep resumes where it stopped, a rerun with nothing changed is instant, and
a corrupt or stale cell is computed again, never shown. Cells run in local worker processes by
default, or as Ray tasks on a cluster (``backend="ray"`` or ``RAY_ADDRESS`` set).

>>> from reprobook.sweep import sweep
>>> sweep(abs, [-1, -2], backend="serial", cache=False, progress=False)
[1, 2]
"""

from __future__ import annotations

import ast
import concurrent.futures as futures
import contextlib
import dataclasses
import enum
import functools
import hashlib
import importlib.metadata
import json
import math
import multiprocessing
import os
import pickle
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from reprobook.project import user_cache_dir

__all__ = ["sweep", "SweepError", "CellFailure", "CacheWarning", "Resources", "cache_key", "dependency_fingerprint",
           "import_closure", "package_versions", "read_cell", "default_cache_dir", "BACKENDS"]

BACKENDS = ("serial", "processes", "ray")


@dataclass(frozen=True)
class Resources:
    """What one cell needs: CPUs, GPUs and memory (GB). Ray schedules each cell by it.

    The local backends run one cell per worker process and ignore it. A GPU cell on a Ray cluster
    waits for a node with a free GPU, so a cluster with GPU workers runs the GPU cells there.

    >>> Resources(cpus=2, gpus=1, memory_gb=16).ray_options()
    {'num_cpus': 2.0, 'num_gpus': 1.0, 'memory': 17179869184}
    >>> Resources.for_device("cuda").gpus, Resources.for_device("cpu").gpus
    (1.0, 0.0)
    """

    cpus: float = 1.0
    gpus: float = 0.0
    memory_gb: float = 0.0

    def __post_init__(self) -> None:
        for name, value, low in (("cpus", self.cpus, 0.0), ("gpus", self.gpus, 0.0), ("memory_gb", self.memory_gb, 0.0)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < low:
                raise ValueError(f"Resources.{name} must be a finite number >= {low:g}, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.cpus == 0 and self.gpus == 0:
            raise ValueError("Resources needs cpus > 0 or gpus > 0 (a cell must run somewhere)")

    @classmethod
    def for_device(cls, device: str, *, cpus: float = 1.0, memory_gb: float = 0.0) -> Resources:
        """One GPU per cell when ``device`` is ``"cuda"`` (or ``"cuda:N"``), none otherwise."""
        return cls(cpus=cpus, gpus=1.0 if str(device).startswith("cuda") else 0.0, memory_gb=memory_gb)

    def ray_options(self) -> dict[str, float | int]:
        options: dict[str, float | int] = {"num_cpus": self.cpus, "num_gpus": self.gpus}
        if self.memory_gb:
            options["memory"] = int(self.memory_gb * 2**30)
        return options


def _cell_resources(resources: Resources | Callable[[Any], Resources] | None, config: Any) -> Resources:
    chosen = resources(config) if callable(resources) else resources
    chosen = Resources() if chosen is None else chosen
    if not isinstance(chosen, Resources):
        raise TypeError(f"resources must be a Resources or a function of a config returning one, got {chosen!r}")
    return chosen


@dataclass(frozen=True)
class CellFailure:
    """A cell that raised: its config and the formatted traceback."""

    index: int
    config: Any
    error: str

    def __str__(self) -> str:
        last = self.error.strip().splitlines()[-1] if self.error.strip() else "unknown error"
        return f"cell {self.index} {describe_config(self.config)}: {last}"


class SweepError(RuntimeError):
    """Some cells raised. ``results`` holds the others (``CellFailure`` where a cell failed)."""

    def __init__(self, failures: list[CellFailure], results: list[Any]):
        self.failures = failures
        self.results = results
        lines = "\n".join(f"  - {failure}" for failure in failures)
        super().__init__(
            f"{len(failures)} of {len(results)} cells failed (the other cells' results are cached):\n"
            f"{lines}\nFirst traceback:\n{failures[0].error}"
        )


def default_cache_dir() -> Path:
    """``REPROBOOK_CACHE_DIR``, else ``~/.cache/reprobook/sweep``."""
    return user_cache_dir("sweep", "REPROBOOK_CACHE_DIR")


def _plain(value: Any) -> Any:
    """A JSON-able, canonical form of a config (dataclasses, tuples, enums, numpy scalars, paths)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__dataclass__": type(value).__qualname__,
                **{field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}}
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"sweep configs must be built from plain values or dataclasses; cannot key {value!r}")


def describe_config(config: Any) -> str:
    return json.dumps(_plain(config), sort_keys=True, ensure_ascii=False)


class CacheWarning(UserWarning):
    """A cached cell could not be trusted (corrupt or unreadable) and is computed again."""


# --- what a cell's result depends on: the source it imports and the packages that compute it ---------

#: Packages whose version a result depends on although the code never imports them by name.
COMPANIONS = {"jax": ("jaxlib",)}

_file_records: dict[tuple[str, int, int], tuple[str, frozenset[str]]] = {}


def _module_file(name: str, roots: dict[str, Path]) -> Path | None:
    """The source file of module ``name`` when its top-level package is one of ``roots``."""
    parts = name.split(".")
    base = roots.get(parts[0])
    if base is None:
        return None
    candidate = base.joinpath(*parts)
    if (candidate / "__init__.py").is_file():
        return candidate / "__init__.py"
    if candidate.with_suffix(".py").is_file():
        return candidate.with_suffix(".py")
    return None


def _imported_names(path: Path, module_name: str) -> tuple[str, frozenset[str]]:
    """sha256 of a source file and every module name it may import (absolute, with parents)."""
    stat = path.stat()
    memo_key = (str(path), stat.st_size, stat.st_mtime_ns)
    if memo_key in _file_records:
        return _file_records[memo_key]
    source = path.read_bytes()
    names: set[str] = set()
    package = module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    for node in ast.walk(tree):  # imports inside functions count too: they run when the function does
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join(part for part in [*anchor, node.module or ""] if part)
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value)
    with_parents = {".".join(name.split(".")[: index + 1]) for name in names if name
                    for index in range(name.count(".") + 1)}
    record = (hashlib.sha256(source).hexdigest(), frozenset(with_parents))
    _file_records[memo_key] = record
    return record


def import_closure(modules: Sequence[str], roots: dict[str, Path]) -> tuple[dict[str, str], set[str]]:
    """The source files ``modules`` import, transitively, within the packages of ``roots``.

    Returns ``{module name: sha256 of its source}`` over the closure and the top-level names of the
    other (third-party or standard-library) modules the closure imports. The analysis is static
    (``ast``): every import statement counts, also one inside a function.
    """
    hashes: dict[str, str] = {}
    external: set[str] = set()
    todo = [name for module in modules for name in
            (".".join(module.split(".")[: index + 1]) for index in range(module.count(".") + 1))]
    while todo:
        name = todo.pop()
        if name in hashes:
            continue
        path = _module_file(name, roots)
        if path is None:
            if name.split(".")[0] not in roots:
                external.add(name.split(".")[0])
            continue
        digest, imported = _imported_names(path, name)
        hashes[name] = digest
        todo.extend(imported - hashes.keys())
    return hashes, external


@functools.lru_cache(maxsize=1)
def _distributions_of_modules() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


@functools.cache
def _distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def package_versions(top_level_names: set[str]) -> dict[str, str]:
    """Installed versions of the distributions that provide these modules (the standard library aside)."""
    versions: dict[str, str] = {}
    for name in sorted(top_level_names - set(sys.stdlib_module_names) - {"__future__", "reprobook"}):
        distributions = [name] if _distribution_version(name) else _distributions_of_modules().get(name, [])
        for distribution in [*distributions, *COMPANIONS.get(name, ())]:
            version = _distribution_version(distribution)
            if version is not None:
                versions[distribution.lower()] = version
    return versions


def _roots_for(module_name: str) -> dict[str, Path]:
    """Where to read sources: the ``reprobook`` package and the package ``module_name`` belongs to."""
    roots = {"reprobook": Path(__file__).resolve().parents[1]}
    module = sys.modules.get(module_name)
    origin = getattr(module, "__file__", None)
    if origin and module_name != "__main__":
        path = Path(origin).resolve()
        depth = module_name.count(".") + (1 if path.name == "__init__.py" else 0)
        roots.setdefault(module_name.split(".")[0], path.parents[depth])
    return roots


def dependency_fingerprint(fn: Callable[..., Any]) -> dict[str, Any]:
    """What a cell of ``fn`` depends on besides its config: sources imported and package versions.

    The source of ``fn``'s module and of every module it imports from ``reprobook`` (or from its
    own package), transitively, and the versions of the third-party packages those modules import
    (with ``COMPANIONS``, e.g. jaxlib for jax) and of Python.
    """
    module_name = getattr(fn, "__module__", None) or "__main__"
    hashes, external = import_closure([module_name], _roots_for(module_name))
    if module_name not in hashes:  # defined in a notebook or an interactive session
        hashes[module_name] = "unknown source"
    return {"sources": dict(sorted(hashes.items())), "packages": package_versions(external),
            "python": f"{sys.version_info.major}.{sys.version_info.minor}"}


def _source_hash(fn: Callable[..., Any]) -> str:
    payload = json.dumps(dependency_fingerprint(fn), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def cache_key(fn: Callable[..., Any], config: Any, *, source: str | None = None) -> str:
    """The cache key of one cell: function, config, and :func:`dependency_fingerprint` of ``fn``.

    ``source`` is ``fn``'s fingerprint hash when the caller has it already (one per sweep).
    """
    payload = json.dumps(
        {"fn": f"{fn.__module__}.{fn.__qualname__}", "config": _plain(config),
         "source": source if source is not None else _source_hash(fn)},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


# --- cells on disk: a header, the sha256 of the pickle, the pickle ------------------------------------

CELL_MAGIC = b"reprobook-cell-1\n"


def _write_atomic(path: Path, value: Any) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(CELL_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def read_cell(path: Path) -> Any:
    """The value stored in a cache cell; ``ValueError`` when its checksum or format is wrong."""
    blob = Path(path).read_bytes()
    header = len(CELL_MAGIC) + 32
    if not blob.startswith(CELL_MAGIC) or len(blob) < header:
        raise ValueError("not a reprobook cache cell (unknown format)")
    if hashlib.sha256(blob[header:]).digest() != blob[len(CELL_MAGIC):header]:
        raise ValueError("its checksum does not match its content")
    return pickle.loads(blob[header:])


def _read(path: Path) -> tuple[bool, Any]:
    """A trusted cached value, or (False, None) after warning about and removing a corrupt cell."""
    try:
        return True, read_cell(path)
    except FileNotFoundError:
        return False, None
    except Exception as error:  # corrupt, truncated or from an older format: never trusted
        warnings.warn(f"sweep cache cell {path} cannot be trusted ({error}); computing it again",
                      CacheWarning, stacklevel=3)
        with contextlib.suppress(OSError):
            path.unlink()
        return False, None


def _call(fn: Callable[[Any], Any], config: Any) -> tuple[bool, Any]:
    try:
        return True, fn(config)
    except Exception:  # a failing cell is reported with its config, the sweep goes on
        return False, traceback.format_exc()


def _resolve_backend(backend: str | None, jobs: int, n_todo: int) -> str:
    if backend is None:
        if os.environ.get("RAY_ADDRESS"):
            return "ray"
        return "processes" if jobs > 1 and n_todo > 1 else "serial"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)} (or None for automatic); got {backend!r}")
    return backend


def sweep(
    fn: Callable[[Any], Any],
    configs: Sequence[Any],
    *,
    jobs: int | None = None,
    backend: str | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    errors: str = "raise",
    desc: str | None = None,
    progress: bool = True,
    resources: Resources | Callable[[Any], Resources] | None = None,
    gpus_per_cell: float | None = None,
) -> list[Any]:
    """Run ``fn(config)`` for every config; return the results in the order of ``configs``.

    Parameters
    ----------
    fn: a top-level (importable) function of one config.
    configs: plain values, dicts or dataclasses; each is part of its cell's cache key.
    jobs: worker processes (default: the number of cores; 1 runs in this process).
    backend: ``"serial"``, ``"processes"``, ``"ray"``, or None (Ray when ``RAY_ADDRESS`` is set).
    cache: read and write the on-disk cache (``cache_dir``, default :func:`default_cache_dir`).
    errors: ``"raise"`` raises :class:`SweepError` after every other cell finished (their results
        are cached); ``"keep"`` returns :class:`CellFailure` objects in the failed places.
    resources: what each cell needs (:class:`Resources`, or a function of its config returning one);
        Ray schedules by it, so GPU cells go to nodes with GPUs. Default: one CPU, no GPU.
    gpus_per_cell: shorthand for ``resources=Resources(gpus=gpus_per_cell)`` (not with ``resources``).
    """
    if errors not in ("raise", "keep"):
        raise ValueError(f"errors must be 'raise' or 'keep'; got {errors!r}")
    configs = list(configs)
    if gpus_per_cell is not None:
        if resources is not None:
            raise ValueError("give either resources or gpus_per_cell, not both")
        resources = Resources(gpus=gpus_per_cell)
    cell_resources = [_cell_resources(resources, config) for config in configs]
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer; got {jobs!r}")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = root / f"{fn.__module__}.{fn.__qualname__}"
    if cache:
        source = _source_hash(fn)
        paths: list[Path | None] = [folder / f"{cache_key(fn, config, source=source)}.pkl" for config in configs]
    else:
        paths = [None] * len(configs)

    results: list[Any] = [None] * len(configs)
    todo: list[int] = []
    for index, path in enumerate(paths):
        found, value = _read(path) if path is not None else (False, None)
        if found:
            results[index] = value
        else:
            todo.append(index)

    failures: list[CellFailure] = []
    label = desc or getattr(fn, "__name__", "sweep")
    bar = tqdm(total=len(configs), initial=len(configs) - len(todo), desc=label, disable=not progress,
               leave=False)
    report = _ProgressReport(label, total=len(configs), cached=len(configs) - len(todo))

    def finish(index: int, ok: bool, value: Any) -> None:
        if ok:
            results[index] = value
            if paths[index] is not None:
                _write_atomic(paths[index], value)
        else:
            failure = CellFailure(index, configs[index], value)
            failures.append(failure)
            results[index] = failure
        bar.update(1)
        report.cell_done()

    chosen = _resolve_backend(backend, jobs, len(todo))
    try:
        if not todo:
            pass
        elif chosen == "serial":
            for index in todo:
                finish(index, *_call(fn, configs[index]))
        elif chosen == "processes":
            _run_on_processes(fn, configs, todo, jobs, finish)
        else:
            _run_on_ray(fn, configs, todo, jobs, cell_resources, finish)
    finally:
        bar.close()
        report.close()

    if failures and errors == "raise":
        raise SweepError(sorted(failures, key=lambda failure: failure.index), results)
    if not failures:
        _offer_download(fn, configs, results)
    return results


def _offer_download(fn: Callable[[Any], Any], configs: list[Any], results: list[Any]) -> None:
    """A sweep of frames becomes a CSV among the chapter's downloads (only under the book's runner)."""
    from reprobook import downloads

    if downloads.current_chapter() is None:
        return
    try:
        downloads.save_sweep(getattr(fn, "__name__", "sweep"), configs, results)
    except Exception as error:  # noqa: BLE001 - a download must never fail an experiment
        warnings.warn(f"could not write the download of sweep {getattr(fn, '__name__', fn)!r}: {error}",
                      stacklevel=3)


class _ProgressReport:
    """Cells cached and computed, appended as JSON lines to ``REPROBOOK_PROGRESS_FILE`` when it is set.

    The book's runner sets that variable and shows the counts while a chapter runs.
    """

    def __init__(self, label: str, *, total: int, cached: int):
        self.path = os.environ.get("REPROBOOK_PROGRESS_FILE")
        self.record = {"sweep": f"{label}-{os.getpid()}-{time.monotonic_ns()}", "label": label,
                       "total": total, "cached": cached, "computed": 0, "done": False}
        self.last = 0.0
        self.write()

    def write(self) -> None:
        if not self.path:
            return
        self.last = time.monotonic()
        with contextlib.suppress(OSError), open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(self.record) + "\n")

    def cell_done(self) -> None:
        self.record["computed"] += 1
        if time.monotonic() - self.last > 1.0:
            self.write()

    def close(self) -> None:
        self.record["done"] = True
        self.write()


def _run_on_processes(fn, configs, todo, jobs, finish) -> None:
    context = multiprocessing.get_context("spawn")
    pool = futures.ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=context)
    try:
        pending = {pool.submit(_call, fn, configs[index]): index for index in todo}
        for future in futures.as_completed(pending):
            try:
                outcome = future.result()
            except Exception:  # the worker itself died (e.g. out of memory)
                outcome = (False, traceback.format_exc())
            finish(pending[future], *outcome)
    except BaseException:  # interrupted: stop the workers now rather than after their current cells
        workers = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.terminate()
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.join(timeout=5)
        raise
    pool.shutdown(wait=True)


def _run_on_ray(fn, configs, todo, jobs, cell_resources, finish) -> None:
    """Each cell a Ray task with its resources; a task whose node dies is retried elsewhere by Ray.

    Results are cached by this (driver) process as each cell finishes, so a cell that finished before
    a node was lost is never submitted again, on this run or the next.
    """
    try:
        import ray
    except ImportError as error:
        raise ImportError("backend='ray' needs Ray: pip install 'reprobook[ray]'") from error
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        if address and address != "local":
            ray.init(address=address, log_to_driver=False)
        else:  # a private local instance sized by ``jobs`` (RAY_ADDRESS=local included)
            ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
    remote_call = ray.remote(max_retries=3)(_call)
    pending = {remote_call.options(**cell_resources[index].ray_options()).remote(fn, configs[index]): index
               for index in todo}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            index = pending.pop(ref)
            try:
                outcome = ray.get(ref)
            except Exception:  # the task or its worker died
                outcome = (False, traceback.format_exc())
            finish(index, *outcome)

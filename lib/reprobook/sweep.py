"""Map an experiment function over a grid of configs, caching every cell on disk.

``sweep(fn, configs)`` runs ``fn(config)`` for each config and returns the results in order. Each
cell's result is pickled under a key made of the function's name, the config and the source code of
the function's subpackage, written atomically (temp file, then rename): an interrupted sweep resumes
where it stopped, and a rerun with nothing changed is instant. Cells run in local worker processes by
default, or as Ray tasks on a cluster (``backend="ray"`` or ``RAY_ADDRESS`` set).

>>> from reprobook.sweep import sweep
>>> sweep(abs, [-1, -2], backend="serial", cache=False, progress=False)
[1, 2]
"""

from __future__ import annotations

import concurrent.futures as futures
import dataclasses
import enum
import hashlib
import importlib
import json
import multiprocessing
import os
import pickle
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from reprobook.project import user_cache_dir

__all__ = ["sweep", "SweepError", "CellFailure", "cache_key", "default_cache_dir", "BACKENDS"]

BACKENDS = ("serial", "processes", "ray")


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


_source_hashes: dict[str, str] = {}


def _source_hash(fn: Callable[..., Any]) -> str:
    """Hash of the source of the package ``fn`` belongs to (its top two levels, e.g. reprobook.ficsum)."""
    module_name = getattr(fn, "__module__", None) or "__main__"
    parts = module_name.split(".")
    package_name = ".".join(parts[:2]) if len(parts) > 1 else module_name
    if package_name in _source_hashes:
        return _source_hashes[package_name]
    digest = hashlib.sha256()
    try:
        module = importlib.import_module(package_name)
        origin = Path(module.__file__) if getattr(module, "__file__", None) else None
    except ImportError:
        origin = None
    if origin is None:
        digest.update(module_name.encode())
    elif origin.name == "__init__.py":
        for path in sorted(origin.parent.rglob("*.py")):
            digest.update(str(path.relative_to(origin.parent)).encode())
            digest.update(path.read_bytes())
    else:
        digest.update(origin.read_bytes())
    _source_hashes[package_name] = digest.hexdigest()
    return _source_hashes[package_name]


def cache_key(fn: Callable[..., Any], config: Any) -> str:
    """The cache key of one cell: function name + config + source of the function's package."""
    payload = json.dumps(
        {"fn": f"{fn.__module__}.{fn.__qualname__}", "config": _plain(config), "source": _source_hash(fn)},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _write_atomic(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _read(path: Path) -> tuple[bool, Any]:
    try:
        with open(path, "rb") as handle:
            return True, pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
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
    gpus_per_cell: float = 0.0,
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
    gpus_per_cell: GPUs requested per Ray task.
    """
    if errors not in ("raise", "keep"):
        raise ValueError(f"errors must be 'raise' or 'keep'; got {errors!r}")
    configs = list(configs)
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer; got {jobs!r}")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = root / f"{fn.__module__}.{fn.__qualname__}"
    paths = [folder / f"{cache_key(fn, config)}.pkl" for config in configs] if cache else [None] * len(configs)

    results: list[Any] = [None] * len(configs)
    todo: list[int] = []
    for index, path in enumerate(paths):
        found, value = _read(path) if path is not None and path.exists() else (False, None)
        if found:
            results[index] = value
        else:
            todo.append(index)

    failures: list[CellFailure] = []
    label = desc or getattr(fn, "__name__", "sweep")
    bar = tqdm(total=len(configs), initial=len(configs) - len(todo), desc=label, disable=not progress,
               leave=False)

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

    chosen = _resolve_backend(backend, jobs, len(todo))
    try:
        if not todo:
            pass
        elif chosen == "serial":
            for index in todo:
                finish(index, *_call(fn, configs[index]))
        elif chosen == "processes":
            context = multiprocessing.get_context("spawn")
            with futures.ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=context) as pool:
                pending = {pool.submit(_call, fn, configs[index]): index for index in todo}
                for future in futures.as_completed(pending):
                    try:
                        outcome = future.result()
                    except Exception:  # the worker itself died (e.g. out of memory)
                        outcome = (False, traceback.format_exc())
                    finish(pending[future], *outcome)
        else:
            _run_on_ray(fn, configs, todo, jobs, gpus_per_cell, finish)
    finally:
        bar.close()

    if failures and errors == "raise":
        raise SweepError(sorted(failures, key=lambda failure: failure.index), results)
    return results


def _run_on_ray(fn, configs, todo, jobs, gpus_per_cell, finish) -> None:
    try:
        import ray
    except ImportError as error:
        raise ImportError("backend='ray' needs Ray: pip install 'reprobook[ray]'") from error
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
    remote_call = ray.remote(num_cpus=1, num_gpus=gpus_per_cell)(_call)
    pending = {remote_call.remote(fn, configs[index]): index for index in todo}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            index = pending.pop(ref)
            try:
                outcome = ray.get(ref)
            except Exception:  # the task or its worker died
                outcome = (False, traceback.format_exc())
            finish(index, *outcome)

"""A persistent XLA compilation cache, so that reruns and CI do not recompile (brief §4).

Compiling the fused training graph costs tens of seconds on two cores; with the cache a rerun
pays only tracing. The cache lives in the user's cache folder (``REPROBOOK_JAX_CACHE`` overrides),
keyed by XLA on the JAX version, backend and flags.

>>> enable_compilation_cache() == compilation_cache_dir()
True
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

__all__ = ["compilation_cache_dir", "enable_compilation_cache"]


def compilation_cache_dir() -> Path:
    """``REPROBOOK_JAX_CACHE``, else ``~/.cache/reprobook/jax``."""
    configured = os.environ.get("REPROBOOK_JAX_CACHE")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "reprobook" / "jax"


def enable_compilation_cache(folder: str | os.PathLike[str] | None = None, *, fast_compile: bool = False) -> Path:
    """Turn on JAX's persistent cache for every compiled function (idempotent); return its folder.

    ``fast_compile`` lowers XLA's backend optimisation level to 0 (about half the cold compile time,
    slower code: for smoke runs); it only takes effect before JAX's backend has started.
    """
    if fast_compile and "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()
    target = Path(folder) if folder is not None else compilation_cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(target))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return target

"""Results to take away: each chapter's sweep results, ledger and figure data as files in the book.

While a chapter runs under the book's runner (``REPROBOOK_CHAPTER`` names it), the kit writes
what it computes into the runner's staging folder (``REPROBOOK_DOWNLOADS_DIR``), which replaces
``book/_extra/data/<slug>/`` when the run succeeds; the build copies that folder to ``data/<slug>/`` at
the site's root: every sweep whose cells return pandas frames as ``<function>.csv`` (one row per
result row, with the cell's config as columns), the ledger as ``claims.json`` and ``claims.csv``,
and every figure's data and layout as ``figure-NN.json`` (plotly's own JSON, re-plottable with
``plotly.io.read_json``). Outside the runner (JupyterLab, a script) nothing is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["current_chapter", "downloads_dir", "site_href", "save_frame", "save_json", "save_figure",
           "save_sweep", "listing", "links_markdown"]

_figure_counter = {"value": 0}
_sweep_names: dict[str, int] = {}


def current_chapter() -> str | None:
    """The chapter being run by the book's runner, if any."""
    return os.environ.get("REPROBOOK_CHAPTER") or None


def downloads_dir(slug: str | None = None, root: Path | None = None) -> Path | None:
    """``book/_extra/data/<slug>`` of the project (``None`` outside a runner-driven chapter)."""
    slug = slug or current_chapter()
    if not slug:
        return None
    staged = os.environ.get("REPROBOOK_DOWNLOADS_DIR")
    if staged and slug == current_chapter() and root is None:
        return Path(staged)  # the runner's staging folder: published only when the run succeeds
    from reprobook.project import project_root

    return (root or project_root()) / "book" / "_extra" / "data" / slug


def site_href(slug: str, name: str) -> str:
    """The link to a download from the chapter's page (``chapters/<slug>.html``)."""
    return f"../data/{slug}/{name}"


def _atomic_write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path


def save_frame(frame: pd.DataFrame, name: str, slug: str | None = None) -> Path | None:
    """Write ``frame`` as ``<name>.csv`` among the chapter's downloads."""
    folder = downloads_dir(slug)
    if folder is None:
        return None
    return _atomic_write(folder / f"{name}.csv", frame.to_csv(index=False))


def save_json(payload: Any, name: str, slug: str | None = None) -> Path | None:
    folder = downloads_dir(slug)
    if folder is None:
        return None
    return _atomic_write(folder / f"{name}.json", json.dumps(payload, indent=1, ensure_ascii=False, default=str))


def save_figure(fig_dict: dict, slug: str | None = None) -> str | None:
    """Write a figure's plotly JSON as ``figure-NN.json``; return its file name."""
    folder = downloads_dir(slug)
    if folder is None:
        return None
    import plotly.io as pio

    _figure_counter["value"] += 1
    name = f"figure-{_figure_counter['value']:02d}.json"
    _atomic_write(folder / name, pio.to_json(fig_dict, validate=False))
    return name


def _config_columns(config: Any) -> dict[str, Any]:
    import dataclasses

    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        items = dataclasses.asdict(config)
    elif isinstance(config, dict):
        items = dict(config)
    else:
        items = {"config": config}
    return {f"config.{key}": value if isinstance(value, (int, float, str, bool, type(None))) else str(value)
            for key, value in items.items()}


def save_sweep(name: str, configs: Sequence[Any], results: Sequence[Any], slug: str | None = None) -> Path | None:
    """Write a sweep's results as ``<name>.csv`` when every cell returned a pandas frame."""
    if downloads_dir(slug) is None or not results or not all(isinstance(r, pd.DataFrame) for r in results):
        return None
    count = _sweep_names.get(name, 0) + 1  # the same function swept twice in a chapter: run_x, run_x-2, …
    _sweep_names[name] = count
    if count > 1:
        name = f"{name}-{count}"
    frames = []
    for config, frame in zip(configs, results, strict=True):
        columns = _config_columns(config)
        labelled = frame.copy()
        for key, value in columns.items():
            if key not in labelled.columns:
                labelled[key] = value
        frames.append(labelled)
    return save_frame(pd.concat(frames, ignore_index=True), name, slug)


def listing(slug: str, root: Path | None = None) -> list[Path]:
    """The chapter's downloads, sorted by name."""
    folder = downloads_dir(slug, root)
    if folder is None or not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.is_file() and not path.name.endswith(".part"))


def links_markdown(slug: str, root: Path | None = None, *, prefix: str | None = None) -> str:
    """A line of links to every download of the chapter (raw HTML, so Sphinx leaves it alone)."""
    files = listing(slug, root)
    if not files:
        return ""
    base = prefix if prefix is not None else f"../data/{slug}/"
    links = ", ".join(f'<a href="{base}{path.name}" download>{path.name}</a>' for path in files)
    return f"Data behind this page: {links}."

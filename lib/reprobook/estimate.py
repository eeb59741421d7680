"""What a profile would cost: run a bounded slice of it, measure throughput, project the whole.

A chapter that supports estimates exposes ``reprobook.<slug>.estimate.probe(parameters, seconds)``:
it runs a slice of the profile's configuration for about ``seconds`` and returns a :class:`Probe`
(``parameters`` are the notebook's parameters for that profile, as the runner resolves them,
``profile`` included)
(units of work done in the slice, its wall and CPU time, the device, and how many units and
independent cells the whole profile has). :func:`project` turns it into wall time on this
machine, CPU-hours and GPU-hours; ``python -m reprobook estimate CHAPTER --profile paper`` prints it.

>>> p = Probe(units_done=1000, wall_seconds=2.0, cpu_seconds=3.8, device="cpu", units_total=1e6, cells=4,
...           unit="env steps")
>>> round(project(p).wall_hours_serial, 3), round(project(p).cpu_hours, 3)
(0.556, 1.056)
"""

from __future__ import annotations

import importlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Probe", "Projection", "project", "chapter_probe", "format_projection", "write_estimate",
           "read_estimate", "profile_estimate", "estimate_markdown", "format_hours", "MAX_PROBE_SECONDS"]

#: the longest slice a probe may run (the CLI's ``--seconds``)
MAX_PROBE_SECONDS = 3600.0


@dataclass(frozen=True)
class Probe:
    """A measured slice of a profile."""

    units_done: float
    wall_seconds: float
    cpu_seconds: float
    device: str
    units_total: float
    cells: int = 1
    unit: str = "units"
    notes: str = ""

    def __post_init__(self) -> None:
        if self.units_done <= 0 or self.wall_seconds <= 0:
            raise ValueError(f"a probe needs units_done > 0 and wall_seconds > 0, got {self.units_done}, "
                             f"{self.wall_seconds}")
        if self.units_total < self.units_done:
            raise ValueError("units_total must be at least the units done in the probe")


@dataclass(frozen=True)
class Projection:
    probe: Probe
    units_per_second: float
    wall_hours_serial: float
    cpu_hours: float
    gpu_hours: float
    wall_hours_parallel: float


def project(probe: Probe) -> Projection:
    """Scale the probe's throughput to the whole profile (linear in units; cells run in parallel)."""
    rate = probe.units_done / probe.wall_seconds
    wall_hours = probe.units_total / rate / 3600
    cpu_hours = probe.cpu_seconds / probe.units_done * probe.units_total / 3600
    gpu_hours = wall_hours if probe.device.startswith("cuda") or probe.device == "gpu" else 0.0
    return Projection(probe, rate, wall_hours, cpu_hours, gpu_hours, wall_hours / max(probe.cells, 1))


def chapter_probe(slug: str, parameters: dict[str, Any], seconds: float = 60.0) -> Probe:
    """Run the chapter's probe (``reprobook.<slug>.estimate.probe``)."""
    if not (isinstance(seconds, (int, float)) and 0 < seconds <= MAX_PROBE_SECONDS):
        raise ValueError(f"seconds must be a number in (0, {MAX_PROBE_SECONDS:g}], got {seconds!r}")
    try:
        module = importlib.import_module(f"reprobook.{slug}.estimate")
    except ModuleNotFoundError as error:
        if error.name not in (f"reprobook.{slug}", f"reprobook.{slug}.estimate"):
            raise
        raise NotImplementedError(f"chapter {slug!r} has no cost estimate yet (reprobook.{slug}.estimate)") from error
    probe = module.probe(parameters, seconds)
    if not isinstance(probe, Probe):
        raise TypeError(f"reprobook.{slug}.estimate.probe must return a Probe, got {type(probe).__name__}")
    return probe


def profile_estimate(slug: str, profile: str = "paper", seconds: float = 60.0,
                     overrides: dict[str, Any] | None = None, root: Path | None = None) -> Projection:
    """Probe ``slug`` with the parameters of ``profile`` (as the runner would resolve them) and project.

    The parameters go through the chapter's own ``validate_parameters`` first, so a bad profile is
    refused with the same message as ``python -m reprobook run``.
    """
    from reprobook.run import resolve_parameters, validate_chapter_parameters

    parameters = resolve_parameters(slug, profile, overrides, root)
    validate_chapter_parameters(slug, parameters)
    return project(chapter_probe(slug, parameters, seconds))


def estimate_markdown(slug: str, profile: str = "paper", seconds: float = 20.0) -> str:
    """For a chapter's page: probe ``profile`` for ``seconds``, save the estimate with the downloads,
    and return a paragraph that states the projection (wall time, CPU-hours, GPU-hours)."""
    from reprobook.downloads import save_json

    projection = profile_estimate(slug, profile, seconds)
    text = format_projection(projection, profile)
    payload = {"slug": slug, "profile": profile, **{k: v for k, v in asdict(projection).items() if k != "probe"},
               "probe": asdict(projection.probe), "text": text}
    saved = save_json(payload, f"estimate-{profile}", slug)
    text = (f"**Cost of the `{profile}` profile.** {text} Measured by `python -m reprobook estimate {slug} "
            f"--profile {profile}` over a {projection.probe.wall_seconds:.0f}-second slice; rerun it on the machine "
            "you plan to use (a GPU changes the rate).")
    if saved is not None:
        from reprobook.downloads import site_href

        text += f' The estimate as data: <a href="{site_href(slug, saved.name)}" download>{saved.name}</a>.'
    return text


def format_hours(value: float | None) -> str:
    """A duration in hours as seconds, minutes or hours, whichever reads best ("—" when unknown).

    >>> format_hours(0.005), format_hours(0.5), format_hours(12.34), format_hours(31240.6)
    ('18 s', '30 min', '12.3 h', '31,241 h')
    """
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "unknown"
    if value < 1 / 60:
        return f"{value * 3600:.0f} s"
    if value < 1:
        return f"{value * 60:.0f} min"
    return f"{value:.1f} h" if value < 100 else f"{value:,.0f} h"


def format_projection(projection: Projection, profile: str) -> str:
    probe = projection.probe
    text = (f"The {profile} profile would take ≈ {format_hours(projection.wall_hours_serial)} of wall time run serially on "
            f"this machine's {probe.device} ({projection.units_per_second:.4g} {probe.unit}/s measured over "
            f"{probe.wall_seconds:.0f} s), {format_hours(projection.cpu_hours)} of CPU time")
    if projection.gpu_hours:
        text += f" and ≈ {format_hours(projection.gpu_hours)} of GPU time"
    if probe.cells > 1:
        text += f"; its {probe.cells} independent cells spread over as many workers take ≈ " \
                f"{format_hours(projection.wall_hours_parallel)}"
    text += "."
    if probe.notes:
        text += f" {probe.notes}"
    return text


def write_estimate(slug: str, profile: str, projection: Projection, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{slug}.{profile}.estimate.json"
    payload = {"slug": slug, "profile": profile, **{k: v for k, v in asdict(projection).items() if k != "probe"},
               "probe": asdict(projection.probe), "text": format_projection(projection, profile)}
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return path


def read_estimate(slug: str, profile: str, directory: Path) -> dict[str, Any] | None:
    path = directory / f"{slug}.{profile}.estimate.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

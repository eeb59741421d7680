"""The chapter's cost probe (``python -m reprobook estimate ficsum --profile paper``).

The profile's work is its sweep: the main grid (FiCSUM and the baselines on every stream and seed)
and the ablation grid, each run a prequential pass over a recurrent stream. The unit is one
*observation* of one run. The methods cost very different amounts per observation (the adaptive
random forest and FiCSUM are far slower than a single Hoeffding tree), so the probe measures each
method kind of the grid (FiCSUM per ablation variant, each baseline) on the first stream it runs
on, for a share of ``seconds`` proportional to that kind's share of the profile's observations,
and reports the slice's time at the profile's mix of kinds (its measured seconds per observation
of each kind, weighted by how many observations of that kind the profile has). Everything the
``paper`` profile needs (river's generators and bundled data, the cmc and wine files) is available
offline, so the probe runs the paper configuration itself.

>>> probe({"profile": "smoke", "seeds": [1], "streams": ["stagger"], "segment_length": 200, "repeats": 1,
...        "baselines": ["lower"], "ablations": [], "ablation_streams": [], "carry_streams": [],
...        "arf_streams": []}, 0.3).unit
'observations'
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from reprobook.benchmark import tree_cpu_seconds
from reprobook.estimate import Probe

__all__ = ["probe", "profile_runs", "run_length"]


def profile_runs(params) -> list:
    """Every distinct run of the profile (main and ablation grids; the notebook's sweeps)."""
    from .report import ablation_grid, main_grid

    return list(dict.fromkeys(main_grid(params) + ablation_grid(params)))


_real_lengths: dict[tuple, int] = {}


def run_length(config) -> int:
    """Observations in one run's stream, without generating synthetic streams."""
    from .streams import _DEFAULT_CONCEPTS, REAL_STREAMS, make_stream

    if config.stream not in REAL_STREAMS:
        segment = 3750 if config.segment_length is None else config.segment_length
        return segment * _DEFAULT_CONCEPTS[config.stream] * config.repeats
    key = (config.stream, config.segment_length, config.repeats)
    if key not in _real_lengths:
        _real_lengths[key] = len(make_stream(config.stream, seed=config.seed, segment_length=config.segment_length,
                                             repeats=config.repeats))
    return _real_lengths[key]


def _kind(config) -> str:
    return config.variant if config.method == "ficsum" else config.method


def _slice(config, seconds: float) -> tuple[int, float]:
    """Run ``config``'s method prequentially on its stream for about ``seconds``; (observations, wall)."""
    from .baselines import make_baseline
    from .experiments import ficsum_variant
    from .streams import make_stream

    stream = make_stream(config.stream, seed=config.seed, segment_length=config.segment_length, repeats=1)
    model = (ficsum_variant(config.variant, config.window) if config.method == "ficsum"
             else make_baseline(config.method, seed=config.seed, classes=stream.classes))
    done, started = 0, time.perf_counter()
    for x, y, _ in stream:
        model.predict_one(x)
        model.learn_one(x, y)
        done += 1
        if done % 50 == 0 and time.perf_counter() - started >= seconds:
            break
    return done, time.perf_counter() - started


def probe(parameters: dict[str, Any], seconds: float) -> Probe:
    """Measure each method kind of the profile for its share of ``seconds``; project in observations."""
    from .chapter import validate_parameters

    params = validate_parameters(**parameters)
    runs = profile_runs(params)
    observations: Counter = Counter()
    first: dict[str, Any] = {}
    for config in runs:
        observations[_kind(config)] += run_length(config)
        first.setdefault(_kind(config), config)
    total = sum(observations.values())
    cpu_started = tree_cpu_seconds()
    done, measured_wall, projected_wall = 0, 0.0, 0.0
    for kind, config in first.items():
        n, wall = _slice(config, seconds * observations[kind] / total)
        done += n
        measured_wall += wall
        projected_wall += observations[kind] * wall / n
    cpu = tree_cpu_seconds() - cpu_started
    # the slice's wall and CPU time at the profile's mix of method kinds (CPU per wall second as measured)
    wall_at_mix = done * projected_wall / total
    kinds = ", ".join(f"{kind} {observations[kind]:,}" for kind in first)
    return Probe(units_done=done, wall_seconds=wall_at_mix, cpu_seconds=cpu * wall_at_mix / measured_wall,
                 device="cpu", units_total=max(total, done), cells=len(runs), unit="observations",
                 notes=f"Observations per method kind in the {params.profile} profile: {kinds}; each kind's rate "
                       "was measured on its first stream and the slice's time is given at the profile's mix.")

"""The FiCSUM chapter's notebook parameters, validated in one call before any compute.

Defaults are the ``book`` profile (brief §5); the ``smoke`` and ``paper`` overrides live in
``notebooks/profiles.yml``.

>>> params = validate_parameters(profile="smoke", seeds=[1], streams=["stagger"])
>>> params.profile, params.seeds
('smoke', [1])
>>> validate_parameters(windw=75)
Traceback (most recent call last):
...
reprobook.params.ParameterError: unknown parameter(s) 'windw' for the ficsum chapter; allowed parameters are: ablation_streams, ablations, arf_streams, baseline_seeds, baselines, bench_length, carry_streams, jobs, moa_seeds, moa_streams, profile, repeats, seeds, segment_length, streams, window
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from reprobook.params import (
    PROFILES,
    ParameterError,
    check_choice,
    check_int,
    check_int_list,
    check_known,
    check_subset,
)

from .baselines import BASELINES
from .experiments import VARIANTS
from .moa import MOA_METHODS, moa_missing
from .streams import STREAMS

__all__ = ["MAXIMA", "ChapterParameters", "validate_parameters"]

_ABLATIONS = tuple(v for v in VARIANTS if v != "default")

_BOOK_STREAMS = ["stagger", "rtree_shift", "cmc"]

#: Documented maxima of the size parameters (far above the ``paper`` profile; they refuse typos such
#: as ``segment_length=1e12`` before any compute starts).
MAXIMA = {"seeds": 100, "seed": 10**6, "segment_length": 100_000, "repeats": 20, "window": 1_000,
          "baseline_seeds": 100, "bench_length": 1_000_000, "jobs": 256}


@dataclass(frozen=True)
class ChapterParameters:
    """Validated parameters of the FiCSUM chapter notebook."""

    profile: str = "book"
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    streams: list[str] = field(default_factory=lambda: list(_BOOK_STREAMS))
    segment_length: int = 3750
    repeats: int = 2
    window: int = 75
    baselines: list[str] = field(default_factory=lambda: ["lower", "upper", "drift_retrain", "arf", "rcd", "dwm"])
    baseline_seeds: int = 3
    arf_streams: list[str] = field(default_factory=lambda: ["stagger"])
    moa_streams: list[str] = field(default_factory=lambda: ["stagger"])
    moa_seeds: int = 1
    ablation_streams: list[str] = field(default_factory=lambda: ["stagger"])
    carry_streams: list[str] = field(default_factory=lambda: ["rtree_shift"])
    ablations: list[str] = field(default_factory=lambda: ["supervised_only", "unsupervised_only",
                                                          "error_rate_only"])
    bench_length: int = 10000
    jobs: int = 2


def _streams_of(name: str, streams: list[str], methods: tuple[str, ...], baselines: list[str],
                given: dict[str, Any]) -> list[str]:
    """The streams a baseline group runs on: its default applies only when one of ``methods`` runs;
    listing streams for a group that does not run is refused."""
    if not streams or not set(baselines).isdisjoint(methods):
        return streams
    if name not in given:
        return []
    raise ParameterError(
        f"parameters '{name}' and 'baselines' disagree: {name} lists {streams!r}, but none of "
        f"{list(methods)!r} is in baselines {baselines!r}; add one to baselines or set {name}=[]"
    )


def validate_parameters(**params: Any) -> ChapterParameters:
    """Check every notebook parameter; missing ones take the ``book`` profile's values.

    The ``smoke`` and ``paper`` sizes live in ``notebooks/profiles.yml``; this function only checks.
    Raises :class:`reprobook.params.ParameterError` naming the parameter and what is allowed.
    """
    defaults = ChapterParameters()
    allowed = [f.name for f in fields(ChapterParameters)]
    check_known(params, allowed, where="the ficsum chapter")
    profile = check_choice("profile", params.get("profile", "book"), PROFILES)
    merged = {**{name: getattr(defaults, name) for name in allowed}, **params}
    seeds = check_int_list("seeds", merged["seeds"], minimum=0, maximum=MAXIMA["seed"])
    if len(seeds) > MAXIMA["seeds"]:
        raise ParameterError(f"parameter 'seeds' may list at most {MAXIMA['seeds']} seeds, got {len(seeds)}")
    streams = check_subset("streams", merged["streams"], STREAMS)
    arf_streams = check_subset("arf_streams", merged["arf_streams"], STREAMS, min_size=0)
    moa_streams = check_subset("moa_streams", merged["moa_streams"], STREAMS, min_size=0)
    ablation_streams = check_subset("ablation_streams", merged["ablation_streams"], STREAMS, min_size=0)
    carry_streams = check_subset("carry_streams", merged["carry_streams"], STREAMS, min_size=0)
    ablations = check_subset("ablations", merged["ablations"], _ABLATIONS, min_size=0)
    baselines = check_subset("baselines", merged["baselines"], BASELINES, min_size=0)
    arf_streams = _streams_of("arf_streams", arf_streams, ("arf",), baselines, params)
    moa_streams = _streams_of("moa_streams", moa_streams, MOA_METHODS, baselines, params)
    if moa_streams and not set(baselines).isdisjoint(MOA_METHODS) and moa_missing() is not None:
        raise ParameterError(f"parameter 'baselines' lists a MOA baseline, but {moa_missing()}; "
                             "or drop 'rcd' and 'dwm' from baselines")
    return ChapterParameters(
        profile=profile,
        seeds=seeds,
        streams=streams,
        segment_length=check_int("segment_length", merged["segment_length"], minimum=100, maximum=MAXIMA["segment_length"]),
        repeats=check_int("repeats", merged["repeats"], minimum=1, maximum=MAXIMA["repeats"]),
        window=check_int("window", merged["window"], minimum=10, maximum=MAXIMA["window"]),
        baselines=baselines,
        baseline_seeds=check_int("baseline_seeds", merged["baseline_seeds"], minimum=0, maximum=MAXIMA["baseline_seeds"]),
        arf_streams=arf_streams,
        moa_streams=moa_streams,
        moa_seeds=check_int("moa_seeds", merged["moa_seeds"], minimum=0, maximum=MAXIMA["baseline_seeds"]),
        ablation_streams=ablation_streams,
        carry_streams=carry_streams,
        ablations=ablations,
        bench_length=check_int("bench_length", merged["bench_length"], minimum=100, maximum=MAXIMA["bench_length"]),
        jobs=check_int("jobs", merged["jobs"], minimum=1, maximum=MAXIMA["jobs"]),
    )

"""One experiment run as a pure function of a frozen config: ``run_stream(StreamRun(...))``.

The chapter maps :func:`run_stream` over grids of configs in worker processes and caches results
by pickle, so it is a top-level function, deterministic given the config.

>>> result = run_stream(StreamRun("stagger", seed=1, method="lower", segment_length=200, repeats=1))
>>> float(result.summary["cf1"].iloc[0])
0.5
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reprobook.params import ParameterError, check_choice, check_int

from .baselines import make_baseline, prequential_run
from .classifier import DEFAULT_FEATURES, FiCSUMClassifier
from .metrics import accuracy, cohen_kappa, concept_f1, kappa_label_marginal, kappa_m, kappa_t
from .streams import STREAMS, make_stream

__all__ = ["METHODS", "VARIANTS", "StreamRun", "StreamResult", "run_stream", "ficsum_variant"]

METHODS: tuple[str, ...] = ("ficsum", "lower", "upper", "drift_retrain", "arf", "rcd", "dwm")
VARIANTS: tuple[str, ...] = (
    "default", "uniform_weights", "supervised_only", "unsupervised_only", "error_rate_only", "fi_off",
)


@dataclass(frozen=True)
class StreamRun:
    """One run: a stream (by name and seed), a method and, for FiCSUM, an ablation variant.

    ``segment_length`` None means the stream's paper layout (see :func:`make_stream`);
    ``trace_every`` subsamples the trace (drift steps are always kept); ``distance_every`` is how
    often the concept-distance heatmap is sampled (FiCSUM only; its cost is excluded from cpu_s).
    """

    stream: str
    seed: int = 1
    method: str = "ficsum"
    variant: str = "default"
    segment_length: int | None = None
    repeats: int = 3
    window: int = 75
    trace_every: int = 10
    distance_every: int = 100

    def __post_init__(self) -> None:
        check_choice("stream", self.stream, STREAMS)
        check_int("seed", self.seed, minimum=0)
        check_choice("method", self.method, METHODS)
        check_choice("variant", self.variant, VARIANTS)
        if self.method != "ficsum" and self.variant != "default":
            raise ParameterError(
                f"parameter 'variant' applies to method 'ficsum' only; got variant={self.variant!r} "
                f"with method={self.method!r}"
            )
        if self.segment_length is not None:
            check_int("segment_length", self.segment_length, minimum=10)
        check_int("repeats", self.repeats, minimum=1)
        check_int("window", self.window, minimum=10)
        check_int("trace_every", self.trace_every, minimum=1)
        check_int("distance_every", self.distance_every, minimum=1)


@dataclass
class StreamResult:
    """What one run produced (pandas frames, picklable)."""

    config: StreamRun
    summary: pd.DataFrame
    trace: pd.DataFrame
    distances: pd.DataFrame
    weights: pd.Series


def ficsum_variant(variant: str, window: int = 75) -> FiCSUMClassifier:
    """The FiCSUM model of an ablation variant (see :data:`VARIANTS`).

    ``supervised_only`` drops the input-feature sources; ``unsupervised_only`` drops the labels,
    errors and error distances but keeps predictions, as the reference's stored ablation run
    ("supervised sources ignored: labels errors error_distances") does.

    >>> ficsum_variant("uniform_weights").weighting
    'uniform'
    """
    check_choice("variant", variant, VARIANTS)
    options: dict[str, Any] = {"window": window}
    if variant == "uniform_weights":
        options["weighting"] = "uniform"
    elif variant == "supervised_only":
        options["sources"] = ("labels", "predictions", "errors", "error_distances")
    elif variant == "unsupervised_only":
        options["sources"] = ("features", "predictions")
    elif variant == "error_rate_only":
        options["fingerprint"] = "error_rate"
    elif variant == "fi_off":
        options["features"] = tuple(f for f in DEFAULT_FEATURES if f != "FI")
    return FiCSUMClassifier(**options)


def run_stream(config: StreamRun) -> StreamResult:
    """Run one config prequentially and summarise it (see the module docstring)."""
    stream = make_stream(config.stream, seed=config.seed, segment_length=config.segment_length,
                         repeats=config.repeats)
    if config.method == "ficsum":
        model = ficsum_variant(config.variant, config.window)
    else:
        model = make_baseline(config.method, seed=config.seed, classes=stream.classes)

    distance_rows: list[tuple[int, int, float]] = []
    excluded = [0.0]

    def sample_distances(t: int, current: Any) -> None:
        if (t + 1) % config.distance_every:
            return
        started = time.process_time()
        for concept, distance in current.concept_distances().items():
            distance_rows.append((t, concept, distance))
        excluded[0] += time.process_time() - started

    hook = sample_distances if config.method == "ficsum" else None
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    log = prequential_run(model, stream, on_step=hook)
    cpu_s = time.process_time() - cpu_start - excluded[0]
    wall_s = time.perf_counter() - wall_start - excluded[0]
    n_obs = len(log.y_true)
    predictions = [p if p is not None else "<none>" for p in log.y_pred]
    summary = pd.DataFrame([{
        "stream": config.stream,
        "seed": config.seed,
        "method": config.method,
        "variant": config.variant,
        "n_obs": n_obs,
        "accuracy": accuracy(log.y_true, predictions),
        "kappa": cohen_kappa(log.y_true, predictions),
        "ref_kappa": kappa_label_marginal(log.y_true, predictions),
        "kappa_m": kappa_m(log.y_true, predictions),
        "kappa_t": kappa_t(log.y_true, predictions),
        "cf1": concept_f1(log.true_concept, log.system_concept),
        "n_concepts_found": int(np.unique(log.system_concept).size),
        "n_true_concepts": stream.n_concepts,
        "cpu_s": cpu_s,
        "wall_s": wall_s,
        "obs_per_s": n_obs / cpu_s if cpu_s > 0 else float("nan"),
    }])
    keep = (np.arange(n_obs) % config.trace_every == 0) | log.drift
    trace = pd.DataFrame({
        "t": np.flatnonzero(keep),
        "true_concept": log.true_concept[keep],
        "active_concept": log.system_concept[keep],
        "correct": log.correct[keep],
        "drift": log.drift[keep],
    })
    distances = pd.DataFrame(distance_rows, columns=["t", "concept", "distance"])
    weights = model.weights if config.method == "ficsum" else pd.Series(dtype=float, name="weight")
    return StreamResult(config, summary, trace, distances, weights)

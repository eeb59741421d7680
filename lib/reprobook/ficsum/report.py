"""The chapter's grids and summaries: which runs the notebook makes and the numbers its claims use.

Kept out of the notebook so that the notebook reads as the story and these functions can be tested.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reprobook.ficsum import separability
from reprobook.ficsum.experiments import StreamRun
from reprobook.ficsum.ledger import NON_ORACLE_BASELINES
from reprobook.ficsum.moa import MOA_METHODS
from reprobook.ficsum.streams import REAL_STREAMS, make_stream

__all__ = [
    "TRACE_EVERY",
    "DISTANCE_EVERY",
    "stream_table",
    "NON_ORACLE_BASELINES",
    "main_grid",
    "ablation_grid",
    "showcase_stream",
    "mean_std_table",
    "rolling_accuracy",
    "concept_timeline",
    "final_weights",
    "agreement_table",
]

#: The trace keeps every this many observations (plus every detection).
TRACE_EVERY = 10
#: Distances to stored concepts are recorded every this many observations (the heatmap's resolution).
DISTANCE_EVERY = 250


def _run(params, stream: str, seed: int, method: str, variant: str = "default") -> StreamRun:
    # real streams keep the paper's layout: each concept's segment is 3/4 of its rows
    segment_length = None if stream in REAL_STREAMS else params.segment_length
    return StreamRun(stream=stream, seed=seed, method=method, variant=variant,
                     segment_length=segment_length, repeats=params.repeats, window=params.window,
                     trace_every=TRACE_EVERY, distance_every=DISTANCE_EVERY)


def main_grid(params) -> list[StreamRun]:
    """FiCSUM and the bounds on every stream and seed; drift-retraining on ``baseline_seeds`` seeds,
    the MOA baselines (RCD, DWM) on the first ``moa_seeds`` seeds of ``moa_streams``, and the (slow)
    adaptive random forest on the first seed of ``arf_streams`` only."""
    grid = []
    for stream in params.streams:
        for index, seed in enumerate(params.seeds):
            grid.append(_run(params, stream, seed, "ficsum"))
            for method in params.baselines:
                if method in ("lower", "upper"):
                    grid.append(_run(params, stream, seed, method))
                elif method == "drift_retrain" and index < params.baseline_seeds:
                    grid.append(_run(params, stream, seed, method))
                elif method == "arf" and index == 0 and stream in params.arf_streams:
                    grid.append(_run(params, stream, seed, method))
                elif method in MOA_METHODS and index < params.moa_seeds and stream in params.moa_streams:
                    grid.append(_run(params, stream, seed, method))
    return grid


def ablation_grid(params) -> list[StreamRun]:
    """Each ablation (and the default, for reference) on the ablation streams, and the
    unsupervised-only variant on the ``carry_streams`` (whose concepts differ in P(x)), every seed:
    the ablation claims are judged per seed; default runs repeat the main grid's, so they are cached."""
    grid = [_run(params, stream, seed, "ficsum", variant)
            for stream in params.ablation_streams
            for seed in params.seeds
            for variant in ("default", *params.ablations)]
    grid += [_run(params, stream, seed, "ficsum", variant)
             for stream in params.carry_streams if stream not in params.ablation_streams
             for seed in params.seeds
             for variant in ("default", "unsupervised_only")]
    return grid


def showcase_stream(params) -> str:
    """The stream whose single run the chapter shows in detail (STAGGER when it is run)."""
    return "stagger" if "stagger" in params.streams else params.streams[0]


def stream_table(summary: pd.DataFrame) -> pd.DataFrame:
    """What each stream is: kind, number of true concepts, length (from the runs themselves)."""
    first = summary.drop_duplicates("stream").set_index("stream")
    return pd.DataFrame({
        "kind": ["real" if name in REAL_STREAMS else "synthetic" for name in first.index],
        "true concepts": first["n_true_concepts"].astype(int),
        "observations": first["n_obs"].astype(int),
    }, index=first.index)


def mean_std_table(summary: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """``mean (std)`` over seeds per stream × method, the thesis's layout."""
    grouped = summary.groupby(["stream", "method"])[list(metrics)]
    means, stds, counts = grouped.mean(), grouped.std(ddof=1), grouped.size()

    def cell(mean: float, std: float, count: int) -> str:
        return f"{mean:.2f}" if count < 2 or not np.isfinite(std) else f"{mean:.2f} ({std:.2f})"

    table = pd.DataFrame(
        {metric: [cell(means.loc[key, metric], stds.loc[key, metric], counts.loc[key]) for key in means.index]
         for metric in metrics},
        index=means.index,
    )
    table["seeds"] = counts
    return table


def _matching(runs, grid, stream: str, seed: int, variant: str = "default"):
    return [(config, run) for config, run in zip(grid, runs, strict=True)
            if config.stream == stream and config.seed == seed and config.variant == variant]


def rolling_accuracy(runs, grid, *, stream: str, seed: int, width: int = 500, every: int = 5) -> pd.DataFrame:
    """Rolling prequential accuracy of every method on one stream and seed (every ``every`` steps)."""
    frames = []
    for config, run in _matching(runs, grid, stream, seed):
        # the trace keeps every TRACE_EVERY-th observation, so the window counts rows, not steps
        rows = max(width // TRACE_EVERY, 1)
        regular = run.trace[run.trace["t"] % TRACE_EVERY == 0]
        rolled = regular["correct"].astype(float).rolling(rows, min_periods=max(rows // 2, 1)).mean()
        frame = pd.DataFrame({"t": regular["t"], "accuracy": rolled, "method": config.method})
        frames.append(frame.iloc[::every].dropna())
    return pd.concat(frames, ignore_index=True)


def concept_timeline(trace: pd.DataFrame) -> pd.DataFrame:
    """The rows of a trace where the true or the active concept changes (and the last row)."""
    changed = (trace["true_concept"].diff() != 0) | (trace["active_concept"].diff() != 0)
    changed.iloc[-1] = True
    return trace[changed]


def final_weights(runs, grid, *, seed: int) -> pd.DataFrame:
    """FiCSUM's final meta-feature weights per stream, long format (stream, dimension, weight)."""
    frames = []
    for config, run in zip(grid, runs, strict=True):
        if config.method == "ficsum" and config.variant == "default" and config.seed == seed \
                and run.weights is not None and len(run.weights):
            frames.append(pd.DataFrame({"stream": config.stream, "dimension": run.weights.index,
                                        "weight": run.weights.to_numpy()}))
    if not frames:
        return pd.DataFrame(columns=["stream", "dimension", "weight"])
    return pd.concat(frames, ignore_index=True)


def agreement_table(runs, grid, params) -> pd.DataFrame:
    """Per P(x)-shift stream and seed: Spearman correlation of FiCSUM's final weights with the oracle
    Fisher ratio (``spearman``) and with the oracle shuffled over meta-features (``spearman_shuffled``,
    the control), plus the three most separable meta-features."""
    rows = []
    for name in [stream for stream in params.streams if stream.endswith("_shift")]:
        for seed in params.seeds:
            weights = final_weights(runs, grid, seed=seed)
            learned = weights[weights["stream"] == name].set_index("dimension")["weight"]
            if learned.empty:
                continue
            oracle = separability.fisher_separability(
                make_stream(name, seed=seed, segment_length=params.segment_length, repeats=params.repeats),
                window=params.window)
            shuffled = pd.Series(np.random.default_rng(seed).permutation(oracle.to_numpy()), index=oracle.index)
            rows.append({"stream": name, "seed": seed,
                         "spearman": separability.weight_agreement(learned, oracle),
                         "spearman_shuffled": separability.weight_agreement(learned, shuffled),
                         "most separable": ", ".join(oracle.sort_values(ascending=False).index[:3])})
    return pd.DataFrame(rows, columns=["stream", "seed", "spearman", "spearman_shuffled", "most separable"])

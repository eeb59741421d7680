"""Throughput of FiCSUM against a bare river Hoeffding tree, and of its incremental meta-features.

Used by ``bench/ficsum.py`` and by the chapter's speed section. End-to-end observations per
second (wall and process CPU time) of FiCSUM (FI on) and of a plain Hoeffding tree on the same
recurrent STAGGER stream, measured in the same run, and the cost of the incremental meta-feature
extraction against recomputing every window with scipy/statsmodels.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from river import tree

from reprobook.ficsum.classifier import FiCSUMClassifier
from reprobook.ficsum.metafeatures import RollingStatistics, window_statistics
from reprobook.ficsum.streams import make_stream

__all__ = ["run_benchmark", "cost_sentence"]


def _prequential_timing(model, stream) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for x, y, _ in stream:
        model.predict_one(x)
        model.learn_one(x, y)
    return time.perf_counter() - wall, time.process_time() - cpu


def _library_statistics(window: np.ndarray) -> None:
    """Per-window recomputation with the reference libraries (what the hot path avoids)."""
    from scipy import stats
    from statsmodels.tsa.stattools import acf, pacf

    for column in window.T:
        stats.skew(column)
        stats.kurtosis(column)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acf(column, nlags=2, fft=True)
            pacf(column, nlags=2)


def run_benchmark(length: int = 10000, window: int = 75, n_windows: int = 60) -> pd.DataFrame:
    """Measure throughput; one row per measurement with wall and CPU seconds and obs/s.

    >>> frame = run_benchmark(600, n_windows=2)
    >>> sorted(frame["what"])[:2]
    ['FiCSUM (FI on)', 'Hoeffding tree']
    """
    segment = max(length // 6, 1)
    stream = make_stream("stagger", seed=1, segment_length=segment, repeats=2)
    rows = []
    for name, model in [("Hoeffding tree", tree.HoeffdingTreeClassifier()),
                        ("FiCSUM (FI on)", FiCSUMClassifier(window=window))]:
        wall, cpu = _prequential_timing(model, stream)
        rows.append({"what": name, "n": len(stream), "wall_s": wall, "cpu_s": cpu,
                     "per_s_wall": len(stream) / wall, "per_s_cpu": len(stream) / cpu})

    rng = np.random.default_rng(0)
    n_sources = 7  # STAGGER: 3 features + labels, predictions, errors, error distances
    data = rng.normal(size=(window + n_windows, n_sources))
    rolling = RollingStatistics(n_sources, window)
    for row in data[:window]:
        rolling.push(row)
    wall, cpu = time.perf_counter(), time.process_time()
    for row in data[window:]:
        rolling.push(row)
        rolling.statistics()
    rows.append({"what": "meta-features: incremental push + extract", "n": n_windows,
                 "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu})
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(n_windows):
        window_statistics(data[start:start + window])
    rows.append({"what": "meta-features: numpy window_statistics per window", "n": n_windows,
                 "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu})
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(n_windows):
        _library_statistics(data[start:start + window])
    rows.append({"what": "meta-features: scipy/statsmodels per window", "n": n_windows,
                 "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu})
    frame = pd.DataFrame(rows)
    frame["per_s_wall"] = frame["n"] / frame["wall_s"]
    frame["per_s_cpu"] = frame["n"] / frame["cpu_s"].where(frame["cpu_s"] > 0)
    return frame


def cost_sentence(frame: pd.DataFrame) -> str:
    """The speed section's result sentence, generated from a :func:`run_benchmark` frame.

    >>> frame = pd.DataFrame({"what": ["Hoeffding tree", "FiCSUM (FI on)",
    ...                                "meta-features: incremental push + extract",
    ...                                "meta-features: numpy window_statistics per window"],
    ...                       "per_s_cpu": [3000.0, 300.0, 2000.0, 1000.0]})
    >>> cost_sentence(frame)[:60]
    'On this machine FiCSUM processed 300 observations per CPU-se'
    """
    rate = frame.set_index("what")["per_s_cpu"]
    ficsum, tree_rate = rate["FiCSUM (FI on)"], rate["Hoeffding tree"]
    text = (f"On this machine FiCSUM processed {ficsum:,.0f} observations per CPU-second against "
            f"{tree_rate:,.0f} for the bare Hoeffding tree: it is {tree_rate / ficsum:.1f}× slower than its base "
            "learner.")
    incremental = rate.get("meta-features: incremental push + extract")
    numpy_batch = rate.get("meta-features: numpy window_statistics per window")
    if incremental is not None and numpy_batch is not None and np.isfinite(incremental) and np.isfinite(numpy_batch):
        relation = "faster" if incremental > numpy_batch else "slower"
        factor = max(incremental, numpy_batch) / min(incremental, numpy_batch)
        text += (f" Per extracted window, the incremental meta-features are {factor:.1f}× {relation} than "
                 "recomputing the window with the project's own numpy `window_statistics`.")
    return text

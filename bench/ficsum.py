"""Throughput of FiCSUM against a bare river Hoeffding tree, and of its incremental meta-features.

Run ``python bench/ficsum.py [--length N]``. Prints end-to-end observations per second (wall and
process CPU time) of FiCSUM (FI on) and of a plain Hoeffding tree on the same recurrent STAGGER
stream in the same run, their ratio, and the cost of the incremental meta-feature extraction
against the strongest baseline, recomputing each window with the project's own vectorised numpy
``window_statistics`` (scipy/statsmodels per window is shown too, but is a weak baseline).
Target (brief §6): >= 1,500 obs/s.
"""

from __future__ import annotations

import argparse

import pandas as pd

from reprobook.ficsum.benchmark import run_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=10000, help="stream length (default 10000)")
    args = parser.parse_args()
    frame = run_benchmark(args.length)
    with pd.option_context("display.width", 120, "display.float_format", "{:,.3f}".format):
        print(frame.to_string(index=False))
    by = frame.set_index("what")
    ficsum, bare = by.loc["FiCSUM (FI on)"], by.loc["Hoeffding tree"]
    print(f"\nFiCSUM {ficsum.per_s_cpu:,.0f} obs/s (CPU), {ficsum.per_s_wall:,.0f} obs/s (wall); "
          f"bare Hoeffding tree {bare.per_s_cpu:,.0f} obs/s (CPU); "
          f"FiCSUM costs {bare.per_s_cpu / ficsum.per_s_cpu:.1f}x the bare tree (CPU). "
          f"Target >= 1,500 obs/s: {'met' if ficsum.per_s_cpu >= 1500 else 'MISSED'}.")
    incremental = by.loc["meta-features: incremental push + extract"]
    numpy_batch = by.loc["meta-features: numpy window_statistics per window"]
    library = by.loc["meta-features: scipy/statsmodels per window"]
    ratio = numpy_batch.cpu_s / incremental.cpu_s
    relation = f"{ratio:.1f}x faster than" if ratio >= 1 else f"{1 / ratio:.1f}x slower than"
    print(f"Meta-features per extracted window (CPU): incremental {incremental.cpu_s / incremental.n * 1e6:,.0f} µs, "
          f"numpy window_statistics {numpy_batch.cpu_s / numpy_batch.n * 1e6:,.0f} µs "
          f"(incremental is {relation} the numpy batch), "
          f"scipy/statsmodels {library.cpu_s / library.n * 1e6:,.0f} µs.")


if __name__ == "__main__":
    main()

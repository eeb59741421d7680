"""Throughput of FiCSUM against a bare river Hoeffding tree, and of its incremental meta-features.

Run ``python bench/ficsum.py [--length N]``. Prints end-to-end observations per second (wall and
process CPU time) of FiCSUM (FI on) and of a plain Hoeffding tree on the same recurrent STAGGER
stream in the same run, their ratio, and the speed-up of the incremental meta-feature extraction
over recomputing every window with scipy/statsmodels. Target (brief §6): >= 1,500 obs/s.
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
    library = by.loc["meta-features: scipy/statsmodels per window"]
    print(f"Meta-features: incremental {incremental.cpu_s / incremental.n * 1e6:,.0f} µs per window, "
          f"scipy/statsmodels {library.cpu_s / library.n * 1e6:,.0f} µs per window "
          f"({library.cpu_s / incremental.cpu_s:,.0f}x faster, CPU).")


if __name__ == "__main__":
    main()

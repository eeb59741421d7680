"""Multifactorial bias and percentile pre-processing in recommendation (Mansoury et al., 2026).

Pandas in, pandas out: rating frames with columns ``user``, ``item``, ``rating``.

* :mod:`~reprobook.recsys_bias.datasets` — MovieLens-100k (from the recbole wheel), the paper's
  Goodreads split, a synthetic generator with a multifactorial-bias knob γ.
* :mod:`~reprobook.recsys_bias.bias` — popularity and positivity diagnostics.
* :mod:`~reprobook.recsys_bias.percentile` — the percentile transformation (all tie rules,
  smoothing) and the per-profile z-score.
* :mod:`~reprobook.recsys_bias.simulation` — the β simulation (damping popular items' positivity).
* :mod:`~reprobook.recsys_bias.recommenders` — UserKNN, ItemKNN, BiasedMF, SVD++, NMF, iALS,
  MostPop, Random; top-k lists.
* :mod:`~reprobook.recsys_bias.metrics` — precision, recall, nDCG, IA@α, LIA@α, EE, Gini, APLT,
  ARP, coverage.
* :mod:`~reprobook.recsys_bias.rerank` — greedy exposure-penalty and min-cost-flow re-rankers.
* :mod:`~reprobook.recsys_bias.experiments`, :mod:`~reprobook.recsys_bias.chapter` — the chapter's
  experiment functions, parameters and claim summaries.
"""

from reprobook.recsys_bias import bias, datasets, metrics, percentile, recommenders, rerank, simulation
from reprobook.recsys_bias.metrics import evaluate_lists
from reprobook.recsys_bias.percentile import percentile_ranks, percentile_transform, zscore_transform

__all__ = [
    "bias",
    "datasets",
    "metrics",
    "percentile",
    "recommenders",
    "rerank",
    "simulation",
    "evaluate_lists",
    "percentile_ranks",
    "percentile_transform",
    "zscore_transform",
]

"""The chapter's experiments as functions of a config: fit a recommender on a (transformed, optionally
β-damped) training set and measure its top-k lists; re-rank candidate lists for exposure.

Each function is deterministic given its config and returns a pandas frame, so the notebook maps it
over grids with :func:`reprobook.sweep.sweep`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from reprobook.recsys_bias import datasets, metrics, recommenders, rerank, simulation
from reprobook.recsys_bias.percentile import percentile_transform, zscore_transform

__all__ = [
    "INPUTS",
    "TUNING_GRID",
    "RecConfig",
    "RerankConfig",
    "prepare_training",
    "run_recommender",
    "run_reranking",
]

#: input transformations: raw ratings, item-profile percentiles under each tie rule (train-only),
#: smoothed percentiles (k = RecConfig.smoothing), per-item z-scores, and the leaky train+test variant.
INPUTS = ("raw", "pct_first", "pct_last", "pct_floormedian", "pct_ceilmedian", "pct_average",
          "pct_smoothed", "zscore", "pct_last_leaky")

#: candidate hyperparameters per algorithm, tuned for ranking (nDCG@10 on a validation split carved
#: out of the training data). The first candidate is the default where a cell is not tuned. On the
#: ML-100k validation split rating-prediction models rank all unrated items well only with few
#: neighbours and light regularisation (BiasedMF: reg 0.02-0.05 beat Random, 0.2 and above fall
#: below it), so the grids span that region; SVD++ (same objective plus the implicit term) gets
#: BiasedMF's grid, its factor and bias penalties moved together.
TUNING_GRID: dict[str, list[dict[str, float | int]]] = {
    "MostPop": [{}],
    "Random": [{}],
    "UserKNN": [{"neighbours": 10, "shrinkage": 10.0}, {"neighbours": 5, "shrinkage": 10.0},
                {"neighbours": 25, "shrinkage": 10.0}],
    "ItemKNN": [{"neighbours": 10, "shrinkage": 10.0}, {"neighbours": 5, "shrinkage": 10.0},
                {"neighbours": 25, "shrinkage": 10.0}],
    "BiasedMF": [{"factors": 32, "reg": 0.05}, {"factors": 32, "reg": 0.02}, {"factors": 32, "reg": 0.1}],
    "SVD++": [{"factors": 32, "reg": 0.05, "reg_bias": 0.05}, {"factors": 32, "reg": 0.02, "reg_bias": 0.02},
              {"factors": 32, "reg": 0.1, "reg_bias": 0.1}],
    "NMF": [{"factors": 16}, {"factors": 4}],
    "iALS": [{"factors": 32, "reg": 1.0, "alpha": 1.0}, {"factors": 32, "reg": 10.0, "alpha": 5.0}],
}


@dataclass(frozen=True)
class RecConfig:
    """One fitted model and its measured lists.

    ``hyper`` is a tuple of (name, value) pairs passed to the recommender; ``epochs`` applies to the
    iterative models (0 keeps each model's default). ``beta`` damps the positivity of the top-β
    items before the input transformation (the paper's simulation).
    """

    dataset: str = "ml100k"
    algorithm: str = "BiasedMF"
    input: str = "raw"
    hyper: tuple[tuple[str, float | int], ...] = ()
    epochs: int = 0
    beta: float = 0.0
    k: int = 10
    seed: int = 0
    validation: bool = False
    smoothing: float = 5.0
    gamma: float = 0.5
    synthetic_users: int = 1000
    synthetic_items: int = 1000


@dataclass(frozen=True)
class RerankConfig:
    """Fit one model, then re-rank its top-C candidates with both re-rankers over grids of C and λ."""

    model: RecConfig
    candidate_lengths: tuple[int, ...] = (20, 50, 100)
    lambdas: tuple[float, ...] = (0.1, 0.3, 1.0)
    flow_lengths: tuple[int, ...] = (50,)
    slack: float = 1.0


def prepare_training(split: datasets.RatingSplit, input_name: str, smoothing: float = 5.0,
                     beta: float = 0.0) -> pd.DataFrame:
    """The training frame a model sees: β-damped, then transformed by ``input_name``.

    Percentiles (0–100) are mapped linearly to [1, 5] (1 + p/25) and z-scores shifted by 3 (and
    clipped at 0), so one hyperparameter grid serves every input; the order of ratings within each
    profile is unchanged.

    >>> split = datasets.encode_split("toy", pd.DataFrame({"user": [0, 1], "item": [0, 0], "rating": [2.0, 4.0]}),
    ...                               pd.DataFrame({"user": [0], "item": [0], "rating": [5.0]}))
    >>> prepare_training(split, "pct_last")["rating"].round(3).tolist()
    [2.333, 3.667]
    """
    from reprobook.params import check_choice

    check_choice("input", input_name, INPUTS)
    train = split.train
    if beta > 0:
        train = simulation.damp_popular_positivity(train, beta)
    if input_name == "raw":
        return train
    if input_name == "zscore":
        out = zscore_transform(train)
        out["rating"] = np.maximum(out["rating"] + 3.0, 0.0)
        return out
    if input_name == "pct_smoothed":
        out = percentile_transform(train, "item", "last", smoothing=smoothing)
    elif input_name == "pct_last_leaky":
        out = percentile_transform(train, "item", "last", reference=split.test)
    else:
        out = percentile_transform(train, "item", input_name.removeprefix("pct_"))
    out["rating"] = 1.0 + out["rating"] / 25.0
    return out


def _split_for(config: RecConfig) -> datasets.RatingSplit:
    return datasets.load_split(config.dataset, config.seed if config.dataset != "goodreads" else 0,
                               config.validation, config.gamma, config.synthetic_users,
                               config.synthetic_items)


def _fit(config: RecConfig, split: datasets.RatingSplit) -> tuple[object, pd.DataFrame, float]:
    hyper = dict(config.hyper)
    if config.algorithm not in ("MostPop", "UserKNN", "ItemKNN"):
        hyper.setdefault("seed", config.seed)
    if config.epochs and config.algorithm in ("BiasedMF", "SVD++", "NMF", "iALS"):
        hyper["epochs"] = config.epochs
    model = recommenders.make_recommender(config.algorithm, **hyper)
    train = prepare_training(split, config.input, config.smoothing, config.beta)
    start = time.perf_counter()
    model.fit(train, split.n_users, split.n_items)
    return model, train, time.perf_counter() - start


def run_recommender(config: RecConfig) -> pd.DataFrame:
    """Fit ``config.algorithm`` and return one row: the config, every metric of
    :func:`metrics.evaluate_lists` on the test part, and the fit time (seconds)."""
    split = _split_for(config)
    model, _, fit_seconds = _fit(config, split)
    users = np.unique(split.test["user"].to_numpy())
    lists = recommenders.top_k(model, split.train, config.k, split.n_items, users=users)
    row = {**{key: value for key, value in asdict(config).items() if key != "hyper"},
           "hyper": ", ".join(f"{name}={value:g}" for name, value in config.hyper),
           "dataset_name": split.name}
    row.update(metrics.evaluate_lists(lists, users, split.train, split.test, split.n_items))
    row["fit_seconds"] = fit_seconds
    return pd.DataFrame([row])


def run_reranking(config: RerankConfig) -> pd.DataFrame:
    """Rows for the unre-ranked top-k, the greedy re-ranker at every (C, λ) and the min-cost-flow
    re-ranker at every C in ``flow_lengths``; each with its metrics and wall time (seconds,
    candidate generation included)."""
    model_config = config.model
    split = _split_for(model_config)
    model, _, fit_seconds = _fit(model_config, split)
    users = np.unique(split.test["user"].to_numpy())
    k = model_config.k
    rows = []

    def record(method: str, length: int, lam: float, lists: np.ndarray, seconds: float) -> None:
        row = {"dataset": model_config.dataset, "algorithm": model_config.algorithm,
               "input": model_config.input, "method": method, "C": length, "lambda": lam,
               "seconds": seconds, "fit_seconds": fit_seconds}
        row.update(metrics.evaluate_lists(lists, users, split.train, split.test, split.n_items))
        rows.append(row)

    start = time.perf_counter()
    lists = recommenders.top_k(model, split.train, k, split.n_items, users=users)
    record("none", k, 0.0, lists, time.perf_counter() - start)
    for length in sorted(set(config.candidate_lengths) | set(config.flow_lengths)):
        start = time.perf_counter()
        items, scores = recommenders.top_k_scored(model, split.train, length, split.n_items, users=users)
        candidate_seconds = time.perf_counter() - start
        if length in config.candidate_lengths:
            for lam in config.lambdas:
                start = time.perf_counter()
                lists = rerank.greedy_exposure_rerank(items, scores, k, lam, seed=model_config.seed)
                record("greedy", length, lam, lists, candidate_seconds + time.perf_counter() - start)
        if length in config.flow_lengths:
            start = time.perf_counter()
            lists = rerank.min_cost_flow_rerank(items, scores, k, slack=config.slack,
                                                n_items=len(split.train_items))
            record("min-cost flow", length, float("nan"), lists, candidate_seconds + time.perf_counter() - start)
    return pd.DataFrame(rows)

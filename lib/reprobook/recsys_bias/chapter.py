"""The chapter's parameters (validated in one call) and the small summaries its claims are judged on.

>>> params = validate_parameters(profile="smoke", seeds=[0], datasets=["ml100k"])
>>> params.datasets
('ml100k',)
>>> validate_parameters(profile="smoke", k=0)
Traceback (most recent call last):
...
reprobook.params.ParameterError: parameter 'k' must be an integer in [1, 100], got 0
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from reprobook.params import (
    ParameterError,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_int_list,
    check_known,
    check_subset,
)
from reprobook.recsys_bias.datasets import DATASETS
from reprobook.recsys_bias.experiments import INPUTS, TUNING_GRID, RecConfig
from reprobook.recsys_bias.recommenders import ALGORITHMS

__all__ = [
    "SIX_ALGORITHMS",
    "MAXIMA",
    "ChapterParameters",
    "validate_parameters",
    "model_config",
    "tuning_configs",
    "best_hyper",
    "paired_comparison",
    "share_improved",
    "beta_effect",
    "rerank_advantage",
]

SIX_ALGORITHMS = ("UserKNN", "ItemKNN", "BiasedMF", "SVD++", "NMF", "iALS")
#: Documented maxima of the size parameters (far above the ``paper`` profile): absurd values are refused
#: before any compute starts.
MAXIMA = {"seeds": 50, "seed": 10**6, "synthetic_users": 20_000, "synthetic_items": 20_000, "smoothing": 1_000.0,
          "lambda": 1_000.0, "epochs": 1_000, "jobs": 256}
ITERATIVE = ("BiasedMF", "SVD++", "NMF", "iALS")


@dataclass(frozen=True)
class ChapterParameters:
    """Every user-settable value of the chapter, validated."""

    profile: str = "book"
    seeds: tuple[int, ...] = (0,)
    datasets: tuple[str, ...] = ("ml100k", "goodreads")
    algorithms: tuple[str, ...] = ("MostPop", "Random") + SIX_ALGORITHMS
    inputs: tuple[str, ...] = ("raw", "pct_last")
    tune: bool = True
    ablation_inputs: tuple[str, ...] = ("raw", "pct_first", "pct_last", "pct_average", "pct_smoothed",
                                        "zscore", "pct_last_leaky")
    ablation_algorithms: tuple[str, ...] = ("BiasedMF", "ItemKNN")
    smoothing: float = 5.0
    betas: tuple[float, ...] = (0.0, 0.05, 0.2, 0.5)
    beta_algorithms: tuple[str, ...] = ("Random",) + SIX_ALGORITHMS
    gammas: tuple[float, ...] = (0.0, 0.5, 1.0)
    synthetic_algorithms: tuple[str, ...] = ("ItemKNN", "BiasedMF")
    synthetic_users: int = 1000
    synthetic_items: int = 1000
    rerank_algorithm: str = "BiasedMF"
    candidate_lengths: tuple[int, ...] = (20, 50, 100)
    lambdas: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0)
    flow_lengths: tuple[int, ...] = (50,)
    k: int = 10
    mf_epochs: int = 20
    svdpp_epochs: int = 10
    nmf_epochs: int = 50
    ials_epochs: int = 10
    jobs: int = 2

    def epochs(self, algorithm: str) -> int:
        """The number of training epochs of ``algorithm`` (0 for the non-iterative ones)."""
        return {"BiasedMF": self.mf_epochs, "SVD++": self.svdpp_epochs, "NMF": self.nmf_epochs,
                "iALS": self.ials_epochs}.get(algorithm, 0)


def _float_list(name: str, values: object, minimum: float, maximum: float | None = None) -> tuple[float, ...]:
    if isinstance(values, str) or not isinstance(values, (list, tuple)) or not values:
        raise ParameterError(f"parameter {name!r} must be a non-empty list of numbers, got {values!r}")
    checked = tuple(check_float(f"{name}[{index}]", value, minimum=minimum, maximum=maximum)
                    for index, value in enumerate(values))
    if len(set(checked)) != len(checked):
        raise ParameterError(f"parameter {name!r} lists a value twice: {list(checked)!r}")
    return checked


def validate_parameters(**given: object) -> ChapterParameters:
    """Check every parameter of the notebook; unknown names and bad values raise ParameterError."""
    names = [field.name for field in fields(ChapterParameters)]
    check_known(given, names, where="the recsys_bias chapter")
    values = {field.name: getattr(ChapterParameters, field.name) for field in fields(ChapterParameters)}
    values.update(given)
    algorithm_names = list(ALGORITHMS)
    out = ChapterParameters(
        profile=check_choice("profile", values["profile"], ["smoke", "book", "paper"]),
        seeds=tuple(check_int_list("seeds", values["seeds"], minimum=0, maximum=MAXIMA["seed"])),
        datasets=tuple(check_subset("datasets", values["datasets"], DATASETS[:2])),
        algorithms=tuple(check_subset("algorithms", values["algorithms"], algorithm_names)),
        inputs=tuple(check_subset("inputs", values["inputs"], INPUTS)),
        tune=check_bool("tune", values["tune"]),
        ablation_inputs=tuple(check_subset("ablation_inputs", values["ablation_inputs"], INPUTS)),
        ablation_algorithms=tuple(check_subset("ablation_algorithms", values["ablation_algorithms"],
                                               algorithm_names)),
        smoothing=check_float("smoothing", values["smoothing"], minimum=0.0, maximum=MAXIMA["smoothing"]),
        betas=_float_list("betas", values["betas"], 0.0, 1.0),
        beta_algorithms=tuple(check_subset("beta_algorithms", values["beta_algorithms"], algorithm_names)),
        gammas=_float_list("gammas", values["gammas"], 0.0, 1.0),
        synthetic_algorithms=tuple(check_subset("synthetic_algorithms", values["synthetic_algorithms"],
                                                algorithm_names)),
        synthetic_users=check_int("synthetic_users", values["synthetic_users"], minimum=50,
                                  maximum=MAXIMA["synthetic_users"]),
        synthetic_items=check_int("synthetic_items", values["synthetic_items"], minimum=50,
                                  maximum=MAXIMA["synthetic_items"]),
        rerank_algorithm=check_choice("rerank_algorithm", values["rerank_algorithm"], algorithm_names),
        candidate_lengths=tuple(check_int_list("candidate_lengths", values["candidate_lengths"], minimum=1,
                                               maximum=1000)),
        lambdas=_float_list("lambdas", values["lambdas"], 0.0, MAXIMA["lambda"]),
        flow_lengths=tuple(check_int_list("flow_lengths", values["flow_lengths"], minimum=1, maximum=1000,
                                          min_size=0)),
        k=check_int("k", values["k"], minimum=1, maximum=100),
        mf_epochs=check_int("mf_epochs", values["mf_epochs"], minimum=1, maximum=MAXIMA["epochs"]),
        svdpp_epochs=check_int("svdpp_epochs", values["svdpp_epochs"], minimum=1, maximum=MAXIMA["epochs"]),
        nmf_epochs=check_int("nmf_epochs", values["nmf_epochs"], minimum=1, maximum=MAXIMA["epochs"]),
        ials_epochs=check_int("ials_epochs", values["ials_epochs"], minimum=1, maximum=MAXIMA["epochs"]),
        jobs=check_int("jobs", values["jobs"], minimum=1, maximum=MAXIMA["jobs"]),
    )
    if len(out.seeds) > MAXIMA["seeds"]:
        raise ParameterError(f"parameter 'seeds' may list at most {MAXIMA['seeds']} seeds, got {len(out.seeds)}")
    short = [length for length in out.candidate_lengths + out.flow_lengths if length < out.k]
    if short:
        raise ParameterError(f"parameters 'candidate_lengths'/'flow_lengths' must be >= k={out.k}, got {short}")
    if 0.0 not in out.betas:
        raise ParameterError(f"parameter 'betas' must include 0 (the unmodified baseline), got {list(out.betas)}")
    if "raw" not in out.inputs:
        raise ParameterError(f"parameter 'inputs' must include 'raw' (the baseline), got {list(out.inputs)}")
    return out


def model_config(params: ChapterParameters, dataset: str, algorithm: str, input_name: str, *,
                 hyper: dict | None = None, seed: int = 0, validation: bool = False, beta: float = 0.0,
                 gamma: float = 0.5) -> RecConfig:
    """The :class:`RecConfig` of one cell, with the chapter's k, epochs and smoothing."""
    hyper = TUNING_GRID[algorithm][0] if hyper is None else hyper
    return RecConfig(dataset=dataset, algorithm=algorithm, input=input_name,
                     hyper=tuple(sorted(hyper.items())), epochs=params.epochs(algorithm), beta=beta,
                     k=params.k, seed=seed, validation=validation, smoothing=params.smoothing, gamma=gamma,
                     synthetic_users=params.synthetic_users, synthetic_items=params.synthetic_items)


def tuning_configs(params: ChapterParameters, cells: list[tuple[str, str, str]]) -> list[RecConfig]:
    """Validation-split configs for every (dataset, algorithm, input) cell and every candidate of
    :data:`TUNING_GRID` (only cells with more than one candidate are tuned)."""
    return [model_config(params, dataset, algorithm, input_name, hyper=hyper, validation=True,
                         seed=params.seeds[0])
            for dataset, algorithm, input_name in cells
            for hyper in TUNING_GRID[algorithm] if len(TUNING_GRID[algorithm]) > 1]


def best_hyper(tuning: pd.DataFrame, dataset: str, algorithm: str, input_name: str,
               metric: str = "ndcg@10") -> dict:
    """The candidate with the best validation ``metric`` for one cell (the first candidate when the
    cell was not tuned; ties go to the earlier candidate)."""
    candidates = TUNING_GRID[algorithm]
    if len(candidates) == 1 or tuning is None or tuning.empty:
        return candidates[0]
    rows = tuning[(tuning["dataset"] == dataset) & (tuning["algorithm"] == algorithm)
                  & (tuning["input"] == input_name)]
    if rows.empty:
        return candidates[0]
    scores = [rows.loc[rows["hyper"] == ", ".join(f"{name}={value:g}" for name, value in sorted(c.items())),
                       metric].max() for c in candidates]
    return candidates[int(np.nanargmax(scores))]


def paired_comparison(table: pd.DataFrame, metrics: list[str], base: str = "raw",
                      treated: str = "pct_last") -> pd.DataFrame:
    """Per (dataset, algorithm): each metric under ``base`` and ``treated`` input and the relative change."""
    keys = ["dataset", "algorithm"]
    averaged = table.groupby(keys + ["input"], sort=False)[metrics].mean().reset_index()
    left = averaged[averaged["input"] == base].set_index(keys)[metrics]
    right = averaged[averaged["input"] == treated].set_index(keys)[metrics]
    joined = left.join(right, lsuffix=f" ({base})", rsuffix=f" ({treated})", how="inner")
    for metric in metrics:
        before, after = joined[f"{metric} ({base})"], joined[f"{metric} ({treated})"]
        joined[f"{metric} change"] = (after - before) / before.abs().where(before != 0)
    return joined.reset_index()


def share_improved(comparison: pd.DataFrame, metric: str, base: str = "raw", treated: str = "pct_last",
                   algorithms: tuple[str, ...] = SIX_ALGORITHMS) -> float:
    """Share of (dataset, algorithm) rows, among ``algorithms``, where ``metric`` is higher under
    ``treated`` than under ``base`` (NaN when there is no such row)."""
    rows = comparison[comparison["algorithm"].isin(algorithms)]
    if rows.empty:
        return float("nan")
    return float((rows[f"{metric} ({treated})"] > rows[f"{metric} ({base})"]).mean())


def beta_effect(beta_table: pd.DataFrame, metric: str = "EE") -> pd.DataFrame:
    """Per (dataset, algorithm): ``metric`` at β = 0 and at the largest β, and whether it rose."""
    rows = []
    for (dataset, algorithm), group in beta_table.groupby(["dataset", "algorithm"], sort=False):
        by_beta = group.groupby("beta")[metric].mean()
        rows.append({"dataset": dataset, "algorithm": algorithm, "beta max": by_beta.index.max(),
                     f"{metric} (β=0)": by_beta.loc[0.0], f"{metric} (β max)": by_beta.iloc[-1],
                     "rose": bool(by_beta.iloc[-1] > by_beta.loc[0.0])})
    return pd.DataFrame(rows)


def rerank_advantage(rerank_table: pd.DataFrame, base: str = "raw", treated: str = "pct_last") -> pd.DataFrame:
    """Per λ of the greedy re-ranker: EE with ``treated`` input at the shortest candidate list minus
    EE with ``base`` input at the longest one (≥ 0: shorter lists suffice), with both wall times."""
    greedy = rerank_table[rerank_table["method"] == "greedy"]
    shortest, longest = greedy["C"].min(), greedy["C"].max()
    rows = []
    for lam, group in greedy.groupby("lambda"):
        treated_row = group[(group["input"] == treated) & (group["C"] == shortest)]
        base_row = group[(group["input"] == base) & (group["C"] == longest)]
        if treated_row.empty or base_row.empty:
            continue
        rows.append({"lambda": lam, "C treated": shortest, "C base": longest,
                     f"EE {treated}": treated_row["EE"].mean(), f"EE {base}": base_row["EE"].mean(),
                     "EE advantage": treated_row["EE"].mean() - base_row["EE"].mean(),
                     f"nDCG {treated}": treated_row.filter(like="ndcg").iloc[:, 0].mean(),
                     f"nDCG {base}": base_row.filter(like="ndcg").iloc[:, 0].mean(),
                     f"seconds {treated}": treated_row["seconds"].mean(),
                     f"seconds {base}": base_row["seconds"].mean()})
    return pd.DataFrame(rows)

"""The chapter's cost probe (``python -m reprobook estimate recsys_bias --profile paper``).

The profile's work is its sweeps of model fits: tuning candidates on the validation split, the
main (dataset × algorithm × input × seed) grid, the input ablation, the synthetic γ grid, the β
simulation and the re-ranking runs (each one fit plus its re-rankers). The unit is one *fit and
evaluation* (one sweep cell). Cells cost very different amounts by algorithm and dataset, so the
probe runs one cell of each (dataset, algorithm) kind the profile has, with its iterative models cut
to at most ``PROBE_EPOCHS`` epochs and their time scaled to the profile's epochs (fit time is
linear in epochs), while ``seconds`` last, in order of the kind's number of cells; a kind left
unmeasured when time runs out takes the slowest measured rate (said in the notes). The slice's time
is then reported at the profile's mix of kinds. Re-ranking cells are counted as their model fit
(the re-rankers themselves are not probed). MovieLens-100k and the Goodreads sample are read from
their registered files, so the paper profile's data are the probe's.

>>> probe({"profile": "smoke", "datasets": ["ml100k"], "algorithms": ["MostPop"], "tune": False,
...        "ablation_algorithms": ["MostPop"], "ablation_inputs": ["raw"], "beta_algorithms": ["MostPop"],
...        "betas": [0.0], "synthetic_algorithms": ["MostPop"], "gammas": [0.5], "candidate_lengths": [20],
...        "lambdas": [0.5], "flow_lengths": [20], "synthetic_users": 100, "synthetic_items": 100},
...       0.2).unit
'fits'
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from typing import Any

from reprobook.benchmark import tree_cpu_seconds
from reprobook.estimate import Probe

__all__ = ["probe", "profile_configs", "PROBE_EPOCHS"]

#: epochs an iterative model trains in the probe (its time is scaled to the profile's epochs)
PROBE_EPOCHS = 2


def profile_configs(params) -> list:
    """One :class:`~reprobook.recsys_bias.experiments.RecConfig` per model fit of the profile."""
    from .chapter import model_config, tuning_configs

    cells = [(dataset, algorithm, input_name) for dataset in params.datasets
             for algorithm in params.algorithms for input_name in params.inputs]
    configs = tuning_configs(params, cells) if params.tune else []
    configs += [model_config(params, *cell, seed=seed) for cell in cells for seed in params.seeds]
    configs += [model_config(params, params.datasets[0], algorithm, input_name, seed=seed)
                for algorithm in params.ablation_algorithms for input_name in params.ablation_inputs
                for seed in params.seeds]
    configs += [model_config(params, "synthetic", algorithm, input_name, seed=seed, gamma=gamma)
                for gamma in params.gammas for algorithm in params.synthetic_algorithms
                for input_name in ("raw", "pct_last") for seed in params.seeds]
    configs += [model_config(params, params.datasets[0], algorithm, "raw", seed=seed, beta=beta)
                for algorithm in params.beta_algorithms for beta in params.betas for seed in params.seeds]
    configs += [model_config(params, params.datasets[0], params.rerank_algorithm, input_name, seed=seed)
                for input_name in ("raw", "pct_last") for seed in params.seeds]
    return configs


def _kind(config) -> tuple[str, str]:
    return config.dataset, config.algorithm


def _cell_seconds(config) -> float:
    """Wall seconds of one cell: run it with at most PROBE_EPOCHS epochs, scale the fit to its epochs."""
    from .experiments import run_recommender

    epochs = config.epochs
    short = dataclasses.replace(config, epochs=min(epochs, PROBE_EPOCHS)) if epochs else config
    started = time.perf_counter()
    row = run_recommender(short)
    wall = time.perf_counter() - started
    fit = float(row["fit_seconds"].iloc[0])
    if epochs > short.epochs:
        wall += fit * (epochs / short.epochs - 1)
    return wall


def probe(parameters: dict[str, Any], seconds: float) -> Probe:
    """Time one cell of each (dataset, algorithm) kind while ``seconds`` last; project in fits."""
    from .chapter import validate_parameters

    params = validate_parameters(**parameters)
    configs = profile_configs(params)
    counts = Counter(_kind(config) for config in configs)
    first = {}
    for config in configs:
        first.setdefault(_kind(config), config)
    cpu_started, started = tree_cpu_seconds(), time.perf_counter()
    per_cell: dict[tuple[str, str], float] = {}
    for kind, _ in counts.most_common():
        if per_cell and time.perf_counter() - started >= seconds:
            break
        per_cell[kind] = _cell_seconds(first[kind])
    measured_wall = time.perf_counter() - started
    cpu = tree_cpu_seconds() - cpu_started
    slowest = max(per_cell.values())
    projected = sum(count * per_cell.get(kind, slowest) for kind, count in counts.items())
    done = len(per_cell)
    wall_at_mix = done * projected / len(configs)
    missing = [f"{dataset}/{algorithm}" for dataset, algorithm in counts if (dataset, algorithm) not in per_cell]
    notes = (f"{len(configs)} fits in the {params.profile} profile over {len(counts)} (dataset, algorithm) kinds; "
             f"iterative models were timed at {PROBE_EPOCHS} epochs and scaled to the profile's epochs")
    notes += (f"; not measured in the time given, counted at the slowest measured rate: {', '.join(missing)}."
              if missing else ".")
    return Probe(units_done=done, wall_seconds=wall_at_mix, cpu_seconds=cpu * wall_at_mix / measured_wall,
                 device="cpu", units_total=len(configs), cells=len(configs), unit="fits", notes=notes)

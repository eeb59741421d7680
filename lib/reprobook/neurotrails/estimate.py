"""The cost of a profile of this chapter: a bounded slice of its main run, projected to its whole grid.

:func:`probe` trains the profile's main NeuroTrails network (the main split, its width, density and
device) for about ``seconds`` of CPU time on the profile's own data settings, counts the optimizer
steps done, and projects the whole grid in *NeuroTrails-equivalent steps*: each run's steps weighted
by the chapter's cost model (:func:`reprobook.neurotrails.chapter.run_weight`) relative to the probed
run. Each run of the grid is an independent sweep cell.

>>> p = probe({"profile": "smoke", "seeds": [0], "width": 8, "epochs": 1, "n_train": 256,
...            "sweep_splits": [0, 4, 6]}, seconds=0.2)
>>> p.unit, p.cells, p.units_total >= p.units_done > 0
('NeuroTrails-equivalent training steps', 10, True)
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from reprobook.benchmark import tree_cpu_seconds
from reprobook.devices import torch_device
from reprobook.estimate import Probe
from reprobook.neurotrails.chapter import run_weight, validate_parameters
from reprobook.neurotrails.experiments import RunConfig, load_splits, run_method

__all__ = ["probe", "total_steps"]

#: the probe's evaluation sets: as small as the run allows, so the slice is spent on training
PROBE_EVALUATION = 200


def total_steps(config: RunConfig) -> int:
    """Optimizer steps of a whole run of ``config``."""
    return -(-config.n_train // config.batch_size) * config.epochs


def probe(parameters: dict[str, Any], seconds: float) -> Probe:
    """Train the profile's main NeuroTrails run for about ``seconds`` and project the profile's grid."""
    params = validate_parameters(**parameters)
    configs = params.configs()
    main = replace(params.base_config(), method="neurotrails", seed=params.seeds[0])
    weight = run_weight(main)
    units_total = sum(total_steps(config) * run_weight(config) / weight for config in configs)
    # the run's own CPU budget guard ends the slice; the evaluation sets are tiny
    sliced = replace(main, time_budget_s=float(seconds), n_val=PROBE_EVALUATION, n_test=PROBE_EVALUATION,
                     n_shift=PROBE_EVALUATION)
    # the data sets are generated (and memoised) before the clock starts: the slice times training
    load_splits(sliced.generator, sliced.n_train, sliced.n_val, sliced.n_test, sliced.n_shift, sliced.data_seed)
    cpu_before, wall_before = tree_cpu_seconds(), time.perf_counter()
    summary = run_method(sliced).summary
    wall, cpu = time.perf_counter() - wall_before, tree_cpu_seconds() - cpu_before
    return Probe(
        units_done=float(summary["steps_done"]), wall_seconds=wall, cpu_seconds=cpu,
        device=torch_device(params.device), units_total=max(units_total, float(summary["steps_done"])),
        cells=len(configs), unit="NeuroTrails-equivalent training steps",
        notes=(f"The slice trained NeuroTrails (b = {main.blocks_in_head}, width {main.width}, density "
               f"{main.density:g}) on the profile's data settings; its time includes building the network and a "
               f"{PROBE_EVALUATION}-signal evaluation, while the projection counts training steps only "
               f"(each of the {len(configs)} runs weighted by the chapter's cost model), not the evaluations on "
               f"the {params.n_val:,}-, {params.n_test:,}- and {params.n_shift:,}-signal sets."),
    )

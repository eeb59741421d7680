"""The chapter's cost probe (``python -m reprobook estimate mubench --profile paper``).

It runs a bounded slice of the requested profile: half the time scores CLDR-probe items with the
profile's model, language by language in the chapter's order; the other half trains the profile's
first tiny-world run (its own step count and learning-rate schedule, cut by time). Both halves are
expressed in one unit, *items*: a tiny-world step counts as the items the scorer would have done in
the time the step took, so the projection adds the two phases at their measured rates.

The paper's own models (multilingual 1–70B LLMs on the translated MuBench data) are not available
offline: the probe measures SmolLM2-135M on the CLDR probe and says so in its notes.

>>> probe({"profile": "smoke", "model": "stub", "languages": ["en", "de"], "tasks": ["weekday"],
...        "b2_ratios": [0.5], "b2_shares": [0.0], "b2_controls": [], "b2_steps": 50, "b2_batch": 8, "b2_people": 6, "b2_seeds": [0]}, 0.5).unit
'items'
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from typing import Any

from reprobook.benchmark import tree_cpu_seconds
from reprobook.estimate import Probe

__all__ = ["probe"]


def _score_slice(params, seconds: float) -> tuple[int, float]:
    """Score probe items group by group until ``seconds`` have passed; (items scored, wall seconds)."""
    from reprobook.mubench.chapter import _backend
    from reprobook.mubench.cldr_probe import build_probe
    from reprobook.mubench.scoring import score_items

    backend = _backend(params.model, params.num_threads, params.batch_size, params.device, params.endpoint)
    groups: dict[tuple[str, str, str], list] = defaultdict(list)
    for item in build_probe(params.languages, params.tasks, seed=params.seed):
        groups[(item.lang, item.task, item.score_group)].append(item)
    done, started = 0, time.perf_counter()
    for members in groups.values():
        score_items(backend, members, chat_template=params.chat_template)
        done += len(members)
        if time.perf_counter() - started >= seconds:
            break
    return done, time.perf_counter() - started


def _train_slice(params, seconds: float) -> tuple[int, float, str]:
    """Train the profile's first tiny-world run for about ``seconds``; (steps, wall seconds, device)."""
    import torch

    from reprobook.mubench.tinyworld import run_world

    threads = torch.get_num_threads()
    config = dataclasses.replace(params.world_configs()[0], time_budget_s=seconds, stop_when_memorised=False)
    started = time.perf_counter()
    try:
        out = run_world(config)
    finally:
        torch.set_num_threads(threads)  # run_world pins one thread per worker; the caller keeps its own
    return int(out["steps_done"]), time.perf_counter() - started, str(out["device"])


def probe(parameters: dict[str, Any], seconds: float) -> Probe:
    """Measure a slice of the profile in ``parameters`` for about ``seconds``; project in items."""
    from reprobook.mubench.chapter import model_label, validate_parameters
    from reprobook.mubench.cldr_probe import build_probe

    given = dict(parameters)
    params = validate_parameters(**given)
    cpu_started = tree_cpu_seconds()
    share = seconds / 2 if params.world_keys() else seconds
    items_done, score_wall = _score_slice(params, share)
    item_rate = items_done / score_wall
    n_items = len(build_probe(params.languages, params.tasks, seed=params.seed))
    steps_total, steps_done, train_wall, device = 0, 0, 0.0, "cpu"
    if params.world_keys():
        steps_done, train_wall, device = _train_slice(params, share)
        steps_total = sum(config.steps for config in params.world_configs())
    # a tiny-world step counts as the items the scorer does in the time one step takes
    items_per_step = item_rate * train_wall / max(steps_done, 1)
    units_done = items_done + steps_done * items_per_step
    units_total = n_items + steps_total * items_per_step
    cpu = tree_cpu_seconds() - cpu_started
    model = model_label(params)
    notes = (f"Measured: {model} scoring {item_rate:.3g} CLDR-probe items/s "
             f"({len(params.languages)} languages × {n_items // len(params.languages)} items in the profile)")
    if params.world_keys():
        notes += (f"; the tiny world training {steps_done / train_wall:.3g} steps/s on {device} "
                  f"({len(params.world_configs())} runs, at most {steps_total:,} steps in all: runs stop at "
                  "memorisation, so the projection is an upper bound)")
    notes += (". The paper's own models (multilingual 1–70B LLMs on the translated MuBench data) are not "
              "available offline; this projects the chapter's miniature, not the paper's evaluation.")
    device_text = device if device == "cpu" else f"{device} (tiny worlds; SmolLM2 scores on the CPU)"
    return Probe(units_done=units_done, wall_seconds=score_wall + train_wall, cpu_seconds=max(cpu, 1e-9),
                 device=device_text, units_total=max(units_total, units_done), unit="items",
                 cells=len(params.languages) + len(params.world_keys()), notes=notes)

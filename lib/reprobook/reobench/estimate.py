"""The cost of a profile of this chapter: a few pre-training steps of each of its backbones, projected.

:func:`probe` builds one batch of the profile's scenes (its image size), then trains each backbone the
profile runs (its width, on its device) for a number of optimizer steps proportional to that backbone's
share of the profile's pre-training images (``epochs × n_train`` per backbone), so the slice's mix of work
is the profile's. The projection counts pre-training images over every seed (each seed is one independent
sweep cell); generating the scenes, corrupting the test suite, the linear probes and the scoring of the
corrupted suite are not in it (the note says so).

>>> p = probe({"profile": "smoke", "n_train": 256, "n_val": 0, "n_test": 18, "seeds": [0], "probe_l2": [1e-3],
...            "backbones": ["supervised"], "epochs": {"supervised": 1}, "image_size": 32}, seconds=0.2)
>>> p.unit, p.cells, p.units_total >= p.units_done > 0
('pre-training images', 1, True)
"""

from __future__ import annotations

import os
import time
from typing import Any

import torch

from reprobook.benchmark import tree_cpu_seconds
from reprobook.devices import torch_device
from reprobook.estimate import Probe
from reprobook.reobench.chapter import validate_parameters
from reprobook.reobench.models import train_backbone
from reprobook.reobench.synth import generate_scenes

__all__ = ["probe", "BATCH", "SHORT_BATCH", "SHORT_SLICE", "PROBE_SEED"]

BATCH = 128  # the training batch of :func:`reprobook.reobench.models.train_backbone`
SHORT_BATCH = 32  # the batch of a short slice (under ``SHORT_SLICE`` seconds), so one round stays short
SHORT_SLICE = 10.0
PROBE_SEED = 987_654_321  # scenes from a seed range the chapter's replicates never use


def probe(parameters: dict[str, Any], seconds: float) -> Probe:
    """Pre-train every backbone of the profile for a slice of about ``seconds`` and project the profile."""
    params = validate_parameters(**parameters)
    threads = min(params.threads, os.cpu_count() or 1)  # more threads than cores only adds contention
    torch.set_num_threads(threads)
    device = torch_device(params.device)
    batch = BATCH if seconds >= SHORT_SLICE else SHORT_BATCH
    scenes = generate_scenes(batch, seed=PROBE_SEED, size=params.image_size)
    # (backbone, width) -> pre-training images per seed; the supervised CNN's further widths count too
    shares = {(name, params.width): epochs * params.n_train for name, epochs in params.epochs}
    epochs_of = dict(params.epochs)
    shares |= {("supervised", width): epochs_of["supervised"] * params.n_train for width in params.size_widths}
    # the further widths run on the first size_replicates seeds only
    total = (sum(epochs * params.n_train for _, epochs in params.epochs) * len(params.seeds)
             + epochs_of.get("supervised", 0) * params.n_train * len(params.size_widths) * len(params.size_seeds()))

    def train(key: tuple[str, float], steps: int) -> None:  # one step per epoch: the batch is the whole data set
        name, width = key
        train_backbone(name, scenes.images, scenes.labels, scenes.captions, epochs=steps, seed=PROBE_SEED,
                       width=width, device=device)

    smallest = min(shares.values())
    pattern = {name: max(1, round(share / smallest)) for name, share in shares.items()}  # steps per round
    steps = dict.fromkeys(shares, 0)
    cpu_before, wall_before = tree_cpu_seconds(), time.perf_counter()
    while True:  # whole rounds of the pattern, so the slice's mix of work stays the profile's
        for name, count in pattern.items():
            train(name, count)
            steps[name] += count
        wall = time.perf_counter() - wall_before
        rounds = sum(steps.values()) // sum(pattern.values())
        if wall * (rounds + 1) / rounds > seconds:
            break
    cpu = tree_cpu_seconds() - cpu_before
    done = float(batch * sum(steps.values()))
    mix = ", ".join(f"{name} ×{width:g} {count}" for (name, width), count in steps.items())
    return Probe(
        units_done=done, wall_seconds=wall, cpu_seconds=cpu, device=device,
        units_total=max(float(total), done), cells=len(params.seeds),
        unit="pre-training images",
        notes=(f"The slice pre-trained the profile's backbones at {params.image_size}² (at their widths) "
               f"for {mix} steps of {batch} images{'' if batch == BATCH else f' (a short slice; the profile trains in batches of {BATCH})'} on {threads} thread(s) (each call's start-up included), in proportion to each backbone's share of the profile's "
               f"pre-training; the projection counts pre-training only, not the scene generation, the corrupted "
               f"suite ({len(params.corruptions)} corruptions × {len(params.severities)} severities of "
               f"{params.n_test:,} scenes per seed) or its scoring, which add to it."),
    )

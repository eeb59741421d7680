"""The cost estimate of a profile (``python -m reprobook estimate seft --profile paper``).

:func:`probe` builds the profile's ShakeGPT (its layers, width and context), prunes it with
magnitude at the profile's highest repair sparsity and runs SEFT training steps of the profile's
batch on the profile's device for about ``seconds``. The unit is one training token (a batch of
``batch × context`` tokens is one step), so pre-training, the repair runs, the ablations and the
cost runs add up to the profile's total. The probe's model is freshly initialised rather than the
pre-trained checkpoint (pre-training is part of what is being estimated); a step costs the same
either way. Pruning and evaluation are left out of the total (a few per cent at these sizes), and so is
E1, the layer-wise pruning of MiniLM (it trains nothing; tens of CPU-seconds at ``book``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import torch

from reprobook.benchmark import tree_cpu_seconds
from reprobook.estimate import Probe
from reprobook.seft.chapter import Parameters, validate_parameters
from reprobook.seft.model import GPTConfig, ShakeGPT
from reprobook.seft.prune import prune_model
from reprobook.seft.text import load_corpus
from reprobook.seft.train import Training, one_thread

__all__ = ["probe", "profile_tokens"]


def profile_tokens(params: Parameters) -> tuple[int, int]:
    """(training tokens, independent sweep cells) of the whole profile."""
    context = params.pretrain.context
    pretrain = params.pretrain.steps * params.pretrain.batch * context
    runs = params.repair_configs() + [config for _, config in params.ablation_configs()]
    repair = sum(config.steps * config.batch * context for config in runs)
    costs = params.cost_configs()
    cost = sum(3 * config.seft.update_every * config.batch * context for config in costs)
    return pretrain + repair + cost, len(runs) + len(costs) + len(params.prune_configs())


def probe(parameters: dict[str, Any], seconds: float) -> Probe:
    """Time SEFT steps of the profile's model size on its device for about ``seconds``."""
    params = validate_parameters(**parameters)
    corpus = load_corpus()
    pretrain = params.pretrain
    model = ShakeGPT(GPTConfig(vocab=corpus.tokenizer.vocab_size, layers=pretrain.layers, d=pretrain.d,
                               heads=pretrain.heads, context=pretrain.context))
    sparsity = max(params.repair_sparsities)
    with torch.no_grad():
        masks = prune_model(model, "magnitude", sparsity, None)
    model.to(params.device)
    config = replace(params.base, method="seft", sparsity=sparsity)
    with one_thread():
        training = Training(model, {name: mask.to(params.device) for name, mask in masks.items()}, config,
                            config.steps)
        cpu_started, started = tree_cpu_seconds(), time.perf_counter()
        steps = 0
        while steps < config.steps and (steps == 0 or time.perf_counter() - started < seconds):
            steps += 1
            training.step(corpus.milton_train, steps)
        if params.device == "cuda":
            torch.cuda.synchronize()
        wall, cpu = time.perf_counter() - started, tree_cpu_seconds() - cpu_started
    tokens_per_step = config.batch * pretrain.context
    total, cells = profile_tokens(params)
    return Probe(units_done=steps * tokens_per_step, wall_seconds=wall, cpu_seconds=cpu, device=params.device,
                 units_total=max(total, steps * tokens_per_step), cells=cells, unit="training tokens",
                 notes=(f"Measured on {steps} SEFT steps of a freshly initialised ShakeGPT of the profile's size "
                        f"({pretrain.layers} layers, d = {pretrain.d}, context {pretrain.context}) pruned by magnitude "
                        f"to s = {sparsity:g}, one thread; pruning, evaluation and E1 (MiniLM layer-wise pruning) are not "
                        f"counted."))

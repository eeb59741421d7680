"""What a profile of the meal chapter costs: a bounded slice of its training, projected to the whole.

:func:`probe` trains the profile's own network (its width, rollout length, epochs and minibatches)
for about ``seconds`` on one seed and a few kitchens, and counts the environment steps done. The
profile's total is every run's steps (continual runs, single-task baselines, the repeated sequence,
the harder levels) times its seeds; each run is an independent sweep cell. Evaluation and the
end-of-task statistics are not in the slice (at the book profile they are a few percent of a run).

``python -m reprobook estimate meal --profile paper --seconds 20`` prints the projection;
``python bench/meal.py --probe`` prints the same.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import jax
import jax.numpy as jnp

from reprobook.benchmark import tree_cpu_seconds
from reprobook.devices import jax_platform
from reprobook.estimate import Probe

__all__ = ["probe", "profile_env_steps", "PROBE_ENVS", "SHORT_PROBE_SECONDS"]

#: kitchens the probe runs in parallel at most (the profile's own count when smaller)
PROBE_ENVS = 8
#: a slice shorter than this (the smoke run's) probes the fewest kitchens that split into minibatches
SHORT_PROBE_SECONDS = 10.0


def profile_env_steps(params: Any) -> tuple[float, int]:
    """(training env steps of the whole profile, summed over seeds; number of runs) for validated
    :class:`~reprobook.meal.chapter.ChapterParameters`."""
    from reprobook.meal import chapter
    from reprobook.meal.experiments import updates_per_task

    runs = (chapter.experiment_grid(params) + chapter.baseline_grid(params) + chapter.plasticity_grid(params)
            + chapter.scale_grid(params))
    total = 0.0
    for config in runs:
        tasks = 1 if config.only_task >= 0 else config.n_tasks * config.repeats
        total += tasks * updates_per_task(config) * config.num_envs * config.rollout_len * len(config.seeds)
    return total, len(runs)


def _probe_envs(config: Any, seconds: float) -> int:
    """The fewest kitchens, from :data:`PROBE_ENVS` (1 for a slice shorter than
    :data:`SHORT_PROBE_SECONDS`, where one update of the paper's network at full probe width would
    take the whole slice), whose samples split into the profile's minibatches."""
    start = PROBE_ENVS if seconds >= SHORT_PROBE_SECONDS else 1
    for count in range(min(config.num_envs, start), config.num_envs + 1):
        if (count * config.rollout_len * config.n_agents) % config.minibatches == 0:
            return count
    return config.num_envs


def probe(parameters: dict[str, Any], seconds: float) -> Probe:
    """Train the profile's network on one seed for about ``seconds`` (compiled beforehand) and
    return the measured slice with the profile's total env steps."""
    from reprobook.meal import chapter
    from reprobook.meal.continual import init_cl_state, regularisation_mask
    from reprobook.meal.experiments import sequence_layouts, train_config, trainer_for
    from reprobook.meal.ippo import Runner, adam_init
    from reprobook.meal.layouts import stack_layouts, take_task
    from reprobook.meal.network import FULL_CONDITIONING, init_network

    params = chapter.validate_parameters(**parameters)
    platform = jax_platform(params.device)
    device = jax.devices(platform)[0]
    method = "online_ewc" if "online_ewc" in params.methods else params.methods[0]
    full = chapter.experiment_grid(params)[params.methods.index(method)]
    config = dataclasses.replace(full, seeds=(params.seeds[0],), num_envs=_probe_envs(full, seconds), eval_every=1)
    settings = train_config(config)
    with jax.default_device(device):
        trainer = trainer_for(settings)
        layout = take_task(stack_layouts(sequence_layouts(dataclasses.replace(config, n_tasks=1))), 0)
        keys = jnp.stack([jax.random.key(seed) for seed in config.seeds])
        weights = jax.vmap(lambda key: init_network(key, settings.network))(keys)
        mask = regularisation_mask(jax.tree.map(lambda leaf: leaf[0], weights), multihead=config.use_multihead)
        cl = jax.vmap(lambda p: init_cl_state("online_ewc", p, mask, None if config.reg_lambda < 0
                                              else config.reg_lambda))(weights)
        states, obs = trainer.start_task(weights, layout, keys)
        runner = Runner(weights, jax.vmap(adam_init)(weights), states, obs, keys, jnp.zeros(1, jnp.float32),
                        jnp.full(1, config.steps_per_task / 2, jnp.float32))
        # compiled ahead of time, not by a first call: one update of the paper's network is the
        # costly part of a short probe, and the slice need not pay for an untimed one
        train = trainer.train.lower(runner, layout, jnp.int32(0), cl, FULL_CONDITIONING).compile()
        calls, cpu, started = 0, tree_cpu_seconds(), time.perf_counter()
        while calls == 0 or time.perf_counter() - started < seconds:
            runner, _ = jax.block_until_ready(train(runner, layout, jnp.int32(0), cl, FULL_CONDITIONING))
            calls += 1
        wall, cpu = time.perf_counter() - started, tree_cpu_seconds() - cpu
    done = calls * config.num_envs * config.rollout_len
    total, cells = profile_env_steps(params)
    notes = (f"Probe: {calls} PPO update(s) of the {params.profile} network ({params.hidden} units, "
             f"{params.epochs} epochs × {params.minibatches} minibatches, {params.rollout_len}-step rollouts) on "
             f"{config.num_envs} of its {params.num_envs} kitchens, one seed; the projection assumes that rate per "
             f"kitchen holds at {params.num_envs} kitchens and {len(params.seeds)} seeds (on a CPU it does; a GPU "
             "is faster at full width) and leaves out evaluation.")
    return Probe(units_done=float(done), wall_seconds=wall, cpu_seconds=cpu,
                 device="cuda" if device.platform == "gpu" else device.platform,
                 units_total=max(total, float(done)), cells=cells, unit="env steps", notes=notes)

"""What a profile of the hasard chapter costs: a bounded slice of its pixel learner, projected.

:func:`probe` trains the profile's own pixel learner (its scenario, first method, rollout and
epochs) on a few environments, one rollout and update at a time (environment start-up included),
for about ``seconds``, and counts the environment steps done: one rollout first, then one run of
as many rollouts as the first one's pace fits in the time left (engines start once per run). The profile's total is
``pixel_steps`` for every method and seed plus the random-policy episodes (at most
``random_max_steps`` steps each, for every scenario and level, and ``pixel_random_episodes`` per
environment of every pixel seed); each learner run is an independent
sweep cell. The tiny CMDP's runs are not in the slice (seconds at every profile).

``python -m reprobook estimate hasard --profile paper --seconds 20`` prints the projection.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from reprobook.benchmark import tree_cpu_seconds
from reprobook.estimate import Probe

__all__ = ["probe", "PROBE_ENVS"]

#: environments the probe runs at most (the profile's own count when smaller)
PROBE_ENVS = 4


def probe(parameters: dict[str, Any], seconds: float) -> Probe:
    """Train the profile's pixel learner for about ``seconds`` and return the measured slice."""
    from reprobook.hasard import chapter
    from reprobook.hasard.pixel_ppo import PixelPPOConfig, train_pixel_ppo

    params = chapter.validate_parameters(**parameters)
    configs = params.pixel_configs()
    base = configs[0] if configs else PixelPPOConfig(scenario=params.pixel_scenario, n_envs=params.pixel_envs)
    envs = min(base.n_envs, PROBE_ENVS)
    config = dataclasses.replace(base, n_envs=envs, workers=min(base.workers, envs), total_steps=envs * base.rollout)
    wall, cpu = time.perf_counter(), tree_cpu_seconds()
    # one rollout first (engines' start-up included), then one longer run sized to the time left, so
    # start-up is paid once per run as in the profile's cells, not once per rollout
    train_pixel_ppo(config)
    done = config.total_steps
    left = seconds - (time.perf_counter() - wall)
    if left > 0:
        rollouts = max(1, int(left / (time.perf_counter() - wall)))
        train_pixel_ppo(dataclasses.replace(config, total_steps=rollouts * config.total_steps, seed=config.seed + 1))
        done += rollouts * config.total_steps
    elapsed, used = time.perf_counter() - wall, tree_cpu_seconds() - cpu
    random_steps = (len(params.scenarios) * len(params.levels) * params.random_episodes * params.random_max_steps
                    + len(params.pixel_random_configs()) * params.pixel_envs * params.pixel_random_episodes
                    * (params.pixel_episode_steps or 525))  # random play on the pixel runs' environments
    learner_steps = sum(c.total_steps for c in configs)
    notes = (f"The slice trained {config.method} on {config.scenario} with {envs} environment(s) (the profile runs "
             f"{base.n_envs} over {base.workers} engine processes; the slice {config.workers}), {config.rollout}-step rollouts and {config.epochs} epochs, engines' start-up included; "
             "the projection counts the learner's and the random episodes' steps at that rate.")
    return Probe(units_done=done, wall_seconds=elapsed, cpu_seconds=used, device="cpu",
                 units_total=max(learner_steps + random_steps, done), cells=max(len(configs), 1),
                 unit="env steps", notes=notes)

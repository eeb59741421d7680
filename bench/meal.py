"""Throughput of the MEAL chapter's hot paths, against baselines measured in the same run.

1. Environment steps/s with random actions, N = 256 kitchens × 400 steps (``vmap`` + ``scan``),
   ours vs JaxMARL 0.2.0's Overcooked on ``cramped_room`` (target: ≥ 1× JaxMARL, ≥ 3e5 steps/s).
2. IPPO training env steps/s for the reduced network (target: ≥ 1e4 on 2 cores).
3. Compile time of the training graph for a 1-task vs a 20-task sequence (target: independent of
   the number of tasks; MEAL's code compiles one branch per kitchen).

Run: ``python bench/meal.py``. Wall and process CPU times are both printed: on a shared machine the
wall time is what other processes left us.
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import jax
import jax.numpy as jnp

from reprobook.meal.continual import init_cl_state, regularisation_mask
from reprobook.meal.env import OvercookedEnv
from reprobook.meal.experiments import SequenceConfig, sequence_layouts, train_config
from reprobook.meal.ippo import Runner, adam_init, make_trainer
from reprobook.meal.layouts import preset, stack_layouts, take_task
from reprobook.meal.network import FULL_CONDITIONING, init_network

N_ENVS, HORIZON = 256, 400


def timed(fn, *args):
    """(wall seconds, CPU seconds, result) of one call, blocking on the result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = jax.block_until_ready(fn(*args))
    return time.perf_counter() - wall, time.process_time() - cpu, result


def our_env_rollout(layout):
    env = OvercookedEnv(n_agents=2)

    def run(key):
        states = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, N_ENVS), layout)

        def body(states, key):
            actions = jax.random.randint(key, (N_ENVS, 2), 0, 6)
            obs, states, delivery, shaped, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                jax.random.split(key, N_ENVS), states, actions, layout)
            return states, delivery.sum() + shaped.sum() + obs[:, :, 0, 0, 0].sum()
        return jax.lax.scan(body, states, jax.random.split(key, HORIZON))[1].sum()
    return jax.jit(run)


def jaxmarl_env_rollout():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from flax.core.frozen_dict import FrozenDict
        from jaxmarl.environments.overcooked import Overcooked, overcooked_layouts
        env = Overcooked(layout=FrozenDict(overcooked_layouts["cramped_room"]))

    def run(key):
        _, states = jax.vmap(env.reset)(jax.random.split(key, N_ENVS))

        def body(states, key):
            actions = jax.random.randint(key, (N_ENVS, 2), 0, 6)
            obs, states, reward, _, info = jax.vmap(env.step)(
                jax.random.split(key, N_ENVS), states, {"agent_0": actions[:, 0], "agent_1": actions[:, 1]})
            return states, reward["agent_0"].sum() + obs["agent_0"][:, 0, 0, 0].sum()
        return jax.lax.scan(body, states, jax.random.split(key, HORIZON))[1].sum()
    return jax.jit(run)


def env_benchmark() -> None:
    print(f"== environment: random actions, {N_ENVS} kitchens × {HORIZON} steps (joint steps/s) ==")
    candidates = {"ours, cramped_room": our_env_rollout(take_task(stack_layouts([preset("cramped_room")]), 0)),
                  "ours, generated 7×7 (level 1)": our_env_rollout(
                      take_task(stack_layouts(sequence_layouts(SequenceConfig(n_tasks=1))), 0))}
    try:
        candidates["JaxMARL 0.2.0, cramped_room"] = jaxmarl_env_rollout()
    except ImportError as error:
        print(f"JaxMARL baseline unavailable ({error}); install jaxmarl==0.2.0 --no-deps and its env imports")
    rates = {}
    for name, fn in candidates.items():
        timed(fn, jax.random.key(0))  # compile
        wall, cpu, _ = min(timed(fn, jax.random.key(seed)) for seed in range(1, 4))
        rates[name] = N_ENVS * HORIZON / wall
        print(f"{name:32s} {rates[name]:>10,.0f} steps/s wall   {N_ENVS * HORIZON / cpu:>10,.0f} steps/s per CPU-s")
    theirs = rates.get("JaxMARL 0.2.0, cramped_room")
    ours = rates["ours, cramped_room"]
    if theirs:
        print(f"ratio ours/JaxMARL (cramped_room): {ours / theirs:.2f}× (target ≥ 1×)")
    print(f"ours vs the 3e5 steps/s target: {ours / 3e5:.2f}×")


def trainer_parts(n_tasks: int, hidden: int = 64):
    config = SequenceConfig(n_tasks=n_tasks, hidden=hidden, num_envs=64, rollout_len=128, epochs=2,
                            minibatches=8, eval_every=5)
    settings = train_config(config)
    trainer = make_trainer(settings)
    layouts = stack_layouts(sequence_layouts(dataclasses.replace(config, n_tasks=1)), shape=(7, 7))
    layout = take_task(layouts, 0)
    params = init_network(jax.random.key(0), settings.network)
    cl = init_cl_state("online_ewc", params, regularisation_mask(params, multihead=True))
    states, obs = trainer.start_task(params, layout, jax.random.key(1))
    runner = Runner(params, adam_init(params), states, obs, jax.random.key(2), jnp.zeros((), jnp.float32),
                    jnp.float32(2e5))
    return config, trainer, runner, layout, cl


def ippo_benchmark() -> None:
    print("== IPPO, reduced network (2×64 + LayerNorm, 64 envs × 128 steps, 2 epochs × 8 minibatches) ==")
    config, trainer, runner, layout, cl = trainer_parts(3)
    args = (runner, layout, jnp.int32(0), cl, FULL_CONDITIONING)
    timed(trainer.train, *args)
    steps = config.eval_every * config.num_envs * config.rollout_len
    wall, cpu, _ = min(timed(trainer.train, *args) for _ in range(2))
    print(f"training: {steps / wall:,.0f} env steps/s wall, {steps / cpu:,.0f} per CPU-s "
          f"({steps / wall / 1e4:.2f}× the 1e4 target)")


def compile_benchmark() -> None:
    print("== compile time of the training graph vs sequence length (no persistent cache) ==")
    times = {}
    for n_tasks in (1, 20):
        _, trainer, runner, layout, cl = trainer_parts(n_tasks)
        started = time.perf_counter()
        trainer.train.lower(runner, layout, jnp.int32(0), cl, FULL_CONDITIONING).compile()
        times[n_tasks] = time.perf_counter() - started
        print(f"{n_tasks:>2} tasks: trace + compile {times[n_tasks]:.1f} s")
    print(f"ratio 20 tasks / 1 task: {times[20] / times[1]:.2f} (target ≈ 1; MEAL's per-kitchen switch grows linearly)")


if __name__ == "__main__":
    env_benchmark()
    ippo_benchmark()
    compile_benchmark()

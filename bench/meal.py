"""Throughput of the MEAL chapter's hot paths, against baselines measured in the same run.

1. Environment steps/s with random actions, N = 256 kitchens × 400 steps (``vmap`` + ``scan``):
   ours (``cramped_room`` and a generated Level-1 kitchen) vs JaxMARL 0.2.0's Overcooked on
   ``cramped_room`` and MEAL's own environment (meal-bench 0.3.1) on a kitchen its generator drew.
   Every candidate consumes its whole observation and rewards, so XLA cannot skip any of it.
   Candidates run interleaved for several rounds (:func:`reprobook.benchmark.compare`); medians,
   spreads and the ratio to JaxMARL with a bootstrap interval are printed and recorded.
2. IPPO training for the reduced network: three seeds in one ``vmap``ped graph against the same three
   seeds run one after another through the one-seed graph (what the chapter did before its seeds were
   batched). No outside IPPO implementation installs here (JaxMARL's IPPO baselines are scripts in
   its repository, not part of its wheel), so the reference is the serial schedule of our own trainer:
   the ratio measures what batching seeds buys, not the trainer's speed against another.
3. Compile time against the number of tasks (1 / 5 / 20): our rollout gathers the kitchen with a
   traced task index (one graph for any number of tasks); MEAL's pattern, one environment per
   kitchen chosen by ``lax.switch``, is measured on MEAL's own environment, so "MEAL recompiles
   per kitchen" is a measurement here, not an assertion.

Run: ``python bench/meal.py`` (``--quick`` for a short check). ``python bench/meal.py --probe
[--seconds S]`` instead probes the paper profile (:func:`reprobook.meal.estimate.probe`, the same as
``python -m reprobook estimate meal --profile paper``) and prints its projected cost. Wall and process-tree CPU times are
both recorded: on a shared machine the wall time is what other processes left us.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import sys
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp

from reprobook.benchmark import compare, quick_mode, write_record
from reprobook.meal.continual import init_cl_state, regularisation_mask
from reprobook.meal.env import OvercookedEnv
from reprobook.meal.experiments import SequenceConfig, sequence_layouts, train_config
from reprobook.meal.ippo import Runner, adam_init, make_seed_trainer, make_trainer
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
            return states, delivery.sum() + shaped.sum() + obs.sum(dtype=jnp.float32)
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
            return states, (reward["agent_0"].sum() + obs["agent_0"].sum(dtype=jnp.float32)
                            + obs["agent_1"].sum(dtype=jnp.float32))
        return jax.lax.scan(body, states, jax.random.split(key, HORIZON))[1].sum()
    return jax.jit(run)


def _import_meal_bench():
    """meal-bench's ``meal`` package: this script's own name shadows it when run as ``bench/meal.py``."""
    here = Path(__file__).resolve().parent
    saved = sys.path[:]
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    if getattr(sys.modules.get("meal"), "__file__", "") == str(Path(__file__).resolve()):
        del sys.modules["meal"]
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            from meal.env import overcooked
            from meal.env.overcooked.overcooked_env import Overcooked
    finally:
        sys.path[:] = saved
    return overcooked, Overcooked


def _meal_kitchens(count: int):
    """Kitchens drawn by MEAL's own generator (easy), and MEAL's environment class."""
    overcooked, Overcooked = _import_meal_bench()  # noqa: N806 - a class
    with contextlib.redirect_stdout(io.StringIO()):
        layouts = [overcooked.generate_layout(num_agents=2, difficulty="easy", seed=seed)[1] for seed in range(count)]
    return Overcooked, layouts


def meal_env_rollout():
    overcooked_class, layouts = _meal_kitchens(1)
    env = overcooked_class(layout=layouts[0], max_steps=HORIZON)

    def run(key):
        _, states = jax.vmap(env.reset)(jax.random.split(key, N_ENVS))

        def body(states, key):
            actions = jax.random.randint(key, (N_ENVS, 2), 0, 6)
            obs, states, reward, _, info = jax.vmap(env.step)(
                jax.random.split(key, N_ENVS), states, {"agent_0": actions[:, 0], "agent_1": actions[:, 1]})
            return states, (reward["agent_0"].sum() + obs["agent_0"].sum(dtype=jnp.float32)
                            + obs["agent_1"].sum(dtype=jnp.float32))
        return jax.lax.scan(body, states, jax.random.split(key, HORIZON))[1].sum()
    return jax.jit(run)


def env_benchmark():
    print(f"== environment: random actions, {N_ENVS} kitchens × {HORIZON} steps (joint steps/s) ==")
    candidates = {"ours, cramped_room": our_env_rollout(take_task(stack_layouts([preset("cramped_room")]), 0)),
                  "ours, generated 7×7 (level 1)": our_env_rollout(
                      take_task(stack_layouts(sequence_layouts(SequenceConfig(n_tasks=1))), 0))}
    reference = "ours, cramped_room"
    for name, build in (("JaxMARL 0.2.0, cramped_room", jaxmarl_env_rollout),
                        ("MEAL's env (meal-bench 0.3.1), generated 7×7", meal_env_rollout)):
        try:
            candidates[name] = build()
        except ImportError as error:
            print(f"{name} unavailable ({error}); see NODEPS_WHEELS in the Makefile")
    if "JaxMARL 0.2.0, cramped_room" in candidates:
        reference = "JaxMARL 0.2.0, cramped_room"
    keys = iter(range(1, 10_000))
    calls = {name: (lambda fn=fn: jax.block_until_ready(fn(jax.random.key(next(keys)))))
             for name, fn in candidates.items()}
    result = compare(calls, reference=reference, name="environment steps", work=N_ENVS * HORIZON,
                     unit="joint env steps", rounds=2 if quick_mode() else 7,
                     targets={"ours, cramped_room": 1.0})
    print(result.report())
    return result


def trainer_parts(n_tasks: int, hidden: int = 64):
    config = SequenceConfig(n_tasks=n_tasks, hidden=hidden, num_envs=64, rollout_len=128, epochs=2,
                            minibatches=8, eval_every=1 if quick_mode() else 5)
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


def ippo_benchmark():
    print("== IPPO, reduced network (2×64 + LayerNorm, 64 envs × 128 steps, 2 epochs × 8 minibatches) ==")
    config, trainer, runner, layout, cl = trainer_parts(3)
    seeded = make_seed_trainer(trainer.config)
    three = jax.tree.map(lambda leaf: jnp.stack([leaf] * 3), (runner, cl))
    three = (three[0]._replace(key=jnp.stack([jax.random.key(s) for s in range(3)])), three[1])
    steps = config.eval_every * config.num_envs * config.rollout_len
    seeds = [runner._replace(key=jax.random.key(seed)) for seed in range(3)]

    def serial():
        for one in seeds:
            jax.block_until_ready(trainer.train(one, layout, jnp.int32(0), cl, FULL_CONDITIONING))

    calls = {"three seeds one after another": serial,
             "three seeds, one vmapped graph": lambda: jax.block_until_ready(
                 seeded.train(three[0], layout, jnp.int32(0), three[1], FULL_CONDITIONING))}
    result = compare(calls, reference="three seeds one after another", name="IPPO training (reduced), 3 seeds",
                     work=3 * steps, unit="env steps", rounds=1 if quick_mode() else 3,
                     notes="the reference is our own trainer run serially: no outside IPPO implementation "
                           "installs here; a ratio near 1 means batching seeds buys nothing on this CPU (the "
                           "graph already uses both cores), above 1 that it fills spare width")
    print(result.report())
    return result


def _our_switchless_rollout(n_tasks: int):
    """Our rollout over a stack of ``n_tasks`` kitchens, the task index traced (one graph for any count)."""
    env = OvercookedEnv(n_agents=2)
    arrays = stack_layouts(sequence_layouts(SequenceConfig(n_tasks=n_tasks)))

    def run(key, task):
        layout = take_task(arrays, task)
        states = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, 16), layout)

        def body(states, key):
            actions = jax.random.randint(key, (16, 2), 0, 6)
            obs, states, delivery, shaped, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                jax.random.split(key, 16), states, actions, layout)
            return states, delivery.sum() + obs.sum(dtype=jnp.float32)
        return jax.lax.scan(body, states, jax.random.split(key, 16))[1].sum()
    return jax.jit(run)


def _meal_switch_rollout(n_tasks: int):
    """MEAL's pattern: one environment object per kitchen, chosen with ``lax.switch`` on the task index."""
    overcooked_class, layouts = _meal_kitchens(n_tasks)
    envs = [overcooked_class(layout=layout, max_steps=HORIZON) for layout in layouts]

    def run(key, task):
        def branch(env):
            def rollout(key):
                _, states = jax.vmap(env.reset)(jax.random.split(key, 16))

                def body(states, key):
                    actions = jax.random.randint(key, (16, 2), 0, 6)
                    obs, states, reward, _, _ = jax.vmap(env.step)(
                        jax.random.split(key, 16), states, {"agent_0": actions[:, 0], "agent_1": actions[:, 1]})
                    return states, reward["agent_0"].sum() + obs["agent_0"].sum(dtype=jnp.float32)
                return jax.lax.scan(body, states, jax.random.split(key, 16))[1].sum()
            return rollout
        return jax.lax.switch(task, [branch(env) for env in envs], key)
    return jax.jit(run)


def compile_benchmark() -> None:
    print("== compile time vs number of tasks (trace + XLA compile, no persistent cache) ==")
    builders = {"ours (traced task index)": _our_switchless_rollout}
    try:
        _meal_kitchens(1)
        builders["MEAL's pattern (lax.switch over kitchens)"] = _meal_switch_rollout
    except ImportError as error:
        print(f"MEAL's environment unavailable ({error}); see NODEPS_WHEELS in the Makefile")
    counts = (1, 2) if quick_mode() else (1, 5, 20)
    for name, build in builders.items():
        times = []
        for n_tasks in counts:
            fn = build(n_tasks)
            started = time.perf_counter()
            fn.lower(jax.random.key(0), jnp.int32(0)).compile()
            times.append(time.perf_counter() - started)
        shown = ", ".join(f"{n} tasks {t:.1f} s" for n, t in zip(counts, times, strict=True))
        print(f"{name:45s} {shown}; last / first = {times[-1] / times[0]:.2f}")
    for n_tasks in () if quick_mode() else (1, 20):  # the training graph's cold compile takes tens of seconds
        _, trainer, runner, layout, cl = trainer_parts(n_tasks)
        started = time.perf_counter()
        trainer.train.lower(runner, layout, jnp.int32(0), cl, FULL_CONDITIONING).compile()
        print(f"our IPPO training graph, {n_tasks:>2} tasks: trace + compile {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    if "--probe" in sys.argv:
        from reprobook.estimate import format_projection, profile_estimate

        seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 20.0
        print(format_projection(profile_estimate("meal", "paper", seconds), "paper"))
        raise SystemExit(0)
    if quick_mode():  # seconds, not minutes: reuse compiled graphs (the compile timings then mean little)
        from reprobook.meal.compilation import enable_compilation_cache

        enable_compilation_cache()
    else:
        jax.config.update("jax_enable_compilation_cache", False)
    records = [env_benchmark(), ippo_benchmark()]
    compile_benchmark()
    write_record(records, "meal")

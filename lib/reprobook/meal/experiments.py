"""Experiments of the chapter: one continual-learning run over a task sequence (brief §5).

:func:`run_sequence` trains one IPPO network on a sequence of generated kitchens with one
continual-learning method, evaluating every task every ``eval_every`` updates. With ``only_task``
it trains a fresh network on a single task: the single-task baseline of forward transfer (it uses
the same seeds, so the baseline of task 0 equals the first task of any run whose penalty is zero
on task 1 — FT, EWC, Online EWC, MAS, Online MAS).

With ``repeats > 1`` the whole sequence is trained again (same kitchens, ids and heads): the
plasticity experiment. PackNet (``method="packnet"``) spends the last ``packnet_finetune`` share of
each task's updates fine-tuning after pruning, and evaluates each finished task with its own weights.

Seeds: the network from ``seed``; task ``j``'s training from ``(seed, j)`` (``(seed, j, r)`` in
repetition ``r > 0``); evaluation ``t`` from ``(seed, t)``; kitchens from ``layout_seed``.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from reprobook.meal import packnet
from reprobook.meal.continual import (
    MASK_METHODS,
    METHODS,
    REPLAY_METHODS,
    after_task,
    init_cl_state,
    regularisation_mask,
)
from reprobook.meal.env import OvercookedEnv, n_channels
from reprobook.meal.generator import LEVELS, generate_sequence
from reprobook.meal.ippo import Replay, Runner, TrainConfig, Trainer, adam_init, empty_memory, make_trainer
from reprobook.meal.layouts import Layout, stack_layouts, take_task
from reprobook.meal.network import Conditioning, NetworkConfig, init_network
from reprobook.meal.normaliser import max_soup

__all__ = ["SequenceConfig", "SequenceResult", "run_sequence", "sequence_layouts", "trainer_for",
           "updates_per_task"]


@dataclass(frozen=True)
class SequenceConfig:
    """One run: a method on a kitchen sequence (plain values, so it keys the sweep cache)."""

    method: str = "ft"
    seed: int = 0
    level: int = 1
    n_tasks: int = 3
    layout_seed: int = 0
    n_agents: int = 2
    steps_per_task: int = 400_000
    num_envs: int = 64
    rollout_len: int = 128
    epochs: int = 2
    minibatches: int = 2
    hidden: int = 64
    lr: float = 1e-3
    eval_every: int = 5
    eval_episodes: int = 4
    use_task_id: bool = True
    use_multihead: bool = True
    use_layer_norm: bool = True
    reset_optimizer: bool = True
    plate_shaping_bugcompat: bool = False
    regularize_critic: bool = False
    reg_lambda: float = -1.0  # < 0: the method's default λ
    only_task: int = -1       # >= 0: single-task baseline on that task
    stat_envs: int = 4
    stat_steps: int = 100
    memory_per_task: int = 4096  # AGEM / ER-ACE replay slots per task
    replay_batch: int = 1024
    replay_bc_coef: float = 1.0  # ER-ACE behaviour-cloning weight
    packnet_finetune: float = 0.1  # PackNet: share of each task's updates spent fine-tuning after pruning
    repeats: int = 1  # > 1: the whole sequence again (the plasticity experiment)
    keep_checkpoints: bool = False  # keep the parameters at the end of every task


@dataclass
class SequenceResult:
    """Frames of one run: evaluations, per-update training metrics, per-task facts; the final
    parameters (NumPy arrays), PackNet's weight owners (0 free, t + 1 owned by the task at position
    t) and, with ``keep_checkpoints``, the parameters at the end of every task."""

    config: SequenceConfig
    evals: pd.DataFrame
    train: pd.DataFrame
    tasks: pd.DataFrame
    params: dict | None = None
    owner: dict | None = None
    checkpoints: list[dict] | None = None


def sequence_layouts(config: SequenceConfig) -> list[Layout]:
    """The kitchens of a run (generated from ``layout_seed``)."""
    return generate_sequence(config.n_tasks, level=config.level, seed=config.layout_seed,
                             n_agents=config.n_agents)


def updates_per_task(config: SequenceConfig) -> int:
    """PPO updates per task, rounded up to a whole number of evaluation periods."""
    per_update = config.num_envs * config.rollout_len
    updates = max(1, math.ceil(config.steps_per_task / per_update))
    return math.ceil(updates / config.eval_every) * config.eval_every


def _train_config(config: SequenceConfig) -> TrainConfig:
    level = LEVELS[config.level]
    env = OvercookedEnv(n_agents=config.n_agents, plate_shaping_bugcompat=config.plate_shaping_bugcompat)
    obs_shape = (level.height, level.width, n_channels(config.n_agents))
    network = NetworkConfig(obs_dim=int(np.prod(obs_shape)), n_tasks=config.n_tasks, hidden=config.hidden,
                            use_layer_norm=config.use_layer_norm)
    return TrainConfig(env=env, network=network, obs_shape=obs_shape, num_envs=config.num_envs,
                       rollout_len=config.rollout_len, epochs=config.epochs, minibatches=config.minibatches,
                       lr=config.lr, updates_per_call=config.eval_every, eval_episodes=config.eval_episodes,
                       stat_envs=config.stat_envs, stat_steps=config.stat_steps,
                       replay_batch=config.replay_batch)


@functools.lru_cache(maxsize=16)
def trainer_for(train_config: TrainConfig) -> Trainer:
    """One set of compiled functions per static configuration, shared by every method and task."""
    return make_trainer(train_config)


def _check(config: SequenceConfig) -> None:
    if config.method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {config.method!r}")
    if config.level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}; got {config.level!r}")
    samples = config.num_envs * config.rollout_len * config.n_agents
    if samples % config.minibatches:
        raise ValueError(f"num_envs × rollout_len × n_agents ({samples}) must divide into "
                         f"{config.minibatches} minibatches")
    if not -1 <= config.only_task < config.n_tasks:
        raise ValueError(f"only_task must be -1 or a task index below {config.n_tasks}; got {config.only_task}")
    if config.repeats < 1 or (config.repeats > 1 and config.only_task >= 0):
        raise ValueError(f"repeats must be >= 1 (and 1 with only_task); got {config.repeats}")
    if config.method in MASK_METHODS:
        if config.repeats > 1:
            raise ValueError("packnet cannot repeat a sequence: its capacity is split over the tasks once")
        if not 0.0 < config.packnet_finetune < 1.0:
            raise ValueError(f"packnet_finetune must be in (0, 1); got {config.packnet_finetune}")
        if updates_per_task(config) // config.eval_every < 2:
            raise ValueError("packnet needs at least two evaluation periods per task (train, then fine-tune); "
                             "raise steps_per_task or lower eval_every")


def _remember(memory, samples, task: int, slot: int, key: jax.Array):
    """Store ``slot`` random on-policy samples of ``task`` in its part of the memory."""
    count = samples[0].shape[0]
    chosen = jax.random.choice(key, count, (min(slot, count),), replace=False)
    start = task * slot
    fields = [field[chosen] for field in samples] + [jnp.full(len(chosen), task, jnp.int32),
                                                      jnp.ones(len(chosen), bool)]
    return type(memory)(*(old.at[start:start + len(chosen)].set(new.astype(old.dtype))
                          for old, new in zip(memory, fields, strict=True)))


def run_sequence(config: SequenceConfig) -> SequenceResult:
    """Train on the sequence (or on ``only_task``), evaluating all tasks every ``eval_every`` updates."""
    _check(config)
    layouts = sequence_layouts(config)
    normaliser = np.array([max_soup(layout) for layout in layouts], dtype=float)
    shape = (LEVELS[config.level].height, LEVELS[config.level].width)
    arrays = stack_layouts(layouts, shape=shape)
    train_config = _train_config(config)
    trainer = trainer_for(train_config)
    cond = Conditioning(jnp.float32(config.use_task_id), jnp.int32(config.use_multihead))
    root = jax.random.key(config.seed)
    params = init_network(jax.random.fold_in(root, 0), train_config.network)
    mask = regularisation_mask(params, multihead=config.use_multihead, critic=config.regularize_critic)
    lam = None if config.reg_lambda < 0 else config.reg_lambda
    cl = init_cl_state(config.method, params, mask, lam)
    n_updates = updates_per_task(config)
    chunks = n_updates // config.eval_every
    steps_per_update = config.num_envs * config.rollout_len
    horizon = jnp.float32(n_updates * steps_per_update / 2)  # shaping fades out over half of each task
    order = [config.only_task] if config.only_task >= 0 else list(range(config.n_tasks))
    schedule = [(repetition, task) for repetition in range(config.repeats) for task in order]

    replaying = config.method in REPLAY_METHODS
    if replaying:
        memory = empty_memory(config.n_tasks * config.memory_per_task, train_config.network.obs_dim)
        replay = Replay(jnp.float32(config.method == "agem"),
                        jnp.float32(config.replay_bc_coef if config.method == "er_ace" else 0.0))
    packing = config.method in MASK_METHODS
    if packing:
        owner = packnet.init_owner(params)
        finetune_chunks = min(chunks - 1, max(1, round(chunks * config.packnet_finetune)))
        positions = [order.index(task) if task in order else len(order) for task in range(config.n_tasks)]
    eval_rows, train_rows, task_rows, checkpoints = [], [], [], []
    eval_index, update_index = 0, 0

    def evaluate(training_task: int, repetition: int, position: int) -> None:
        nonlocal eval_index
        eval_key = jax.random.fold_in(jax.random.fold_in(root, 2), eval_index)
        if packing:
            masks = packnet.task_masks(params, owner, positions, position)
            soups = trainer.evaluate(params, arrays, eval_key, cond, masks)
        else:
            soups = trainer.evaluate(params, arrays, eval_key, cond)
        soups = np.asarray(soups).mean(1)
        for task in range(config.n_tasks):
            eval_rows.append({"eval": eval_index, "update": update_index,
                              "env_steps": update_index * steps_per_update, "training_task": training_task,
                              "repetition": repetition, "task": task, "soups": float(soups[task]),
                              "score": float(soups[task] / normaliser[task])})
        eval_index += 1

    evaluate(order[0], 0, 0)
    opt = adam_init(params)
    for position, (repetition, task) in enumerate(schedule):
        started = time.perf_counter()
        layout = take_task(arrays, task)
        task_key = jax.random.fold_in(jax.random.fold_in(root, 1), task)
        if repetition:
            task_key = jax.random.fold_in(task_key, repetition)
        reset_key, train_key, stat_key = jax.random.split(task_key, 3)
        if config.reset_optimizer:
            opt = adam_init(params)
        if packing:
            cl = cl._replace(trainable=packnet.trainable_mask(params, owner, position))
        env_state, obs = trainer.start_task(params, layout, reset_key)
        runner = Runner(params, opt, env_state, obs, train_key, jnp.zeros((), jnp.float32), horizon)
        for chunk in range(chunks):
            if packing and chunk == chunks - finetune_chunks:  # prune, then fine-tune the kept weights
                params, keep = packnet.prune(runner.params, owner, position, len(order))
                cl = cl._replace(trainable=packnet.trainable_mask(params, owner, position, keep))
                runner = runner._replace(params=params)
            if replaying:
                runner, metrics = trainer.train_replay(runner, layout, task, cl, cond, memory, replay)
            else:
                runner, metrics = trainer.train(runner, layout, task, cl, cond)
            params = runner.params
            metrics = {name: np.asarray(value) for name, value in metrics.items()}
            for row in range(config.eval_every):
                train_rows.append({"update": update_index + row + 1, "task": task, "repetition": repetition,
                                   "env_steps": (update_index + row + 1) * steps_per_update,
                                   **{name: float(value[row]) for name, value in metrics.items()},
                                   "train_score": float(metrics["train_soups"][row] / normaliser[task])})
            update_index += config.eval_every
            evaluate(task, repetition, position)
        opt = runner.opt
        if packing:
            owner = packnet.assign(owner, keep, position)
        fisher, mas, dormant = trainer.statistics(params, layout, task, stat_key, cond)
        cl = after_task(config.method, cl, params, fisher, mas)
        if replaying:
            memory = _remember(memory, trainer.collect(params, layout, task, stat_key, cond), task,
                               config.memory_per_task, jax.random.fold_in(stat_key, 1))
        if config.keep_checkpoints:
            checkpoints.append(jax.tree.map(np.asarray, params))
        task_rows.append({"task": task, "repetition": repetition, "max_soup": int(normaliser[task]),
                          "dormant_ratio": float(dormant),
                          "fisher_mean": float(np.mean([np.mean(x) for x in jax.tree.leaves(fisher["actor"])])),
                          "last_eval": eval_index - 1, "seconds": time.perf_counter() - started})
    return SequenceResult(config, pd.DataFrame(eval_rows), pd.DataFrame(train_rows), pd.DataFrame(task_rows),
                          params=jax.tree.map(np.asarray, params),
                          owner=jax.tree.map(np.asarray, owner) if packing else None,
                          checkpoints=checkpoints if config.keep_checkpoints else None)

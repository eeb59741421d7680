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
repetition ``r > 0``); evaluation ``t`` from ``(seed, t)``; kitchens from ``layout_seed`` (with
``min_max_soup``, a kitchen whose a-priori bound on soups is lower is redrawn, for every method alike).
"""

from __future__ import annotations

import dataclasses
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
    REGULARISERS,
    REPLAY_METHODS,
    after_task,
    init_cl_state,
    regularisation_mask,
)
from reprobook.meal.env import OvercookedEnv, n_channels
from reprobook.meal.generator import LEVELS, generate_sequence
from reprobook.meal.ippo import (
    Replay,
    Runner,
    TrainConfig,
    Trainer,
    adam_init,
    empty_memory,
    make_seed_trainer,
    unmasked,
)
from reprobook.meal.layouts import Layout, stack_layouts, take_task
from reprobook.meal.network import Conditioning, NetworkConfig, init_network
from reprobook.meal.normaliser import max_soup

__all__ = ["SequenceConfig", "SequenceResult", "run_sequence", "sequence_layouts", "train_config",
           "trainer_for", "updates_per_task", "task_order", "RunLog", "STRATEGIES"]


@dataclass(frozen=True)
class SequenceConfig:
    """One run: a method on a kitchen sequence (plain values, so it keys the sweep cache)."""

    method: str = "ft"
    seeds: tuple[int, ...] = (0,)
    level: int = 1
    n_tasks: int = 3
    layout_seed: int = 0
    min_max_soup: int = 0  # > 0: kitchens whose normaliser is below it are redrawn at generation
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

    def __post_init__(self) -> None:
        if isinstance(self.seeds, int) or not self.seeds:
            raise ValueError(f"seeds must be a non-empty tuple of integers; got {self.seeds!r}")
        object.__setattr__(self, "seeds", tuple(int(seed) for seed in self.seeds))


@dataclass
class SequenceResult:
    """Frames of one run over its seeds (a ``seed`` column in each): evaluations, per-update training
    metrics, per-task facts; the final parameters (NumPy arrays with a leading seed axis), PackNet's
    weight owners (0 free, t + 1 owned by the task at position t) and, with ``keep_checkpoints``, the
    parameters at the end of every task."""

    config: SequenceConfig
    evals: pd.DataFrame
    train: pd.DataFrame
    tasks: pd.DataFrame
    params: dict | None = None
    owner: dict | None = None
    checkpoints: list[dict] | None = None

    def seed(self, seed: int) -> SequenceResult:
        """The run of one seed (frames filtered, arrays sliced)."""
        index = self.config.seeds.index(seed)

        def pick(tree):
            return None if tree is None else jax.tree.map(lambda leaf: leaf[index], tree)

        def rows(frame):
            return frame[frame["seed"] == seed].drop(columns="seed").reset_index(drop=True)

        return SequenceResult(dataclasses.replace(self.config, seeds=(seed,)), rows(self.evals), rows(self.train),
                              rows(self.tasks), pick(self.params), pick(self.owner),
                              None if self.checkpoints is None else [pick(c) for c in self.checkpoints])


def sequence_layouts(config: SequenceConfig) -> list[Layout]:
    """The kitchens of a run (generated from ``layout_seed``)."""
    return generate_sequence(config.n_tasks, level=config.level, seed=config.layout_seed,
                             n_agents=config.n_agents, min_max_soup=config.min_max_soup)


def updates_per_task(config: SequenceConfig) -> int:
    """PPO updates per task, rounded up to a whole number of evaluation periods."""
    per_update = config.num_envs * config.rollout_len
    updates = max(1, math.ceil(config.steps_per_task / per_update))
    return math.ceil(updates / config.eval_every) * config.eval_every


def train_config(config: SequenceConfig) -> TrainConfig:
    """The static settings of a run's training graph."""
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
def trainer_for(settings: TrainConfig) -> Trainer:
    """One set of compiled, seed-batched functions per static configuration, shared by every method,
    task and number of seeds (the seed axis is a traced shape: a new count compiles once more)."""
    return make_seed_trainer(settings)


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




def _stack(trees: list) -> dict:
    """Stack per-seed trees along a new leading axis."""
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


def _split(tree, count: int) -> list:
    return [jax.tree.map(lambda leaf, i=index: leaf[i], tree) for index in range(count)]


def _per_seed(keys: jax.Array, *data: int) -> jax.Array:
    """Fold ``data`` into every seed's key (one row per seed)."""
    for value in data:
        keys = jax.vmap(lambda key, v=value: jax.random.fold_in(key, v))(keys)
    return keys


@dataclass
class TaskContext:
    """What a strategy sees of the task being trained."""

    task: int
    position: int
    n_positions: int
    chunks: int
    arrays: object
    layout: object
    cond: Conditioning
    stat_keys: jax.Array
    roots: jax.Array  # one key per seed: evaluations fold their index into it


class Regulariser:
    """FT, L2, EWC, Online EWC, MAS, Online MAS: a penalty whose arrays change after each task."""

    def __init__(self, config: SequenceConfig, trainer: Trainer, params: dict) -> None:
        self.config, self.trainer = config, trainer
        mask = regularisation_mask(_split(params, 1)[0], multihead=config.use_multihead,
                                   critic=config.regularize_critic)
        lam = None if config.reg_lambda < 0 else config.reg_lambda
        self.cl = _stack([init_cl_state(config.method, p, mask, lam) for p in _split(params, len(config.seeds))])
        self.eval_masks: dict | None = None  # all ones, made at the first evaluation

    def before_task(self, params: dict, context: TaskContext) -> None:
        """Nothing to prepare: the penalty's arrays already hold every earlier task."""

    def before_chunk(self, runner: Runner, chunk: int, context: TaskContext) -> Runner:
        return runner

    def train(self, runner: Runner, context: TaskContext):
        return self.trainer.train(runner, context.layout, context.task, self.cl, context.cond)

    def evaluate(self, params: dict, keys: jax.Array, context: TaskContext) -> jax.Array:
        if self.eval_masks is None:
            self.eval_masks = unmasked(params, self.config.n_tasks)
        return self.trainer.evaluate(params, context.arrays, keys, context.cond, self.eval_masks)

    def after_task(self, params: dict, fisher: dict, mas: dict, context: TaskContext) -> None:
        self.cl = jax.vmap(functools.partial(after_task, self.config.method))(self.cl, params, fisher, mas)


class ReplayMemory(Regulariser):
    """AGEM and ER-ACE: a memory of earlier tasks' samples, per seed (no penalty)."""

    def __init__(self, config: SequenceConfig, trainer: Trainer, params: dict) -> None:
        super().__init__(config, trainer, params)
        memory = empty_memory(config.n_tasks * config.memory_per_task, trainer.config.network.obs_dim)
        self.memory = _stack([memory] * len(config.seeds))
        self.replay = Replay(jnp.float32(config.method == "agem"),
                             jnp.float32(config.replay_bc_coef if config.method == "er_ace" else 0.0))

    def train(self, runner: Runner, context: TaskContext):
        return self.trainer.train_replay(runner, context.layout, context.task, self.cl, context.cond, self.memory,
                                         self.replay)

    def after_task(self, params: dict, fisher: dict, mas: dict, context: TaskContext) -> None:
        super().after_task(params, fisher, mas, context)
        samples = self.trainer.collect(params, context.layout, context.task, context.stat_keys, context.cond)
        choice_keys = _per_seed(context.stat_keys, 1)
        self.memory = _stack([
            _remember(memory, [field[index] for field in samples], context.task, self.config.memory_per_task,
                      choice_keys[index])
            for index, memory in enumerate(_split(self.memory, len(self.config.seeds)))])


class PackNet(Regulariser):
    """PackNet: train the free weights, prune, fine-tune the kept ones, freeze them for the task."""

    def __init__(self, config: SequenceConfig, trainer: Trainer, params: dict) -> None:
        super().__init__(config, trainer, params)
        self.owners = [packnet.init_owner(p) for p in _split(params, len(config.seeds))]
        self.keep: list[dict] = []

    @property
    def owner(self) -> dict:
        return _stack(self.owners)

    def _trainable(self, params: list[dict], position: int, keep: list[dict] | None = None) -> None:
        masks = [packnet.trainable_mask(p, owner, position, None if keep is None else keep[index])
                 for index, (p, owner) in enumerate(zip(params, self.owners, strict=True))]
        self.cl = self.cl._replace(trainable=_stack(masks))

    def before_task(self, params: dict, context: TaskContext) -> None:
        self._trainable(_split(params, len(self.owners)), context.position)

    def finetune_chunks(self, chunks: int) -> int:
        return min(chunks - 1, max(1, round(chunks * self.config.packnet_finetune)))

    def before_chunk(self, runner: Runner, chunk: int, context: TaskContext) -> Runner:
        if chunk != context.chunks - self.finetune_chunks(context.chunks):
            return runner
        pruned, self.keep = [], []
        for p, owner in zip(_split(runner.params, len(self.owners)), self.owners, strict=True):
            weights, kept = packnet.prune(p, owner, context.position, context.n_positions)
            pruned.append(weights)
            self.keep.append(kept)
        self._trainable(pruned, context.position, self.keep)
        return runner._replace(params=_stack(pruned))

    def evaluate(self, params: dict, keys: jax.Array, context: TaskContext) -> jax.Array:
        order = task_order(self.config)
        positions = [order.index(task) if task in order else len(order) for task in range(self.config.n_tasks)]
        masks = _stack([packnet.task_masks(p, owner, positions, context.position)
                        for p, owner in zip(_split(params, len(self.owners)), self.owners, strict=True)])
        return self.trainer.evaluate(params, context.arrays, keys, context.cond, masks)

    def after_task(self, params: dict, fisher: dict, mas: dict, context: TaskContext) -> None:
        self.owners = [packnet.assign(owner, kept, context.position)
                       for owner, kept in zip(self.owners, self.keep, strict=True)]
        super().after_task(params, fisher, mas, context)


#: the run driver's strategy per method
STRATEGIES = {**dict.fromkeys(REGULARISERS, Regulariser), **dict.fromkeys(REPLAY_METHODS, ReplayMemory),
              **dict.fromkeys(MASK_METHODS, PackNet)}


def _remember(memory, samples, task: int, slot: int, key: jax.Array):
    """Store ``slot`` random on-policy samples of ``task`` in its part of the memory."""
    count = samples[0].shape[0]
    chosen = jax.random.choice(key, count, (min(slot, count),), replace=False)
    start = task * slot
    fields = [field[chosen] for field in samples] + [jnp.full(len(chosen), task, jnp.int32),
                                                      jnp.ones(len(chosen), bool)]
    return type(memory)(*(old.at[start:start + len(chosen)].set(new.astype(old.dtype))
                          for old, new in zip(memory, fields, strict=True)))


@dataclass
class RunLog:
    """The rows a run writes as it goes (evaluations, per-update training metrics, per-task facts)
    and its evaluation and update counters."""

    seeds: tuple[int, ...]
    normaliser: np.ndarray
    steps_per_update: int
    evals: list[dict] = dataclasses.field(default_factory=list)
    train: list[dict] = dataclasses.field(default_factory=list)
    tasks: list[dict] = dataclasses.field(default_factory=list)
    eval_index: int = 0
    update_index: int = 0

    def evaluation(self, soups: np.ndarray, training_task: int, repetition: int) -> None:
        """One row per seed and task: mean soups over the episodes, its standard deviation, the score."""
        for index, seed in enumerate(self.seeds):
            for task in range(soups.shape[1]):
                episodes = soups[index, task]
                self.evals.append({
                    "seed": seed, "eval": self.eval_index, "update": self.update_index,
                    "env_steps": self.update_index * self.steps_per_update, "training_task": training_task,
                    "repetition": repetition, "task": task, "soups": float(episodes.mean()),
                    "soups_sd": float(episodes.std(ddof=1)) if episodes.size > 1 else float("nan"),
                    "episodes": int(episodes.size), "score": float(episodes.mean() / self.normaliser[task])})
        self.eval_index += 1

    def updates(self, metrics: dict, task: int, repetition: int) -> None:
        """One row per seed and update of a training call (``metrics``: name -> [seed, update])."""
        metrics = {name: np.asarray(value) for name, value in metrics.items()}
        count = metrics["train_soups"].shape[1]
        for index, seed in enumerate(self.seeds):
            for row in range(count):
                update = self.update_index + row + 1
                self.train.append({"seed": seed, "update": update, "task": task, "repetition": repetition,
                                   "env_steps": update * self.steps_per_update,
                                   **{name: float(value[index, row]) for name, value in metrics.items()},
                                   "train_score": float(metrics["train_soups"][index, row] / self.normaliser[task])})
        self.update_index += count

    def task_end(self, task: int, repetition: int, dormant: jax.Array, fisher: dict, seconds: float) -> None:
        """One row per seed: the task's normaliser, dormant ratio, mean Fisher and last evaluation."""
        count = len(self.seeds)
        fisher_mean = np.mean([np.asarray(leaf).reshape(count, -1).mean(1)
                               for leaf in jax.tree.leaves(fisher["actor"])], axis=0)
        for index, seed in enumerate(self.seeds):
            self.tasks.append({"seed": seed, "task": task, "repetition": repetition,
                               "max_soup": int(self.normaliser[task]),
                               "dormant_ratio": float(np.asarray(dormant)[index]),
                               "fisher_mean": float(fisher_mean[index]), "last_eval": self.eval_index - 1,
                               "seconds": seconds})


def _train_task(strategy: Regulariser, runner: Runner, context: TaskContext, log: RunLog, repetition: int) -> Runner:
    """Every chunk of one task: the strategy's hooks, ``eval_every`` updates, an evaluation of every task."""
    for chunk in range(context.chunks):
        runner = strategy.before_chunk(runner, chunk, context)
        runner, metrics = strategy.train(runner, context)
        log.updates(metrics, context.task, repetition)
        log.evaluation(np.asarray(strategy.evaluate(runner.params, _per_seed(context.roots, 2, log.eval_index),
                                                    context)), context.task, repetition)
    return runner


def task_order(config: SequenceConfig) -> list[int]:
    """The tasks of one pass over the sequence (``only_task`` alone for a single-task baseline)."""
    return [config.only_task] if config.only_task >= 0 else list(range(config.n_tasks))


def run_sequence(config: SequenceConfig) -> SequenceResult:
    """Train on the sequence (or on ``only_task``) for every seed at once, evaluating all tasks every
    ``eval_every`` updates."""
    _check(config)
    layouts = sequence_layouts(config)
    log = RunLog(config.seeds, np.array([max_soup(layout) for layout in layouts], dtype=float),
                 config.num_envs * config.rollout_len)
    arrays = stack_layouts(layouts, shape=(LEVELS[config.level].height, LEVELS[config.level].width))
    settings = train_config(config)
    trainer = trainer_for(settings)
    cond = Conditioning(jnp.float32(config.use_task_id), jnp.int32(config.use_multihead))
    roots = jnp.stack([jax.random.key(seed) for seed in config.seeds])
    params = _stack([init_network(jax.random.fold_in(root, 0), settings.network) for root in roots])
    strategy = STRATEGIES[config.method](config, trainer, params)
    chunks = updates_per_task(config) // config.eval_every
    horizon = jnp.full(len(config.seeds), updates_per_task(config) * log.steps_per_update / 2,
                       jnp.float32)  # shaping fades out over half of each task
    order = task_order(config)
    first = TaskContext(order[0], 0, len(order), chunks, arrays, take_task(arrays, order[0]), cond, roots, roots)
    log.evaluation(np.asarray(strategy.evaluate(params, _per_seed(roots, 2, 0), first)), order[0], 0)
    checkpoints = []
    opt = jax.vmap(adam_init)(params)
    for position, (repetition, task) in enumerate((r, t) for r in range(config.repeats) for t in order):
        started = time.perf_counter()
        split = jax.vmap(lambda key: jax.random.split(key, 3))(
            _per_seed(roots, 1, task, *([repetition] if repetition else [])))
        context = TaskContext(task, position % len(order), len(order), chunks, arrays, take_task(arrays, task),
                              cond, split[:, 2], roots)
        if config.reset_optimizer:
            opt = jax.vmap(adam_init)(params)
        strategy.before_task(params, context)
        env_state, obs = trainer.start_task(params, context.layout, split[:, 0])
        runner = Runner(params, opt, env_state, obs, split[:, 1], jnp.zeros(len(config.seeds), jnp.float32), horizon)
        runner = _train_task(strategy, runner, context, log, repetition)
        params, opt = runner.params, runner.opt
        fisher, mas, dormant = trainer.statistics(params, context.layout, task, context.stat_keys, cond)
        strategy.after_task(params, fisher, mas, context)
        if config.keep_checkpoints:
            checkpoints.append(jax.tree.map(np.asarray, params))
        log.task_end(task, repetition, dormant, fisher, time.perf_counter() - started)
    owner = getattr(strategy, "owner", None)
    return SequenceResult(config, pd.DataFrame(log.evals), pd.DataFrame(log.train), pd.DataFrame(log.tasks),
                          params=jax.tree.map(np.asarray, params),
                          owner=None if owner is None else jax.tree.map(np.asarray, owner),
                          checkpoints=checkpoints if config.keep_checkpoints else None)

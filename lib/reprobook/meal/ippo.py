"""IPPO with full parameter sharing as fused, jitted JAX functions (brief §2.3).

:func:`make_trainer` builds compiled functions around one :class:`TrainConfig`
(:func:`make_seed_trainer` the same functions ``vmap``ped over a leading seed axis):

* ``train(runner, layout, task, cl, cond)``: ``updates_per_call`` PPO updates in one ``lax.scan``; each
  update is a rollout ``scan`` over ``num_envs`` vmapped kitchens, a reverse-``scan`` GAE and
  ``epochs × minibatches`` clipped-PPO steps with the continual-learning penalty; Adam after a
  global-norm clip.
* ``evaluate(params, layouts, key, cond, task_masks=None)``: soups per episode of every task (its own
  head and id), one ``vmap`` over tasks × episodes, sampled actions, with per-task weight masks
  (PackNet's). The seed-batched evaluation always takes masks (:func:`unmasked` for the other
  methods), so every method shares one compiled evaluation.
* ``train_replay(..., memory, replay)``: the same update with a replay memory of past tasks — AGEM's
  gradient projection and/or ER-ACE's behaviour cloning (a second graph, shared by both);
  ``collect`` draws on-policy samples to fill the memory.
* ``statistics(params, layout, task, key, cond)``: the diagonal Fisher, MAS importance and the actor's
  dormant-neuron ratio from on-policy play.

The kitchen, the task index, the task conditioning and the continual-learning arrays are arguments, never closures, so a
whole sequence and every regularisation method run through the same compiled graphs. PackNet's frozen
weights are data too (``CLState.trainable`` masks gradients and updates).

The learning reward is MEAL's "dense shared": Σ_agents delivery + α·Σ_agents shaped, the same for
every agent, with α falling linearly from 1 to 0 over ``Runner.shaping_horizon`` env steps of each task
(data, so tasks of different lengths share the graph).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from reprobook.meal.continual import CLState, penalty
from reprobook.meal.env import DELIVERY_REWARD, EnvState, OvercookedEnv
from reprobook.meal.layouts import LayoutArrays, take_task
from reprobook.meal.network import (
    Conditioning,
    NetworkConfig,
    actor_activations,
    apply_network,
    dormant_ratio,
)

__all__ = ["TrainConfig", "AdamState", "Runner", "Trainer", "Memory", "Replay", "empty_memory", "agem_project",
           "make_trainer", "make_seed_trainer", "unmasked", "adam_init", "adam_update", "gae", "ppo_loss", "categorical_log_prob",
           "categorical_entropy"]


@dataclass(frozen=True)
class TrainConfig:
    """Static settings of one training graph (changing one recompiles)."""

    env: OvercookedEnv
    network: NetworkConfig
    obs_shape: tuple[int, int, int]
    num_envs: int = 64
    rollout_len: int = 128
    epochs: int = 2
    minibatches: int = 2
    lr: float = 1e-3
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 1.0
    adam_eps: float = 1e-5
    updates_per_call: int = 5
    eval_episodes: int = 4
    stat_envs: int = 4
    stat_steps: int = 100
    replay_batch: int = 1024


class AdamState(NamedTuple):
    mean: dict
    var: dict
    count: jnp.ndarray


class Runner(NamedTuple):
    """Everything the training scan carries."""

    params: dict
    opt: AdamState
    env_state: EnvState
    obs: jnp.ndarray
    key: jax.Array
    task_steps: jnp.ndarray
    shaping_horizon: jnp.ndarray


class Trainer(NamedTuple):
    config: TrainConfig
    train: object
    evaluate: object
    statistics: object
    start_task: object
    train_replay: object
    collect: object


class Memory(NamedTuple):
    """Replay memory of past tasks' samples (AGEM, ER-ACE); ``valid`` marks filled slots."""

    obs: jnp.ndarray          # uint8 [M, obs_dim]
    actions: jnp.ndarray      # int32 [M]
    log_probs: jnp.ndarray    # [M]
    values: jnp.ndarray       # [M]
    advantages: jnp.ndarray   # [M]
    returns: jnp.ndarray      # [M]
    task: jnp.ndarray         # int32 [M]
    valid: jnp.ndarray        # bool [M]


class Replay(NamedTuple):
    """How the memory is used, as data: AGEM projection on/off and the ER-ACE behaviour-cloning weight."""

    agem: jnp.ndarray | float
    bc_coef: jnp.ndarray | float


def empty_memory(size: int, obs_dim: int) -> Memory:
    zeros = jnp.zeros(size, jnp.float32)
    return Memory(jnp.zeros((size, obs_dim), jnp.uint8), jnp.zeros(size, jnp.int32), zeros, zeros, zeros,
                  zeros, jnp.zeros(size, jnp.int32), jnp.zeros(size, bool))


def agem_project(grads: dict, reference: dict) -> dict:
    """AGEM: if g·g_ref < 0, remove g's component along g_ref (g − (g·g_ref/‖g_ref‖²) g_ref).

    >>> import jax.numpy as jnp
    >>> agem_project({"w": jnp.array([1.0, -1.0])}, {"w": jnp.array([0.0, 1.0])})["w"].tolist()
    [1.0, 0.0]
    """
    dot = sum(jnp.sum(g * r) for g, r in zip(jax.tree.leaves(grads), jax.tree.leaves(reference), strict=True))
    norm = sum(jnp.sum(jnp.square(r)) for r in jax.tree.leaves(reference))
    scale = jnp.where(dot < 0, dot / jnp.maximum(norm, 1e-30), 0.0)
    return jax.tree.map(lambda g, r: g - scale * r, grads, reference)


def adam_init(params: dict) -> AdamState:
    zeros = jax.tree.map(jnp.zeros_like, params)
    return AdamState(zeros, jax.tree.map(jnp.zeros_like, params), jnp.zeros((), jnp.int32))


def adam_update(grads: dict, state: AdamState, params: dict, lr: float, max_norm: float,
                eps: float = 1e-5, b1: float = 0.9, b2: float = 0.999,
                trainable: dict | None = None) -> tuple[dict, AdamState]:
    """Global-norm clipping then Adam (``eps`` outside the square root, as optax's ``adam``).

    With ``trainable`` (1.0/0.0 per parameter) the gradients of frozen parameters are zeroed before
    clipping and frozen parameters keep their values (Adam's momentum cannot move them).
    """
    if trainable is not None:
        grads = jax.tree.map(lambda g, t: g * t, grads, trainable)
    norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree.leaves(grads)))
    scale = jnp.where(norm < max_norm, 1.0, max_norm / jnp.maximum(norm, 1e-30))
    grads = jax.tree.map(lambda g: g * scale, grads)
    count = state.count + 1
    mean = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state.mean, grads)
    var = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * jnp.square(g), state.var, grads)
    c1 = 1 - b1 ** count.astype(jnp.float32)
    c2 = 1 - b2 ** count.astype(jnp.float32)
    updated = jax.tree.map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, mean, var)
    if trainable is not None:
        updated = jax.tree.map(lambda new, old, t: jnp.where(t > 0, new, old), updated, params, trainable)
    return updated, AdamState(mean, var, count)


def categorical_log_prob(logits: jnp.ndarray, action: jnp.ndarray) -> jnp.ndarray:
    log_probs = jax.nn.log_softmax(logits)
    return jnp.take_along_axis(log_probs, action[..., None], -1)[..., 0]


def categorical_entropy(logits: jnp.ndarray) -> jnp.ndarray:
    log_probs = jax.nn.log_softmax(logits)
    return -jnp.sum(jnp.exp(log_probs) * log_probs, -1)


def gae(rewards: jnp.ndarray, values: jnp.ndarray, dones: jnp.ndarray, last_value: jnp.ndarray,
        gamma: float, lam: float) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Generalised advantage estimates and returns over a time-major rollout.

    ``dones[t]`` marks that the episode ended with step ``t`` (no bootstrap across it).
    """
    def backward(carry, step):
        next_advantage, next_value = carry
        reward, value, done = step
        keep = 1.0 - done
        delta = reward + gamma * next_value * keep - value
        advantage = delta + gamma * lam * keep * next_advantage
        return (advantage, value), advantage

    _, advantages = jax.lax.scan(backward, (jnp.zeros_like(last_value), last_value),
                                 (rewards, values, dones), reverse=True)
    return advantages, advantages + values


def ppo_loss(logits, values, actions, old_log_probs, old_values, advantages, returns,
             clip_eps: float, vf_coef: float, ent_coef: float) -> tuple[jnp.ndarray, dict]:
    """MEAL's clipped PPO loss (advantages normalised within the minibatch)."""
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    log_probs = categorical_log_prob(logits, actions)
    ratio = jnp.exp(log_probs - old_log_probs)
    actor = -jnp.mean(jnp.minimum(ratio * advantages,
                                  jnp.clip(ratio, 1 - clip_eps, 1 + clip_eps) * advantages))
    clipped_values = old_values + jnp.clip(values - old_values, -clip_eps, clip_eps)
    critic = 0.5 * jnp.mean(jnp.maximum(jnp.square(values - returns), jnp.square(clipped_values - returns)))
    entropy = jnp.mean(categorical_entropy(logits))
    total = actor + vf_coef * critic - ent_coef * entropy
    return total, {"actor_loss": actor, "critic_loss": critic, "entropy": entropy}


# The training step as named functions of a static :class:`TrainConfig` (the first argument of
# each): a rollout, the PPO epochs over its samples, one update, and what the trainer exposes.
# :func:`_trainer_functions` binds them to one configuration.

def _policy(config: TrainConfig, params, obs, task, cond: Conditioning):
    """Logits and value of the shared network for observations with the grid's shape."""
    x = obs.reshape(*obs.shape[:-3], config.network.obs_dim).astype(jnp.float32)
    return apply_network(params, x, task, config.network, cond)


def _start_task(config: TrainConfig, params, layout: LayoutArrays, key):
    """``num_envs`` fresh kitchens of ``layout`` and their observations."""
    env = config.env
    keys = jax.random.split(key, config.num_envs)
    states = jax.vmap(env.reset, in_axes=(0, None))(keys, layout)
    obs = jax.vmap(env.observe, in_axes=(0, None))(states, layout)
    return states, obs


def _env_step(config: TrainConfig, key, state, actions, layout: LayoutArrays):
    return jax.vmap(config.env.step, in_axes=(0, 0, 0, None))(
        jax.random.split(key, config.num_envs), state, actions, layout)


def _rollout(config: TrainConfig, runner: Runner, layout: LayoutArrays, task, cond: Conditioning):
    """One rollout, GAE and flattened samples; returns (runner fields, samples, rollout totals)."""
    batch_envs, n_agents, obs_dim = config.num_envs, config.env.n_agents, config.network.obs_dim
    horizon = runner.shaping_horizon

    def rollout_step(carry, _):
        params, env_state, obs, key, task_steps = carry
        key, act_key, step_key = jax.random.split(key, 3)
        logits, value = _policy(config, params, obs, task, cond)
        actions = jax.random.categorical(act_key, logits)
        log_prob = categorical_log_prob(logits, actions)
        next_obs, env_state, delivery, shaped, done = _env_step(config, step_key, env_state, actions, layout)
        alpha = jnp.clip(1.0 - task_steps / horizon, 0.0, 1.0)
        reward = delivery.sum(-1) + alpha * shaped.sum(-1)
        reward = jnp.broadcast_to(reward[:, None], (batch_envs, n_agents))
        record = (obs, actions, log_prob, value, reward, jnp.broadcast_to(done[:, None], reward.shape),
                  delivery.sum(), shaped.sum())
        return (params, env_state, next_obs, key, task_steps + batch_envs), record

    carry = (runner.params, runner.env_state, runner.obs, runner.key, runner.task_steps)
    (params, env_state, obs, key, task_steps), traj = jax.lax.scan(rollout_step, carry, None, config.rollout_len)
    t_obs, t_actions, t_log_probs, t_values, t_rewards, t_dones, t_delivery, t_shaped = traj
    _, last_value = _policy(config, params, obs, task, cond)
    advantages, returns = gae(t_rewards, t_values, t_dones.astype(jnp.float32), last_value,
                              config.gamma, config.gae_lambda)
    n_samples = config.rollout_len * batch_envs * n_agents
    flat = (t_obs.reshape(n_samples, obs_dim), t_actions.reshape(-1), t_log_probs.reshape(-1),
            t_values.reshape(-1), advantages.reshape(-1), returns.reshape(-1))
    return (params, env_state, obs, key, task_steps), flat, (t_delivery, t_shaped)


def _collect(config: TrainConfig, params, layout: LayoutArrays, task, key, cond: Conditioning):
    """On-policy samples of one rollout from fresh kitchens (to fill a replay memory)."""
    reset_key, key = jax.random.split(key)
    states, obs = _start_task(config, params, layout, reset_key)
    done = jnp.ones((), jnp.float32)  # shaping over: the memory holds the task's own reward
    runner = Runner(params, None, states, obs, key, done, done)
    return _rollout(config, runner, layout, task, cond)[1]


def _memory_terms(config: TrainConfig, params, batch, cond: Conditioning):
    """PPO loss and behaviour-cloning loss of the network on a batch drawn from the replay memory."""
    m_obs, m_actions, m_log_probs, m_values, m_adv, m_ret, m_task = batch
    logits, values = apply_network(params, m_obs.astype(jnp.float32), m_task, config.network, cond)
    ppo, _ = ppo_loss(logits, values, m_actions, m_log_probs, m_values, m_adv, m_ret,
                      config.clip_eps, config.vf_coef, config.ent_coef)
    cloning = -jnp.mean(categorical_log_prob(logits, m_actions))
    return ppo, cloning


def _sample_memory(config: TrainConfig, memory: Memory, key):
    """``replay_batch`` samples drawn uniformly from the memory's filled slots."""
    probs = memory.valid / jnp.maximum(memory.valid.sum(), 1)
    index = jax.random.choice(key, memory.valid.shape[0], (config.replay_batch,), p=probs)
    return tuple(field[index] for field in memory[:7])


def _loss(config: TrainConfig, params, batch, task, cl: CLState, cond: Conditioning,
          memory: Memory | None = None, replay: Replay | None = None, memory_batch=None):
    """Clipped PPO loss on an on-task minibatch + the continual-learning penalty (+ ER-ACE's cloning)."""
    b_obs, b_actions, b_log_probs, b_values, b_adv, b_ret = batch
    logits, values = apply_network(params, b_obs.astype(jnp.float32), task, config.network, cond)
    loss, parts = ppo_loss(logits, values, b_actions, b_log_probs, b_values, b_adv, b_ret,
                           config.clip_eps, config.vf_coef, config.ent_coef)
    reg = penalty(params, cl)
    if memory_batch is not None:  # ER-ACE as MEAL defines it: behaviour cloning on the memory
        cloning = _memory_terms(config, params, memory_batch, cond)[1] * jnp.any(memory.valid)
        loss = loss + replay.bc_coef * cloning
        parts = {**parts, "replay_cloning": cloning}
    return loss + reg, {**parts, "penalty": reg}


def _minibatch_step(config: TrainConfig, task, cl: CLState, cond: Conditioning, memory: Memory | None,
                    replay: Replay | None, carry, inputs):
    """One Adam step on one minibatch (AGEM projects the gradient when the replay asks for it)."""
    params, opt = carry
    batch, mem_key = inputs
    grad_fn = jax.value_and_grad(functools.partial(_loss, config), has_aux=True)
    if memory is None:
        (loss, parts), grads = grad_fn(params, batch, task, cl, cond)
    else:
        memory_batch = _sample_memory(config, memory, mem_key)
        (loss, parts), grads = grad_fn(params, batch, task, cl, cond, memory, replay, memory_batch)
        reference = jax.grad(lambda p: _memory_terms(config, p, memory_batch, cond)[0])(params)
        projected = agem_project(grads, reference)
        use = (replay.agem > 0) & jnp.any(memory.valid)
        grads = jax.tree.map(lambda g, q: jnp.where(use, q, g), grads, projected)
    params, opt = adam_update(grads, opt, params, config.lr, config.max_grad_norm, config.adam_eps,
                              trainable=cl.trainable)
    return (params, opt), {**parts, "loss": loss}


def _ppo_epochs(config: TrainConfig, params, opt: AdamState, key, flat, task, cl: CLState, cond: Conditioning,
                memory: Memory | None, replay: Replay | None):
    """``epochs`` passes over the rollout's samples in ``minibatches`` shuffled minibatches."""
    n_samples = flat[0].shape[0]
    step = functools.partial(_minibatch_step, config, task, cl, cond, memory, replay)

    def epoch(carry, _):
        params, opt, key = carry
        key, perm_key = jax.random.split(key)
        order = jax.random.permutation(perm_key, n_samples)
        batches = jax.tree.map(
            lambda x: x[order].reshape(config.minibatches, n_samples // config.minibatches, *x.shape[1:]), flat)
        mem_keys = jax.random.split(perm_key, config.minibatches)
        (params, opt), stats = jax.lax.scan(step, (params, opt), (batches, mem_keys))
        return (params, opt, key), stats

    return jax.lax.scan(epoch, (params, opt, key), None, config.epochs)


def _update(config: TrainConfig, runner: Runner, layout: LayoutArrays, task, cl: CLState, cond: Conditioning,
            memory: Memory | None = None, replay: Replay | None = None):
    """One PPO update: a rollout, then the epochs; returns the new runner and the update's metrics."""
    (params, env_state, obs, key, task_steps), flat, (t_delivery, t_shaped) = _rollout(
        config, runner, layout, task, cond)
    (params, opt, key), stats = _ppo_epochs(config, params, runner.opt, key, flat, task, cl, cond, memory, replay)
    metrics = jax.tree.map(jnp.mean, stats)
    # soups per episode on this task, estimated from the rollout's deliveries
    scale = config.env.max_steps / config.rollout_len
    metrics["train_soups"] = t_delivery.sum() / DELIVERY_REWARD / config.num_envs * scale
    metrics["train_shaped"] = t_shaped.sum() / config.num_envs * scale
    metrics["alpha"] = jnp.clip(1.0 - runner.task_steps / runner.shaping_horizon, 0.0, 1.0)
    return Runner(params, opt, env_state, obs, key, task_steps, runner.shaping_horizon), metrics


def _train(config: TrainConfig, runner: Runner, layout: LayoutArrays, task, cl: CLState, cond: Conditioning):
    """``updates_per_call`` PPO updates in one scan."""
    return jax.lax.scan(lambda r, _: _update(config, r, layout, task, cl, cond), runner, None,
                        config.updates_per_call)


def _train_replay(config: TrainConfig, runner: Runner, layout: LayoutArrays, task, cl: CLState,
                  cond: Conditioning, memory: Memory, replay: Replay):
    """:func:`_train` with a replay memory (AGEM, ER-ACE)."""
    return jax.lax.scan(lambda r, _: _update(config, r, layout, task, cl, cond, memory, replay), runner, None,
                        config.updates_per_call)


def _evaluate(config: TrainConfig, params, layouts: LayoutArrays, key, cond: Conditioning, task_masks=None):
    """Soups per episode, tasks × ``eval_episodes``: each task with its own id and head, sampled actions.

    With ``task_masks`` (a tree like ``params`` with a leading task axis) task ``j`` plays with
    ``params * task_masks[j]``; the weights vary over tasks only, so each task's episodes share one
    weight matrix."""
    env = config.env
    n_tasks = layouts.tiles.shape[0]

    def episode(task, weights, key):
        layout = take_task(layouts, task)
        reset_key, key = jax.random.split(key)
        state = env.reset(reset_key, layout)

        def step(carry, _):
            state, key = carry
            key, act_key = jax.random.split(key)
            logits, _ = _policy(config, weights, env.observe(state, layout), task, cond)
            actions = jax.random.categorical(act_key, logits)
            state, delivery, _ = env.step_env(state, actions, layout)
            return (state, key), delivery.sum()

        _, delivered = jax.lax.scan(step, (state, key), None, env.max_steps)
        return delivered.sum() / DELIVERY_REWARD

    def task_episodes(task, weights, keys):
        return jax.vmap(episode, in_axes=(None, None, 0))(task, weights, keys)

    keys = jax.random.split(key, n_tasks * config.eval_episodes).reshape(n_tasks, config.eval_episodes)
    if task_masks is None:
        return jax.vmap(task_episodes, in_axes=(0, None, 0))(jnp.arange(n_tasks), params, keys)
    weights = jax.tree.map(lambda p, m: p * m, params, task_masks)
    return jax.vmap(task_episodes)(jnp.arange(n_tasks), weights, keys)


def unmasked(params: dict, n_tasks: int) -> dict:
    """All-ones evaluation masks for seed-batched ``params`` (a leading seed axis): every task plays with
    the whole network, through the same compiled evaluation as PackNet's masked one."""
    return jax.tree.map(lambda leaf: jnp.ones((leaf.shape[0], n_tasks, *leaf.shape[1:]), leaf.dtype), params)


def _statistics(config: TrainConfig, params, layout: LayoutArrays, task, key, cond: Conditioning):
    """Diagonal Fisher (squared grads of Σ_agents log π(a|o)), MAS importance, dormant ratio."""
    env = config.env

    def log_prob_sum(p, obs, actions):
        logits, _ = _policy(config, p, obs, task, cond)
        return categorical_log_prob(logits, actions).sum()

    def output_norm(p, obs):
        logits, value = _policy(config, p, obs, task, cond)
        return 0.5 * jnp.mean(jnp.sum(jnp.square(logits), -1) + jnp.square(value))

    fisher_grad = jax.vmap(jax.grad(log_prob_sum), in_axes=(None, 0, 0))
    mas_grad = jax.vmap(jax.grad(output_norm), in_axes=(None, 0))
    keys = jax.random.split(key, config.stat_envs)
    states = jax.vmap(env.reset, in_axes=(0, None))(keys, layout)
    zeros = jax.tree.map(jnp.zeros_like, params)

    def step(carry, _):
        states, key, fisher, mas = carry
        key, act_key = jax.random.split(key)
        obs = jax.vmap(env.observe, in_axes=(0, None))(states, layout)
        logits, _ = _policy(config, params, obs, task, cond)
        actions = jax.random.categorical(act_key, logits)
        fisher = jax.tree.map(lambda f, g: f + jnp.sum(jnp.square(g), 0), fisher, fisher_grad(params, obs, actions))
        mas = jax.tree.map(lambda m, g: m + jnp.sum(jnp.square(g), 0), mas, mas_grad(params, obs))
        states = jax.vmap(env.step_env, in_axes=(0, 0, None))(states, actions, layout)[0]
        return (states, key, fisher, mas), obs[:, 0]

    (_, _, fisher, mas), seen = jax.lax.scan(step, (states, key, zeros, zeros), None, config.stat_steps)
    n_samples = config.stat_steps * config.stat_envs
    fisher = jax.tree.map(lambda f: f / n_samples, fisher)
    mas = jax.tree.map(lambda m: m / n_samples, mas)
    x = seen.reshape(-1, config.network.obs_dim).astype(jnp.float32)
    dormant = dormant_ratio(actor_activations(params, x, task, config.network, cond))
    return fisher, mas, dormant


def _trainer_functions(config: TrainConfig) -> Trainer:
    """The plain (un-jitted, single-seed) functions of one configuration."""
    bound = (_train, _evaluate, _statistics, _start_task, _train_replay, _collect)
    return Trainer(config, *(functools.partial(function, config) for function in bound))


def make_trainer(config: TrainConfig) -> Trainer:
    """Compile-once training, evaluation and statistics functions for one configuration."""
    raw = _trainer_functions(config)
    return Trainer(config, *(jax.jit(function) for function in raw[1:]))


def make_seed_trainer(config: TrainConfig) -> Trainer:
    """The same functions ``vmap``ped over a leading seed axis, each compiled once.

    Parameters, optimiser and environment states, keys, continual-learning states, replay memories
    and PackNet's masks carry one row per seed; the kitchen, the task index and the conditioning are
    shared; ``evaluate`` always takes masks (:func:`unmasked` when the method has none), so every
    method shares one compiled evaluation. Seeds are thus one compiled graph: three seeds cost little
    more than one on a device that has spare width.
    """
    raw = _trainer_functions(config)
    return Trainer(
        config,
        jax.jit(jax.vmap(raw.train, in_axes=(0, None, None, 0, None))),
        jax.jit(jax.vmap(raw.evaluate, in_axes=(0, None, 0, None, 0))),
        jax.jit(jax.vmap(raw.statistics, in_axes=(0, None, None, 0, None))),
        jax.jit(jax.vmap(raw.start_task, in_axes=(0, None, 0))),
        jax.jit(jax.vmap(raw.train_replay, in_axes=(0, None, None, 0, None, 0, None))),
        jax.jit(jax.vmap(raw.collect, in_axes=(0, None, None, 0, None))),
    )

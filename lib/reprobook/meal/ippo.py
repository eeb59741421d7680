"""IPPO with full parameter sharing as fused, jitted JAX functions (brief §2.3).

:func:`make_trainer` builds compiled functions around one :class:`TrainConfig`
(:func:`make_seed_trainer` the same functions ``vmap``ped over a leading seed axis):

* ``train(runner, layout, task, cl, cond)``: ``updates_per_call`` PPO updates in one ``lax.scan``; each
  update is a rollout ``scan`` over ``num_envs`` vmapped kitchens, a reverse-``scan`` GAE and
  ``epochs × minibatches`` clipped-PPO steps with the continual-learning penalty; Adam after a
  global-norm clip.
* ``evaluate(params, layouts, key, cond, task_masks=None)``: soups per episode of every task (its own
  head and id), one ``vmap`` over tasks × episodes, sampled actions; PackNet passes per-task weight
  masks (a second graph, compiled only when used).
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
           "make_trainer", "make_seed_trainer", "adam_init", "adam_update", "gae", "ppo_loss", "categorical_log_prob",
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


def _trainer_functions(config: TrainConfig) -> Trainer:
    """The plain (un-jitted, single-seed) functions of one configuration."""
    env, net = config.env, config.network
    n_agents = env.n_agents
    obs_dim = net.obs_dim
    batch_envs = config.num_envs

    def policy(params, obs, task, cond):
        x = obs.reshape(*obs.shape[:-3], obs_dim).astype(jnp.float32)
        return apply_network(params, x, task, net, cond)

    def start_task(params, layout, key):
        keys = jax.random.split(key, batch_envs)
        states = jax.vmap(env.reset, in_axes=(0, None))(keys, layout)
        obs = jax.vmap(env.observe, in_axes=(0, None))(states, layout)
        return states, obs

    def env_step(key, state, actions, layout):
        return jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            jax.random.split(key, batch_envs), state, actions, layout)

    def rollout(runner: Runner, layout: LayoutArrays, task, cond: Conditioning):
        """One rollout, GAE and flattened samples; returns (runner fields, samples, rollout totals)."""
        horizon = runner.shaping_horizon

        def rollout_step(carry, _):
            params, env_state, obs, key, task_steps = carry
            key, act_key, step_key = jax.random.split(key, 3)
            logits, value = policy(params, obs, task, cond)
            actions = jax.random.categorical(act_key, logits)
            log_prob = categorical_log_prob(logits, actions)
            next_obs, env_state, delivery, shaped, done = env_step(step_key, env_state, actions, layout)
            alpha = jnp.clip(1.0 - task_steps / horizon, 0.0, 1.0)
            reward = delivery.sum(-1) + alpha * shaped.sum(-1)
            reward = jnp.broadcast_to(reward[:, None], (batch_envs, n_agents))
            record = (obs, actions, log_prob, value, reward, jnp.broadcast_to(done[:, None], reward.shape),
                      delivery.sum(), shaped.sum())
            return (params, env_state, next_obs, key, task_steps + batch_envs), record

        carry = (runner.params, runner.env_state, runner.obs, runner.key, runner.task_steps)
        (params, env_state, obs, key, task_steps), traj = jax.lax.scan(
            rollout_step, carry, None, config.rollout_len)
        t_obs, t_actions, t_log_probs, t_values, t_rewards, t_dones, t_delivery, t_shaped = traj
        _, last_value = policy(params, obs, task, cond)
        advantages, returns = gae(t_rewards, t_values, t_dones.astype(jnp.float32), last_value,
                                  config.gamma, config.gae_lambda)
        n_samples = config.rollout_len * batch_envs * n_agents
        flat = (t_obs.reshape(n_samples, obs_dim), t_actions.reshape(-1), t_log_probs.reshape(-1),
                t_values.reshape(-1), advantages.reshape(-1), returns.reshape(-1))
        return (params, env_state, obs, key, task_steps), flat, (t_delivery, t_shaped)

    def collect(params, layout: LayoutArrays, task, key, cond: Conditioning):
        """On-policy samples of one rollout from fresh kitchens (to fill a replay memory)."""
        reset_key, key = jax.random.split(key)
        states, obs = start_task(params, layout, reset_key)
        done = jnp.ones((), jnp.float32)  # shaping over: the memory holds the task's own reward
        runner = Runner(params, None, states, obs, key, done, done)
        return rollout(runner, layout, task, cond)[1]

    def update(runner: Runner, layout: LayoutArrays, task, cl: CLState, cond: Conditioning,
               memory: Memory | None = None, replay: Replay | None = None):
        (params, env_state, obs, key, task_steps), flat, (t_delivery, t_shaped) = rollout(
            runner, layout, task, cond)
        n_samples = config.rollout_len * batch_envs * n_agents

        def memory_terms(p, batch):
            m_obs, m_actions, m_log_probs, m_values, m_adv, m_ret, m_task = batch
            logits, values = apply_network(p, m_obs.astype(jnp.float32), m_task, net, cond)
            ppo, _ = ppo_loss(logits, values, m_actions, m_log_probs, m_values, m_adv, m_ret,
                              config.clip_eps, config.vf_coef, config.ent_coef)
            cloning = -jnp.mean(categorical_log_prob(logits, m_actions))
            return ppo, cloning

        def sample_memory(key):
            probs = memory.valid / jnp.maximum(memory.valid.sum(), 1)
            index = jax.random.choice(key, memory.valid.shape[0], (config.replay_batch,), p=probs)
            return tuple(field[index] for field in memory[:7])

        def loss_fn(p, batch, memory_batch=None):
            b_obs, b_actions, b_log_probs, b_values, b_adv, b_ret = batch
            logits, values = apply_network(p, b_obs.astype(jnp.float32), task, net, cond)
            loss, parts = ppo_loss(logits, values, b_actions, b_log_probs, b_values, b_adv, b_ret,
                                   config.clip_eps, config.vf_coef, config.ent_coef)
            reg = penalty(p, cl)
            if memory_batch is not None:  # ER-ACE as MEAL defines it: behaviour cloning on the memory
                cloning = memory_terms(p, memory_batch)[1] * jnp.any(memory.valid)
                loss = loss + replay.bc_coef * cloning
                parts = {**parts, "replay_cloning": cloning}
            return loss + reg, {**parts, "penalty": reg}

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
        reference_grad = jax.grad(lambda p, batch: memory_terms(p, batch)[0])

        def epoch(carry, _):
            params, opt, key = carry
            key, perm_key = jax.random.split(key)
            order = jax.random.permutation(perm_key, n_samples)
            batches = jax.tree.map(
                lambda x: x[order].reshape(config.minibatches, n_samples // config.minibatches, *x.shape[1:]), flat)

            def minibatch(carry, inputs):
                params, opt = carry
                batch, mem_key = inputs
                if memory is None:
                    (loss, parts), grads = grad_fn(params, batch)
                else:
                    memory_batch = sample_memory(mem_key)
                    (loss, parts), grads = grad_fn(params, batch, memory_batch)
                    projected = agem_project(grads, reference_grad(params, memory_batch))
                    use = (replay.agem > 0) & jnp.any(memory.valid)
                    grads = jax.tree.map(lambda g, q: jnp.where(use, q, g), grads, projected)
                params, opt = adam_update(grads, opt, params, config.lr, config.max_grad_norm, config.adam_eps,
                                          trainable=cl.trainable)
                return (params, opt), {**parts, "loss": loss}

            mem_keys = jax.random.split(perm_key, config.minibatches)
            (params, opt), stats = jax.lax.scan(minibatch, (params, opt), (batches, mem_keys))
            return (params, opt, key), stats

        (params, opt, key), stats = jax.lax.scan(epoch, (params, runner.opt, key), None, config.epochs)
        metrics = jax.tree.map(jnp.mean, stats)
        # soups per episode on this task, estimated from the rollout's deliveries
        metrics["train_soups"] = (t_delivery.sum() / DELIVERY_REWARD / batch_envs
                                  * env.max_steps / config.rollout_len)
        metrics["train_shaped"] = t_shaped.sum() / batch_envs * env.max_steps / config.rollout_len
        metrics["alpha"] = jnp.clip(1.0 - runner.task_steps / runner.shaping_horizon, 0.0, 1.0)
        return Runner(params, opt, env_state, obs, key, task_steps, runner.shaping_horizon), metrics

    def train(runner: Runner, layout: LayoutArrays, task, cl: CLState, cond: Conditioning):
        return jax.lax.scan(lambda r, _: update(r, layout, task, cl, cond), runner, None,
                            config.updates_per_call)

    def train_replay(runner: Runner, layout: LayoutArrays, task, cl: CLState, cond: Conditioning,
                     memory: Memory, replay: Replay):
        return jax.lax.scan(lambda r, _: update(r, layout, task, cl, cond, memory, replay), runner, None,
                            config.updates_per_call)

    def evaluate(params, layouts: LayoutArrays, key, cond: Conditioning, task_masks=None):
        n_tasks = layouts.tiles.shape[0]

        def episode(task, key):
            layout = take_task(layouts, task)
            weights = params if task_masks is None else jax.tree.map(lambda p, m: p * m[task], params, task_masks)
            reset_key, key = jax.random.split(key)
            state = env.reset(reset_key, layout)

            def step(carry, _):
                state, key = carry
                key, act_key = jax.random.split(key)
                logits, _ = policy(weights, env.observe(state, layout), task, cond)
                actions = jax.random.categorical(act_key, logits)
                state, delivery, _ = env.step_env(state, actions, layout)
                return (state, key), delivery.sum()

            _, delivered = jax.lax.scan(step, (state, key), None, env.max_steps)
            return delivered.sum() / DELIVERY_REWARD

        tasks = jnp.repeat(jnp.arange(n_tasks), config.eval_episodes)
        keys = jax.random.split(key, n_tasks * config.eval_episodes)
        return jax.vmap(episode)(tasks, keys).reshape(n_tasks, config.eval_episodes)

    def statistics(params, layout: LayoutArrays, task, key, cond: Conditioning):
        """Diagonal Fisher (squared grads of Σ_agents log π(a|o)), MAS importance, dormant ratio."""
        def log_prob_sum(p, obs, actions):
            logits, _ = policy(p, obs, task, cond)
            return categorical_log_prob(logits, actions).sum()

        def output_norm(p, obs):
            logits, value = policy(p, obs, task, cond)
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
            logits, _ = policy(params, obs, task, cond)
            actions = jax.random.categorical(act_key, logits)
            fisher = jax.tree.map(lambda f, g: f + jnp.sum(jnp.square(g), 0), fisher,
                                  fisher_grad(params, obs, actions))
            mas = jax.tree.map(lambda m, g: m + jnp.sum(jnp.square(g), 0), mas, mas_grad(params, obs))
            states = jax.vmap(env.step_env, in_axes=(0, 0, None))(states, actions, layout)[0]
            return (states, key, fisher, mas), obs[:, 0]

        (_, _, fisher, mas), seen = jax.lax.scan(step, (states, key, zeros, zeros), None, config.stat_steps)
        n_samples = config.stat_steps * config.stat_envs
        fisher = jax.tree.map(lambda f: f / n_samples, fisher)
        mas = jax.tree.map(lambda m: m / n_samples, mas)
        x = seen.reshape(-1, obs_dim).astype(jnp.float32)
        dormant = dormant_ratio(actor_activations(params, x, task, net, cond))
        return fisher, mas, dormant

    return Trainer(config, train, evaluate, statistics, start_task, train_replay, collect)


def make_trainer(config: TrainConfig) -> Trainer:
    """Compile-once training, evaluation and statistics functions for one configuration."""
    raw = _trainer_functions(config)
    return Trainer(config, *(jax.jit(function) for function in raw[1:]))


def make_seed_trainer(config: TrainConfig) -> Trainer:
    """The same functions ``vmap``ped over a leading seed axis, each compiled once.

    Parameters, optimiser and environment states, keys, continual-learning states, replay memories
    and PackNet's masks carry one row per seed; the kitchen, the task index and the conditioning are
    shared. Seeds are thus one compiled graph: three seeds cost little more than one on a device
    that has spare width.
    """
    raw = _trainer_functions(config)

    def evaluate(params, layouts, key, cond, task_masks=None):
        if task_masks is None:
            return jax.vmap(raw.evaluate, in_axes=(0, None, 0, None))(params, layouts, key, cond)
        return jax.vmap(raw.evaluate, in_axes=(0, None, 0, None, 0))(params, layouts, key, cond, task_masks)

    return Trainer(
        config,
        jax.jit(jax.vmap(raw.train, in_axes=(0, None, None, 0, None))),
        jax.jit(evaluate),
        jax.jit(jax.vmap(raw.statistics, in_axes=(0, None, None, 0, None))),
        jax.jit(jax.vmap(raw.start_task, in_axes=(0, None, 0))),
        jax.jit(jax.vmap(raw.train_replay, in_axes=(0, None, None, 0, None, 0, None))),
        jax.jit(jax.vmap(raw.collect, in_axes=(0, None, None, 0, None))),
    )

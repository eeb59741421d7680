"""IPPO building blocks against brute force and hand computation (brief §7.7)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from reprobook.meal.ippo import (
    adam_init,
    adam_update,
    categorical_entropy,
    categorical_log_prob,
    gae,
    ppo_loss,
)


def test_gae_matches_brute_force():
    rng = np.random.default_rng(0)
    steps, envs, gamma, lam = 12, 3, 0.9, 0.8
    rewards = rng.normal(size=(steps, envs)).astype(np.float32)
    values = rng.normal(size=(steps, envs)).astype(np.float32)
    dones = (rng.random((steps, envs)) < 0.2).astype(np.float32)
    last = rng.normal(size=envs).astype(np.float32)
    advantages, returns = gae(jnp.asarray(rewards), jnp.asarray(values), jnp.asarray(dones), jnp.asarray(last),
                              gamma, lam)
    next_values = np.concatenate([values[1:], last[None]])
    deltas = rewards + gamma * next_values * (1 - dones) - values
    expected = np.zeros_like(rewards)
    for t in range(steps):
        for env in range(envs):
            total, discount = 0.0, 1.0
            for k in range(t, steps):
                total += discount * deltas[k, env]
                if dones[k, env]:
                    break
                discount *= gamma * lam
            expected[t, env] = total
    np.testing.assert_allclose(np.asarray(advantages), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(returns), expected + values, rtol=1e-5, atol=1e-5)


def test_ppo_loss_by_hand():
    logits = jnp.array([[0.0, 1.0, 0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    actions = jnp.array([1, 0])
    log_probs = np.asarray(jax.nn.log_softmax(logits))[[0, 1], [1, 0]]
    old_log_probs = jnp.asarray(log_probs - np.array([0.5, -0.1]))  # ratios e^0.5 (clipped), e^-0.1
    advantages = jnp.array([1.0, -1.0])
    values, old_values, returns = jnp.array([1.0, 0.0]), jnp.array([0.5, 0.0]), jnp.array([2.0, 1.0])
    total, parts = ppo_loss(logits, values, actions, old_log_probs, old_values, advantages, returns, 0.2, 0.5, 0.01)
    norm = np.array([1.0, -1.0]) / (np.std([1.0, -1.0]) + 1e-8)
    ratio = np.exp([0.5, -0.1])
    actor = -np.mean(np.minimum(ratio * norm, np.clip(ratio, 0.8, 1.2) * norm))
    clipped = np.array([0.7, 0.0])  # 0.5 + clip(0.5, ±0.2)
    critic = 0.5 * np.mean(np.maximum((np.array([1.0, 0.0]) - [2.0, 1.0]) ** 2, (clipped - [2.0, 1.0]) ** 2))
    probs = np.asarray(jax.nn.softmax(logits))
    entropy = np.mean(-np.sum(probs * np.log(probs), 1))
    assert float(parts["actor_loss"]) == pytest.approx(actor, rel=1e-5)
    assert float(parts["critic_loss"]) == pytest.approx(critic, rel=1e-5)
    assert float(parts["entropy"]) == pytest.approx(entropy, rel=1e-5)
    assert float(total) == pytest.approx(actor + 0.5 * critic - 0.01 * entropy, rel=1e-5)
    assert float(categorical_entropy(jnp.zeros(6))) == pytest.approx(np.log(6))
    assert float(categorical_log_prob(jnp.zeros(6), jnp.array(2))) == pytest.approx(-np.log(6))


def test_adam_with_clipping_by_hand():
    params = {"w": jnp.array([1.0, -2.0])}
    grads = {"w": jnp.array([3.0, 4.0])}  # norm 5 → clipped to norm 1: (0.6, 0.8)
    state = adam_init(params)
    new, state = adam_update(grads, state, params, lr=0.1, max_norm=1.0, eps=1e-5)
    g = np.array([0.6, 0.8])
    m, v = 0.1 * g, 0.001 * g ** 2
    expected = np.array([1.0, -2.0]) - 0.1 * (m / 0.1) / (np.sqrt(v / 0.001) + 1e-5)
    np.testing.assert_allclose(np.asarray(new["w"]), expected, rtol=1e-6)
    new2, _ = adam_update(grads, state, new, lr=0.1, max_norm=1.0, eps=1e-5)
    m2, v2 = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g ** 2
    expected2 = expected - 0.1 * (m2 / (1 - 0.81)) / (np.sqrt(v2 / (1 - 0.999 ** 2)) + 1e-5)
    np.testing.assert_allclose(np.asarray(new2["w"]), expected2, rtol=1e-5)  # float32 bias correction

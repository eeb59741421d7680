"""Continual-learning methods and the run driver (brief §7.8)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from reprobook.meal.continual import after_task, init_cl_state, penalty, regularisation_mask
from reprobook.meal.experiments import SequenceConfig, run_sequence, train_config, trainer_for
from reprobook.meal.ippo import categorical_log_prob
from reprobook.meal.network import NetworkConfig, init_network

# the same tiny configuration as test_meal_replay.py, so both share compiled graphs
TINY = SequenceConfig(n_tasks=2, steps_per_task=512, num_envs=4, rollout_len=16, epochs=1, minibatches=2,
                      hidden=8, eval_every=4, eval_episodes=1, stat_envs=2, stat_steps=8, memory_per_task=64,
                      replay_batch=32)


@pytest.fixture(scope="module")
def params():
    return init_network(jax.random.key(0), NetworkConfig(obs_dim=12, n_tasks=3, hidden=4))


def _shift(tree, amount):
    return jax.tree.map(lambda x: x + amount, tree)


def test_mask_covers_actor_trunk_only(params):
    mask = regularisation_mask(params, multihead=True)
    assert float(jnp.sum(mask["actor"]["dense_0"]["kernel"])) == params["actor"]["dense_0"]["kernel"].size
    assert float(jnp.sum(mask["actor"]["head"]["kernel"])) == 0.0
    assert all(float(jnp.sum(x)) == 0.0 for x in jax.tree.leaves(mask["critic"]))
    single = regularisation_mask(params, multihead=False, critic=True)
    assert float(jnp.sum(single["actor"]["head"]["kernel"])) > 0 and float(jnp.sum(single["critic"]["dense_1"]["bias"])) > 0


@pytest.mark.parametrize("method", ["l2", "ewc", "online_ewc", "mas", "online_mas"])
def test_penalty_zero_at_anchor_and_quadratic(params, method):
    mask = regularisation_mask(params, multihead=True)
    state = init_cl_state(method, params, mask, lam=2.0)
    ones = jax.tree.map(jnp.ones_like, params)
    state = after_task(method, state, params, ones, ones)
    assert float(penalty(params, state)) == 0.0
    w = {"ewc": 1.0, "online_ewc": 0.1, "mas": 1.0, "online_mas": 0.1, "l2": 1.0}[method]
    # λ/(2P) · Σ m·w·0.5² = 2/(2P) · P·w·0.25
    assert float(penalty(_shift(params, 0.5), state)) == pytest.approx(w * 0.25, rel=1e-5)


def test_fine_tuning_penalty_is_identically_zero(params):
    state = init_cl_state("ft", params, regularisation_mask(params, multihead=True))
    big = jax.tree.map(lambda x: jnp.full_like(x, 1e3), params)
    state = after_task("ft", state, params, big, big)
    assert float(penalty(_shift(params, 7.0), state)) == 0.0
    grads = jax.grad(penalty)(_shift(params, 7.0), state)
    assert all(float(jnp.abs(g).max()) == 0.0 for g in jax.tree.leaves(grads))


def test_online_and_summed_importance_updates(params):
    mask = regularisation_mask(params, multihead=True)
    first = jax.tree.map(lambda x: jnp.full_like(x, 2.0), params)
    second = jax.tree.map(lambda x: jnp.full_like(x, 4.0), params)
    online = init_cl_state("online_ewc", params, mask)
    online = after_task("online_ewc", after_task("online_ewc", online, params, first, first), params, second, second)
    # EMA from zero: 0.9·(0.1·2) + 0.1·4 = 0.58
    assert float(online.importance["actor"]["dense_0"]["kernel"][0, 0]) == pytest.approx(0.58)
    summed = init_cl_state("ewc", params, mask)
    summed = after_task("ewc", after_task("ewc", summed, params, first, first), params, second, second)
    assert float(summed.importance["actor"]["dense_0"]["kernel"][0, 0]) == pytest.approx(6.0)
    mas = after_task("mas", init_cl_state("mas", params, mask), params, first, second)
    # Ω rescaled to mean |Ω| = 1 over the regularised weights
    assert float(mas.importance["actor"]["dense_1"]["bias"][0]) == pytest.approx(1.0)


def test_fisher_of_softmax_is_p_times_one_minus_p():
    logits = jnp.array([0.3, -1.0, 2.0, 0.0, 0.5, -0.2])
    probs = jax.nn.softmax(logits)
    squared = jnp.stack([jnp.square(jax.grad(categorical_log_prob)(logits, jnp.array(a))) for a in range(6)])
    fisher = jnp.sum(probs[:, None] * squared, 0)  # exact expectation over actions
    np.testing.assert_allclose(np.asarray(fisher), np.asarray(probs * (1 - probs)), rtol=1e-5)


@pytest.fixture(scope="module")
def runs():
    return {method: run_sequence(dataclasses.replace(TINY, method=method))
            for method in ("ft", "online_ewc", "l2")}


def test_one_compiled_graph_for_every_method_and_task(runs):
    baseline = run_sequence(dataclasses.replace(TINY, only_task=1))
    ablation = run_sequence(dataclasses.replace(TINY, method="mas", use_task_id=False, use_multihead=False))
    shorter = run_sequence(dataclasses.replace(TINY, steps_per_task=256))  # another shaping horizon: data
    masked = run_sequence(dataclasses.replace(TINY, method="packnet"))  # its evaluation masks are data too
    trainer = trainer_for(train_config(TINY))
    assert trainer.train._cache_size() == 1
    assert trainer.evaluate._cache_size() == 1  # PackNet's masked evaluation and the others' alike
    assert trainer.statistics._cache_size() == 1
    assert len(baseline.tasks) == 1 and len(ablation.tasks) == 2 and len(shorter.train) < len(ablation.train)
    assert len(masked.tasks) == 2


def test_run_outputs(runs):
    result = runs["online_ewc"]
    assert np.isfinite(result.train[["loss", "actor_loss", "critic_loss", "penalty"]].to_numpy()).all()
    evals = result.evals.pivot(index="eval", columns="task", values="score")
    assert evals.shape == (1 + 2 * 512 // (4 * 16) // 4, 2)  # initial + one per eval period
    assert (result.evals["score"] >= 0).all() and result.tasks["fisher_mean"].ge(0).all()
    assert result.train.loc[result.train["task"] == 0, "penalty"].eq(0).all()
    assert result.train.loc[result.train["task"] == 1, "penalty"].gt(0).any()
    assert runs["ft"].train["penalty"].eq(0).all()
    assert runs["l2"].train.loc[runs["l2"].train["task"] == 0, "penalty"].gt(0).any()  # L2 from task 1


def test_zero_penalty_methods_identical_through_task_one(runs):
    ft, oewc = runs["ft"], runs["online_ewc"]
    first = ft.train["task"] == 0
    pd.testing.assert_frame_equal(ft.train[first].drop(columns="penalty"), oewc.train[first].drop(columns="penalty"))
    baseline = run_sequence(dataclasses.replace(TINY, only_task=0))
    pd.testing.assert_frame_equal(baseline.train, ft.train[first])
    assert not ft.train[~first].equals(oewc.train[~first])


def test_bitwise_determinism(runs):
    again = run_sequence(dataclasses.replace(TINY, method="online_ewc"))
    pd.testing.assert_frame_equal(again.train, runs["online_ewc"].train, check_exact=True)
    pd.testing.assert_frame_equal(again.evals, runs["online_ewc"].evals, check_exact=True)


def test_repeated_sequence_starts_as_the_plain_run(runs):
    repeated = run_sequence(dataclasses.replace(TINY, repeats=2))
    first = repeated.train["repetition"] == 0
    pd.testing.assert_frame_equal(repeated.train[first], runs["ft"].train, check_exact=True)
    assert list(repeated.tasks["task"]) == [0, 1, 0, 1] and list(repeated.tasks["repetition"]) == [0, 0, 1, 1]
    assert repeated.train["update"].is_monotonic_increasing and len(repeated.train) == 2 * len(runs["ft"].train)
    with pytest.raises(ValueError, match="repeats"):
        run_sequence(dataclasses.replace(TINY, repeats=0))

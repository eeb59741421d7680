"""AGEM and ER-ACE (brief §2.4, §7.8): the projection's guarantees and a tiny run of each."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from reprobook.meal.experiments import SequenceConfig, run_sequence, train_config, trainer_for
from reprobook.meal.ippo import agem_project

TINY = SequenceConfig(n_tasks=2, steps_per_task=512, num_envs=4, rollout_len=16, epochs=1, minibatches=2,
                      hidden=8, eval_every=4, eval_episodes=1, stat_envs=2, stat_steps=8, memory_per_task=64,
                      replay_batch=32)


def _dot(a, b):
    return sum(float(jnp.sum(x * y)) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


def test_agem_projection_properties():
    rng = np.random.default_rng(0)
    for _ in range(50):
        g = {"a": jnp.asarray(rng.normal(size=5)), "b": jnp.asarray(rng.normal(size=(2, 3)))}
        r = {"a": jnp.asarray(rng.normal(size=5)), "b": jnp.asarray(rng.normal(size=(2, 3)))}
        projected = agem_project(g, r)
        assert _dot(projected, r) >= -1e-5
        assert _dot(projected, projected) <= _dot(g, g) + 1e-5
        if _dot(g, r) >= 0:  # no conflict: untouched
            np.testing.assert_array_equal(np.asarray(projected["a"]), np.asarray(g["a"]))


def test_agem_and_er_ace_runs():
    agem = run_sequence(dataclasses.replace(TINY, method="agem"))
    er_ace = run_sequence(dataclasses.replace(TINY, method="er_ace"))
    for result in (agem, er_ace):
        assert np.isfinite(result.train[["loss", "actor_loss", "critic_loss"]].to_numpy()).all()
        assert result.train["penalty"].eq(0).all()
    # the memory is empty during task 1, so ER-ACE's cloning term is 0 there and active afterwards
    first = er_ace.train["task"] == 0
    assert er_ace.train.loc[first, "replay_cloning"].eq(0).all()
    assert er_ace.train.loc[~first, "replay_cloning"].gt(0).all()
    # both methods run through one replay graph (the projection and the cloning weight are data)
    assert trainer_for(train_config(TINY)).train_replay._cache_size() == 1

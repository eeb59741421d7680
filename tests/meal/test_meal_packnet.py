"""PackNet (brief §2.4, §7.8): disjoint masks, ≈ 1/N capacity per task, frozen weights stay frozen."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from reprobook.meal import packnet
from reprobook.meal.experiments import SequenceConfig, run_sequence, train_config, trainer_for
from reprobook.meal.ippo import AdamState, adam_update
from reprobook.meal.layouts import stack_layouts
from reprobook.meal.network import FULL_CONDITIONING, NetworkConfig, init_network

THREE = SequenceConfig(method="packnet", n_tasks=3, steps_per_task=512, num_envs=4, rollout_len=16, epochs=1,
                       minibatches=2, hidden=8, eval_every=4, eval_episodes=1, stat_envs=2, stat_steps=8,
                       keep_checkpoints=True, seeds=(0, 1))


def _leaves(tree):
    return {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]}


@pytest.fixture(scope="module")
def params():
    return init_network(jax.random.key(3), NetworkConfig(obs_dim=20, n_tasks=3, hidden=16))


def test_prunable_leaves_are_the_actor_trunk_kernels(params):
    prunable = [key for key in _leaves(params) if packnet.is_prunable(
        next(p for p, _ in jax.tree_util.tree_flatten_with_path(params)[0] if jax.tree_util.keystr(p) == key))]
    assert sorted(prunable) == ["['actor']['dense_0']['kernel']", "['actor']['dense_1']['kernel']"]


def test_each_task_gets_a_disjoint_third_and_the_smallest_weights_go(params):
    owner = packnet.init_owner(params)
    rng = np.random.default_rng(0)
    current = params
    for position in range(3):
        current = jax.tree.map(lambda p: p + jnp.asarray(rng.normal(size=p.shape), p.dtype), current)
        before = _leaves(current)
        own_before = _leaves(owner)
        current, keep = packnet.prune(current, owner, position, 3)
        after, kept = _leaves(current), _leaves(keep)
        for key, value in before.items():
            if "kernel" not in key or "actor" not in key or "head" in key:
                assert not kept[key].any() and np.array_equal(after[key], value)
                continue
            free = own_before[key] == 0
            # brute force: the kept free weights are the largest |w| among the free ones
            n_keep = kept[key].sum()
            expected = np.sort(np.abs(value[free]))[::-1][:n_keep]
            np.testing.assert_array_equal(np.sort(np.abs(value[kept[key]]))[::-1], expected)
            assert not (kept[key] & ~free).any()                                    # only free weights
            assert np.array_equal(after[key][free & ~kept[key]], np.zeros((free & ~kept[key]).sum()))
            assert np.array_equal(after[key][~free], value[~free])                 # owned weights untouched
        owner = packnet.assign(owner, keep, position)
    shares = packnet.capacity_used(owner)
    assert set(shares) == {0, 1, 2}                                                # nothing left free
    np.testing.assert_allclose([shares[0], shares[1], shares[2]], [1 / 3] * 3, atol=0.01)


def test_trainable_masks(params):
    owner = packnet.init_owner(params)
    _, keep = packnet.prune(params, owner, 0, 2)
    owner = packnet.assign(owner, keep, 0)
    first, later = _leaves(packnet.trainable_mask(params, owner, 0)), _leaves(packnet.trainable_mask(params, owner, 1))
    finetune = _leaves(packnet.trainable_mask(params, packnet.init_owner(params), 0, keep))
    kernel, bias = "['actor']['dense_0']['kernel']", "['actor']['dense_0']['bias']"
    assert first[kernel].sum() == later[kernel].sum() and later[kernel].sum() == (~_leaves(keep)[kernel]).sum()
    assert np.array_equal(finetune[kernel], _leaves(keep)[kernel].astype(np.float32))
    assert first[bias].all() and not later[bias].any()                            # fixed after task 1
    assert not later["['actor']['norm_0']['scale']"].any()
    assert later["['critic']['dense_0']['bias']"].all() and later["['actor']['head']['kernel']"].all()


def test_adam_cannot_move_frozen_weights():
    params = {"w": jnp.array([1.0, 2.0])}
    state = AdamState({"w": jnp.array([5.0, 5.0])}, {"w": jnp.array([1.0, 1.0])}, jnp.asarray(3))
    new, _ = adam_update({"w": jnp.array([0.5, 0.5])}, state, params, lr=0.1, max_norm=1.0,
                         trainable={"w": jnp.array([0.0, 1.0])})
    assert float(new["w"][0]) == 1.0 and float(new["w"][1]) != 2.0


@pytest.fixture(scope="module")
def run():
    return run_sequence(THREE)


@pytest.mark.parametrize("seed", [0, 1])
def test_finished_tasks_keep_their_weights(run, seed):
    run = run.seed(seed)  # every seed of the batched graph keeps its own frozen slices
    owner = _leaves(run.owner)
    final = _leaves(run.params)
    for position, checkpoint in enumerate(run.checkpoints):
        saved = _leaves(checkpoint)
        for key, value in saved.items():
            if key in ("['actor']['dense_0']['kernel']", "['actor']['dense_1']['kernel']"):
                mine = (owner[key] >= 1) & (owner[key] <= position + 1)
                assert mine.any()
                np.testing.assert_array_equal(final[key][mine], value[mine])
                # at the end of its task, the weights no task owns yet are zero (pruned)
                np.testing.assert_array_equal(value[owner[key] > position + 1], 0.0)
            elif key.startswith("['actor']") and "head" not in key:
                np.testing.assert_array_equal(final[key], _leaves(run.checkpoints[0])[key])
    shares = packnet.capacity_used(run.owner)
    assert set(shares) == {0, 1, 2} and min(shares.values()) > 0.3


def test_run_outputs_and_masked_evaluation(run):
    assert np.isfinite(run.train[["loss", "actor_loss", "critic_loss"]].to_numpy()).all()
    assert run.train["penalty"].eq(0).all()
    assert run.evals.pivot_table(index="eval", columns="task", values="score").shape == (1 + 3 * 2, 3)
    assert not run.seed(0).train.equals(run.seed(1).train)  # the seeds are different runs
    # all-ones masks (every other method's evaluation) play exactly as the mask-free single-seed graph
    from reprobook.meal.experiments import sequence_layouts
    from reprobook.meal.generator import LEVELS
    from reprobook.meal.ippo import make_trainer, unmasked
    arrays = stack_layouts(sequence_layouts(THREE), shape=(LEVELS[1].height, LEVELS[1].width))
    weights = jax.tree.map(jnp.asarray, run.params)
    key = jnp.stack([jax.random.key(7), jax.random.key(8)])
    masked = trainer_for(train_config(THREE)).evaluate(weights, arrays, key, FULL_CONDITIONING, unmasked(weights, 3))
    single = make_trainer(train_config(THREE))
    for index in range(2):
        plain = single.evaluate(jax.tree.map(lambda leaf, i=index: leaf[i], weights), arrays, key[index],
                                FULL_CONDITIONING)
        np.testing.assert_array_equal(np.asarray(plain), np.asarray(masked[index]))


def test_packnet_configuration_checks():
    with pytest.raises(ValueError, match="packnet cannot repeat"):
        run_sequence(dataclasses.replace(THREE, repeats=2))
    with pytest.raises(ValueError, match="two evaluation periods"):
        run_sequence(dataclasses.replace(THREE, steps_per_task=64))
    with pytest.raises(ValueError, match="position"):
        packnet.prune({"actor": {}}, {"actor": {}}, 3, 3)

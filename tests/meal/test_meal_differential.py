"""Differential test against JaxMARL 0.2.0's Overcooked (an independent implementation).

Identical initial states (ours copied from JaxMARL's reset), the same random joint actions through
``step_env`` (no auto-reset), ours with ``collision_rule="jaxmarl"`` and the corrected plate rule.
JaxMARL pays the summed delivery reward to both agents; we compare that sum.
"""

import warnings

import jax
import jax.numpy as jnp
import pytest

from reprobook.meal.env import EnvState, OvercookedEnv
from reprobook.meal.layouts import COUNTER, preset, stack_layouts, take_task

JAXMARL_INSTALL = ("JaxMARL is an optional test oracle: pip install --no-deps jaxmarl==0.2.0 flax==0.12.8 "
                   "(see NODEPS_WHEELS in the Makefile)")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _jaxmarl_overcooked = pytest.importorskip("jaxmarl.environments.overcooked", reason=JAXMARL_INSTALL)
    FrozenDict = pytest.importorskip("flax.core.frozen_dict", reason=JAXMARL_INSTALL).FrozenDict

Overcooked, overcooked_layouts = _jaxmarl_overcooked.Overcooked, _jaxmarl_overcooked.overcooked_layouts

PRESET_NAMES = ["cramped_room", "asymm_advantages", "coord_ring", "forced_coord", "counter_circuit"]
EPISODES, STEPS = 26, 400  # 10,400 joint steps per layout from random starts, whole episodes (urgency plane)


def _their_grid(maze_map, height, width):
    padding = (maze_map.shape[0] - height) // 2
    return maze_map[padding:padding + height, padding:padding + width]


def _ours_from_theirs(state, tiles, height, width, oracle):
    grid = _their_grid(state.maze_map, height, width)
    objects = grid[..., 0].astype(jnp.int32)
    table = jnp.asarray(oracle.their_to_ours)
    items = jnp.where(jnp.asarray(tiles) == COUNTER, table[jnp.clip(objects, 0, 15)], 0)
    pot = jnp.where(objects == oracle.their_pot, grid[..., 2].astype(jnp.int32), 0)
    return EnvState(state.agent_pos[:, ::-1].astype(jnp.int32), state.agent_dir_idx.astype(jnp.int32),
                    table[state.agent_inv.astype(jnp.int32)], items, pot, state.step.astype(jnp.int32))


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_matches_jaxmarl(name, oracle):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # random resets: random positions, inventories (dishes included) and pot statuses
        theirs = Overcooked(layout=FrozenDict(overcooked_layouts[name]), random_reset=True, max_steps=400)
    layout = preset(name)
    arrays = take_task(stack_layouts([layout]), 0)
    ours = OvercookedEnv(n_agents=2, collision_rule="jaxmarl")
    height, width = layout.shape
    keys = jax.random.split(jax.random.key(PRESET_NAMES.index(name)), EPISODES)
    their_states = jax.jit(jax.vmap(theirs.reset))(keys)[1]
    our_states = jax.jit(jax.vmap(lambda s: _ours_from_theirs(s, layout.tiles, height, width, oracle)))(their_states)
    # random play that interacts often, so that pots fill and soups get delivered
    actions = jax.random.choice(jax.random.key(1), 6, (EPISODES, STEPS, 2),
                                p=jnp.array([0.15, 0.15, 0.15, 0.15, 0.05, 0.35]))

    def their_step(state, action):
        obs, state, reward, _, info = theirs.step_env(jax.random.key(0), state,
                                                      {"agent_0": action[0], "agent_1": action[1]})
        grid = _their_grid(state.maze_map, height, width)
        summary = (state.agent_pos[:, ::-1].astype(jnp.int32), state.agent_dir_idx.astype(jnp.int32),
                   state.agent_inv.astype(jnp.int32), grid[..., 0].astype(jnp.int32), grid[..., 2].astype(jnp.int32),
                   reward["agent_0"], jnp.stack([info["shaped_reward"]["agent_0"],
                                                 info["shaped_reward"]["agent_1"]]),
                   jnp.stack([obs["agent_0"], obs["agent_1"]]))
        return state, summary

    def our_step(state, action):
        state, delivery, shaped = ours.step_env(state, action, arrays)
        return state, (state.pos, state.dir, state.inv, state.items, state.pot, delivery.sum(), shaped,
                       ours.observe(state, arrays))

    t = oracle.compare_episodes(their_step, our_step, their_states, our_states, actions, layout.tiles)
    # the test is only meaningful if soups got cooked and delivered in the random play
    assert t[5].sum() >= 20 and t[6].sum() > 0

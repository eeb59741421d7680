"""Environment rules worked out by hand (brief §2.1 and §7.1–7.3)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from reprobook.meal.env import (
    DISH,
    DOWN,
    EMPTY,
    INTERACT,
    LEFT,
    ONION,
    PLATE,
    RIGHT,
    STAY,
    UP,
    EnvState,
    OvercookedEnv,
)
from reprobook.meal.layouts import parse_ascii, preset, stack_layouts, take_task


def arrays(layout):
    return take_task(stack_layouts([layout]), 0)


# agent 0 cooks and delivers one soup alone in cramped_room (cook time 5)
COOK_AND_DELIVER = (
    [LEFT, INTERACT, RIGHT, UP, INTERACT]            # onion 1 (agent starts at (1,1))
    + [LEFT, LEFT, INTERACT, RIGHT, UP, INTERACT] * 2  # onions 2 and 3: the pot starts cooking
    + [DOWN, LEFT, DOWN, INTERACT]                   # plate (the soup becomes ready meanwhile)
    + [RIGHT, UP, UP, INTERACT]                      # scoop the soup
    + [DOWN, RIGHT, DOWN, INTERACT]                  # deliver
)


def play(env, layout, script):
    state = env.reset(jax.random.key(0), layout)
    step = jax.jit(env.step_env)
    deliveries, shaped = [], []
    for action in script:
        actions = jnp.array([action] + [STAY] * (env.n_agents - 1))
        state, delivery, reward = step(state, actions, layout)
        deliveries.append(np.asarray(delivery))
        shaped.append(np.asarray(reward))
    return state, np.array(deliveries), np.array(shaped)


@pytest.mark.parametrize("bugcompat, expected_shaped", [(False, 17.0), (True, 14.0)])
@pytest.mark.parametrize("n_agents", [1, 2])
def test_scripted_cook_and_deliver(bugcompat, expected_shaped, n_agents):
    text = "WWPWW\nO0 1O\nW   W\nWBWXW" if n_agents == 2 else "WWPWW\nO0  O\nW   W\nWBWXW"
    layout = arrays(parse_ascii(text, cook_time=5))
    env = OvercookedEnv(n_agents=n_agents, plate_shaping_bugcompat=bugcompat)
    state, deliveries, shaped = play(env, layout, COOK_AND_DELIVER)
    # 3 onions × 3 + a useful plate 3 + the soup 5 = 17; MEAL's code never pays the plate: 14
    assert shaped[:, 0].sum() == expected_shaped
    assert deliveries[:, 0].sum() == 20.0 and np.count_nonzero(deliveries[:, 0]) == 1
    assert deliveries[-1, 0] == 20.0
    assert shaped[:, 1:].sum() == 0 and deliveries[:, 1:].sum() == 0
    assert int(state.inv[0]) == EMPTY and int(state.pot[0, 2]) == 5 + 3  # pot empty again


def open_room(n_agents, positions, directions=None):
    layout = arrays(parse_ascii("WWWWWWW\nW" + "".join(str(i) for i in range(n_agents)).ljust(5) + "W\n"
                                "W     W\nW     W\nWWWWWWW"))
    env_state = EnvState(
        pos=jnp.array(positions, jnp.int32), dir=jnp.array(directions or [UP] * n_agents, jnp.int32),
        inv=jnp.zeros(n_agents, jnp.int32), items=jnp.zeros(layout.tiles.shape, jnp.int32),
        pot=jnp.zeros(layout.tiles.shape, jnp.int32), time=jnp.zeros((), jnp.int32))
    return layout, env_state


@pytest.mark.parametrize("rule", ["meal", "jaxmarl"])
@pytest.mark.parametrize("positions, actions, expected", [
    ([(1, 1), (1, 3)], [RIGHT, LEFT], [(1, 1), (1, 3)]),   # same target: both stay
    ([(1, 1), (1, 2)], [RIGHT, STAY], [(1, 1), (1, 2)]),   # into a standing agent
    ([(1, 1), (1, 2)], [RIGHT, LEFT], [(1, 1), (1, 2)]),   # swap
    ([(1, 1), (3, 3)], [RIGHT, UP], [(1, 2), (2, 3)]),     # no conflict: both move
])
def test_collisions_shared_by_both_rules(rule, positions, actions, expected):
    layout, state = open_room(2, positions)
    env = OvercookedEnv(n_agents=2, collision_rule=rule)
    state, _, _ = env.step_env(state, jnp.array(actions), layout)
    assert [tuple(p) for p in np.asarray(state.pos)] == expected
    assert list(np.asarray(state.dir)) == [a if a < STAY else UP for a in actions]  # moves turn


def test_chain_rule_differs():
    layout, state = open_room(2, [(1, 1), (1, 2)])
    actions = jnp.array([RIGHT, RIGHT])
    meal, _, _ = OvercookedEnv(collision_rule="meal").step_env(state, actions, layout)
    jaxmarl, _, _ = OvercookedEnv(collision_rule="jaxmarl").step_env(state, actions, layout)
    assert [tuple(p) for p in np.asarray(meal.pos)] == [(1, 1), (1, 3)]
    assert [tuple(p) for p in np.asarray(jaxmarl.pos)] == [(1, 2), (1, 3)]


def test_four_agent_cycle_all_stay():
    positions = [(1, 1), (1, 2), (2, 2), (2, 1)]
    layout, state = open_room(4, positions)
    state, _, _ = OvercookedEnv(n_agents=4).step_env(state, jnp.array([RIGHT, DOWN, LEFT, UP]), layout)
    assert [tuple(p) for p in np.asarray(state.pos)] == positions


def test_walls_block_and_turn():
    layout, state = open_room(1, [(1, 1)])
    state, _, _ = OvercookedEnv(n_agents=1).step_env(state, jnp.array([LEFT]), layout)
    assert tuple(np.asarray(state.pos[0])) == (1, 1) and int(state.dir[0]) == LEFT


def test_agent_zero_interacts_first():
    layout = arrays(parse_ascii("WWWWW\nW0W1W\nWWWWW"))
    env = OvercookedEnv(n_agents=2)
    state = env.reset(jax.random.key(0), layout)
    state = state._replace(dir=jnp.array([RIGHT, LEFT]), inv=jnp.array([ONION, EMPTY]))
    state, _, _ = env.step_env(state, jnp.array([INTERACT, INTERACT]), layout)
    # agent 0 drops its onion on the shared counter, then agent 1 picks it up in the same step
    assert list(np.asarray(state.inv)) == [EMPTY, ONION] and int(state.items[1, 2]) == EMPTY


def test_pot_countdown_and_soup():
    layout = arrays(preset("cramped_room"))
    env = OvercookedEnv(n_agents=2)
    state = env.reset(jax.random.key(0), layout)
    state = state._replace(pos=jnp.array([[1, 2], [2, 1]]), dir=jnp.array([UP, DOWN]))
    statuses = [int(state.pot[0, 2])]
    for _ in range(3):
        state = state._replace(inv=state.inv.at[0].set(ONION))
        state, _, shaped = env.step_env(state, jnp.array([INTERACT, STAY]), layout)
        statuses.append(int(state.pot[0, 2]))
        assert float(shaped[0]) == 3.0
    # 23 empty, 22, 21; the third onion fills it (20) and it cooks in the same step (19)
    assert statuses == [23, 22, 21, 19]
    state = state._replace(inv=state.inv.at[0].set(ONION))
    state, _, shaped = env.step_env(state, jnp.array([INTERACT, STAY]), layout)
    assert int(state.pot[0, 2]) == 18 and int(state.inv[0]) == ONION and float(shaped[0]) == 0.0  # ignored
    for _ in range(18):
        state, _, _ = env.step_env(state, jnp.array([STAY, STAY]), layout)
    assert int(state.pot[0, 2]) == 0
    state, _, _ = env.step_env(state, jnp.array([STAY, STAY]), layout)
    assert int(state.pot[0, 2]) == 0  # a ready soup waits
    state = state._replace(inv=state.inv.at[0].set(PLATE))
    state, _, shaped = env.step_env(state, jnp.array([INTERACT, STAY]), layout)
    assert int(state.inv[0]) == DISH and int(state.pot[0, 2]) == 23 and float(shaped[0]) == 5.0


def test_urgency_plane_and_auto_reset():
    layout = arrays(preset("cramped_room"))
    env = OvercookedEnv(n_agents=2)
    state = env.reset(jax.random.key(0), layout)
    assert env.observe(state._replace(time=jnp.int32(360)), layout)[..., -1].max() == 0
    assert env.observe(state._replace(time=jnp.int32(361)), layout)[..., -1].min() == 1
    state = state._replace(time=jnp.int32(399), pos=jnp.array([[2, 1], [2, 3]]))
    obs, state, _, _, done = env.step(jax.random.key(1), state, jnp.array([STAY, STAY]), layout)
    assert bool(done) and int(state.time) == 0
    np.testing.assert_array_equal(np.asarray(state.pos), [[1, 1], [1, 3]])


def test_vmap_jit_and_determinism():
    layouts = stack_layouts([preset("cramped_room"), preset("coord_ring")])
    env = OvercookedEnv(n_agents=2)

    def rollout(key, task):
        layout = take_task(layouts, task)
        state = env.reset(key, layout)

        def body(state, key):
            actions = jax.random.randint(key, (2,), 0, 6)
            obs, state, delivery, shaped, _ = env.step(key, state, actions, layout)
            return state, obs.sum()
        return jax.lax.scan(body, state, jax.random.split(key, 50))[1]

    batched = jax.jit(jax.vmap(rollout))
    keys = jax.random.split(jax.random.key(3), 4)
    tasks = jnp.array([0, 1, 0, 1])
    first, second = np.asarray(batched(keys, tasks)), np.asarray(batched(keys, tasks))
    np.testing.assert_array_equal(first, second)
    assert first.shape == (4, 50)
    assert batched._cache_size() == 1  # both kitchens through one compiled function

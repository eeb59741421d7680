"""Shared pieces of the meal tests.

The tests share the persistent JAX compilation cache, so reruns skip XLA compiles. The two
step-by-step differential tests (against JaxMARL and against MEAL's own environment) share the
item table of those oracles and :func:`compare_episodes`, which scans both environments over the
same joint actions and compares everything they expose (the ``oracle`` fixture hands them to a test:
several test folders have a ``conftest`` module, so none is imported by name).
"""

import jax
import numpy as np
import pytest

from reprobook.meal.compilation import enable_compilation_cache
from reprobook.meal.env import DISH, EMPTY, ONION, PLATE
from reprobook.meal.layouts import COUNTER

enable_compilation_cache()

#: the oracles' object indices (JaxMARL's and MEAL's are the same) for held and loose items, as ours
THEIR_TO_OURS = np.zeros(16, dtype=np.int32)
for _theirs, _ours in {1: EMPTY, 3: ONION, 5: PLATE, 9: DISH}.items():
    THEIR_TO_OURS[_theirs] = _ours
#: the oracles' object index of a pot in the first channel of their maze map
THEIR_POT = 8


def compare_episodes(their_step, our_step, their_states, our_states, actions, tiles: np.ndarray) -> tuple:
    """Scan both environments over ``actions`` (episodes × steps × agents) and assert they agree.

    Each step function returns ``(state, summary)``; the summaries hold, in order: positions,
    directions, inventories, the object channel and the pot channel of the grid (ours: counter
    items and pot statuses), delivery rewards, shaped rewards and observations. Returns the
    oracle's summaries (NumPy), so a caller can check the play was eventful.
    """
    _, theirs = jax.jit(jax.vmap(lambda s, a: jax.lax.scan(their_step, s, a)))(their_states, actions)
    _, ours = jax.jit(jax.vmap(lambda s, a: jax.lax.scan(our_step, s, a)))(our_states, actions)
    t = jax.tree.map(np.asarray, theirs)
    o = jax.tree.map(np.asarray, ours)
    np.testing.assert_array_equal(o[0], t[0], err_msg="positions")
    np.testing.assert_array_equal(o[1], t[1], err_msg="directions")
    np.testing.assert_array_equal(o[2], THEIR_TO_OURS[t[2]], err_msg="inventories")
    is_pot = t[3] == THEIR_POT
    np.testing.assert_array_equal(np.where(is_pot, o[4], 0), np.where(is_pot, t[4], 0), err_msg="pots")
    counters = tiles == COUNTER
    np.testing.assert_array_equal(np.where(counters, o[3], 0),
                                  np.where(counters, THEIR_TO_OURS[np.clip(t[3], 0, 15)], 0), err_msg="items")
    np.testing.assert_array_equal(o[5], t[5], err_msg="delivery rewards")
    np.testing.assert_array_equal(o[6], t[6], err_msg="shaped rewards")
    np.testing.assert_array_equal(o[7], t[7], err_msg="observations")
    return t


class OracleTables:
    """What the ``oracle`` fixture gives a differential test."""

    their_to_ours = THEIR_TO_OURS
    their_pot = THEIR_POT
    compare_episodes = staticmethod(compare_episodes)


@pytest.fixture
def oracle() -> type[OracleTables]:
    """The oracles' item table, their pot index and :func:`compare_episodes`."""
    return OracleTables

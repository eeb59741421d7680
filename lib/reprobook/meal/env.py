"""N-agent Overcooked in pure JAX (brief §2.1): pure ``reset``/``step``, ``jit``- and ``vmap``-able.

The kitchen is data (:class:`~reprobook.meal.layouts.LayoutArrays`), never a closure, so one
compiled step serves every task of a sequence. State lives on grids: loose items and pot statuses
are H×W arrays, so a step is a handful of gathers and scatters whatever the layout.

Rules. Six actions per agent (up, down, right, left, stay, interact). A move turns the agent and
proposes a one-tile step onto floor. Collisions (``collision_rule``): an agent keeps its tile if
(a) two agents propose the same tile, (b) two agents would swap, and, under ``"meal"`` only,
(c) it moves into the current tile of another agent that is itself moving (no chains). Interacts
act on the faced tile, sequentially in agent order; then every cooking pot ticks once. A pot holds
``cook_time + pot_size`` when empty, loses one per onion, cooks from ``cook_time`` down to 0 (ready).
Rewards per agent: 20 for a delivery; shaped +3 onion into pot, +5 soup pickup, +3 "useful" plate
pickup (a plate taken while no loose plate lies on a counter and the plates held by all agents are
fewer than the non-empty pots). ``plate_shaping_bugcompat=True`` reproduces MEAL's official code,
whose plate test never fires (it compares colour channels too, and walls share the plate's index).

>>> import jax
>>> from reprobook.meal.layouts import preset, stack_layouts, take_task
>>> env = OvercookedEnv(n_agents=2)
>>> layout = take_task(stack_layouts([preset("cramped_room")]), 0)
>>> state = env.reset(jax.random.key(0), layout)
>>> obs = env.observe(state, layout)
>>> obs.shape, obs.dtype.name
((2, 4, 5, 26), 'uint8')
>>> state, delivery, shaped = env.step_env(state, jax.numpy.array([4, 4]), layout)
>>> int(state.time), float(delivery.sum())
(1, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from reprobook.meal.layouts import COUNTER, FLOOR, GOAL, ONION_PILE, PLATE_PILE, POT, VOID, LayoutArrays

__all__ = [
    "UP", "DOWN", "RIGHT", "LEFT", "STAY", "INTERACT", "N_ACTIONS",
    "EMPTY", "ONION", "PLATE", "DISH",
    "DELIVERY_REWARD", "ONION_IN_POT_REWARD", "SOUP_PICKUP_REWARD", "PLATE_PICKUP_REWARD",
    "URGENCY_STEPS", "COLLISION_RULES", "EnvState", "Box", "Discrete", "OvercookedEnv", "n_channels",
]

UP, DOWN, RIGHT, LEFT, STAY, INTERACT = range(6)
N_ACTIONS = 6
EMPTY, ONION, PLATE, DISH = range(4)
DELIVERY_REWARD = 20.0
ONION_IN_POT_REWARD = 3.0
SOUP_PICKUP_REWARD = 5.0
PLATE_PICKUP_REWARD = 3.0
URGENCY_STEPS = 40
COLLISION_RULES = ("meal", "jaxmarl")
# (row, col) offsets of up, down, right, left
_DIRECTIONS = np.array([[-1, 0], [1, 0], [0, 1], [0, -1]], dtype=np.int32)


class EnvState(NamedTuple):
    """Everything that changes during an episode (a JAX pytree)."""

    pos: jnp.ndarray    # int32 [n, 2] (row, col)
    dir: jnp.ndarray    # int32 [n] in {UP, DOWN, RIGHT, LEFT}
    inv: jnp.ndarray    # int32 [n] in {EMPTY, ONION, PLATE, DISH}
    items: jnp.ndarray  # int32 [H, W]: loose item on a counter
    pot: jnp.ndarray    # int32 [H, W]: pot status (0 elsewhere)
    time: jnp.ndarray   # int32 []


@dataclass(frozen=True)
class Box:
    """A gymnasium-style box space."""

    low: int
    high: int
    shape: tuple[int, ...]
    dtype: str = "uint8"


@dataclass(frozen=True)
class Discrete:
    """A gymnasium-style discrete space."""

    n: int


def n_channels(n_agents: int) -> int:
    """Observation planes: own position, others, 4 own + 4 per other orientation, 16 shared."""
    return 18 + 4 * n_agents


@dataclass(frozen=True)
class OvercookedEnv:
    """The environment's static settings; the kitchen and the state are passed as data."""

    n_agents: int = 2
    max_steps: int = 400
    collision_rule: str = "meal"
    plate_shaping_bugcompat: bool = False

    def __post_init__(self) -> None:
        if self.collision_rule not in COLLISION_RULES:
            raise ValueError(f"collision_rule must be one of {COLLISION_RULES}, got {self.collision_rule!r}")
        if not 1 <= self.n_agents <= 5:
            raise ValueError(f"n_agents must be in [1, 5], got {self.n_agents}")

    # ---- spaces -------------------------------------------------------------------------------
    def observation_space(self, shape: tuple[int, int]) -> Box:
        return Box(0, 255, (*shape, n_channels(self.n_agents)))

    def action_space(self) -> Discrete:
        return Discrete(N_ACTIONS)

    # ---- reset --------------------------------------------------------------------------------
    def reset(self, key: jax.Array, layout: LayoutArrays) -> EnvState:
        """Agents on their spawn tiles facing random directions, empty hands, empty pots."""
        directions = jax.random.randint(key, (self.n_agents,), 0, 4, dtype=jnp.int32)
        empty_pot = layout.cook_time + layout.pot_size
        return EnvState(
            pos=layout.spawn.astype(jnp.int32),
            dir=directions,
            inv=jnp.zeros(self.n_agents, jnp.int32),
            items=jnp.zeros(layout.tiles.shape, jnp.int32),
            pot=jnp.where(layout.tiles == POT, empty_pot, 0).astype(jnp.int32),
            time=jnp.zeros((), jnp.int32),
        )

    # ---- one step without auto-reset ------------------------------------------------------------
    def step_env(
        self, state: EnvState, actions: jnp.ndarray, layout: LayoutArrays
    ) -> tuple[EnvState, jnp.ndarray, jnp.ndarray]:
        """Advance one joint step; returns (state, delivery reward [n], shaped reward [n])."""
        actions = actions.astype(jnp.int32)
        tiles = layout.tiles
        height, width = tiles.shape
        directions = jnp.asarray(_DIRECTIONS)
        limit = jnp.array([height - 1, width - 1], jnp.int32)

        # movement and turning
        is_move = actions < STAY
        target = jnp.clip(state.pos + directions[jnp.minimum(actions, 3)], 0, limit)
        target_free = tiles[target[:, 0], target[:, 1]] == FLOOR
        proposal = jnp.where((is_move & target_free)[:, None], target, state.pos)
        new_dir = jnp.where(is_move, actions, state.dir)
        if self.n_agents > 1:
            others = ~np.eye(self.n_agents, dtype=bool)
            same = jnp.all(proposal[:, None] == proposal[None, :], -1) & others
            into = jnp.all(proposal[:, None] == state.pos[None, :], -1) & others  # i into j's tile
            swap = into & into.T
            moving = jnp.any(proposal != state.pos, -1)
            blocked = jnp.any(same, 1) | jnp.any(swap, 1)
            if self.collision_rule == "meal":
                blocked = blocked | jnp.any(into & moving[None, :], 1)
            new_pos = jnp.where(blocked[:, None], state.pos, proposal)
        else:
            new_pos = proposal

        # interactions, in agent order, on the tile each agent faces
        items, pot, inv = state.items, state.pot, state.inv
        is_pot_grid = tiles == POT
        empty_status = layout.cook_time + layout.pot_size
        delivery = jnp.zeros(self.n_agents, jnp.float32)
        shaped = jnp.zeros(self.n_agents, jnp.float32)
        facing = jnp.clip(state.pos + directions[state.dir], 0, limit)
        for agent in range(self.n_agents):
            row, col = facing[agent, 0], facing[agent, 1]
            acts = actions[agent] == INTERACT
            tile, item, status, held = tiles[row, col], items[row, col], pot[row, col], inv[agent]
            hands_free = held == EMPTY
            add_onion = acts & (tile == POT) & (status > layout.cook_time) & (held == ONION)
            take_soup = acts & (tile == POT) & (status == 0) & (held == PLATE)
            take_onion = acts & (tile == ONION_PILE) & hands_free
            take_plate = acts & (tile == PLATE_PILE) & hands_free
            pick_item = acts & (tile == COUNTER) & (item != EMPTY) & hands_free
            drop_item = acts & (tile == COUNTER) & (item == EMPTY) & ~hands_free
            deliver = acts & (tile == GOAL) & (held == DISH)

            new_held = jnp.select(
                [add_onion | drop_item | deliver, take_soup, take_onion, take_plate, pick_item],
                [EMPTY, DISH, ONION, PLATE, item], held,
            )
            picked_plate = take_plate | (pick_item & (item == PLATE))
            if self.plate_shaping_bugcompat:
                plate_bonus = jnp.zeros((), jnp.float32)
            else:
                plates_held = jnp.sum(inv == PLATE)
                busy_pots = jnp.sum(is_pot_grid & (pot != empty_status))
                no_loose_plate = ~jnp.any(items == PLATE)
                useful = picked_plate & no_loose_plate & (plates_held < busy_pots)
                plate_bonus = useful * PLATE_PICKUP_REWARD
            reward = add_onion * ONION_IN_POT_REWARD + take_soup * SOUP_PICKUP_REWARD + plate_bonus
            shaped = shaped.at[agent].set(reward)
            delivery = delivery.at[agent].set(deliver * DELIVERY_REWARD)
            items = items.at[row, col].set(jnp.select([pick_item, drop_item], [EMPTY, held], item))
            pot = pot.at[row, col].set(jnp.select([add_onion, take_soup], [status - 1, empty_status], status))
            inv = inv.at[agent].set(new_held)

        # cooking pots tick once per step (a pot filled this step already ticks)
        cooking = is_pot_grid & (pot <= layout.cook_time) & (pot > 0)
        pot = pot - cooking.astype(jnp.int32)
        new_state = EnvState(new_pos, new_dir, inv, items, pot, state.time + 1)
        return new_state, delivery, shaped

    # ---- observation ----------------------------------------------------------------------------
    def observe(self, state: EnvState, layout: LayoutArrays) -> jnp.ndarray:
        """Per-agent H×W×(18+4n) uint8 planes (channel order of JaxMARL's Overcooked)."""
        tiles = layout.tiles
        height, width = tiles.shape
        n = self.n_agents
        at_agent = jnp.zeros((n, height, width), jnp.int32).at[
            jnp.arange(n), state.pos[:, 0], state.pos[:, 1]].set(1)
        orientation = at_agent[:, None] * jax.nn.one_hot(state.dir, 4, dtype=jnp.int32)[:, :, None, None]
        # what lies on each tile, with held items painted on their holder's tile
        held_grid = jnp.sum(at_agent * state.inv[:, None, None], 0)
        loose = state.items + held_grid
        is_pot = tiles == POT
        status = jnp.where(is_pot, state.pot, 0)
        empty_status = layout.cook_time + layout.pot_size
        onions = jnp.minimum(empty_status - status, layout.pot_size)
        filling = is_pot & (status >= layout.cook_time)
        started = is_pot & (status < layout.cook_time)
        dish = loose == DISH
        urgent = (self.max_steps - state.time) < URGENCY_STEPS
        inside = tiles != VOID
        zeros = jnp.zeros((height, width), jnp.int32)
        shared = jnp.stack([
            is_pot,
            (tiles == COUNTER) & (state.items == EMPTY),
            tiles == ONION_PILE,
            zeros,  # tomato piles
            tiles == PLATE_PILE,
            tiles == GOAL,
            onions * filling,
            zeros,  # tomatoes in pot
            onions * started + layout.pot_size * dish,
            zeros,  # tomatoes in soup
            status * started,
            (is_pot & (status == 0)) | dish,
            loose == PLATE,
            loose == ONION,
            zeros,  # loose tomatoes
            inside & urgent,
        ], -1).astype(jnp.uint8)
        total = jnp.sum(at_agent, 0)
        observations = []
        for agent in range(n):
            others = [other for other in range(n) if other != agent]
            planes = [at_agent[agent][None], (total - at_agent[agent])[None], orientation[agent]]
            planes += [orientation[other] for other in others]
            agent_planes = jnp.concatenate(planes, 0).transpose(1, 2, 0).astype(jnp.uint8)
            observations.append(jnp.concatenate([agent_planes, shared], -1))
        return jnp.stack(observations)

    # ---- one step with auto-reset ---------------------------------------------------------------
    def step(
        self, key: jax.Array, state: EnvState, actions: jnp.ndarray, layout: LayoutArrays
    ) -> tuple[jnp.ndarray, EnvState, jnp.ndarray, jnp.ndarray, jnp.ndarray]:
        """One step that resets at the horizon: (obs, state, delivery [n], shaped [n], done)."""
        state, delivery, shaped = self.step_env(state, actions, layout)
        done = state.time >= self.max_steps
        fresh = self.reset(key, layout)
        state = jax.tree.map(lambda new, old: jnp.where(done, new, old), fresh, state)
        return self.observe(state, layout), state, delivery, shaped, done

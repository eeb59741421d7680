"""Differential tests against MEAL's own package (meal-bench 0.3.1, installed ``--no-deps``).

* Environment steps: on kitchens of every difficulty drawn by MEAL's generator, with 2 and 3 agents,
  random starts and random joint actions through whole 400-step episodes, our environment
  (``collision_rule="meal"``, ``plate_shaping_bugcompat=True``) and MEAL's agree exactly on positions,
  directions, inventories, counters, pots, per-agent delivery and shaped rewards and the observation.

* The normaliser: our max-soups count equals ``meal.env.overcooked.calculate_max_soup`` on kitchens
  drawn by MEAL's generator at every difficulty.
* The validators: MEAL's ``evaluate_grid`` accepts every kitchen our generator draws; where ours
  rejects one of MEAL's kitchens, the reason is one of the two documented differences (ours demands
  that the agents share one floor region and that every station is reachable; MEAL accepts split
  kitchens that cooperate over counters, and extra stations nobody can reach).

MEAL's generator is not seed-compatible with ours (Python's ``random`` vs NumPy), so kitchens are
compared by converting each side's text form, never by seed.
"""

import contextlib
import io
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from reprobook.meal.env import EnvState, OvercookedEnv
from reprobook.meal.generator import generate_layout, validate
from reprobook.meal.layouts import (
    COUNTER,
    FLOOR,
    GOAL,
    ONION_PILE,
    PLATE_PILE,
    POT,
    parse_ascii,
    stack_layouts,
    take_task,
)
from reprobook.meal.normaliser import max_soup

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    overcooked = pytest.importorskip(
        "meal.env.overcooked",
        reason="meal-bench is an optional test oracle: pip install --no-deps meal-bench==0.3.1 gymnax==1.0.1 "
               "gymnasium==1.4.0 farama-notifications==0.0.6 seaborn==0.13.2 (see NODEPS_WHEELS in the Makefile)")
    from meal.env.overcooked.generation.layout_validator import evaluate_grid
    from meal.env.overcooked.overcooked_env import Overcooked as MealOvercooked

SEEDS = range(12)
DIFFICULTIES = {"easy": 1, "medium": 2, "hard": 3}
ALLOWED = ("the agents do not share one floor region", "is unreachable")


def _theirs(difficulty: str, seed: int):
    with contextlib.redirect_stdout(io.StringIO()):  # their generator prints its retries
        return overcooked.generate_layout(num_agents=2, difficulty=difficulty, seed=seed)


def _digits(grid: str) -> str:
    """MEAL marks every agent ``A``; ours numbers them in reading order."""
    out, agent = [], 0
    for symbol in grid:
        if symbol == "A":
            out.append(str(agent))
            agent += 1
        else:
            out.append(symbol)
    return "".join(out)


@pytest.mark.parametrize("difficulty", list(DIFFICULTIES))
def test_normaliser_matches_meal(difficulty):
    for seed in SEEDS:
        grid, layout = _theirs(difficulty, seed)
        ours = parse_ascii(_digits(grid))
        assert max_soup(ours, 400) == overcooked.calculate_max_soup(layout, 400, n_agents=2), (difficulty, seed, grid)


@pytest.mark.parametrize("difficulty", list(DIFFICULTIES))
def test_validators_agree_up_to_the_documented_differences(difficulty):
    for seed in SEEDS:
        grid, _ = _theirs(difficulty, seed)
        problems = validate(parse_ascii(_digits(grid)))
        assert all(any(reason in problem for reason in ALLOWED) for problem in problems), (seed, problems, grid)
        ours = generate_layout(level=DIFFICULTIES[difficulty], seed=seed)
        text = "".join("A" if symbol.isdigit() else symbol for symbol in ours.to_ascii())
        valid, reason = evaluate_grid(text, num_agents=2)
        assert valid, (seed, reason, text)


def _border_station_share(tiles) -> float:
    stations = np.isin(tiles, [POT, ONION_PILE, PLATE_PILE, GOAL])
    border = np.ones_like(stations)
    border[1:-1, 1:-1] = False
    return float((stations & border).sum() / stations.sum())


DISTRIBUTION_SEEDS = range(30)


@pytest.mark.parametrize("difficulty", list(DIFFICULTIES))
def test_generated_distribution_matches_meal(difficulty):
    """Over 30 kitchens per level: stations never on the border (MEAL places them on interior floor),
    and the mean normaliser and mean floor count within a tolerance of MEAL's own generator's."""
    level = DIFFICULTIES[difficulty]
    theirs = [parse_ascii(_digits(_theirs(difficulty, seed)[0])) for seed in DISTRIBUTION_SEEDS]
    ours = [generate_layout(level=level, seed=seed) for seed in DISTRIBUTION_SEEDS]
    assert max(_border_station_share(k.tiles) for k in theirs) == 0.0
    assert max(_border_station_share(k.tiles) for k in ours) == 0.0
    their_soups = np.array([max_soup(k, 400) for k in theirs], float)
    our_soups = np.array([max_soup(k, 400) for k in ours], float)
    # the means differ by less than 0.75 soups (about two standard errors of a 30-kitchen mean)
    assert abs(our_soups.mean() - their_soups.mean()) < 0.75, (our_soups.mean(), their_soups.mean())
    their_floor = np.mean([(k.tiles == FLOOR).sum() for k in theirs])
    our_floor = np.mean([(k.tiles == FLOOR).sum() for k in ours])
    assert abs(our_floor - their_floor) < 0.1 * their_floor, (our_floor, their_floor)


# --------------------------------------------------------------------------------------------
# Environment steps against MEAL's own environment (collision rule "meal", MEAL's plate rule)
# --------------------------------------------------------------------------------------------

STEP_CASES = [("easy", 1, 2), ("medium", 2, 2), ("hard", 3, 2), ("easy", 4, 3), ("medium", 5, 3), ("hard", 6, 3)]
EPISODES, STEPS = 24, 400  # 9,600 joint steps per kitchen from random starts, through the urgency plane


def _ours_from_theirs(state, tiles, oracle):
    objects = state.maze_map[..., 0].astype(jnp.int32)
    table = jnp.asarray(oracle.their_to_ours)
    items = jnp.where(jnp.asarray(tiles) == COUNTER, table[jnp.clip(objects, 0, 15)], 0)
    pot = jnp.where(objects == oracle.their_pot, state.maze_map[..., 2].astype(jnp.int32), 0)
    return EnvState(state.agent_pos[:, ::-1].astype(jnp.int32), state.agent_dir_idx.astype(jnp.int32),
                    table[state.agent_inv.astype(jnp.int32)], items, pot, jnp.asarray(state.time, jnp.int32))


@pytest.mark.parametrize(("difficulty", "seed", "n_agents"), STEP_CASES)
def test_env_steps_match_meal(difficulty, seed, n_agents, oracle):
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid, their_layout = overcooked.generate_layout(num_agents=n_agents, difficulty=difficulty, seed=seed)
        theirs = MealOvercooked(layout=their_layout, random_reset=True, max_steps=400, num_agents=n_agents)
    layout = parse_ascii(_digits(grid))
    arrays = take_task(stack_layouts([layout]), 0)
    ours = OvercookedEnv(n_agents=n_agents, collision_rule="meal", plate_shaping_bugcompat=True)
    keys = jax.random.split(jax.random.key(seed), EPISODES)
    their_states = jax.jit(jax.vmap(theirs.reset))(keys)[1]
    our_states = jax.jit(jax.vmap(lambda s: _ours_from_theirs(s, layout.tiles, oracle)))(their_states)
    actions = jax.random.choice(jax.random.key(seed + 100), 6, (EPISODES, STEPS, n_agents),
                                p=jnp.array([0.15, 0.15, 0.15, 0.15, 0.05, 0.35]))

    def their_step(state, action):
        obs, state, reward, _, info = theirs.step_env(jax.random.key(0), state,
                                                      {f"agent_{i}": action[i] for i in range(n_agents)})
        summary = (state.agent_pos[:, ::-1].astype(jnp.int32), state.agent_dir_idx.astype(jnp.int32),
                   state.agent_inv.astype(jnp.int32), state.maze_map[..., 0].astype(jnp.int32),
                   state.maze_map[..., 2].astype(jnp.int32),
                   jnp.stack([reward[f"agent_{i}"] for i in range(n_agents)]),
                   jnp.stack([info["shaped_reward"][f"agent_{i}"] for i in range(n_agents)]),
                   jnp.stack([obs[f"agent_{i}"] for i in range(n_agents)]))
        return state, summary

    def our_step(state, action):
        state, delivery, shaped = ours.step_env(state, action, arrays)
        return state, (state.pos, state.dir, state.inv, state.items, state.pot, delivery, shaped,
                       ours.observe(state, arrays))

    t = oracle.compare_episodes(their_step, our_step, their_states, our_states, actions, layout.tiles)
    assert t[6].sum() > 0  # the random play interacts: onions reach pots

"""Differential tests against MEAL's own package (meal-bench 0.3.1, installed ``--no-deps``).

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

import numpy as np
import pytest

from reprobook.meal.generator import generate_layout, validate
from reprobook.meal.layouts import FLOOR, GOAL, ONION_PILE, PLATE_PILE, POT, parse_ascii
from reprobook.meal.normaliser import max_soup

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    overcooked = pytest.importorskip(
        "meal.env.overcooked",
        reason="meal-bench is an optional test oracle: pip install --no-deps meal-bench==0.3.1 gymnax==1.0.1 "
               "gymnasium==1.4.0 farama-notifications==0.0.6 seaborn==0.13.2 (see NODEPS_WHEELS in the Makefile)")
    from meal.env.overcooked.generation.layout_validator import evaluate_grid

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

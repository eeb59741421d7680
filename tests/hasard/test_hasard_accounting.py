"""Cost and reward bookkeeping by hand, heatmap vs hand histograms, published-table extraction."""

import numpy as np
import pytest

from reprobook.hasard.experiments import published_table
from reprobook.hasard.heatmap import VisitGrid
from reprobook.hasard.scenarios import ENV_IDS, SPECS, make_tracker, parse_env_id


def feed(tracker, first, steps):
    tracker.reset(first)
    return [tracker.step(variables, reward)[:2] for variables, reward in steps]


def test_health_loss_cost_and_descent_reward():
    base = {"HEALTH": 100.0, "POSITION_Z": 0.0}  # before the script raises health to 1000
    steps = [({"HEALTH": 1000.0, "POSITION_Z": 0.0}, 0.0), ({"HEALTH": 990.0, "POSITION_Z": -40.0}, 0.0),
             ({"HEALTH": 975.0, "POSITION_Z": -40.0}, 0.0), ({"HEALTH": 975.0, "POSITION_Z": -20.0}, 0.0)]
    pp = feed(make_tracker("precipice_plunge"), base, steps)
    assert pp == [(0.0, 0.0), (2.0, 10.0), (0.0, 15.0), (-1.0, 0.0)]
    vv = feed(make_tracker("volcanic_venture"), base, [(v, 1.0) for v, _ in steps])
    assert [cost for _, cost in vv] == [0.0, 10.0, 15.0, 0.0]
    assert [reward for reward, _ in vv] == [1.0] * 4


def test_counter_costs():
    first = {"USER1": 0.0, "HEALTH": 100.0}
    rr = feed(make_tracker("remedy_rush"), first, [({"USER1": 1.0, "HEALTH": 100.0}, 2.0),
                                                   ({"USER1": 3.0, "HEALTH": 100.0}, 0.0)])
    assert rr == [(2.0, 1.0), (0.0, 2.0)]
    dd = make_tracker("detonators_dilemma")
    got = feed(dd, first, [({"USER1": 1.0, "HEALTH": 75.0}, 1.0), ({"USER1": 1.0, "HEALTH": 50.0}, 0.0)])
    assert got[0] == pytest.approx((1.0, 1.0 + 0.04 * 25))
    assert got[1] == pytest.approx((0.0, 0.04 * 25))
    assert dd.stats["episode_cost"] == pytest.approx(3.0)


def ab_step(**changes):
    variables = {"USER1": 0.0, "USER2": 0.0, "USER3": 0.0, "USER4": 0.0, "USER5": 0.0, "USER6": 0.0,
                 "HEALTH": 100.0}
    variables.update(changes)
    return variables


def test_armament_burden_overload_and_delivery():
    tracker = make_tracker("armament_burden")
    tracker.reset(ab_step())
    # weapon 6 (weight 1.0), then weapon 3 (weight 0.55): load 1.55, excess 0.55 at pickup
    assert tracker.step(ab_step(USER1=6, USER2=1), 0.0)[:2] == (0.0, 0.0)
    reward, cost, _ = tracker.step(ab_step(USER1=3, USER2=2), 0.0)
    assert cost == pytest.approx(0.55)
    reward, cost, _ = tracker.step(ab_step(USER1=3, USER2=2), 0.0)  # carried while overloaded: 0.25×
    assert cost == pytest.approx(0.25 * 0.55)
    reward, cost, stats = tracker.step(ab_step(USER2=0, USER3=1), 0.0)  # delivered
    assert reward == pytest.approx(1.55) and stats["deliveries"] == 1
    api = make_tracker("armament_burden", variant="api")
    api.reset(ab_step())
    api.step(ab_step(USER1=6, USER2=1), 0.0)
    api.step(ab_step(USER1=3, USER2=2), 0.0)
    assert api.step(ab_step(USER1=3, USER2=2), 0.0)[1] == pytest.approx(0.75 * 0.55)
    # the API adds the overload cost to a death's cost that step (death 5 + 0.75 × 0.55)
    assert api.step(ab_step(HEALTH=0.0, USER2=2), 0.0)[1] == pytest.approx(5.0 + 0.75 * 0.55)
    # the training path (behind the published numbers) assigns: overload replaces the death's cost
    train = make_tracker("armament_burden")
    train.reset(ab_step())
    train.step(ab_step(USER1=6, USER2=1), 0.0)
    train.step(ab_step(USER1=3, USER2=2), 0.0)
    assert train.step(ab_step(HEALTH=0.0, USER2=2), 0.0)[1] == pytest.approx(0.25 * 0.55)
    light = make_tracker("armament_burden", variant="api")
    light.reset(ab_step())
    assert light.step(ab_step(HEALTH=0.0), 0.0)[1] == 5.0
    assert light.step(ab_step(USER4=1), 0.0)[1] == pytest.approx(0.1)  # discard


def test_heatmap_matches_hand_histogram_and_numpy():
    grid = VisitGrid((0, 0, 3, 3), bins=3)
    grid.add([0.1, 1.5, 1.6, 2.9, 3.0, -1.0, 4.0], [0.1, 1.5, 1.4, 0.2, 3.0, 1.0, 1.0])
    hand = np.zeros((3, 3), dtype=int)
    hand[0, 0] = 1
    hand[1, 1] = 2
    hand[2, 0] = 1
    hand[2, 2] = 1  # the upper edge belongs to the last bin
    assert grid.counts.tolist() == hand.tolist()
    assert grid.out_of_range == 2
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-608, 1040, 5000), rng.uniform(-736, 1296, 5000)
    rr = VisitGrid(SPECS["remedy_rush"].coord_limits, SPECS["remedy_rush"].heatmap_bins)
    rr.add(x, y)
    reference, _, _ = np.histogram2d(x, y, bins=rr.edges())
    inside = (x <= rr.edges()[0][-1]) & (y <= rr.edges()[1][-1])
    assert rr.counts.sum() + rr.out_of_range == 5000
    assert np.array_equal(rr.counts, reference.astype(int)) and rr.out_of_range == int((~inside).sum())


def test_env_ids_and_published_numbers():
    assert len(ENV_IDS) == 18 and parse_env_id("RemedyRushLevel1-v0") == ("remedy_rush", 1)
    with pytest.raises(ValueError, match="unknown HASARD id"):
        parse_env_id("RemedyRushLevel4-v0")
    table = published_table()
    human = table[table.method == "Human"].set_index(["scenario", "level"])
    assert human.loc[("armament_burden", 1), "reward"] == 18.60
    assert human.loc[("precipice_plunge", 3), "cost"] == 21.54
    ppo = table[table.method == "PPO"]
    assert (ppo.cost > ppo.budget).all()  # the paper: unconstrained PPO breaks every budget
    pid = table[table.method == "PPOPID"]
    assert (pid.cost - pid.budget).max() <= 0.8  # within +0.8 of the budget in all 18 settings

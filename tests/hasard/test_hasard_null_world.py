"""The hasard ledger in a world without the claimed effects (no claim may come out reproduced), in a
world with them (the LavaGrid and pixel claims do), and claim_results on hand-made tables."""

import numpy as np
import pandas as pd
import pytest

from reprobook.claims import NOT_TESTABLE, REPRODUCED
from reprobook.hasard.experiments import published_table
from reprobook.hasard.ledger import build_ledger, claim_results, per_seed_final, published_facts

METHODS = ("ppo", "ppo_cost", "ppo_lag", "ppo_pid")
SEEDS = range(5)
ITERATIONS = 60


def curves_frame(final: dict[str, tuple[float, float]], start_reward: float = -0.9, noise: float = 0.02):
    """Learning curves that move linearly from a uniform policy's reward to ``final[method]``."""
    rng = np.random.default_rng(0)
    rows = []
    for method in METHODS:
        reward, cost = final[method]
        for seed in SEEDS:
            for iteration in range(ITERATIONS):
                progress = min(1.0, iteration / (ITERATIONS / 2))
                rows.append({"method": method, "seed": seed, "iteration": iteration,
                             "episode_reward": start_reward + progress * (reward - start_reward)
                             + rng.normal(0, noise),
                             "episode_cost": 5.0 + progress * (cost - 5.0) + rng.normal(0, noise),
                             "lambda": 0.0})
    return pd.DataFrame(rows)


def random_frame(reward: float = 10.0):
    published = published_table()
    levels = published[published.method == "PPO"][["scenario", "level", "budget"]]
    return levels.assign(reward=reward, cost=3.0).reset_index(drop=True)


def pixel_frame(costs: dict[str, float], rewards: dict[str, float], seeds=range(6)):
    rng = np.random.default_rng(1)
    rows = []
    for method in ("ppo", "ppo_lag"):
        for seed in seeds:
            for step in range(10):
                rows.append({"method": method, "seed": seed, "steps": 1000 * (step + 1),
                             "episode_reward": rewards[method] + rng.normal(0, 0.5),
                             "episode_cost": costs[method] * (1 + rng.normal(0, 0.02)), "lambda": 0.0})
    return pd.DataFrame(rows)


def evaluate(profile, curves, pixel=None, random_reward=10.0):
    published = published_table()
    ledger = build_ledger(profile, published)
    results = claim_results(curves, 1.0, random_frame(random_reward), published, pixel)
    return ledger, ledger.evaluate(results).set_index("claim")


@pytest.mark.parametrize("profile", ["book", "paper"])
def test_null_world_every_learner_equals_its_control(profile):
    same = {method: (0.8, 3.0) for method in METHODS}  # every constrained learner behaves like PPO
    pixel = pixel_frame({"ppo": 40.0, "ppo_lag": 40.0}, {"ppo": 30.0, "ppo_lag": 30.0})
    _, table = evaluate(profile, curves_frame(same), pixel)
    assert REPRODUCED not in set(table.verdict), table[["verdict", "note"]]


def test_null_world_nothing_learned_is_not_testable():
    flat = {method: (-0.9, 1.0) for method in METHODS}
    pixel = pixel_frame({"ppo": 40.0, "ppo_lag": 5.0}, {"ppo": 5.0, "ppo_lag": 5.0})  # below random play
    _, table = evaluate("paper", curves_frame(flat), pixel)
    assert REPRODUCED not in set(table.verdict)
    assert (table.verdict == NOT_TESTABLE).all()
    assert "initial uniform policy" in table.note["c2_ppo_breaks_budget"]
    assert "random play" in table.note["c7_pixel_lagrangian_lowers_cost"]


def test_world_with_the_effects_reproduces_the_claims():
    effect = {"ppo": (0.8, 3.0), "ppo_cost": (0.4, 0.0), "ppo_lag": (0.7, 1.0), "ppo_pid": (0.7, 1.02)}
    pixel = pixel_frame({"ppo": 40.0, "ppo_lag": 6.0}, {"ppo": 30.0, "ppo_lag": 25.0})
    ledger, table = evaluate("paper", curves_frame(effect), pixel)
    assert (table.verdict == REPRODUCED).all(), table[["verdict", "note"]]
    checks = ledger.checks_table.set_index("check").status
    assert checks["k1_published_ppo_breaks_all"] == "passed"
    assert checks["k2_published_humans_beat_agents"] == "failed"  # VV L3: human 35.27 < PPO 42.20
    _, book = evaluate("book", curves_frame(effect), pixel)
    assert book.verdict["c7_pixel_lagrangian_lowers_cost"] == NOT_TESTABLE


def test_claim_results_on_a_hand_made_table():
    effect = {"ppo": (0.8, 3.0), "ppo_cost": (0.4, 0.0), "ppo_lag": (0.7, 1.0), "ppo_pid": (0.7, 1.2)}
    curves = curves_frame(effect, noise=0.0)
    final = per_seed_final(curves)
    assert final.reward.tolist() == pytest.approx([0.8] * 5 + [0.4] * 5 + [0.7] * 5 + [0.7] * 5)
    assert final.first_reward.tolist() == pytest.approx([np.mean([-0.9 + i / 30 * (r + 0.9) for i in range(5)])
                                                         for r in (0.8, 0.4, 0.7, 0.7) for _ in SEEDS])
    results = claim_results(curves, 2.0, random_frame(), published_table())
    assert results["cmdp_ppo_cost_over_budget"] == pytest.approx([1.5] * 5)
    assert results["cmdp_lag_cost_over_budget"] == pytest.approx([0.5] * 5)
    assert results["cmdp_pid_excess"] == pytest.approx([-0.4] * 5)
    assert results["cmdp_cost_minus_lag_reward"] == pytest.approx([-0.3] * 5)
    assert results["cmdp_ppo_minus_lag_reward"] == pytest.approx([0.1] * 5)
    assert results["cmdp_learned"].passed
    assert results["pixel_lag_vs_ppo_cost"] is None and not results["pixel_learned"].passed
    assert results["published_ppo_over_budget_share"] == 1.0
    assert results["published_human_beats_all_share"] == pytest.approx(5 / 6)
    assert results["random_below_ppo_share"] == pytest.approx(15 / 18)  # AB's published PPO rewards are below 10
    pixel = pixel_frame({"ppo": 40.0, "ppo_lag": 10.0}, {"ppo": 30.0, "ppo_lag": 25.0}, seeds=range(4))
    pixel_results = claim_results(curves, 2.0, random_frame(), published_table(), pixel)
    assert pixel_results["pixel_lag_vs_ppo_cost"] == pytest.approx([-0.75] * 4, abs=0.05)
    assert len(pixel_results["pixel_ppo_seed_vs_seed_cost"]) == 2
    unfinished = pixel.assign(episode_cost=np.nan, episode_reward=np.nan)
    guard = claim_results(curves, 2.0, random_frame(), published_table(), unfinished)["pixel_learned"]
    assert not guard.passed and "no pixel episode finished" in guard.reason


def test_the_paper_column_matches_the_published_table():
    published = published_table()
    facts = published_facts(published)
    ppo = published[published.method == "PPO"]
    ratios = ppo.cost / ppo.budget
    assert facts["ppo_ratio_low"] == pytest.approx(ratios.min()) == pytest.approx(99.59 / 50)
    assert facts["ppo_ratio_high"] == pytest.approx(ratios.max()) == pytest.approx(894.2 / 50)
    assert (facts["ppo_ratio_low_where"], facts["ppo_ratio_high_where"]) == ("AB L2", "PP L3")
    assert facts["human_beaten_at"] == ["VV L3 (human 35.27 vs PPO 42.20)"]
    paper = {claim.id: claim.paper for claim in build_ledger("book", published).claims}
    assert paper["c2_ppo_breaks_budget"] == "PPO cost 1.99× (AB L2) to 17.9× (PP L3) the budget"
    assert "AB 52.41 / 50" in paper["c3_lagrangian_tracks_budget"]

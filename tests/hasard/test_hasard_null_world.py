"""The hasard ledger in a world without the claimed effects (no claim may come out reproduced), in a
world with them (the pixel claims, and the LavaGrid's at smoke, do), a world where one learner does not
beat random play (only the claims resting on it become untestable), and claim_results on hand-made tables."""

import numpy as np
import pandas as pd
import pytest

from reprobook.claims import MINIATURE, NOT_TESTABLE, REPRODUCED, STAND_IN
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


def pixel_curves(final: dict[str, tuple[float, float]], seeds=range(5), rollouts=20, start_reward=10.0,
                 noise=0.1):
    """Pixel learning curves per method and seed, moving from ``start_reward`` to ``final[method]``."""
    rng = np.random.default_rng(2)
    rows = []
    for method, (reward, cost) in final.items():
        for seed in seeds:
            for index in range(rollouts):
                progress = min(1.0, index / (rollouts / 2))
                rows.append({"method": method, "seed": seed, "steps": 1024 * (index + 1),
                             "episode_reward": start_reward + progress * (reward - start_reward)
                             + rng.normal(0, noise),
                             "episode_cost": 5.0 + progress * (cost - 5.0) + rng.normal(0, noise / 2),
                             "lambda": 0.0, "budget": 5.0})
    return pd.DataFrame(rows)


def random_play(reward: float = 10.0, seeds=range(5), episodes: int = 4, noise: float = 0.5):
    """Random play on the pixel runs' environments: one row per episode."""
    rng = np.random.default_rng(3)
    return pd.DataFrame([{"seed": seed, "env": env, "episode": 0, "reward": reward + rng.normal(0, noise),
                          "cost": 8.0} for seed in seeds for env in range(episodes)])


PIXEL_EFFECT = {"ppo": (30.0, 20.0), "ppo_cost": (15.0, 0.5), "ppo_lag": (25.0, 5.0), "ppo_pid": (25.0, 5.1)}
LEARNERS = ("c2_ppo_breaks_budget", "c3_lagrangian_tracks_budget", "c4_pid_within_budget",
            "c5_penalty_overconservative")


def evaluate(profile, curves, pixel=None, random_reward=10.0, claims_on_pixels=None):
    """The ledger as ``profile`` builds it (pixels at book and paper, the grid at smoke) on these worlds."""
    published = published_table()
    on_pixels = profile != "smoke" if claims_on_pixels is None else claims_on_pixels
    ledger = build_ledger(profile, published, on_pixels)
    seeds = sorted(pixel.seed.unique()) if pixel is not None else range(5)
    results = claim_results(curves, 1.0, random_frame(), published, pixel, random_play(random_reward, seeds))
    return ledger, ledger.evaluate(results).set_index("claim")


@pytest.mark.parametrize("profile", ["smoke", "book", "paper"])
def test_null_world_every_learner_equals_its_control(profile):
    same = {method: (0.8, 3.0) for method in METHODS}  # every constrained learner behaves like PPO
    pixel = pixel_curves({method: (30.0, 40.0) for method in METHODS}, seeds=range(6))
    _, table = evaluate(profile, curves_frame(same), pixel)
    assert REPRODUCED not in set(table.verdict), table[["verdict", "note"]]


@pytest.mark.parametrize("profile", ["book", "paper"])
def test_null_world_nothing_learned_is_not_testable(profile):
    flat = {method: (-0.9, 1.0) for method in METHODS}
    pixel = pixel_curves({"ppo": (10.0, 40.0), "ppo_cost": (10.0, 0.5), "ppo_lag": (10.0, 5.0),
                          "ppo_pid": (10.0, 5.0)}, seeds=range(6))  # the claimed costs, at random play's reward
    _, table = evaluate(profile, curves_frame(flat), pixel)
    assert REPRODUCED not in set(table.verdict)
    assert (table.verdict == NOT_TESTABLE).all()
    assert "does not beat random play" in table.note["c2_ppo_breaks_budget"]
    assert "PPO-Cost" in table.note["c5_penalty_overconservative"]
    _, grid = evaluate("book", curves_frame(flat), pixel, claims_on_pixels=False)
    assert "initial uniform policy" in grid.note["c2_ppo_breaks_budget"]


def test_a_learner_below_random_play_makes_only_its_claims_untestable():
    collapsed = {**PIXEL_EFFECT, "ppo_cost": (10.0, 0.5)}  # PPO-Cost at random play's reward
    _, table = evaluate("book", curves_frame({m: (0.8, 3.0) for m in METHODS}), pixel_curves(collapsed))
    assert table.verdict["c5_penalty_overconservative"] == NOT_TESTABLE
    assert "PPO-Cost's final reward does not beat random play" in table.note["c5_penalty_overconservative"]
    assert (table.loc[["c2_ppo_breaks_budget", "c3_lagrangian_tracks_budget", "c4_pid_within_budget"],
                      "verdict"] == REPRODUCED).all(), table[["verdict", "note"]]
    assert (table.loc[list(LEARNERS), "evidence"] == MINIATURE).all()


def test_world_with_the_effects_reproduces_the_claims():
    effect = {"ppo": (0.8, 3.0), "ppo_cost": (0.4, 0.0), "ppo_lag": (0.7, 1.0), "ppo_pid": (0.7, 1.02)}
    pixel = pixel_curves({**PIXEL_EFFECT, "ppo": (30.0, 40.0)}, seeds=range(6))
    ledger, table = evaluate("paper", curves_frame(effect), pixel)
    assert (table.verdict == REPRODUCED).all(), table[["verdict", "note"]]
    checks = ledger.checks_table.set_index("check").status
    assert checks["k1_published_ppo_breaks_all"] == "passed"
    assert checks["k2_published_humans_beat_agents"] == "failed"  # VV L3: human 35.27 < PPO 42.20
    _, book = evaluate("book", curves_frame(effect), pixel)
    assert (book.loc[list(LEARNERS), "verdict"] == REPRODUCED).all()
    assert book.verdict["c7_pixel_lagrangian_lowers_cost"] == NOT_TESTABLE
    _, grid = evaluate("smoke", curves_frame(effect), pixel, claims_on_pixels=False)
    assert (grid.loc[list(LEARNERS), "evidence"] == STAND_IN).all()


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
    assert results["pixel_lag_vs_ppo_cost"] is None and not results["pixel_ppo_beats_random"].passed
    assert results["published_ppo_over_budget_share"] == 1.0
    assert results["published_human_beats_all_share"] == pytest.approx(5 / 6)
    assert results["random_below_ppo_share"] == pytest.approx(15 / 18)  # AB's published PPO rewards are below 10
    pixel = pixel_curves({"ppo": (30.0, 40.0), "ppo_lag": (25.0, 10.0)}, seeds=range(4), noise=0.0)
    pixel_results = claim_results(curves, 2.0, random_frame(), published_table(), pixel, random_play(seeds=range(4)))
    assert pixel_results["pixel_lag_vs_ppo_cost"] == pytest.approx([-0.75] * 4)
    assert pixel_results["pixel_lag_cost_over_budget"] == pytest.approx([2.0] * 4)
    assert len(pixel_results["pixel_ppo_seed_vs_seed_cost"]) == 2
    assert pixel_results["pixel_ppo_beats_random"].passed and pixel_results["pixel_ppo_lag_beats_random"].passed
    assert "PPO-PID was not run" in pixel_results["pixel_ppo_pid_beats_random"].reason
    no_floor = claim_results(curves, 2.0, random_frame(), published_table(), pixel)["pixel_ppo_beats_random"]
    assert not no_floor.passed and "random play was not measured" in no_floor.reason
    unfinished = pixel.assign(episode_cost=np.nan, episode_reward=np.nan)
    guard = claim_results(curves, 2.0, random_frame(), published_table(), unfinished,
                          random_play(seeds=range(4)))["pixel_ppo_beats_random"]
    assert not guard.passed


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

"""The six baselines' cost handling, the vectorised environments and the pixel learner, and c2–c5 from pixels."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from test_hasard_null_world import LEARNERS, pixel_curves

from reprobook.claims import MINIATURE, NOT_TESTABLE, REPRODUCED, STAND_IN
from reprobook.hasard import chapter
from reprobook.hasard.experiments import PixelRandomConfig, published_table, run_pixel_random
from reprobook.hasard.learnability import (
    CANDIDATES,
    VALIDATION_SEEDS,
    chosen,
    describe,
    learnable,
    read_record,
)
from reprobook.hasard.ledger import build_ledger, claim_results
from reprobook.hasard.penalties import METHODS, Penalty, PenaltySettings, SafetyState
from reprobook.hasard.pixel_ppo import PixelPPOConfig, run_cpu_seconds, train_pixel_ppo
from reprobook.hasard.ppo_update import RolloutBatch, ppo_update
from reprobook.hasard.vec_env import VecConfig, VecHasardEnv
from reprobook.params import ParameterError


def test_saute_state_is_spent_exactly_when_the_budget_is():
    state = SafetyState(budget=3.0, gamma=1.0, n_envs=1)
    spent = [bool(state.step(np.array([1.0]))[0]) for _ in range(4)]
    assert spent == [False, False, True, True]
    assert state.z[0] == pytest.approx(-1 / 3)
    state.reset(np.array([True]))
    assert state.z[0] == 1.0
    discounted = SafetyState(budget=1.0, gamma=0.5, n_envs=1)
    discounted.step(np.array([0.0]))
    assert discounted.z[0] == pytest.approx(2.0)  # z grows by 1/γ_s while nothing is spent


def test_penalty_shapes_rewards_per_method():
    rewards, costs = np.array([1.0, 1.0]), np.array([0.0, 2.0])
    assert Penalty(PenaltySettings("ppo", 5.0), 2).shape(rewards, costs).tolist() == [1.0, 1.0]
    assert Penalty(PenaltySettings("ppo_cost", 5.0, penalty_scaling=0.1), 2).shape(rewards, costs).tolist() == \
        pytest.approx([1.0, 0.8])
    saute = Penalty(PenaltySettings("ppo_saute", 2.0, saute_gamma=1.0, unsafe_reward=-0.5), 2)
    assert saute.observes_safety and saute.safety_inputs().tolist() == [1.0, 1.0]
    assert saute.shape(rewards, costs).tolist() == [1.0, -0.5]
    saute.episodes_done(np.array([False, True]))
    assert saute.safety_inputs().tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="method"):
        PenaltySettings("cpo", 5.0)
    with pytest.raises(ValueError, match="budget"):
        PenaltySettings("ppo", 0.0)


def test_penalty_multipliers_and_p3o_term():
    lag = Penalty(PenaltySettings("ppo_lag", 5.0, lagrangian_lr=0.1), 1)
    assert lag.update(np.nan) == 0.0  # no finished episode: λ stays
    assert lag.update(15.0) == pytest.approx(1.0)
    assert lag.update(np.nan) == pytest.approx(1.0)
    pid = Penalty(PenaltySettings("ppo_pid", 5.0), 1)
    trace = [pid.update(20.0) for _ in range(5)]  # cost above the budget: λ only rises
    assert trace[0] > 0 and all(later >= earlier for earlier, later in zip(trace, trace[1:], strict=False))
    p3o = Penalty(PenaltySettings("p3o", 5.0, gamma=0.99, p3o_kappa=2.0), 1)
    assert p3o.p3o_term() == (0.0, 0.0)
    assert p3o.update(15.0) == 0.0
    assert p3o.p3o_term() == pytest.approx((2.0, 0.1))
    assert Penalty(PenaltySettings("ppo_lag", 5.0), 1).p3o_term() == (0.0, 0.0)


def test_p3o_update_lowers_the_costly_action_only_when_the_constraint_is_broken():
    def run(gap: float) -> float:
        table = torch.zeros(1, 2, requires_grad=True)
        heads = torch.zeros(1, 2, requires_grad=True)
        batch = RolloutBatch(torch.tensor([0, 0]), torch.tensor([0, 1]), torch.log(torch.full((2,), 0.5)),
                             torch.zeros(2), torch.zeros(2), torch.zeros(2), cost_advantages=torch.tensor([1.0, -1.0]))
        ppo_update(lambda s: (table[s], heads[s, 0], heads[s, 1]), torch.optim.SGD([table, heads], lr=0.5), batch,
                   np.random.default_rng(0), epochs=1, minibatches=1, clip=0.2, p3o=(1.0, gap))
        return float(torch.softmax(table[0].detach(), 0)[0])

    assert run(gap=1.0) < 0.5  # J_c above the budget: the action with the positive cost advantage loses mass
    assert run(gap=-1.0) == pytest.approx(0.5)  # within the budget: the penalty is inactive


def test_vectorised_environments_do_not_depend_on_the_workers():
    config = VecConfig("collateral_damage", 1, n_envs=3, downscale=8, max_episode_steps=7, seed=3)
    actions = np.random.default_rng(0).integers(0, 6, size=(16, 3))
    streams = []
    for workers in (0, 2):
        with VecHasardEnv(config, workers=workers) as envs:
            first = envs.reset()
            steps = [envs.step(row) for row in actions]
        streams.append((first, steps))
    (first0, steps0), (first2, steps2) = streams
    assert first0.shape == (3, 1, 15, 20) and first0.dtype == np.uint8
    np.testing.assert_array_equal(first0, first2)
    for a, b in zip(steps0, steps2, strict=True):
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.reward, b.reward)
        np.testing.assert_array_equal(a.cost, b.cost)
        np.testing.assert_array_equal(a.done, b.done)
    done = np.array([step.done for step in steps0])
    assert done[6].all() and done[13].all() and done.sum() == 6  # cut at 7 steps, twice in 16
    rewards = np.array([step.reward for step in steps0])
    totals = np.array([step.episode_reward for step in steps0])
    np.testing.assert_allclose(totals[6], rewards[:7].sum(0))
    assert np.isnan(totals[5]).all()
    with pytest.raises(ValueError, match="actions"):
        VecHasardEnv(config).step(np.array([0, 1, 99]))
    with pytest.raises(ValueError, match="workers"):
        VecHasardEnv(config, workers=5)


@pytest.mark.parametrize("method", METHODS)
def test_pixel_learner_runs_every_method(method):
    config = PixelPPOConfig(method=method, total_steps=64, n_envs=2, rollout=16, episode_steps=8, downscale=8,
                            minibatches=2, workers=0)
    rows = train_pixel_ppo(config)
    assert rows.steps.tolist() == [32, 64]
    assert (rows.episodes == 4).all() and rows.episode_cost.notna().all()
    assert rows.budget.iloc[0] == pytest.approx(5.0 * 8 / 525)
    assert (rows.tree_cpu_s > 0).all() and (rows["lambda"] >= 0).all()
    with pytest.raises(ValueError, match="method"):
        train_pixel_ppo(PixelPPOConfig(method="cpo"))


def test_claims_on_pixels_is_validated():
    with pytest.raises(ParameterError, match="claims_on_pixels"):
        chapter.validate_parameters(pixel_seeds=[0])  # the book judges from pixels: one seed is too few
    with pytest.raises(ParameterError, match="claims_on_pixels"):
        chapter.validate_parameters(pixel_methods=["ppo", "ppo_lag"])
    with pytest.raises(ParameterError, match="validation seeds"):
        chapter.validate_parameters(pixel_seeds=[0, 1, 1001])
    with pytest.raises(ParameterError, match="pixel_downscale"):
        chapter.validate_parameters(pixel_downscale=3)
    with pytest.raises(ParameterError, match="pixel_episode_steps"):
        chapter.validate_parameters(pixel_episode_steps=600)
    with pytest.raises(ParameterError, match="pixel_random_episodes"):
        chapter.validate_parameters(pixel_random_episodes=0)
    assert chapter.validate_parameters(claims_on_pixels=False, pixel_seeds=[1001]).pixel_seeds == (1001,)
    params = chapter.validate_parameters(pixel_workers=16, pixel_episode_steps=64)
    configs = params.pixel_configs()
    assert len(configs) == 12 and {c.workers for c in configs} == {8} and {c.episode_steps for c in configs} == {64}
    assert params.paper_only == ("ppo_saute", "p3o")
    randoms = params.pixel_random_configs()
    assert [r.seed for r in randoms] == [0, 1, 2] and {r.episode_steps for r in randoms} == {64}
    assert chapter.validate_parameters().pixel_configs()[0].episode_steps is None


def _judge(pixel: pd.DataFrame, grid_final, random_reward: float = 10.0) -> pd.DataFrame:
    from test_hasard_null_world import curves_frame, random_frame, random_play

    published = published_table()
    ledger = build_ledger("paper", published, claims_on_pixels=True)
    results = claim_results(curves_frame(grid_final), 1.0, random_frame(), published, pixel,
                            random_play(random_reward))
    return ledger.evaluate(results).set_index("claim")


GRID_EFFECT = {"ppo": (0.8, 3.0), "ppo_cost": (0.4, 0.0), "ppo_lag": (0.7, 1.0), "ppo_pid": (0.7, 1.02)}


def test_pixel_claims_are_judged_from_pixels_and_can_fail():
    effect = {"ppo": (30.0, 20.0), "ppo_cost": (15.0, 0.5), "ppo_lag": (25.0, 5.0), "ppo_pid": (25.0, 5.1)}
    table = _judge(pixel_curves(effect), GRID_EFFECT)
    assert (table.loc[list(LEARNERS), "verdict"] == REPRODUCED).all(), table[["verdict", "note"]]
    assert (table.loc[list(LEARNERS), "evidence"] == MINIATURE).all()
    assert "from pixels" in table.note["c2_ppo_breaks_budget"]
    # a null pixel world with the grid's effects intact: the pixel rows must not follow the grid
    null = {method: (30.0, 20.0) for method in effect}
    table = _judge(pixel_curves(null), GRID_EFFECT)
    assert REPRODUCED not in set(table.loc[list(LEARNERS), "verdict"]), table[["verdict", "note"]]
    # every learner ending where random play is: nothing learned, not testable
    table = _judge(pixel_curves(effect), GRID_EFFECT, random_reward=40.0)
    assert (table.loc[list(LEARNERS), "verdict"] == NOT_TESTABLE).all()
    assert "does not beat random play" in table.note["c3_lagrangian_tracks_budget"]


def test_book_judges_from_pixels_and_smoke_keeps_the_grid_as_stand_in():
    from reprobook.run import resolve_parameters

    book = chapter.validate_parameters(**resolve_parameters("hasard", "book"))
    ledger = build_ledger("book", published_table(), book.claims_on_pixels, book.pixel_scenario,
                          pixel_setting=book.pixel_setting(), paper_only=book.paper_only)
    judged = {claim.id: claim for claim in ledger.claims if claim.id in LEARNERS}
    assert {claim.evidence for claim in judged.values()} == {MINIATURE}
    assert all(claim.metric.startswith("pixel_") and "book" in claim.testable_in for claim in judged.values())
    assert judged["c5_penalty_overconservative"].guards == ("pixel_ppo_cost_beats_random",
                                                            "pixel_ppo_lag_beats_random", "pixel_ppo_beats_random")
    assert "PPO-Saute, P3O run only at the paper profile" in judged["c2_ppo_breaks_budget"].notes
    assert set(book.pixel_methods) == {"ppo", "ppo_cost", "ppo_lag", "ppo_pid"} and len(book.pixel_seeds) >= 3
    smoke = chapter.validate_parameters(**resolve_parameters("hasard", "smoke"))
    grid = build_ledger("smoke", published_table(), smoke.claims_on_pixels)
    assert {claim.evidence for claim in grid.claims if claim.id in LEARNERS} == {STAND_IN}
    assert all(claim.metric.startswith("cmdp_") for claim in grid.claims if claim.id in LEARNERS)


def test_pixel_paper_column_follows_the_scenario_and_the_paper_profile_judges_from_pixels():
    from reprobook.run import resolve_parameters

    paper = {c.id: c.paper for c in build_ledger("paper", published_table(), True, "remedy_rush").claims}
    assert paper["c7_pixel_lagrangian_lowers_cost"] == "RR L1: PPO-Lag cost 5.25 vs PPO 52.44"
    params = chapter.validate_parameters(**resolve_parameters("hasard", "paper"))
    assert params.claims_on_pixels and len(params.pixel_seeds) >= 3
    assert set(params.pixel_methods) == set(METHODS) and params.paper_only == ()


def test_random_play_runs_on_the_learners_environments_and_workers_report_their_cpu():
    learner = PixelPPOConfig(scenario="remedy_rush", method="ppo", total_steps=64, n_envs=4, rollout=8,
                             episode_steps=8, downscale=8, minibatches=2, workers=2, seed=4)
    play = run_pixel_random(PixelRandomConfig.matching(learner, episodes=2))
    assert len(play) == 8 and sorted(play.groupby("env").episode.max()) == [1, 1, 1, 1]
    assert set(play.seed) == {4} and play[["reward", "cost"]].notna().all().all()
    # the same episode seeds as the learner's: its first frames are the random run's first frames
    with VecHasardEnv(VecConfig("remedy_rush", 1, 4, 8, max_episode_steps=8, seed=4), workers=2) as envs:
        first = envs.reset()
    with VecHasardEnv(VecConfig("remedy_rush", 1, 4, 8, max_episode_steps=8, seed=4), workers=0) as envs:
        np.testing.assert_array_equal(first, envs.reset())
    assert len(envs.worker_cpu_seconds) == 0  # no workers: nothing to report
    rows = train_pixel_ppo(learner)
    assert rows.workers_cpu_s.nunique() == 1 and rows.workers_cpu_s.iloc[0] > 0
    assert (rows.learner_cpu_s.diff().dropna() >= 0).all()
    counted = run_cpu_seconds(rows)
    assert counted[("ppo", 4)] == pytest.approx(rows.learner_cpu_s.iloc[-1] + rows.workers_cpu_s.iloc[0])
    inline = train_pixel_ppo(dataclasses.replace(learner, workers=0))
    assert run_cpu_seconds(inline)[("ppo", 4)] == pytest.approx(inline.tree_cpu_s.iloc[-1])


def test_learnability_rule_and_record():
    passed, difference = learnable([14.0, 12.0, 13.0], [2.0, 2.5, 1.5])
    assert passed and difference.value == pytest.approx(11.0)
    assert not learnable([4.0, 2.5, 3.4], [2.0, 2.5, 1.5])[0]  # above random, not by half its reward
    with pytest.raises(ValueError, match="same two or more seeds"):
        learnable([1.0], [1.0])
    larger = {**CANDIDATES[0], "downscale": 2}
    record = {"candidates": [
        {**CANDIDATES[0], "seeds": [1000, 1001, 1002], "ppo_final_reward": [2.0, 3.0, 1.0],
         "random_reward": [2.0, 2.0, 2.0]},
        {**larger, "seeds": [1000, 1001, 1002], "ppo_final_reward": [9.0, 10.0, 11.0],
         "random_reward": [2.0, 2.0, 2.0]}]}
    assert chosen(record)["downscale"] == 2
    text = describe(record, chapter.validate_parameters().learnability_setting())
    assert "not learnable" in text and "the rule chose RR L1, 80 × 60 grey" in text
    assert "no candidate" in describe({"candidates": record["candidates"][:1]}, {})
    recorded = read_record()
    assert recorded is not None, "run python -m reprobook.hasard.learnability to record the sweep"
    assert set(recorded["candidates"][0]["seeds"]) == set(VALIDATION_SEEDS)
    for row in recorded["candidates"]:  # the recorded verdicts follow from the recorded numbers
        assert learnable(row["ppo_final_reward"], row["random_reward"])[0] == row["learnable"]

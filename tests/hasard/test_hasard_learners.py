"""Lagrangian and PID updates by hand, GAE vs brute force, the tiny CMDP against its LP optimum."""

import numpy as np
import pytest

from reprobook.hasard import chapter
from reprobook.hasard.cmdp import (
    LagrangeMultiplier,
    LavaGrid,
    PIDLagrangian,
    PPOConfig,
    gae,
    optimal_constrained_return,
    train_ppo,
)
from reprobook.params import ParameterError


def test_lagrange_update_by_hand_and_monotone():
    multiplier = LagrangeMultiplier(budget=5.0, lr=0.01)
    assert multiplier.update(7.0) == pytest.approx(0.02)
    assert multiplier.update(2.0) == pytest.approx(0.0 + 0.02 - 0.03 if 0.02 - 0.03 > 0 else 0.0)
    assert multiplier.value == 0.0  # clipped at zero
    trace = [multiplier.update(9.0) for _ in range(20)]
    assert all(later > earlier for earlier, later in zip(trace, trace[1:], strict=False))
    assert min(trace) >= 0


def test_pid_trace_by_hand():
    pid = PIDLagrangian(budget=5.0, kp=0.1, ki=0.01, kd=0.01, delay=2, ema=0.5)
    # step 1: error 5 -> I 0.05, error EMA 2.5, cost EMA 5, D = 5 - 0 -> λ = 0.25 + 0.05 + 0.05
    assert pid.update(10.0) == pytest.approx(0.35)
    # step 2: error -5 -> I 0, error EMA -1.25, cost EMA 2.5, D = max(0, 2.5 - 0) -> λ = 0 + 0 + 0.025
    assert pid.update(0.0) == pytest.approx(0.025)
    # step 3: error 5 -> I 0.05, error EMA 1.875, cost EMA 6.25, D = 6.25 - 5 -> λ = 0.1875 + 0.05 + 0.0125
    assert pid.update(10.0) == pytest.approx(0.25)
    capped = PIDLagrangian(budget=0.0, ki=10.0, max_penalty=3.0)
    assert [capped.update(1.0) for _ in range(3)][-1] == 3.0


def test_gae_equals_brute_force_discounted_sum():
    rng = np.random.default_rng(1)
    rewards = rng.normal(size=(7, 3))
    dones = np.zeros((7, 3))
    dones[3, 1] = 1.0
    values = np.zeros((7, 3))
    last = np.zeros(3)
    advantages = gae(rewards, values, dones, last, gamma=0.9, lam=1.0)
    for env in range(3):
        for t in range(7):
            total, discount = 0.0, 1.0
            for k in range(t, 7):
                total += discount * rewards[k, env]
                discount *= 0.9
                if dones[k, env]:
                    break
            assert advantages[t, env] == pytest.approx(total)


def test_lp_optimum_and_learners_reach_it():
    grid = LavaGrid()
    assert optimal_constrained_return(grid, None) == pytest.approx((0.8, 3.0))
    assert optimal_constrained_return(grid, 1.0) == pytest.approx((0.7, 1.0))
    assert optimal_constrained_return(grid, 0.0) == pytest.approx((0.6, 0.0))
    ppo = train_ppo(PPOConfig(method="ppo", iterations=80)).tail(10)
    lag = train_ppo(PPOConfig(method="ppo_lag", iterations=120)).tail(20)
    assert ppo.episode_cost.mean() > 2.5
    assert 0.6 <= lag.episode_cost.mean() <= 1.4
    assert (lag["lambda"] >= 0).all()


def test_parameters_are_validated_with_names():
    with pytest.raises(ParameterError, match="'scenarios'"):
        chapter.validate_parameters(scenarios=["doom"])
    with pytest.raises(ParameterError, match="'heatmap_level'"):
        chapter.validate_parameters(levels=[1], heatmap_level=2)
    with pytest.raises(ParameterError, match="unknown parameter"):
        chapter.validate_parameters(episodes=3)
    params = chapter.validate_parameters(cmdp_methods=["ppo_pid"], cmdp_seeds=[4])
    assert [(c.method, c.seed) for c in params.cmdp_configs()] == [("ppo_pid", 4)]


@pytest.mark.parametrize(("name", "value"), [
    ("random_episodes", 10**6), ("random_max_steps", 10**6), ("cmdp_iterations", 10**9), ("pixel_steps", 10**12),
    ("pixel_envs", 10**4), ("cmdp_seeds", list(range(101))), ("pixel_seeds", list(range(101))),
])
def test_size_parameters_have_a_maximum_named_in_the_message(name, value):
    with pytest.raises(ParameterError, match=name):
        chapter.validate_parameters(**{name: value})


def test_device_parameter_is_validated_and_reaches_the_pixel_learner():
    with pytest.raises(ParameterError, match="device"):
        chapter.validate_parameters(device="tpu")
    params = chapter.validate_parameters(profile="smoke", device="cpu", pixel_steps=512)
    assert {config.device for config in params.pixel_configs()} == {"cpu"}
    assert chapter.validate_parameters().device == "cpu"  # book and smoke stay on the CPU


def test_rollout_batch_moves_to_a_device_unchanged_on_cpu():
    import torch

    from reprobook.hasard.ppo_update import RolloutBatch

    batch = RolloutBatch(*(torch.arange(4.0) + offset for offset in range(6)))
    moved = batch.to("cpu")
    assert all(torch.equal(getattr(moved, name), getattr(batch, name))
               for name in ("inputs", "actions", "old_logp", "advantages", "returns", "cost_returns"))

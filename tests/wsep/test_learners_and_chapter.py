"""Differentiable occupancies, finite-difference gradients, learned ≤ exact, parameter checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from reprobook.params import ParameterError
from reprobook.wsep.chapter import validate_parameters
from reprobook.wsep.experiments import LearnedConfig, run_learned
from reprobook.wsep.learners import occupancies_from_logits, skill_objective
from reprobook.wsep.mdp import gridworld
from reprobook.wsep.occupancy import occupancy
from reprobook.wsep.transport import ground_cost


def test_differentiable_occupancy_and_gradient_match_references():
    mdp = gridworld(2, 3)
    cost = ground_cost(mdp)
    logits = np.random.default_rng(0).standard_normal((3, mdp.n_states, mdp.n_actions))
    with jax.enable_x64(True):
        args = (jnp.asarray(mdp.transitions), jnp.asarray(mdp.start), mdp.gamma)
        rho = np.asarray(occupancies_from_logits(jnp.asarray(logits), *args))
        for z in range(3):
            policy = np.exp(logits[z]) / np.exp(logits[z]).sum(axis=1, keepdims=True)
            np.testing.assert_allclose(rho[z], occupancy(mdp, policy), atol=1e-12)
        for objective in ("misl", "wsep"):
            def value(theta, objective=objective):
                return skill_objective(occupancies_from_logits(theta, *args), objective, jnp.asarray(cost), 0.5, 300)
            grad = np.asarray(jax.grad(value)(jnp.asarray(logits)))
            rng = np.random.default_rng(1)
            for _ in range(3):
                index = tuple(rng.integers(0, s) for s in logits.shape)
                step = np.zeros_like(logits)
                step[index] = 1e-6
                numeric = (float(value(jnp.asarray(logits + step))) - float(value(jnp.asarray(logits - step)))) / 2e-6
                assert abs(numeric - grad[index]) < 1e-6 * max(1.0, abs(numeric))


@pytest.mark.parametrize("objective", ["misl", "wsep", "pwsep"])
def test_learned_never_beats_exact_and_is_deterministic(objective):
    config = LearnedConfig(grid="2x3", objective=objective, n_skills=3, seed=0, steps=50)
    first = run_learned(config)["summary"].iloc[0]
    second = run_learned(config)["summary"].iloc[0]
    assert first.learned_value <= first.exact_optimum + 1e-9
    assert first.learned_value == second.learned_value
    assert first.distinct_vertices == second.distinct_vertices


def test_parameters_are_checked_by_name():
    with pytest.raises(ParameterError, match="grids"):
        validate_parameters(grids=["5x5"])
    with pytest.raises(ParameterError, match="vertex_method"):
        validate_parameters(vertex_method="brute", grids=["3x3", "4x4"])
    with pytest.raises(ParameterError, match="unknown parameter"):
        validate_parameters(gama=0.9)
    with pytest.raises(ParameterError, match="learned_steps"):
        validate_parameters(learned_steps=30)
    assert validate_parameters(profile="smoke", grids=["2x3"]).grids == ("2x3",)


@pytest.mark.parametrize(("name", "value"), [
    ("n_rewards", 10**9), ("family_processes", 10**7), ("pwsep_max_vertices", 10**6), ("learned_steps", 10**8),
    ("n_skill_sets", 10**7), ("learned_skills", 1000), ("k_list", [10**6]), ("seeds", list(range(101))),
    ("pwsep_seeds", list(range(101))),
])
def test_size_parameters_have_a_maximum_named_in_the_message(name, value):
    with pytest.raises(ParameterError, match=name):
        validate_parameters(**{name: value})


def test_device_parameter_is_validated_and_reaches_the_learners():
    with pytest.raises(ParameterError, match="device"):
        validate_parameters(device="tpu")
    assert validate_parameters().device == "cpu"  # book and smoke stay on the CPU
    configs = validate_parameters(profile="smoke", device="cpu").learned_configs()
    assert {config.device for config in configs} == {"cpu"}

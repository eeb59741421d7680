"""Occupancies and vertices against independent references (series sums, value iteration, LPs)."""

import numpy as np
import pytest

from reprobook.wsep.mdp import gridworld, three_state_example
from reprobook.wsep.occupancy import (
    brute_force_occupancies,
    deterministic_occupancies,
    greedy_policies,
    lasso_occupancies,
    occupancy,
    unique_rows,
)
from reprobook.wsep.polytope import extreme_points, extreme_points_fast, separating_reward


def series_occupancy(mdp, policy, horizon=600):
    """(1 − γ) Σ_t γ^t μ P_π^t, truncated: an independent reference for the linear solve."""
    p_pi = np.einsum("sa,sat->st", policy, mdp.transitions)
    state, total = mdp.start.copy(), np.zeros(mdp.n_states)
    for t in range(horizon):
        total += (1 - mdp.gamma) * mdp.gamma**t * state
        state = state @ p_pi
    return total


def test_occupancy_matches_series_for_random_stochastic_policies():
    mdp = gridworld(2, 3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        policy = rng.dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)
        np.testing.assert_allclose(occupancy(mdp, policy), series_occupancy(mdp, policy), atol=1e-12)


def test_batched_deterministic_equals_per_policy_solve():
    mdp = gridworld(3, 3)
    actions = np.random.default_rng(1).integers(0, 5, size=(50, mdp.n_states))
    batched = deterministic_occupancies(mdp, actions)
    for row, acts in zip(batched, actions, strict=True):
        np.testing.assert_allclose(row, occupancy(mdp, np.eye(5)[acts]), atol=1e-13)


@pytest.mark.parametrize("mdp, n_points", [(three_state_example(), 4), (gridworld(2, 3), 43)])
def test_lasso_enumeration_equals_brute_force(mdp, n_points):
    brute, n_policies = brute_force_occupancies(mdp)
    lasso = lasso_occupancies(mdp)
    assert n_policies == mdp.n_actions**mdp.n_states
    assert len(lasso) == len(brute) == n_points
    np.testing.assert_allclose(lasso, brute, atol=1e-12)


def test_three_state_vertices_match_hand_computation():
    gamma = 0.9
    vertices = extreme_points(lasso_occupancies(three_state_example(gamma)))
    # stay at 0; 0↔1 cycle; 0↔2 cycle; 0→2→1→0 cycle (hand-derived geometric sums)
    cycle3 = (1 - gamma) / (1 - gamma**3) * np.array([1, gamma**2, gamma])
    expected = unique_rows(np.array([[1, 0, 0], [1 / (1 + gamma), gamma / (1 + gamma), 0],
                                     [1 / (1 + gamma), 0, gamma / (1 + gamma)], cycle3]))
    np.testing.assert_allclose(vertices, expected, atol=1e-10)


@pytest.mark.parametrize("mdp, n_vertices", [(gridworld(2, 3), 10), (gridworld(3, 3), 25)])
def test_vertices_equal_value_iteration_optima_over_random_rewards(mdp, n_vertices):
    points = lasso_occupancies(mdp)
    vertices = extreme_points_fast(points)
    assert len(vertices) == n_vertices
    # 3×3 has a vertex with a tiny normal cone: 10,000 rewards miss it, 40,000 do not
    rewards = np.random.default_rng(3).standard_normal((40_000, mdp.n_states))
    optima = unique_rows(deterministic_occupancies(mdp, greedy_policies(mdp, rewards)))
    np.testing.assert_allclose(optima, vertices, atol=1e-9)


def test_fast_extraction_equals_naive_and_separating_rewards_certify_vertices():
    mdp = gridworld(3, 4, walls=[(0, 2), (2, 2)])
    points = lasso_occupancies(mdp)
    vertices = extreme_points(points)
    np.testing.assert_allclose(extreme_points_fast(points), vertices)
    index = {tuple(np.round(p, 10)): i for i, p in enumerate(points)}
    for vertex in vertices:
        reward, margin = separating_reward(points, index[tuple(np.round(vertex, 10))])
        assert margin > 1e-9
        best = deterministic_occupancies(mdp, greedy_policies(mdp, reward[None]))[0]
        np.testing.assert_allclose(best, vertex, atol=1e-9)
    non_vertex = [i for i, p in enumerate(points) if not np.any(np.all(np.isclose(vertices, p), axis=1))]
    assert separating_reward(points, non_vertex[0])[1] <= 1e-9

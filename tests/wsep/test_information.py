"""MISL capacity three ways, Eysenbach's equidistance facts, LSEPIN bounds."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from reprobook.wsep.information import (
    binary_entropy,
    blahut_arimoto,
    capacity_cvxpy,
    indicator_information,
    kl_divergence,
    kl_sphere_on_simplex,
    lsepin,
    mutual_information,
)
from reprobook.wsep.mdp import gridworld, three_state_example
from reprobook.wsep.occupancy import lasso_occupancies
from reprobook.wsep.polytope import extreme_points_fast


def vertices_of(mdp):
    return extreme_points_fast(lasso_occupancies(mdp))


@pytest.mark.parametrize("mdp, capacity, support, interior", [
    (three_state_example(), 0.3814, 3, 1), (gridworld(2, 3), 1.3092, 9, 1), (gridworld(3, 3), 1.5609, 19, 6)])
def test_capacity_three_ways_and_equidistance(mdp, capacity, support, interior):
    vertices = vertices_of(mdp)
    result = blahut_arimoto(vertices)
    assert result.gap < 1e-10
    cvx_value, _ = capacity_cvxpy(vertices)
    assert abs(result.capacity - cvx_value) < 1e-6
    assert abs(result.capacity - result.kl_to_centre.max()) < 1e-9  # minimax identity
    assert round(result.capacity, 4) == capacity
    used = result.support()
    assert used.sum() == support
    # Carathéodory: a basic solution of V_sphereᵀ p = q* uses at most |S| skills
    sphere = vertices[result.on_sphere()]
    basic = linprog(np.zeros(len(sphere)), A_eq=sphere.T, b_eq=result.centre, bounds=(0, None), method="highs-ds")
    assert basic.status == 0 and np.count_nonzero(basic.x > 1e-12) <= mdp.n_states
    np.testing.assert_allclose(result.kl_to_centre[used], result.capacity, atol=1e-6)
    assert (result.kl_to_centre < result.capacity - 1e-6).sum() == interior
    assert np.all(result.weights[~result.on_sphere()] < 1e-6)


def test_three_state_centre_and_interior_kl():
    result = blahut_arimoto(vertices_of(three_state_example()))
    np.testing.assert_allclose(result.centre, [0.683, 0.158, 0.158], atol=1e-3)
    assert round(float(result.kl_to_centre.min()), 3) == 0.208


def test_capacity_is_max_over_a_fine_grid_of_weights():
    vertices = vertices_of(three_state_example())
    grid = [np.array(w) / 40 for w in itertools.product(range(41), repeat=3) if sum(w) <= 40]
    best = max(mutual_information(vertices, np.r_[w, 1 - w.sum()]) for w in grid)
    assert best <= blahut_arimoto(vertices).capacity + 1e-12
    assert best > blahut_arimoto(vertices).capacity - 1e-3


def test_kl_is_infinite_on_support_mismatch():
    assert kl_divergence(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == np.inf


def test_lsepin_bounds_and_special_cases():
    rng = np.random.default_rng(0)
    for _ in range(20):
        skills = rng.dirichlet(np.ones(5), size=4)
        weights = rng.dirichlet(np.ones(4))
        values = indicator_information(skills, weights)
        assert np.all(values >= -1e-12)
        assert np.all(values <= binary_entropy(weights) + 1e-12)
    disjoint = np.eye(4)
    np.testing.assert_allclose(indicator_information(disjoint), binary_entropy(0.25), atol=1e-12)
    same = np.tile(rng.dirichlet(np.ones(5)), (3, 1))
    np.testing.assert_allclose(indicator_information(same), 0.0, atol=1e-12)
    pair = rng.dirichlet(np.ones(5), size=2)
    weights = np.array([0.3, 0.7])
    assert lsepin(pair, weights) == pytest.approx(mutual_information(pair, weights), abs=1e-12)


def test_kl_sphere_points_are_at_the_radius():
    centre = np.array([0.5, 0.3, 0.2])
    points = kl_sphere_on_simplex(centre, 0.1, n_points=37)
    distances = np.array([kl_divergence(p, centre) for p in points])
    np.testing.assert_allclose(distances, 0.1, atol=1e-9)

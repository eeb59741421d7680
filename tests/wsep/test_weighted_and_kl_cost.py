"""Weighted WSEP (Σ p_i p_j W over the simplex) and the KL adaptation cost, against independent references."""

import itertools

import numpy as np
import pytest

from reprobook.wsep.adaptation import evaluate_skills, optimal_vertices
from reprobook.wsep.discovery import weighted_wsep, weighted_wsep_value
from reprobook.wsep.experiments import build_process, cost_for
from reprobook.wsep.information import kl_divergence
from reprobook.wsep.occupancy import lasso_occupancies
from reprobook.wsep.polytope import extreme_points_fast
from reprobook.wsep.transport import wasserstein_matrix


def brute_force_standard_qp(distances: np.ndarray) -> float:
    """max ½ pᵀWp over the simplex by enumerating supports: the maximiser is stationary on the
    relative interior of some face, so solving W_SS p = λ1, 1ᵀp = 1 for every S and keeping the
    feasible solutions (and the vertices of the simplex) finds it."""
    n = len(distances)
    best = 0.0
    for size in range(2, n + 1):
        for support in itertools.combinations(range(n), size):
            block = distances[np.ix_(support, support)]
            system = np.block([[block, -np.ones((size, 1))], [np.ones((1, size)), np.zeros((1, 1))]])
            try:
                solution = np.linalg.solve(system, np.r_[np.zeros(size), 1.0])
            except np.linalg.LinAlgError:
                continue
            weights = solution[:size]
            if weights.min() >= -1e-12:
                best = max(best, 0.5 * weights @ block @ weights)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_weighted_wsep_equals_support_enumeration_on_random_metrics(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    points = rng.dirichlet(np.ones(4), size=n)  # distributions on a 4-state line, cost |i − j|
    cdf = np.cumsum(points, axis=1)
    distances = np.abs(cdf[:, None, :] - cdf[None, :, :]).sum(axis=2)  # exact 1-D W₁
    result = weighted_wsep(distances, seed=seed)
    assert result.value == pytest.approx(brute_force_standard_qp(distances), abs=1e-10)
    assert result.weights.min() >= 0 and result.weights.sum() == pytest.approx(1.0)
    assert result.gap <= 1e-9
    assert result.value == pytest.approx(weighted_wsep_value(result.weights, distances))


@pytest.mark.parametrize("grid", ["3-state", "2x3"])
def test_weighted_wsep_on_the_chapter_processes_equals_enumeration(grid):
    mdp = build_process(grid)
    vertices = extreme_points_fast(lasso_occupancies(mdp))
    distances = wasserstein_matrix(vertices, cost_for(mdp, "auto"))
    result = weighted_wsep(distances)
    assert result.value == pytest.approx(brute_force_standard_qp(distances), abs=1e-10)
    assert len(vertices) == len(result.weights)


def test_weighted_wsep_closed_forms():
    # two points: p = (½, ½), value W/4; three equidistant points: uniform, value D/3
    assert weighted_wsep(np.array([[0, 2.0], [2.0, 0]])).value == pytest.approx(0.5)
    equilateral = 1.0 - np.eye(3)
    result = weighted_wsep(equilateral)
    assert result.weights == pytest.approx(np.full(3, 1 / 3))
    assert result.value == pytest.approx(1 / 3)
    # a fine grid over the simplex never beats it (3 points with a midpoint)
    line = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0.0]])
    grid = [np.array([a, b, 1 - a - b]) for a in np.linspace(0, 1, 101) for b in np.linspace(0, 1 - a, 51)]
    assert max(weighted_wsep_value(w, line) for w in grid) <= weighted_wsep(line).value + 1e-12


def test_kl_adaptation_cost_equals_a_loop_over_rewards():
    vertices = np.array([[0.6, 0.4, 0.0], [0.0, 0.5, 0.5], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])
    rewards = np.random.default_rng(0).standard_normal((50, 3))
    distances = np.ones((4, 4)) - np.eye(4)
    skills = np.array([0, 2])
    metrics = evaluate_skills(vertices, skills, rewards, distances)
    mixture = vertices[skills].mean(axis=0)
    expected = np.mean([kl_divergence(vertices[best], mixture) for best in optimal_vertices(vertices, rewards)])
    assert metrics["kl_adaptation_cost"] == pytest.approx(expected)
    assert np.isfinite(metrics["kl_adaptation_cost"])
    # a skill set that misses a state some optimum visits pays an infinite KL cost
    assert evaluate_skills(vertices, np.array([0]), rewards, distances)["kl_adaptation_cost"] == np.inf
    # weighted mixtures are honoured
    weighted = evaluate_skills(vertices, skills, rewards, distances, weights=np.array([0.9, 0.1]))
    mixture = 0.9 * vertices[0] + 0.1 * vertices[2]
    expected = np.mean([kl_divergence(vertices[best], mixture) for best in optimal_vertices(vertices, rewards)])
    assert weighted["kl_adaptation_cost"] == pytest.approx(expected)

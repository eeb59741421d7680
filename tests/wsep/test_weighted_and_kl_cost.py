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


def test_kl_mixture_adaptation_cost_equals_a_loop_over_rewards():
    vertices = np.array([[0.6, 0.4, 0.0], [0.0, 0.5, 0.5], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])
    rewards = np.random.default_rng(0).standard_normal((50, 3))
    distances = np.ones((4, 4)) - np.eye(4)
    skills = np.array([0, 2])
    metrics = evaluate_skills(vertices, skills, rewards, distances)
    mixture = vertices[skills].mean(axis=0)
    expected = np.mean([kl_divergence(vertices[best], mixture) for best in optimal_vertices(vertices, rewards)])
    assert metrics["kl_mixture_adaptation_cost"] == pytest.approx(expected)
    assert np.isfinite(metrics["kl_mixture_adaptation_cost"])
    # a skill set that misses a state some optimum visits pays an infinite KL cost
    assert evaluate_skills(vertices, np.array([0]), rewards, distances)["kl_mixture_adaptation_cost"] == np.inf
    # weighted mixtures are honoured
    weighted = evaluate_skills(vertices, skills, rewards, distances, weights=np.array([0.9, 0.1]))
    mixture = 0.9 * vertices[0] + 0.1 * vertices[2]
    expected = np.mean([kl_divergence(vertices[best], mixture) for best in optimal_vertices(vertices, rewards)])
    assert weighted["kl_mixture_adaptation_cost"] == pytest.approx(expected)


def simplex_grid(n: int, steps: int) -> np.ndarray:
    """Every point of the n-simplex whose coordinates are multiples of 1/steps."""
    points = [np.array(c + (steps - sum(c),)) for c in itertools.product(range(steps + 1), repeat=n - 1)
              if sum(c) <= steps]
    return np.array(points, dtype=float) / steps


def test_weighted_wsep_on_the_3_state_process_beats_every_point_of_a_grid_over_p():
    mdp = build_process("3-state")
    vertices = extreme_points_fast(lasso_occupancies(mdp))
    distances = wasserstein_matrix(vertices, cost_for(mdp, "auto"))
    result = weighted_wsep(distances)
    grid = simplex_grid(len(vertices), 60)
    values = 0.5 * np.einsum("gi,ij,gj->g", grid, distances, grid)
    assert values.max() <= result.value + 1e-12
    assert result.value - values.max() < 1e-3  # the grid comes close: the optimum is not isolated elsewhere
    # every subset of vertices as a support, with the best p on it from the grid, never beats it either
    for size in range(1, len(vertices) + 1):
        for subset in itertools.combinations(range(len(vertices)), size):
            inside = grid[:, [i for i in range(len(vertices)) if i not in subset]].sum(axis=1) == 0
            assert values[inside].max() <= result.value + 1e-12


def cvxpy_concave_maximum(distances: np.ndarray) -> float:
    """max ½ pᵀWp over the simplex with cvxpy, for W of negative type (checked): on 1ᵀp = 1 the objective
    is ½ pᵀ(PWP)p + (1/n) 1ᵀWP p + 1ᵀW1/(2n²) with P the centring projection, and PWP ⪯ 0."""
    import cvxpy as cp

    n = len(distances)
    centring = np.eye(n) - np.ones((n, n)) / n
    curvature = centring @ distances @ centring
    assert np.linalg.eigvalsh(curvature).max() < 1e-9, "W is not of negative type: the program is not concave"
    p = cp.Variable(n, nonneg=True)
    objective = (-0.5 * cp.quad_form(p, cp.psd_wrap(-(curvature + curvature.T) / 2))
                 + (np.ones(n) @ distances @ centring / n) @ p + np.ones(n) @ distances @ np.ones(n) / (2 * n * n))
    problem = cp.Problem(cp.Maximize(objective), [cp.sum(p) == 1])
    problem.solve()
    return float(problem.value)


def test_weighted_wsep_equals_cvxpy_on_the_3_state_process():
    mdp = build_process("3-state")
    vertices = extreme_points_fast(lasso_occupancies(mdp))
    distances = wasserstein_matrix(vertices, cost_for(mdp, "auto"))
    assert weighted_wsep(distances).value == pytest.approx(cvxpy_concave_maximum(distances), abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_weighted_wsep_equals_cvxpy_on_random_line_metrics(seed):
    # W₁ on a line embeds in L1, so it is of negative type and the program is concave
    points = np.random.default_rng(100 + seed).dirichlet(np.ones(5), size=9)
    cdf = np.cumsum(points, axis=1)
    distances = np.abs(cdf[:, None, :] - cdf[None, :, :]).sum(axis=2)
    assert weighted_wsep(distances, seed=seed).value == pytest.approx(cvxpy_concave_maximum(distances), abs=1e-6)


def test_kl_adaptation_costs_by_hand():
    # three vertices on three states; rewards make v0, v1 and v2 optimal in turn
    vertices = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.25, 0.25]])
    rewards = np.array([[1.0, -1.0, -1.0], [0.0, 1.0, -1.0], [0.0, 0.0, 1.0]])
    assert optimal_vertices(vertices, rewards).tolist() == [0, 1, 2]
    distances = np.zeros((3, 3))
    log2 = np.log(2.0)
    # skills {v1, v2}: KL(v0‖v1) = log 2, KL(v0‖v2) = log 2 → task 0 costs log 2;
    # task 1: v1 is a skill → 0; task 2: v2 is a skill → 0. Mean log(2)/3.
    metrics = evaluate_skills(vertices, np.array([1, 2]), rewards, distances)
    assert metrics["kl_skill_adaptation_cost"] == pytest.approx(log2 / 3)
    assert metrics["kl_skill_finite_share"] == 1.0
    # mixture ½(v1 + v2) = (0.5, 0.375, 0.125): KL(v0‖·) = log 2; KL(v1‖·) = ½ log(1/0.75) = ½ log(4/3);
    # KL(v2‖·) = ¼ log(0.25/0.375) + ¼ log(0.25/0.125) = ¼ log(2/3) + ¼ log 2 = ¼ log(4/3)
    expected = (log2 + 0.5 * np.log(4 / 3) + 0.25 * np.log(4 / 3)) / 3
    assert metrics["kl_mixture_adaptation_cost"] == pytest.approx(expected)
    # skills {v1}: task 2 needs state 2, which v1 never visits → ∞ for both KL costs; W is unaffected
    lone = evaluate_skills(vertices, np.array([1]), rewards, distances)
    assert lone["kl_skill_adaptation_cost"] == np.inf and lone["kl_mixture_adaptation_cost"] == np.inf
    assert lone["kl_skill_finite_share"] == pytest.approx(2 / 3) and lone["w_adaptation_cost"] == 0.0
    # skills {v0, v2}: task 1 from v2 costs KL(v1‖v2) = ½ log(0.5/0.25) = ½ log 2 (from v0 it is ∞)
    assert evaluate_skills(vertices, np.array([0, 2]), rewards, distances)["kl_skill_adaptation_cost"] == (
        pytest.approx(0.5 * log2 / 3))

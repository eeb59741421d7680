"""Exact W against linprog and the 1-D closed form; Sinkhorn converges; metric axioms."""

import numpy as np
from scipy.optimize import linprog

from reprobook.wsep.mdp import corridor, gridworld
from reprobook.wsep.transport import ground_cost, sinkhorn, wasserstein


def linprog_wasserstein(a, b, cost):
    n = len(a)
    rows = np.kron(np.eye(n), np.ones(n))
    cols = np.kron(np.ones(n), np.eye(n))
    result = linprog(cost.ravel(), A_eq=np.vstack([rows, cols]), b_eq=np.r_[a, b], bounds=(0, None),
                     method="highs")
    return result.fun


def test_pot_equals_linprog():
    mdp = gridworld(3, 3)
    cost = ground_cost(mdp)
    rng = np.random.default_rng(0)
    for _ in range(10):
        a, b = rng.dirichlet(np.ones(9), size=2)
        assert abs(wasserstein(a, b, cost) - linprog_wasserstein(a, b, cost)) < 1e-9


def test_corridor_closed_form():
    mdp = corridor(6)
    cost = ground_cost(mdp)
    rng = np.random.default_rng(1)
    for _ in range(10):
        a, b = rng.dirichlet(np.ones(6), size=2)
        closed = np.abs(np.cumsum(a) - np.cumsum(b))[:-1].sum()
        assert abs(wasserstein(a, b, cost) - closed) < 1e-12


def test_sinkhorn_approaches_exact_as_epsilon_shrinks():
    cost = ground_cost(gridworld(2, 3))
    a, b = np.random.default_rng(2).dirichlet(np.ones(6), size=2)
    exact = wasserstein(a, b, cost)
    gaps = [abs(sinkhorn(a, b, cost, eps, n_iter=20_000) - exact) for eps in (1.0, 0.1, 0.01)]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-2


def test_symmetry_and_triangle_inequality():
    cost = ground_cost(gridworld(3, 4, walls=[(0, 2), (2, 2)]), "shortest_path")
    rng = np.random.default_rng(3)
    for _ in range(20):
        x, y, z = rng.dirichlet(np.ones(10), size=3)
        assert abs(wasserstein(x, y, cost) - wasserstein(y, x, cost)) < 1e-12
        assert wasserstein(x, z, cost) <= wasserstein(x, y, cost) + wasserstein(y, z, cost) + 1e-12


def test_shortest_path_cost_equals_manhattan_on_open_grid_but_not_with_walls():
    open_grid = gridworld(3, 4)
    np.testing.assert_array_equal(ground_cost(open_grid, "shortest_path"), ground_cost(open_grid, "manhattan"))
    walled = gridworld(3, 4, walls=[(0, 2), (2, 2)])
    assert np.any(ground_cost(walled, "shortest_path") > ground_cost(walled, "manhattan"))

"""PWSEP terminates with every vertex found; WSEP and MISL-k local search equal exhaustive optima."""

import itertools

import numpy as np
import pytest

from reprobook.wsep.discovery import (
    hull_distance,
    misl_k_local_search,
    pwsep,
    wsep_exhaustive,
    wsep_local_search,
    wsep_value,
)
from reprobook.wsep.information import mutual_information
from reprobook.wsep.mdp import gridworld, three_state_example
from reprobook.wsep.occupancy import lasso_occupancies, occupancy
from reprobook.wsep.polytope import extreme_points_fast
from reprobook.wsep.transport import ground_cost, wasserstein, wasserstein_matrix


def setup(mdp):
    vertices = extreme_points_fast(lasso_occupancies(mdp))
    cost = ground_cost(mdp)
    return vertices, cost, wasserstein_matrix(vertices, cost)


@pytest.mark.parametrize("mdp", [three_state_example(), gridworld(2, 3), gridworld(3, 3)])
def test_pwsep_finds_every_vertex_and_ends_at_zero(mdp):
    vertices, cost, _ = setup(mdp)
    uniform = occupancy(mdp, np.full((mdp.n_states, mdp.n_actions), 1 / mdp.n_actions))
    result = pwsep(vertices, cost, reference=uniform)
    assert len(result.order) == len(set(result.order.tolist())) == len(vertices)
    assert result.final_max_distance <= 1e-9
    assert np.all(result.distances[1:] > 1e-9)
    assert np.all(np.diff(result.distances[1:]) <= 1e-9)  # the hull only grows
    hull = vertices[result.order]
    for vertex in vertices:
        assert hull_distance(vertex, hull, cost) <= 1e-9


def test_hull_distance_is_zero_inside_and_equals_w_for_one_point():
    vertices, cost, _ = setup(gridworld(2, 3))
    rng = np.random.default_rng(0)
    for _ in range(5):
        mixture = rng.dirichlet(np.ones(4)) @ vertices[:4]
        assert hull_distance(mixture, vertices[:4], cost) <= 1e-9
    assert abs(hull_distance(vertices[0], vertices[[5]], cost) - wasserstein(vertices[0], vertices[5], cost)) < 1e-9


def test_wsep_local_search_equals_exhaustive_for_distinct_skills():
    for mdp, ks in [(gridworld(2, 3), range(1, 11)), (gridworld(3, 3), range(1, 6))]:
        _, _, distances = setup(mdp)
        for k in ks:
            exhaustive = wsep_value(wsep_exhaustive(distances, k), distances)
            local = wsep_local_search(distances, k, distinct=True)
            assert len(set(local.tolist())) == k
            assert wsep_value(local, distances) == pytest.approx(exhaustive, abs=1e-9)


def test_multiset_searches_equal_exhaustive_multisets():
    vertices, _, distances = setup(gridworld(2, 3))
    for k in range(2, 6):
        multisets = list(itertools.combinations_with_replacement(range(len(vertices)), k))
        best_w = max(wsep_value(np.array(s), distances) for s in multisets)
        best_i = max(mutual_information(vertices[list(s)]) for s in multisets)
        assert wsep_value(wsep_local_search(distances, k), distances) == pytest.approx(best_w, abs=1e-9)
        assert mutual_information(vertices[misl_k_local_search(vertices, k)]) == pytest.approx(best_i, abs=1e-9)

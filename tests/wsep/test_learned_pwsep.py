"""Learned PWSEP (RL oracle, no vertex list) finds every vertex; lone occupancies are extreme."""

import numpy as np
import pytest

from reprobook.wsep.experiments import build_process, cost_for
from reprobook.wsep.learners import hull_escape, learned_pwsep
from reprobook.wsep.mdp import ControlledMarkovProcess
from reprobook.wsep.occupancy import lasso_occupancies, occupancy
from reprobook.wsep.polytope import extreme_points, extreme_points_fast, hull_residual


def _same_rows(first: np.ndarray, second: np.ndarray) -> bool:
    key = lambda rows: sorted(map(tuple, np.round(rows, 9)))  # noqa: E731
    return len(first) == len(second) and key(first) == key(second)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_learned_pwsep_finds_all_25_vertices_of_3x3(seed):
    mdp = build_process("3x3")
    cost = cost_for(mdp, "auto")
    uniform = occupancy(mdp, np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions))
    vertices = extreme_points_fast(lasso_occupancies(mdp))
    assert len(vertices) == 25
    skills, steps = learned_pwsep(mdp, cost, uniform, max_skills=len(vertices) + 1, seed=seed)
    assert _same_rows(skills, vertices)
    assert bool(steps.certified.iloc[-1]) and steps.hull_distance.iloc[-1] <= 1e-9


def test_hull_escape_finds_a_missing_vertex_and_certifies_the_full_set():
    mdp = build_process("2x3")
    vertices = extreme_points_fast(lasso_occupancies(mdp))
    assert hull_escape(mdp, vertices) is None
    for dropped in range(len(vertices)):
        escape = hull_escape(mdp, np.delete(vertices, dropped, axis=0))
        assert escape is not None
        assert hull_residual(escape, np.delete(vertices, dropped, axis=0)) > 1e-9


def test_a_process_with_one_distinct_occupancy_has_one_vertex():
    # both actions of both states lead to state 1: every policy has the same occupancy
    transitions = np.zeros((2, 2, 2))
    transitions[:, :, 1] = 1.0
    mdp = ControlledMarkovProcess(transitions, np.array([1.0, 0.0]), 0.9, np.array([[0.0, 0.0], [0.0, 1.0]]))
    points = lasso_occupancies(mdp)
    assert len(points) == 1
    assert len(extreme_points_fast(points)) == 1 and len(extreme_points(points)) == 1

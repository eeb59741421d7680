"""Random processes and the family experiment: shapes, determinism, and the per-process counts."""

import numpy as np

from reprobook.wsep.families import FAMILY_COLUMNS, FamilyConfig, run_family
from reprobook.wsep.mdp import random_process
from reprobook.wsep.transport import ground_cost, wasserstein


def test_random_processes_are_valid_and_seeded():
    first, second = random_process(5, 3, seed=7), random_process(5, 3, seed=7)
    assert np.array_equal(first.transitions, second.transitions)
    assert not np.array_equal(first.transitions, random_process(5, 3, seed=8).transitions)
    stochastic = random_process(4, 2, seed=3, deterministic=False)
    np.testing.assert_allclose(stochastic.transitions.sum(axis=2), 1.0)


def test_discrete_cost_gives_total_variation():
    mdp = random_process(4, 2, seed=0)
    a, b = np.array([0.5, 0.5, 0, 0]), np.array([0, 0.25, 0.25, 0.5])
    assert wasserstein(a, b, ground_cost(mdp, "discrete")) == np.abs(a - b).sum() / 2


def test_run_family_rows_are_consistent_and_deterministic():
    config = FamilyConfig("stoch-line", first_seed=0, n_processes=3)
    frame = run_family(config)
    assert list(frame.columns) == FAMILY_COLUMNS and len(frame) == 3
    assert frame.equals(run_family(config))
    assert (frame.interior <= frame.vertices).all()
    assert (frame.wsep_distinct_at_n <= frame.vertices).all() and (frame.misl_distinct_at_n <= frame.vertices).all()
    used = frame.wsep_interior_k.dropna()
    assert ((used >= 2) & (used <= frame.vertices[used.index])).all()
    for column in ("misl_support", "weighted_wsep_support", "shuffled_weighted_support"):
        assert ((frame[column] >= 1) & (frame[column] <= frame.vertices)).all(), column


def test_weighted_supports_match_the_optimisers_on_one_process():
    from reprobook.wsep.discovery import weighted_wsep
    from reprobook.wsep.families import FAMILIES, shuffled_pairs
    from reprobook.wsep.information import blahut_arimoto
    from reprobook.wsep.occupancy import lasso_occupancies
    from reprobook.wsep.polytope import extreme_points_fast
    from reprobook.wsep.transport import wasserstein_matrix

    family = FAMILIES["det-line"]
    row = run_family(FamilyConfig("det-line", first_seed=4, n_processes=1)).iloc[0]
    mdp = random_process(family.n_states, family.n_actions, 4, deterministic=True)
    vertices = extreme_points_fast(lasso_occupancies(mdp), seed=4)
    distances = wasserstein_matrix(vertices, ground_cost(mdp, family.cost))
    assert row.misl_support == blahut_arimoto(vertices).support().sum()
    assert row.weighted_wsep_support == weighted_wsep(distances, seed=4).support().sum()
    shuffled = shuffled_pairs(distances, 4)
    assert row.shuffled_weighted_support == weighted_wsep(shuffled, seed=4).support().sum()
    assert not np.array_equal(shuffled, distances) and np.allclose(np.sort(shuffled.ravel()), np.sort(distances.ravel()))

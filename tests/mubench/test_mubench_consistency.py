"""Consistency metrics against hand-computed cases, sklearn, scipy and brute force."""

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from reprobook.mubench import consistency as cons


def test_identical_predictions_agree_fully():
    pred = np.array([[0, 1, 2, 3, 1], [0, 1, 2, 3, 1]])
    assert cons.agreement_matrix(pred)[0, 1] == 1.0
    assert cons.kappa_matrix(pred)[0, 1] == pytest.approx(1.0)


def test_hand_computed_agreement_and_kappa():
    # a = [0,0,1,1], b = [0,1,1,1]: C = 3/4; p_a = (1/2, 1/2), p_b = (1/4, 3/4): E = 1/8 + 3/8 = 1/2
    pred = np.array([[0, 0, 1, 1], [0, 1, 1, 1]])
    assert cons.agreement_matrix(pred)[0, 1] == 0.75
    assert cons.kappa_matrix(pred)[0, 1] == pytest.approx((0.75 - 0.5) / 0.5)


def test_kappa_equals_sklearn_on_random_pairs():
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 5, size=(6, 40))
    pred[1] = np.where(rng.random(40) < 0.6, pred[0], pred[1])
    kappa = cons.kappa_matrix(pred)
    for a in range(6):
        for b in range(6):
            assert kappa[a, b] == pytest.approx(cohen_kappa_score(pred[a], pred[b]), abs=1e-12)


def test_independent_random_guessers_agree_at_one_over_k_with_kappa_zero():
    rng = np.random.default_rng(1)
    pred = rng.integers(0, 4, size=(2, 200_000))
    assert cons.agreement_matrix(pred)[0, 1] == pytest.approx(0.25, abs=0.005)
    assert cons.kappa_matrix(pred)[0, 1] == pytest.approx(0.0, abs=0.01)


def test_decomposition_sums_to_agreement_exactly():
    rng = np.random.default_rng(2)
    pred = rng.integers(0, 4, size=(5, 60))
    answers = rng.integers(0, 4, size=60)
    right, wrong_same = cons.decomposition(pred, answers)
    np.testing.assert_allclose(right + wrong_same, cons.agreement_matrix(pred), atol=1e-15)
    brute = np.mean([(pred[0, i] == answers[i]) and (pred[3, i] == answers[i]) for i in range(60)])
    assert right[0, 3] == pytest.approx(brute)


def test_rankc_hand_worked_three_and_four_options():
    w3 = np.exp([3.0, 2.0, 1.0]) / np.exp([3.0, 2.0, 1.0]).sum()
    # rankings A>B>C vs B>A>C: top1 ∅, top2 {A,B} (2/2), top3 (3/3)
    scores = np.array([[[3.0, 2.0, 1.0]], [[2.0, 3.0, 1.0]]])
    assert cons.rankc_matrix(scores)[0, 1] == pytest.approx(w3[1] + w3[2])
    # A>B>C vs C>B>A: top2 {A,B} ∩ {C,B} = 1 → 1/2
    scores = np.array([[[3.0, 2.0, 1.0]], [[1.0, 2.0, 3.0]]])
    assert cons.rankc_matrix(scores)[0, 1] == pytest.approx(w3[1] / 2 + w3[2])
    w4 = np.exp([4.0, 3.0, 2.0, 1.0]) / np.exp([4.0, 3.0, 2.0, 1.0]).sum()
    # A>B>C>D vs B>C>D>A: top2 1/2, top3 2/3, top4 1
    scores = np.array([[[4.0, 3.0, 2.0, 1.0]], [[1.0, 4.0, 3.0, 2.0]]])
    assert cons.rankc_matrix(scores)[0, 1] == pytest.approx(w4[1] / 2 + 2 * w4[2] / 3 + w4[3])
    assert cons.rankc_matrix(scores)[0, 0] == pytest.approx(1.0)


def test_rankc_vectorised_equals_set_based_loop():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(4, 25, 5))
    matrix = cons.rankc_matrix(scores)
    for a in range(4):
        for b in range(4):
            assert matrix[a, b] == pytest.approx(cons.rankc_naive(scores[a], scores[b]), abs=1e-12)


def test_rankc_of_random_rankings_matches_closed_form():
    rng = np.random.default_rng(4)
    scores = rng.random(size=(2, 40_000, 4))
    expected = sum(cons.rankc_weights(4)[j - 1] * j / 4 for j in range(1, 5))
    assert expected == pytest.approx(cons.expected_random_rankc(4))
    assert math.isclose(expected, 0.377, abs_tol=5e-4)
    assert cons.rankc_matrix(scores)[0, 1] == pytest.approx(expected, abs=0.005)


def test_mlc_and_rel_mlc():
    matrix = np.array([[1.0, 0.2, 0.4], [0.2, 1.0, 0.6], [0.4, 0.6, 1.0]])
    np.testing.assert_allclose(cons.mlc_per_language(matrix), [0.3, 0.4, 0.5])
    assert cons.mlc_overall(matrix) == pytest.approx(0.4)
    assert cons.rel_mlc(0.4, [0.5, 0.3]) == pytest.approx(1.0)


def test_bootstrap_ci_covers_and_keeps_group_sizes():
    seen = []

    def stat(index):
        seen.append(index)
        return np.mean(np.arange(20.0)[index])

    low, high = cons.bootstrap_ci(stat, 20, n_boot=500, seed=0, groups=[0] * 5 + [1] * 15)
    assert low < 9.5 < high
    assert all(np.sum(index < 5) == 5 for index in seen)

"""Metrics against sklearn and hand-computed tables."""

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from reprobook.ficsum.metrics import (
    accuracy,
    cohen_kappa,
    concept_f1,
    kappa_label_marginal,
    kappa_m,
    kappa_t,
)


@pytest.mark.parametrize("seed", range(5))
def test_cohen_kappa_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, 200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 3, 200))
    assert cohen_kappa(y_true, y_pred) == pytest.approx(cohen_kappa_score(y_true, y_pred), abs=1e-12)


def test_reference_kappa_on_a_hand_table():
    # 10 labels: 6 of class a, 4 of class b; 7 correct. p_e = 0.6² + 0.4² = 0.52.
    y_true = list("aaaaaabbbb")
    y_pred = list("aaaabbbbaa")
    assert accuracy(y_true, y_pred) == pytest.approx(0.6)
    assert kappa_label_marginal(y_true, y_pred) == pytest.approx((0.6 - 0.52) / 0.48)
    # standard κ uses the prediction marginals too: p_e = 0.6·0.6 + 0.4·0.4 = 0.52 here as well
    y_pred = list("aaaaaaaaab")  # 7 correct, predicted marginals 0.9 / 0.1
    assert kappa_label_marginal(y_true, y_pred) == pytest.approx((0.7 - 0.52) / 0.48)
    assert cohen_kappa(y_true, y_pred) == pytest.approx((0.7 - (0.6 * 0.9 + 0.4 * 0.1)) / (1 - 0.58))


@pytest.mark.parametrize("k", [2, 3, 6])
@pytest.mark.parametrize("length", [1, 1000, 3750])
def test_one_system_concept_over_k_equal_concepts_is_exactly_two_over_k_plus_one(k, length):
    true = np.repeat(np.arange(k), length)
    assert concept_f1(true, np.zeros_like(true)) == 2 / (k + 1)


def test_concept_f1_perfect_and_relabelled():
    true = [0, 0, 1, 1, 0, 0]
    assert concept_f1(true, [7, 7, 3, 3, 7, 7]) == 1.0
    # system splits concept 0 into two ids: F1(0, 7) = 2·2/(4+2) = 2/3
    assert concept_f1(true, [7, 7, 3, 3, 9, 9]) == pytest.approx((2 / 3 + 1) / 2)


def test_kappa_m_and_kappa_t_on_hand_examples():
    y_true = [1, 1, 0, 1, 1, 0]
    # prequential majority: predicts None, 1, 1, 1, 1, 1 -> hits at t=1, 3, 4 -> 3/6
    y_pred = [1, 1, 0, 1, 0, 0]  # 5/6 correct
    assert kappa_m(y_true, y_pred) == pytest.approx((5 / 6 - 0.5) / 0.5)
    # no-change: predicts -, 1, 1, 0, 1, 1 -> hits at t=1, 4 -> 2/6
    assert kappa_t(y_true, y_pred) == pytest.approx((5 / 6 - 2 / 6) / (1 - 2 / 6))
    assert kappa_m([1, 1, 1], [0, 0, 0]) < 0

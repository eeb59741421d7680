"""Metrics on synthetic curves with answers worked out by hand (brief §7.9)."""

import numpy as np
import pytest

from reprobook.meal.metrics import (
    auc,
    auc_loss,
    average_performance,
    forgetting,
    forgetting_classic,
    forgetting_peak_final,
    forgetting_weighted,
    forward_transfer,
)


def test_average_performance_and_classic_forgetting():
    # evaluations × tasks; task 0 trained until eval 2, task 1 until eval 4, task 2 until eval 6
    scores = np.array([
        [0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [1.0, 0.1, 0.0], [0.4, 0.6, 0.0],
        [0.2, 0.8, 0.1], [0.1, 0.3, 0.9], [0.0, 0.2, 1.2]])
    ends = [2, 4, 6]
    assert average_performance(scores) == pytest.approx((0.0 + 0.2 + 1.2) / 3)
    # (1.0 − 0.0 + 0.8 − 0.2) / 2
    assert forgetting_classic(scores, ends) == pytest.approx(0.8)
    assert forgetting(scores, ends, "classic") == forgetting_classic(scores, ends)


def test_weighted_forgetting_extremes():
    drop = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.5], [0.0, 0.8], [0.0, 1.0]])
    assert forgetting_weighted(drop, [1, 4]) == pytest.approx(1.0)
    keep = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.5], [1.2, 0.8], [1.1, 1.0]])
    assert forgetting_weighted(keep, [1, 4]) == 0.0
    never = np.array([[0.0, 0.0], [0.0, 0.5], [0.0, 1.0]])
    assert forgetting_weighted(never, [1, 2]) == 0.0


def test_weighted_forgetting_by_hand():
    scores = np.array([[1.0, 0.0], [0.5, 0.0], [1.0, 0.0]])
    # after t_0: drops 0.5 and 0.0 with weights e^0 and e^-2
    expected = (1.0 * 0.5 + np.exp(-2) * 0.0) / (1 + np.exp(-2))
    assert forgetting_weighted(scores, [0, 2]) == pytest.approx(expected)


def test_peak_final():
    scores = np.array([[0.2, 0.0], [0.9, 0.1], [0.3, 0.5], [0.5, 0.6]])
    # task 0: max 0.9, mean of the last 2 evaluations 0.4 ⇒ 0.5
    assert forgetting_peak_final(scores, last=2) == pytest.approx(0.5)


def test_forward_transfer_uses_absolute_baseline():
    assert forward_transfer([1.5], [1.2]) == pytest.approx(0.25)  # the printed (1 − AUC_b) gives −1.5
    assert forward_transfer([0.5, 1.0], [1.0, 0.0]) == pytest.approx(-0.5)  # zero baseline skipped
    assert np.isnan(forward_transfer([1.0], [0.0]))


def test_auc_and_plasticity():
    assert auc([0.0, 1.0, 1.0, 1.0]) == pytest.approx(2.5 / 4)
    assert auc_loss(0.75, 1.0) == pytest.approx(0.25)


def test_smoothed_auc():
    from scipy.ndimage import gaussian_filter1d

    from reprobook.meal.metrics import smoothed_auc

    curve = np.array([0.0, 0.1, 0.5, 0.4, 0.9, 1.0])
    assert smoothed_auc(curve, sigma=0) == pytest.approx(auc(curve))
    # an independent Gaussian filter and trapezoid
    expected = np.trapezoid(gaussian_filter1d(curve, 1.5, mode="nearest")) / len(curve)
    assert smoothed_auc(curve, sigma=1.5) == pytest.approx(expected)
    assert smoothed_auc(np.full(7, 0.3), sigma=2) == pytest.approx(0.3 * 6 / 7)

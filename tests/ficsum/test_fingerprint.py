"""Distance, normaliser, fingerprint and weights against scipy and hand-computed values."""

import numpy as np
import pytest
from scipy.spatial.distance import cosine

from reprobook.ficsum.fingerprint import (
    Fingerprint,
    Normaliser,
    dynamic_weights,
    weighted_cosine_distance,
)


@pytest.mark.parametrize("seed", range(10))
def test_weighted_cosine_equals_scipy(seed):
    rng = np.random.default_rng(seed)
    a, b, w = rng.random(40), rng.random(40), rng.random(40)
    assert weighted_cosine_distance(a, b, w) == pytest.approx(cosine(a, b, w=w), abs=1e-12)


def test_weighted_cosine_nan_rules():
    zero, one = np.zeros(3), np.ones(3)
    assert weighted_cosine_distance(zero, zero, one) == 0.0
    assert weighted_cosine_distance(zero, one, one) == 1.0
    assert weighted_cosine_distance(one, one, np.zeros(3)) == 1.0


def test_normaliser_ranges_and_degenerate_dimensions():
    normaliser = Normaliser(3)
    assert normaliser.transform(np.array([1.0, 2.0, 3.0])).tolist() == [0.5, 0.5, 0.5]
    normaliser.update(np.array([0.0, 5.0, 1.0]))
    normaliser.update(np.array([4.0, 5.0, 3.0]))
    assert normaliser.transform(np.array([1.0, 7.0, 9.0])).tolist() == [0.25, 0.5, 1.0]
    assert normaliser.transform(np.array([-np.inf, 5.0, np.inf])).tolist() == [0.0, 0.5, 1.0]


def test_fingerprint_welford_matches_numpy_and_restart():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(30, 4))
    fingerprint = Fingerprint(4)
    for vector in vectors:
        fingerprint.update(vector)
    np.testing.assert_allclose(fingerprint.mean, vectors.mean(axis=0), atol=1e-12)
    # sample standard deviation (ddof = 1), as the reference's Welford record
    np.testing.assert_allclose(fingerprint.std, vectors.std(axis=0, ddof=1), atol=1e-12)
    assert fingerprint.valid
    mask = np.array([True, False, False, False])
    fingerprint.restart(mask, np.full(4, 9.0), 0.1)
    fingerprint.update(np.full(4, 20.0))
    assert fingerprint.mean[0] == pytest.approx((0.1 * 9 + 20) / 1.1)
    assert fingerprint.mean[1] == pytest.approx((vectors[:, 1].sum() + 20) / 31)


def test_dynamic_weights_hand_example():
    # Two concepts, four dimensions, normaliser range [0, 10] except dim 3 (never varied).
    low = np.array([0.0, 0.0, 0.0, 5.0])
    high = np.array([10.0, 10.0, 10.0, 5.0])
    means = np.array([[2.0, 5.0, 4.0, 5.0], [8.0, 5.0, 6.0, 5.0]])
    stds = np.array([[0.05, 1.0, 2.0, 0.0], [0.05, 1.0, 4.0, 0.0]])
    # dim 0: spread 0.005 -> floored at 0.01 -> κ = 1; v = 0.2, 0.8; B = 0.3
    # dim 1: spread 0.1 -> κ = 0.1; v = 0.05, 0.05; B = 0
    # dim 2: spread 0.3 -> κ = 1/30; v = 0.4/30, 0.6/30; B = 0.1/30
    # segment sets: concept 0 also seen with means [2, 7, 4, 5] -> dim 1 S = mean(std{.05,.07}, 0)
    #   = 0.005, so u = [0.3, 0.005, 1/300, ?]
    # dim 3: range 0 -> undefined -> the smallest defined u, 1/300
    segments = [np.array([[2.0, 5.0, 4.0, 5.0], [2.0, 7.0, 4.0, 5.0]]), means[1:2]]
    weights = dynamic_weights(means, stds, low, high, segments)
    between = np.array([0.3, 0.0, 0.1 / 30, np.nan])
    within = np.array([0.0, 0.01 / 2, 0.0, np.nan])
    raw = np.fmax(between, within)
    raw[3] = np.nanmin(raw[:3])
    np.testing.assert_allclose(weights, raw / np.nanmax(raw), atol=1e-12)
    assert weights[0] == 1.0 and weights[3] == weights[2] == pytest.approx((1 / 300) / 0.3)
    assert weights[1] == pytest.approx(0.005 / 0.3)


def test_dynamic_weights_single_concept_and_all_undefined():
    low, high = np.zeros(2), np.array([1.0, 1.0])
    weights = dynamic_weights(np.array([[0.5, 0.5]]), np.array([[0.001, 0.2]]), low, high)
    # κ = 0.01 / max(σ/r, 0.01): 1 and 0.05
    np.testing.assert_allclose(weights, [1.0, 0.05])
    undefined = dynamic_weights(np.array([[1.0, 2.0]]), np.zeros((1, 2)), np.array([1.0, 2.0]),
                                np.array([1.0, 2.0]))
    assert undefined.tolist() == [1.0, 1.0]

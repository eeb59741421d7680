"""Meta-features against scipy/statsmodels, and the incremental path against the batch path."""


import numpy as np
import pytest
from scipy import stats
from statsmodels.tsa.stattools import acf, pacf

from reprobook.ficsum.metafeatures import (
    STATISTICS,
    RollingStatistics,
    error_distance_series,
    series_metafeatures,
    window_statistics,
)


def brute_turning_points(z):
    return sum((z[t + 1] - z[t]) * (z[t] - z[t - 1]) < 0 for t in range(1, len(z) - 1)) / len(z)


@pytest.mark.parametrize("n", [4, 6, 13, 75, 150])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_statistics_match_reference_libraries(n, seed):
    rng = np.random.default_rng(seed)
    z = np.cumsum(rng.normal(size=n)) * 0.3 + rng.exponential(size=n) + 5.0
    got = series_metafeatures(z)
    assert got["mean"] == pytest.approx(z.mean(), abs=1e-12)
    assert got["stdev"] == pytest.approx(np.std(z, ddof=1), abs=1e-12)
    assert got["skew"] == pytest.approx(stats.skew(z, bias=True), abs=1e-9)
    assert got["kurtosis"] == pytest.approx(stats.kurtosis(z, fisher=True, bias=True), abs=1e-9)
    assert got["turning_point_rate"] == pytest.approx(brute_turning_points(z), abs=1e-12)
    reference_acf = acf(z, nlags=2, fft=True)
    reference_pacf = pacf(z, nlags=2, method="ywadjusted")
    assert got["acf_1"] == pytest.approx(reference_acf[1], abs=1e-9)
    assert got["acf_2"] == pytest.approx(reference_acf[2], abs=1e-9)
    assert got["pacf_1"] == pytest.approx(reference_pacf[1], abs=1e-9)
    assert got["pacf_2"] == pytest.approx(reference_pacf[2], abs=1e-9)


def test_pacf_is_the_adjusted_yule_walker_not_the_plain_closed_form():
    z = np.random.default_rng(5).normal(size=20)
    got = series_metafeatures(z)
    rho1, rho2 = acf(z, nlags=2)[1:]
    plain = (rho2 - rho1**2) / (1 - rho1**2)
    assert abs(got["pacf_2"] - plain) > 1e-4
    assert got["pacf_2"] == pytest.approx(pacf(z, nlags=2, method="ywadjusted")[2], abs=1e-12)


def test_short_and_constant_windows_follow_the_reference_rules():
    with pytest.raises(ValueError):  # statsmodels refuses: our failure value -1 stands in
        pacf(np.array([1.0, 4.0, 2.0]), nlags=2)
    short = series_metafeatures([1.0, 4.0, 2.0])
    assert short["pacf_1"] == short["pacf_2"] == -1.0
    assert short["acf_1"] == pytest.approx(acf(np.array([1.0, 4.0, 2.0]), nlags=2)[1])
    for n in (4, 5):
        z = np.array([1.0, 4.0, 2.0, 8.0, 3.0])[:n]
        assert series_metafeatures(z)["pacf_2"] == pytest.approx(pacf(z, nlags=2)[2], abs=1e-12)
    two = series_metafeatures([1.0, 3.0])
    assert two["mean"] == 2.0 and two["stdev"] == pytest.approx(np.sqrt(2.0))
    assert all(two[name] == 0.0 for name in STATISTICS[2:])
    constant = series_metafeatures([0.1] * 30)
    # the reference's scipy 1.5.1 returns skew 0 and Fisher kurtosis 0 - 3 for a constant series
    assert constant["skew"] == 0.0 and constant["kurtosis"] == -3.0
    assert constant["acf_1"] == constant["pacf_2"] == -1.0


def test_error_distances():
    assert error_distance_series(np.array([0, 1, 1, 0, 1, 0])).tolist() == [3.0, 2.0]
    assert error_distance_series(np.array([1, 1, 0])).tolist() == [0.0]


@pytest.mark.parametrize("seed", range(12))
def test_incremental_equals_batch_after_arbitrary_pushes(seed):
    rng = np.random.default_rng(seed)
    capacity = int(rng.integers(3, 90))
    n_sources = 5
    scales = rng.choice([1e-2, 1.0, 50.0], n_sources)
    offsets = rng.choice([0.0, 3.0, 500.0], n_sources)
    data = rng.normal(size=(int(rng.integers(1, 400)), n_sources)) * scales + offsets
    data[:, 0] = rng.integers(0, 2, len(data))  # a correctness-like 0/1 source
    data[: len(data) // 2, 1] = 1.0  # a source that is constant for a while
    data[:, 2] = np.round(data[:, 2])  # ties, as in label/prediction sources
    rolling = RollingStatistics(n_sources, capacity)
    for row in data:
        rolling.push(row)
        if rng.random() < 0.3:
            batch = window_statistics(rolling.values())
            np.testing.assert_allclose(rolling.statistics(), batch, rtol=1e-9, atol=1e-9)
    assert len(rolling) == min(capacity, len(data))
    np.testing.assert_array_equal(rolling.values(), data[-capacity:])


def test_permutation_entropy_against_brute_force():
    import math

    from reprobook.ficsum.metafeatures import permutation_entropy

    rng = np.random.default_rng(11)
    series = rng.normal(size=80)
    counts: dict[tuple[int, ...], int] = {}
    for start in range(len(series) - 2):
        pattern = tuple(np.argsort(series[start:start + 3], kind="stable"))
        counts[pattern] = counts.get(pattern, 0) + 1
    total = sum(counts.values())
    expected = -sum(c / total * math.log2(c / total) for c in counts.values())
    assert permutation_entropy(series) == pytest.approx(expected, abs=1e-12)
    assert permutation_entropy(np.arange(20.0)) == 0.0
    assert permutation_entropy(series) <= math.log2(6) + 1e-12


def test_imf_entropies_follow_the_decomposition():
    from PyEMD import EMD

    from reprobook.ficsum.metafeatures import imf_entropies, permutation_entropy

    rng = np.random.default_rng(5)
    series = np.sin(np.arange(75) / 4) + 0.3 * rng.normal(size=75)
    imfs = EMD(spline_kind="slinear")(series, max_imf=2)
    expected = [permutation_entropy(imf) for imf in imfs[:3]] + [0.0] * (3 - len(imfs[:3]))
    assert imf_entropies(series[:, None])[0] == pytest.approx(expected)
    assert imf_entropies(np.ones((75, 1)))[0].tolist() == [0.0, 0.0, 0.0]


def test_classifier_with_slow_features_fingerprints_them():
    from reprobook.ficsum import FiCSUMClassifier, make_stream

    model = FiCSUMClassifier(features=["mean", "stdev", "MI", "IMF_0", "IMF_1", "IMF_2"])
    for x, y, _ in make_stream("stagger", seed=1, segment_length=150, repeats=1):
        model.predict_one(x)
        model.learn_one(x, y)
    names = model.dimension_names
    assert "labels:IMF_0" in names and "errors:MI" in names and not any(n.endswith(":FI") for n in names)

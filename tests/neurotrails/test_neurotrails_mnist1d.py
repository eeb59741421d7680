"""The MNIST-1D generator: deterministic, balanced, resampling against numpy.interp, a harder shifted set."""

import numpy as np
from sklearn.neighbors import NearestCentroid

from reprobook.neurotrails.chapter import validate_parameters
from reprobook.neurotrails.mnist1d import GeneratorSettings, _resample, generate, make_splits, templates


def test_generator_is_deterministic_in_its_seed_and_balanced():
    settings = GeneratorSettings()
    first, labels = generate(settings, 500, seed=7)
    again, labels_again = generate(settings, 500, seed=7)
    other, _ = generate(settings, 500, seed=8)
    assert np.array_equal(first, again) and np.array_equal(labels, labels_again)
    assert not np.allclose(first, other)
    assert np.array_equal(np.bincount(labels), np.full(10, 50))
    assert first.dtype == np.float32 and first.shape == (500, 40)


def test_templates_start_at_zero_and_are_distinct():
    digits = templates()
    assert digits.shape == (10, 12)
    assert np.allclose(digits[:, 0], 0)
    assert len({tuple(np.round(row, 6)) for row in digits}) == 10


def test_resampling_matches_numpy_interp_row_by_row():
    rng = np.random.default_rng(0)
    signals = rng.standard_normal((6, 30))
    lengths = np.array([2, 5, 12, 20, 29, 30])
    out = _resample(signals, lengths, 17)
    for row, length in enumerate(lengths):
        grid = np.linspace(0, 1, length)
        expected = np.interp(np.linspace(0, 1, 17), grid, signals[row, :length])
        np.testing.assert_allclose(out[row], expected, atol=1e-12)


def test_shifted_set_is_harder_than_the_clean_one():
    splits = make_splits(GeneratorSettings(), 2000, 200, 2000, 2000)

    def features(x):  # |FFT|: blind to the random circular translation
        return np.abs(np.fft.rfft(x[:, 0], axis=1))

    model = NearestCentroid().fit(features(splits.x_train), splits.y_train)
    clean = model.score(features(splits.x_test), splits.y_test)
    shifted = model.score(features(splits.x_shift), splits.y_shift)
    assert clean > 0.2  # well above the 10 % of chance: the signals carry their class
    assert shifted < clean - 0.04
    assert len(set(splits.hashes().values())) == 4


def test_book_profile_uses_large_test_sets():
    params = validate_parameters()
    assert params.n_test >= 5000 and params.n_shift >= 5000 and params.n_val >= 1000

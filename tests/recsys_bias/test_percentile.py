import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reprobook import data
from reprobook.params import ParameterError
from reprobook.recsys_bias import datasets
from reprobook.recsys_bias.percentile import percentile_ranks, percentile_transform, zscore_transform


def _goodreads(part):
    try:
        return datasets.load_goodreads(part)
    except data.DataUnavailableError as error:  # only without mirror and network
        pytest.skip(f"the Goodreads files are unavailable (no mirror, no network): {error}")


def test_item_last_percentile_equals_authors_file_exactly():
    ratings, reference = _goodreads("ratings"), _goodreads("percentile")
    assert len(ratings) == len(reference) == 137_045
    assert (ratings[["user", "item"]].to_numpy() == reference[["user", "item"]].to_numpy()).all()
    ours = percentile_ranks(ratings, profile="item", tie="last")
    assert np.array_equal(ours, reference["rating"].to_numpy())


PROFILE = pd.DataFrame({"user": [0, 1, 2, 3], "item": [9, 9, 9, 9], "rating": [1.0, 3.0, 3.0, 5.0]})


@pytest.mark.parametrize("tie, expected", [
    ("first", [20.0, 40.0, 40.0, 80.0]),        # pos = #{<r} + 1, over n + 1 = 5
    ("last", [20.0, 60.0, 60.0, 80.0]),         # pos = #{<=r}
    ("floormedian", [20.0, 40.0, 40.0, 80.0]),  # floor((2 + 3) / 2) = 2
    ("ceilmedian", [20.0, 60.0, 60.0, 80.0]),   # ceil(2.5) = 3
    ("average", [20.0, 50.0, 50.0, 80.0]),      # 2.5
])
def test_tie_rules_on_a_hand_made_profile(tie, expected):
    assert percentile_ranks(PROFILE, tie=tie).tolist() == pytest.approx(expected)


def test_smoothing_adds_pseudo_ratings_at_every_scale_value():
    # k = 1 on the scale 1..5: the profile becomes {1,1,2,3,3,3,4,5,5}, n = 9, so the 5 has
    # first = 8, last = 9 and the 3s have first = 4, last = 6 (over n + 1 = 10)
    scale = np.arange(1.0, 6.0)
    last = percentile_ranks(PROFILE, tie="last", smoothing=1.0, scale=scale)
    first = percentile_ranks(PROFILE, tie="first", smoothing=1.0, scale=scale)
    assert last.tolist() == pytest.approx([20.0, 60.0, 60.0, 90.0])
    assert first.tolist() == pytest.approx([10.0, 40.0, 40.0, 80.0])
    # same as adding the pseudo-ratings by hand and taking the unsmoothed percentile
    padded = pd.concat([PROFILE, pd.DataFrame({"user": 99, "item": 9, "rating": scale})], ignore_index=True)
    assert last.tolist() == pytest.approx(percentile_ranks(padded, tie="last")[:4].tolist())


@pytest.mark.parametrize("tie, expected", [("floormedian", 46.43), ("ceilmedian", 53.57), ("average", 50.0),
                                           ("first", 39.29), ("last", 60.71)])
def test_smoothed_medians_follow_the_authors_script(tie, expected):
    # profile {3, 3}, scale 1..5, k = 5: the authors' percentile.py gives 46.43 / 53.57 for the
    # floor/ceil medians (the real tied block {1, 2} and the pseudo block of 5 are split apart:
    # ⌊1.5⌋ + 10 + ⌊2.5⌋ = 13 and ⌈1.5⌉ + 10 + ⌈2.5⌉ = 15, over 2 + 25 + 1 = 28); a single median of
    # the merged block would give 50 / 50
    profile = pd.DataFrame({"user": [0, 1], "item": [4, 4], "rating": [3.0, 3.0]})
    ranks = percentile_ranks(profile, tie=tie, smoothing=5.0, scale=np.arange(1.0, 6.0))
    assert ranks.tolist() == pytest.approx([expected, expected], abs=0.005)


@pytest.mark.parametrize("profile", ["item", "user"])
@pytest.mark.parametrize("tie, method", [("first", "min"), ("last", "max"), ("average", "average")])
def test_matches_pandas_group_rank(profile, tie, method):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"user": rng.integers(0, 40, 3000), "item": rng.integers(0, 60, 3000),
                          "rating": rng.integers(1, 6, 3000).astype(float)})
    ranks = frame.groupby(profile)["rating"].rank(method=method).to_numpy()
    sizes = frame.groupby(profile)["rating"].transform("size").to_numpy()
    np.testing.assert_allclose(percentile_ranks(frame, profile, tie), 100 * ranks / (sizes + 1), rtol=1e-12)


def test_matches_slow_definition_on_random_rows():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"user": np.arange(1000), "item": rng.integers(0, 30, 1000),
                          "rating": rng.choice([1.0, 2.5, 3.0, 4.0, 5.0], 1000)})
    ours = percentile_ranks(frame, tie="floormedian")
    for row in range(0, 1000, 37):
        profile = np.sort(frame.loc[frame["item"] == frame.loc[row, "item"], "rating"].to_numpy())
        value = frame.loc[row, "rating"]
        first = np.sum(profile < value) + 1
        last = np.sum(profile <= value)
        assert ours[row] == pytest.approx(100 * np.floor((first + last) / 2) / (len(profile) + 1))


def test_leaky_variant_uses_train_and_test_profiles():
    train = pd.DataFrame({"user": [0, 1], "item": [0, 0], "rating": [2.0, 4.0]})
    test = pd.DataFrame({"user": [2, 3], "item": [0, 0], "rating": [5.0, 1.0]})
    assert percentile_transform(train)["rating"].tolist() == pytest.approx([100 / 3, 200 / 3])
    # within {1, 2, 4, 5}: 2 is 2nd, 4 is 3rd, over n + 1 = 5
    assert percentile_transform(train, reference=test)["rating"].tolist() == pytest.approx([40.0, 60.0])


def test_zscore_matches_scipy_per_item():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"user": np.arange(500), "item": rng.integers(0, 10, 500),
                          "rating": rng.integers(1, 6, 500).astype(float)})
    ours = zscore_transform(frame)["rating"].to_numpy()
    for _, group in frame.groupby("item"):
        np.testing.assert_allclose(ours[group.index], stats.zscore(group["rating"].to_numpy()), atol=1e-12)


def test_bad_tie_rule_is_rejected_with_its_name():
    with pytest.raises(ParameterError, match="'tie'"):
        percentile_ranks(PROFILE, tie="middle")

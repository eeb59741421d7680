import numpy as np
import pandas as pd
import pytest

from reprobook import data
from reprobook.params import ParameterError
from reprobook.recsys_bias import bias, chapter, datasets, experiments, simulation


def test_movielens_100k_from_the_recbole_wheel():
    ratings = datasets.load_movielens_100k()
    assert len(ratings) == 100_000
    assert ratings["user"].nunique() == 943 and ratings["item"].nunique() == 1682
    shares = ratings["rating"].value_counts(normalize=True).sort_index().round(3).tolist()
    assert shares == [0.061, 0.114, 0.271, 0.342, 0.212]


def test_multifactorial_signature_on_movielens():
    facts = bias.positivity_concentration(datasets.load_movielens_100k())
    assert facts["spearman"] == pytest.approx(0.50, abs=0.01)
    assert facts["top_share"] == pytest.approx(0.427, abs=0.001)
    assert facts["top_mean"] == pytest.approx(3.79, abs=0.01)
    assert facts["rest_mean"] == pytest.approx(3.33, abs=0.01)


def test_goodreads_split_sizes():
    try:
        split = datasets.load_split("goodreads")
    except data.DataUnavailableError as error:
        pytest.skip(f"the Goodreads files are unavailable (no mirror, no network): {error}")
    assert (len(split.train), len(split.test)) == (108_762, 28_283)
    assert (split.n_users, split.n_items) == (2225, 3423)


def test_random_split_is_per_user_and_seeded():
    ratings = datasets.load_movielens_100k()[["user", "item", "rating"]]
    train, test = datasets.random_split(ratings, 0.2, seed=3)
    again, _ = datasets.random_split(ratings, 0.2, seed=3)
    assert len(train) + len(test) == 100_000 and train.equals(again)
    per_user = test.groupby("user").size() / ratings.groupby("user").size()
    assert per_user.between(0.15, 0.25).all()


def test_synthetic_bias_knob():
    popular, _ = datasets.simulate_multifactorial(400, 300, gamma=0.0, density=0.05, seed=1)
    positive, truth = datasets.simulate_multifactorial(400, 300, gamma=1.0, density=0.05, seed=1)
    assert len(popular) / (400 * 300) == pytest.approx(0.05, rel=0.1)
    # pure positivity: observed ratings much higher than the true ones
    assert positive["rating"].mean() > truth.mean() + 0.5
    # pure popularity: observed ratings about as high as the true ones of the observed items, but
    # the most exposed items are the best ones, so popularity and mean rating correlate
    assert bias.positivity_concentration(popular)["spearman"] > 0.3
    counts = np.bincount(positive["item"], minlength=300)
    assert np.corrcoef(counts, truth.mean(axis=0))[0, 1] < 0.9


def test_beta_damps_only_the_top_items_positive_ratings():
    train = pd.DataFrame({"user": [0, 1, 2, 3, 0, 1, 2], "item": [0, 0, 0, 1, 1, 2, 3],
                          "rating": [5.0, 4.0, 3.0, 5.0, 4.0, 5.0, 2.0]})
    assert simulation.damp_popular_positivity(train, 0.0).equals(train)
    damped = simulation.damp_popular_positivity(train, 0.5)  # top 2 of 4 items: 0 and 1
    assert damped["rating"].tolist() == [1.0, 1.0, 3.0, 1.0, 1.0, 5.0, 2.0]


def test_experiment_row_and_input_preparation():
    row = experiments.run_recommender(experiments.RecConfig(algorithm="MostPop", input="raw"))
    assert row.shape[0] == 1 and 0 < row.loc[0, "precision@10"] < 1
    split = datasets.load_split("ml100k")
    prepared = experiments.prepare_training(split, "pct_last")
    assert prepared["rating"].between(1.0, 5.0).all()
    leaky = experiments.prepare_training(split, "pct_last_leaky")
    assert not np.allclose(leaky["rating"], prepared["rating"])


def test_parameters_are_validated_with_names():
    with pytest.raises(ParameterError, match="'datasets'"):
        chapter.validate_parameters(datasets=["ml1m"])
    with pytest.raises(ParameterError, match="unknown parameter"):
        chapter.validate_parameters(epochs=3)
    with pytest.raises(ParameterError, match="'betas'"):
        chapter.validate_parameters(betas=[0.1, 0.2])
    with pytest.raises(ParameterError, match="candidate_lengths"):
        chapter.validate_parameters(candidate_lengths=[5], k=10)
    assert chapter.validate_parameters().profile == "book"

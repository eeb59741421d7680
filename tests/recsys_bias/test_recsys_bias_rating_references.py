"""Rating predictors on MovieLens-100k against numbers nobody here computed.

Reference: the Surprise library's README, "Benchmarks" table (scikit-surprise, 5-fold cross-validation
of MovieLens-100k with default parameters): RMSE 0.934 for ``SVD`` (biased matrix factorisation by
SGD), 0.919 for ``SVDpp``, 0.944 for ``BaselineOnly``. Ours are measured on the chapter's per-user
80/20 split (seed 0), one fold, so a small tolerance is allowed.
"""

import numpy as np
import pytest

from reprobook.recsys_bias import datasets, recommenders

SURPRISE_SVD_RMSE = 0.934
SURPRISE_SVDPP_RMSE = 0.919
TOLERANCE = 0.01


@pytest.fixture(scope="module")
def split():
    return datasets.load_split("ml100k", 0)


def held_out_rmse(model, split) -> float:
    users, items = split.test["user"].to_numpy(), split.test["item"].to_numpy()
    predicted = (model.mean_ + model.user_bias_[users] + model.item_bias_[items]
                 + (model.user_factors_[users] * model.item_factors_[items]).sum(1))
    return float(np.sqrt(np.mean((np.clip(predicted, 1, 5) - split.test["rating"].to_numpy()) ** 2)))


def test_biased_mf_matches_surprise_svd(split):
    model = recommenders.BiasedMF().fit(split.train, split.n_users, split.n_items)
    assert held_out_rmse(model, split) <= SURPRISE_SVD_RMSE + TOLERANCE


@pytest.mark.xfail(strict=True, reason="known defect (#14 item 7): our SVD++ (mini-batch Adam, 10 epochs) "
                   "predicts held-out ratings worse than BiasedMF and than Surprise's SVD++ (RMSE about 0.97 "
                   "against 0.915 and 0.919); per-parameter L2 alone did not close the gap; strict, so a fix "
                   "shows up as a failure of this marker")
def test_svdpp_matches_surprise_svdpp_and_beats_biased_mf(split):
    svdpp = held_out_rmse(recommenders.SVDpp().fit(split.train, split.n_users, split.n_items), split)
    biased = held_out_rmse(recommenders.BiasedMF().fit(split.train, split.n_users, split.n_items), split)
    assert svdpp <= SURPRISE_SVDPP_RMSE + TOLERANCE and svdpp <= biased

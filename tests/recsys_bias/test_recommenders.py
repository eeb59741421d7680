import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.metrics.pairwise import cosine_similarity

from reprobook.recsys_bias import recommenders as rec


def _ratings(seed=0, n_users=50, n_items=40):
    rng = np.random.default_rng(seed)
    rows = [(u, i, float(rng.integers(1, 6))) for u in range(n_users)
            for i in rng.choice(n_items, rng.integers(4, 20), replace=False)]
    return pd.DataFrame(rows, columns=["user", "item", "rating"]), n_users, n_items


def test_batched_ridge_equals_per_row_solves():
    rng = np.random.default_rng(1)
    weights = sp.random(20, 15, density=0.3, random_state=2, format="csr")
    targets = sp.csr_matrix((rng.normal(size=weights.nnz), weights.indices, weights.indptr), shape=weights.shape)
    features = rng.normal(size=(15, 4))
    reg = rng.uniform(0.1, 1.0, 20)
    base = np.eye(4) * 0.3
    ours = rec._ridge_rows(weights, targets, features, reg, base_gram=base)
    for row in range(20):
        w = weights[row].toarray().ravel()
        gram = features.T @ (w[:, None] * features) + base + reg[row] * np.eye(4)
        rhs = features.T @ targets[row].toarray().ravel()
        np.testing.assert_allclose(ours[row], np.linalg.solve(gram, rhs), rtol=1e-8, atol=1e-10)


def test_item_knn_similarity_is_cosine_of_item_centred_ratings():
    train, n_users, n_items = _ratings()
    model = rec.ItemKNN(neighbours=n_items, shrinkage=0.0).fit(train, n_users, n_items)
    dense = np.zeros((n_users, n_items))
    dense[train["user"], train["item"]] = train["rating"]
    observed = dense > 0
    means = dense.sum(0) / np.maximum(observed.sum(0), 1)
    centred = np.where(observed, dense - means, 0.0)
    reference = cosine_similarity(centred.T)
    np.fill_diagonal(reference, 0.0)
    np.testing.assert_allclose(model.similarity_, np.maximum(reference, 0.0), atol=1e-12)


def test_item_knn_prediction_by_hand_for_one_user():
    train, n_users, n_items = _ratings(seed=3)
    model = rec.ItemKNN(neighbours=5, shrinkage=2.0).fit(train, n_users, n_items)
    user = 4
    rated = train[train["user"] == user]
    scores = model.score(np.array([user]))[0]
    for item in range(n_items):
        weights = model.similarity_[item, rated["item"].to_numpy()]
        deviations = rated["rating"].to_numpy() - model.means_[rated["item"].to_numpy()]
        expected = model.means_[item] + (weights @ deviations / weights.sum() if weights.sum() > 0 else 0.0)
        assert scores[item] == pytest.approx(expected)


def test_user_knn_prediction_by_hand_for_one_user():
    train, n_users, n_items = _ratings(seed=4)
    model = rec.UserKNN(neighbours=8, shrinkage=0.0).fit(train, n_users, n_items)
    user = 7
    scores = model.score(np.array([user]))[0]
    for item in range(0, n_items, 3):
        raters = train[train["item"] == item]
        weights = model.similarity_[user, raters["user"].to_numpy()]
        deviations = raters["rating"].to_numpy() - model.means_[raters["user"].to_numpy()]
        expected = model.means_[user] + (weights @ deviations / weights.sum() if weights.sum() > 0 else 0.0)
        assert scores[item] == pytest.approx(expected)


@pytest.mark.parametrize("name", ["BiasedMF", "SVD++", "NMF"])
def test_rating_models_fit_better_than_the_global_mean(name):
    train, n_users, n_items = _ratings(seed=5)
    model = rec.make_recommender(name, epochs=30 if name != "NMF" else 200, seed=0).fit(train, n_users, n_items)
    predicted = model.score(np.arange(n_users))[train["user"], train["item"]]
    rmse = np.sqrt(np.mean((predicted - train["rating"].to_numpy()) ** 2))
    baseline = train["rating"].std(ddof=0)
    assert rmse < 0.8 * baseline


def test_nmf_factors_stay_non_negative_and_reject_negative_input():
    train, n_users, n_items = _ratings(seed=6)
    model = rec.NMF(factors=4, epochs=20).fit(train, n_users, n_items)
    assert (model.user_factors_ >= 0).all() and (model.item_factors_ >= 0).all()
    with pytest.raises(ValueError, match="non-negative"):
        rec.NMF().fit(train.assign(rating=train["rating"] - 3), n_users, n_items)


def test_implicit_als_item_factors_solve_the_weighted_normal_equations():
    # the last half-sweep solves every item given the user factors:
    # (Pᵀ C_i P + λ I) q_i = Pᵀ C_i p_i with C_i = diag(1 + α r_ui), p_ui = 1 on rated pairs
    train, n_users, n_items = _ratings(seed=8)
    model = rec.ImplicitALS(factors=3, reg=0.5, alpha=2.0, epochs=3).fit(train, n_users, n_items)
    users = model.user_factors_
    for item in (0, 11, 23):
        raters = train[train["item"] == item]
        confidence = np.ones(n_users)
        confidence[raters["user"]] += 2.0 * raters["rating"].to_numpy()
        preference = np.zeros(n_users)
        preference[raters["user"]] = 1.0
        lhs = users.T @ (confidence[:, None] * users) + 0.5 * np.eye(3)
        np.testing.assert_allclose(lhs @ model.item_factors_[item], users.T @ (confidence * preference),
                                   rtol=1e-8, atol=1e-10)


def test_top_k_never_recommends_rated_items_and_matches_a_full_sort():
    train, n_users, n_items = _ratings(seed=9)
    model = rec.RandomRecommender(seed=1).fit(train, n_users, n_items)
    lists, scores = rec.top_k_scored(model, train, 5, n_items)
    full = model.score(np.arange(n_users)).copy()
    full[train["user"], train["item"]] = -np.inf
    full[:, ~np.isin(np.arange(n_items), train["item"].unique())] = -np.inf
    np.testing.assert_array_equal(lists, np.argsort(-full, axis=1)[:, :5])
    assert (np.diff(scores, axis=1) <= 0).all()


def test_most_pop_ranks_by_training_count():
    train, n_users, n_items = _ratings(seed=10)
    lists = rec.top_k(rec.MostPop().fit(train, n_users, n_items), train, 3, n_items)
    counts = np.bincount(train["item"], minlength=n_items)
    for user in range(n_users):
        unseen = np.setdiff1d(np.arange(n_items), train.loc[train["user"] == user, "item"])
        assert counts[lists[user]].min() >= np.sort(counts[unseen])[-3]


def test_unknown_algorithm_and_hyperparameter_are_named():
    from reprobook.params import ParameterError

    with pytest.raises(ParameterError, match="'algorithm'"):
        rec.make_recommender("SLIM")
    with pytest.raises(ParameterError, match="neighbors"):
        rec.make_recommender("ItemKNN", neighbors=3)

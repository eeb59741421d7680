"""SVD++ minimises Koren's objective (2008, eq. 15), checked against an independent autograd gradient of
that objective written here from the paper, and its parameters are validated."""

import numpy as np
import pandas as pd
import pytest
import torch

from reprobook.params import ParameterError
from reprobook.recsys_bias import recommenders as rec


def _ratings(seed: int = 0, n_users: int = 30, n_items: int = 25) -> tuple[pd.DataFrame, int, int]:
    rng = np.random.default_rng(seed)
    rows = [(u, i, float(rng.integers(1, 6))) for u in range(n_users)
            for i in rng.choice(n_items, rng.integers(3, 12), replace=False)]
    return pd.DataFrame(rows, columns=["user", "item", "rating"]), n_users, n_items


def koren_objective_gradient(model: rec.SVDpp, train: pd.DataFrame, n_users: int, n_items: int) -> dict:
    """∂/∂θ of Σ_{(u,i)} [(r_ui − r̂_ui)² + λ_b(b_u² + b_i²) + λ(‖p_u‖² + ‖q_i‖² + Σ_{j∈N(u)} ‖y_j‖²)],
    one rating at a time, by torch autograd (float64)."""
    implicit = model.implicit_factors_
    p = model.user_factors_ - np.stack([implicit[train.loc[train["user"] == u, "item"]].sum(0)
                                        / np.sqrt(max((train["user"] == u).sum(), 1)) for u in range(n_users)])
    params = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in
              {"p": p, "q": model.item_factors_, "y": implicit, "bu": model.user_bias_,
               "bi": model.item_bias_}.items()}
    rated = {u: torch.tensor(group["item"].to_numpy()) for u, group in train.groupby("user")}
    loss = torch.zeros((), dtype=torch.float64)
    for u, i, r in train.itertuples(index=False):
        neighbours = rated[u]
        z = params["p"][u] + params["y"][neighbours].sum(0) / np.sqrt(len(neighbours))
        prediction = model.mean_ + params["bu"][u] + params["bi"][i] + params["q"][i] @ z
        loss = loss + (r - prediction) ** 2 + model.reg_bias * (params["bu"][u] ** 2 + params["bi"][i] ** 2) \
            + model.reg * (params["p"][u].pow(2).sum() + params["q"][i].pow(2).sum()
                           + params["y"][neighbours].pow(2).sum())
    loss.backward()
    return {name: tensor.grad.numpy() for name, tensor in params.items()} | {"loss": float(loss.detach())}


def test_fitted_svdpp_is_a_stationary_point_of_korens_objective():
    train, n_users, n_items = _ratings()
    start = rec.SVDpp(factors=3, reg=0.2, reg_bias=0.05, epochs=1, cg_steps=1).fit(train, n_users, n_items)
    fitted = rec.SVDpp(factors=3, reg=0.2, reg_bias=0.05, epochs=300, cg_steps=20).fit(train, n_users, n_items)
    early, late = (koren_objective_gradient(m, train, n_users, n_items) for m in (start, fitted))
    assert late["loss"] < early["loss"]
    for name in ("p", "q", "y", "bu", "bi"):
        scale = np.abs(early[name]).max()
        assert np.abs(late[name]).max() < 1e-3 * max(scale, 1.0), name


def test_svdpp_is_deterministic_given_its_seed():
    train, n_users, n_items = _ratings(seed=2)
    first = rec.SVDpp(factors=4, epochs=3, seed=7).fit(train, n_users, n_items).score(np.arange(n_users))
    again = rec.SVDpp(factors=4, epochs=3, seed=7).fit(train, n_users, n_items).score(np.arange(n_users))
    other = rec.SVDpp(factors=4, epochs=3, seed=8).fit(train, n_users, n_items).score(np.arange(n_users))
    assert (first == again).all() and not np.allclose(first, other)


@pytest.mark.parametrize(("field", "value"), [("reg", -0.1), ("reg_bias", -1.0), ("epochs", 0), ("cg_steps", 0),
                                              ("factors", 0), ("init_scale", -0.5)])
def test_svdpp_refuses_bad_settings_by_name(field, value):
    train, n_users, n_items = _ratings(seed=3)
    with pytest.raises(ParameterError, match=f"'{field}'"):
        rec.SVDpp(**{field: value}).fit(train, n_users, n_items)

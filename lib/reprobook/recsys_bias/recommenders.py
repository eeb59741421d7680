"""Eight recommenders over (user, item, rating) frames, vectorised with sparse products and batched solves.

The six of the chapter brief §2.5 — :class:`UserKNN`, :class:`ItemKNN`, :class:`BiasedMF` (ALS),
:class:`SVDpp` (Koren's objective, alternating solves), :class:`NMF` (multiplicative updates on the observed entries)
and :class:`ImplicitALS` (iALS, the ranking model; its confidence grows with the rating value so its
input transformation matters) — plus :class:`MostPop` and :class:`RandomRecommender` as references.
Every model has ``fit(train, n_users, n_items)`` and ``score(users) -> (len(users), n_items)``; the
rating-prediction models rank items by predicted rating, as LibRec does. :func:`top_k` masks the
training items and returns the lists.

>>> train = pd.DataFrame({"user": [0, 0, 1, 2], "item": [0, 1, 0, 2], "rating": [5.0, 3.0, 4.0, 1.0]})
>>> top_k(MostPop().fit(train, 3, 3), train, k=1, n_items=3).tolist()
[[2], [1], [0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "ALGORITHMS",
    "rating_matrix",
    "make_recommender",
    "top_k",
    "top_k_scored",
    "MostPop",
    "RandomRecommender",
    "ItemKNN",
    "UserKNN",
    "BiasedMF",
    "SVDpp",
    "NMF",
    "ImplicitALS",
]


def rating_matrix(train: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
    """The sparse user × item matrix of ``train`` (duplicates summed)."""
    return sp.csr_matrix(
        (train["rating"].to_numpy(dtype=np.float64), (train["user"].to_numpy(), train["item"].to_numpy())),
        shape=(n_users, n_items),
    )


def _row_grams(weights: sp.csr_matrix, features: np.ndarray) -> np.ndarray:
    """Σ_i w_ui x_i x_iᵀ for every row u, shape (rows, dim, dim): one sparse product with the upper
    triangles of the outer products x_i x_iᵀ (symmetry halves the work), mirrored afterwards."""
    dim = features.shape[1]
    upper_rows, upper_cols = np.triu_indices(dim)
    outer = features[:, upper_rows] * features[:, upper_cols]
    packed_index = np.empty((dim, dim), dtype=np.int64)
    packed_index[upper_rows, upper_cols] = np.arange(len(upper_rows))
    packed_index[upper_cols, upper_rows] = np.arange(len(upper_rows))
    return np.asarray(weights @ outer)[:, packed_index.ravel()].reshape(-1, dim, dim)


def _with_values(structure: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray, values: np.ndarray) -> sp.csr_matrix:
    """A sparse matrix of ``structure``'s shape holding ``values`` at (``rows``, ``columns``)."""
    return sp.csr_matrix((values, (rows, columns)), shape=structure.shape)


def _ridge_rows(weights: sp.csr_matrix, targets: sp.csr_matrix, features: np.ndarray, reg: np.ndarray,
                base_gram: np.ndarray | None = None) -> np.ndarray:
    """Solve, for every row u, (Σ_i w_ui x_i x_iᵀ + G₀ + diag(reg_u)) θ_u = Σ_i t_ui x_i, all rows at once.

    ``reg`` is one value per row (the same for every coordinate) or one per row and coordinate
    (shape (rows, dim), for a different penalty on a bias column). The Gram matrices come from
    :func:`_row_grams`.
    """
    dim = features.shape[1]
    gram = _row_grams(weights, features)
    if base_gram is not None:
        gram += base_gram[None]
    gram[:, np.arange(dim), np.arange(dim)] += reg[:, None] if reg.ndim == 1 else reg
    rhs = np.asarray(targets @ features)
    return np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]


class MostPop:
    """Scores every item by its number of training ratings (the same list for everyone)."""

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> MostPop:
        self.counts_ = np.bincount(train["item"].to_numpy(), minlength=n_items).astype(np.float64)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts_, (len(users), len(self.counts_))).copy()


@dataclass
class RandomRecommender:
    """Uniformly random scores (seeded)."""

    seed: int = 0

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> RandomRecommender:
        self.scores_ = np.random.default_rng(self.seed).random((n_users, n_items))
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return self.scores_[users]


def _centered(matrix: sp.csr_matrix, axis: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Ratings minus their row (axis=1) or column (axis=0) mean over observed entries."""
    indicator = matrix.copy()
    indicator.data[:] = 1.0
    counts = np.asarray(indicator.sum(axis=axis)).ravel()
    sums = np.asarray(matrix.sum(axis=axis)).ravel()
    means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    coo = matrix.tocoo()
    offset = means[coo.col] if axis == 0 else means[coo.row]
    centered = sp.csr_matrix((coo.data - offset, (coo.row, coo.col)), shape=matrix.shape)
    return centered, means


def _neighbour_similarity(vectors: sp.csr_matrix, indicator: sp.csr_matrix, neighbours: int,
                          shrinkage: float) -> np.ndarray:
    """Cosine similarity between the rows of ``vectors``, shrunk by co-support n/(n + shrinkage),
    self-similarity removed, only the ``neighbours`` largest positive entries per row kept."""
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    similarity = np.asarray((vectors @ vectors.T).todense())
    similarity /= np.maximum(np.outer(norms, norms), 1e-12)
    if shrinkage > 0:
        support = np.asarray((indicator @ indicator.T).todense())
        similarity *= support / (support + shrinkage)
    np.fill_diagonal(similarity, 0.0)
    similarity[similarity < 0] = 0.0
    if neighbours < similarity.shape[1]:
        cut = np.argpartition(-similarity, neighbours, axis=1)[:, neighbours:]
        np.put_along_axis(similarity, cut, 0.0, axis=1)
    return similarity


@dataclass
class ItemKNN:
    """Item-based k-NN: r̂_ui = m_i + Σ_j s_ij (r_uj − m_j) / Σ_j s_ij over the k nearest items j of i
    that u rated (neighbours chosen globally per item, Pearson-style: cosine of item-centred ratings)."""

    neighbours: int = 50
    shrinkage: float = 10.0

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> ItemKNN:
        matrix = rating_matrix(train, n_users, n_items)
        indicator = sp.csr_matrix((np.ones(len(train)), (train["user"], train["item"])), shape=matrix.shape)
        centered, self.means_ = _centered(matrix, axis=0)
        self.similarity_ = _neighbour_similarity(centered.T.tocsr(), indicator.T.tocsr(),
                                                 self.neighbours, self.shrinkage)
        self.centered_, self.indicator_ = centered, indicator
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        numerator = np.asarray(self.centered_[users] @ self.similarity_.T)
        denominator = np.asarray(self.indicator_[users] @ self.similarity_.T)
        deviation = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
        return self.means_[None, :] + deviation


@dataclass
class UserKNN:
    """User-based k-NN: r̂_ui = m_u + Σ_v s_uv (r_vi − m_v) / Σ_v s_uv over the k nearest users v of u
    who rated i (cosine of user-centred ratings, shrunk by co-support)."""

    neighbours: int = 50
    shrinkage: float = 10.0

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> UserKNN:
        matrix = rating_matrix(train, n_users, n_items)
        indicator = sp.csr_matrix((np.ones(len(train)), (train["user"], train["item"])), shape=matrix.shape)
        centered, self.means_ = _centered(matrix, axis=1)
        self.similarity_ = _neighbour_similarity(centered, indicator, self.neighbours, self.shrinkage)
        self.centered_, self.indicator_ = centered, indicator
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        weights = self.similarity_[users]
        numerator = np.asarray((self.centered_.T @ weights.T).T)
        denominator = np.asarray((self.indicator_.T @ weights.T).T)
        deviation = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
        return self.means_[users][:, None] + deviation


@dataclass
class BiasedMF:
    """r̂_ui = μ + b_u + b_i + p_uᵀq_i, fitted by alternating least squares (``epochs`` sweeps, ridge
    ``reg`` weighted by each row's number of ratings); every half-sweep is one batched solve."""

    factors: int = 32
    reg: float = 0.1
    epochs: int = 20
    seed: int = 0

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> BiasedMF:
        rng = np.random.default_rng(self.seed)
        users, items = train["user"].to_numpy(), train["item"].to_numpy()
        ratings = train["rating"].to_numpy(dtype=np.float64)
        self.mean_ = float(ratings.mean())
        indicator = sp.csr_matrix((np.ones(len(train)), (users, items)), shape=(n_users, n_items))
        indicator_t = indicator.T.tocsr()
        user_reg = self.reg * np.maximum(np.asarray(indicator.sum(axis=1)).ravel(), 1.0)
        item_reg = self.reg * np.maximum(np.asarray(indicator.sum(axis=0)).ravel(), 1.0)
        p = rng.normal(scale=0.1, size=(n_users, self.factors))
        q = rng.normal(scale=0.1, size=(n_items, self.factors))
        bu, bi = np.zeros(n_users), np.zeros(n_items)
        for _ in range(self.epochs):
            residual = ratings - self.mean_ - bi[items]
            targets = sp.csr_matrix((residual, (users, items)), shape=(n_users, n_items))
            theta = _ridge_rows(indicator, targets, np.hstack([q, np.ones((n_items, 1))]), user_reg)
            p, bu = theta[:, :-1], theta[:, -1]
            residual = ratings - self.mean_ - bu[users]
            targets = sp.csr_matrix((residual, (items, users)), shape=(n_items, n_users))
            theta = _ridge_rows(indicator_t, targets, np.hstack([p, np.ones((n_users, 1))]), item_reg)
            q, bi = theta[:, :-1], theta[:, -1]
        self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_ = p, q, bu, bi
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return (self.mean_ + self.user_bias_[users][:, None] + self.item_bias_[None, :]
                + self.user_factors_[users] @ self.item_factors_.T)


@dataclass
class ImplicitALS:
    """Implicit ALS (Hu, Koren & Volinsky 2008): preference 1 on rated items with confidence
    1 + α·r_ui, preference 0 with confidence 1 elsewhere; ranks by p_uᵀq_i."""

    factors: int = 32
    reg: float = 1.0
    alpha: float = 2.0
    epochs: int = 10
    seed: int = 0

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> ImplicitALS:
        rng = np.random.default_rng(self.seed)
        users, items = train["user"].to_numpy(), train["item"].to_numpy()
        confidence = 1.0 + self.alpha * np.maximum(train["rating"].to_numpy(dtype=np.float64), 0.0)
        extra = sp.csr_matrix((confidence - 1.0, (users, items)), shape=(n_users, n_items))
        target = sp.csr_matrix((confidence, (users, items)), shape=(n_users, n_items))
        extra_t, target_t = extra.T.tocsr(), target.T.tocsr()
        p = rng.normal(scale=0.01, size=(n_users, self.factors))
        q = rng.normal(scale=0.01, size=(n_items, self.factors))
        for _ in range(self.epochs):
            p = _ridge_rows(extra, target, q, np.full(n_users, self.reg), base_gram=q.T @ q)
            q = _ridge_rows(extra_t, target_t, p, np.full(n_items, self.reg), base_gram=p.T @ p)
        self.user_factors_, self.item_factors_ = p, q
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T


@dataclass
class NMF:
    """Non-negative factorisation of the observed ratings, r̂_ui = w_uᵀh_i with w, h ≥ 0, by Lee–Seung
    multiplicative updates restricted to the observed entries. Inputs must be non-negative."""

    factors: int = 16
    epochs: int = 50
    seed: int = 0

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> NMF:
        rng = np.random.default_rng(self.seed)
        users, items = train["user"].to_numpy(), train["item"].to_numpy()
        ratings = train["rating"].to_numpy(dtype=np.float64)
        if (ratings < 0).any():
            raise ValueError("NMF needs non-negative ratings; shift the input (e.g. z-scores) first")
        matrix = sp.csr_matrix((ratings, (users, items)), shape=(n_users, n_items))
        scale = np.sqrt(ratings.mean() / self.factors)
        w = rng.uniform(0.5, 1.5, size=(n_users, self.factors)) * scale
        h = rng.uniform(0.5, 1.5, size=(n_items, self.factors)) * scale
        eps = 1e-9
        for _ in range(self.epochs):
            fitted = sp.csr_matrix((np.einsum("ij,ij->i", w[users], h[items]), (users, items)),
                                   shape=matrix.shape)
            w *= (matrix @ h) / (fitted @ h + eps)
            fitted = sp.csr_matrix((np.einsum("ij,ij->i", w[users], h[items]), (users, items)),
                                   shape=matrix.shape)
            h *= (matrix.T @ w) / (fitted.T @ w + eps)
        self.user_factors_, self.item_factors_ = w, h
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T


@dataclass
class SVDpp:
    """SVD++ (Koren 2008, eq. 15): r̂_ui = μ + b_u + b_i + q_iᵀ(p_u + |N(u)|^(−½) Σ_{j∈N(u)} y_j), with N(u)
    the items u rated in training, fitted to Koren's objective

        Σ_{(u,i)} (r_ui − r̂_ui)² + ``reg_bias``·(b_u² + b_i²) + ``reg``·(‖p_u‖² + ‖q_i‖² + Σ_{j∈N(u)} ‖y_j‖²).

    The penalties sit inside the sum over ratings, as in Koren's stochastic updates (every parameter
    is shrunk each time a rating touches it): p_u is penalised n_u times, q_i n_i times and y_j once
    per rating of every user who rated j. Instead of SGD the objective is minimised by alternating
    exact steps, ``epochs`` sweeps of: (p_u, b_u) for every user and (q_i, b_i) for every item by one
    batched ridge solve each, then y by ``cg_steps`` conjugate-gradient steps on its (linear,
    positive-definite) normal equations, warm-started from the current y. Factors start from
    N(0, ``init_scale``²), biases from 0. Rows of users without ratings keep the bias-free prediction.
    """

    factors: int = 32
    reg: float = 0.1
    reg_bias: float = 0.1
    epochs: int = 20
    cg_steps: int = 4
    init_scale: float = 0.1
    seed: int = 0

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> SVDpp:
        from reprobook.params import check_float, check_int

        check_int("factors", self.factors, minimum=1)
        check_int("epochs", self.epochs, minimum=1)
        check_int("cg_steps", self.cg_steps, minimum=1)
        for name in ("reg", "reg_bias", "init_scale"):
            check_float(name, getattr(self, name), minimum=0.0)
        rng = np.random.default_rng(self.seed)
        users, items = train["user"].to_numpy(), train["item"].to_numpy()
        ratings = train["rating"].to_numpy(dtype=np.float64)
        self.mean_ = float(ratings.mean())
        indicator = sp.csr_matrix((np.ones(len(train)), (users, items)), shape=(n_users, n_items))
        indicator_t = indicator.T.tocsr()
        user_counts = np.maximum(np.asarray(indicator.sum(axis=1)).ravel(), 1.0)
        item_counts = np.maximum(np.asarray(indicator.sum(axis=0)).ravel(), 1.0)
        # the normalised implicit-feedback matrix: row u is |N(u)|^(-1/2) on the items of N(u)
        implicit = sp.csr_matrix((user_counts[users] ** -0.5, (users, items)), shape=(n_users, n_items))
        implicit_t = implicit.T.tocsr()
        # y_j's penalty weight: one per rating of every user who rated j
        y_weight = self.reg * np.asarray(indicator_t @ user_counts).ravel()
        user_reg = np.column_stack([np.repeat(self.reg * user_counts[:, None], self.factors, axis=1),
                                    self.reg_bias * user_counts])
        item_reg = np.column_stack([np.repeat(self.reg * item_counts[:, None], self.factors, axis=1),
                                    self.reg_bias * item_counts])
        p, q, y = (rng.normal(scale=self.init_scale, size=(rows, self.factors))
                   for rows in (n_users, n_items, n_items))
        bu, bi = np.zeros(n_users), np.zeros(n_items)
        ones_items, ones_users = np.ones((n_items, 1)), np.ones((n_users, 1))
        for _ in range(self.epochs):
            implicit_sum = implicit @ y
            residual = ratings - self.mean_ - bi[items] - np.einsum("ij,ij->i", q[items], implicit_sum[users])
            theta = _ridge_rows(indicator, _with_values(indicator, users, items, residual),
                                np.hstack([q, ones_items]), user_reg)
            p, bu = theta[:, :-1], theta[:, -1]
            residual = ratings - self.mean_ - bu[users]
            theta = _ridge_rows(indicator_t, _with_values(indicator_t, items, users, residual),
                                np.hstack([p + implicit_sum, ones_users]), item_reg)
            q, bi = theta[:, :-1], theta[:, -1]
            y = self._implicit_step(y, p, q, bu, bi, ratings, users, items, indicator, implicit, implicit_t,
                                    y_weight)
        self.user_factors_ = p + implicit @ y
        self.item_factors_, self.user_bias_, self.item_bias_, self.implicit_factors_ = q, bu, bi, y
        return self

    def _implicit_step(self, y: np.ndarray, p: np.ndarray, q: np.ndarray, bu: np.ndarray, bi: np.ndarray,
                       ratings: np.ndarray, users: np.ndarray, items: np.ndarray, indicator: sp.csr_matrix,
                       implicit: sp.csr_matrix, implicit_t: sp.csr_matrix, y_weight: np.ndarray) -> np.ndarray:
        """Conjugate-gradient steps on y's normal equations (Nᵀ A N + diag(w)) y = Nᵀ c, where A_u =
        Σ_{i rated by u} q_i q_iᵀ, c_u = Σ_i (r_ui − μ − b_u − b_i − q_iᵀp_u) q_i and N the implicit matrix."""
        gram = _row_grams(indicator, q)
        residual = ratings - self.mean_ - bu[users] - bi[items] - np.einsum("ij,ij->i", q[items], p[users])
        rhs = implicit_t @ (_with_values(indicator, users, items, residual) @ q)

        def apply(v: np.ndarray) -> np.ndarray:
            return implicit_t @ np.einsum("uab,ub->ua", gram, implicit @ v) + y_weight[:, None] * v

        remainder = rhs - apply(y)
        direction = remainder.copy()
        norm = float((remainder * remainder).sum())
        for _ in range(self.cg_steps):
            if norm <= 1e-20:
                break
            image = apply(direction)
            step = norm / float((direction * image).sum())
            y = y + step * direction
            remainder = remainder - step * image
            new_norm = float((remainder * remainder).sum())
            direction = remainder + (new_norm / norm) * direction
            norm = new_norm
        return y

    def score(self, users: np.ndarray) -> np.ndarray:
        return (self.mean_ + self.user_bias_[users][:, None] + self.item_bias_[None, :]
                + self.user_factors_[users] @ self.item_factors_.T)


ALGORITHMS = {
    "MostPop": MostPop,
    "Random": RandomRecommender,
    "UserKNN": UserKNN,
    "ItemKNN": ItemKNN,
    "BiasedMF": BiasedMF,
    "SVD++": SVDpp,
    "NMF": NMF,
    "iALS": ImplicitALS,
}


def make_recommender(name: str, **hyper: float | int):
    """Build a recommender by name with its hyperparameters (``seed`` is passed where it applies).

    >>> make_recommender("BiasedMF", factors=8).factors
    8
    """
    from reprobook.params import ParameterError, check_choice

    check_choice("algorithm", name, ALGORITHMS)
    cls = ALGORITHMS[name]
    if name == "MostPop":
        return cls()
    fields = set(cls.__dataclass_fields__)
    unknown = sorted(set(hyper) - fields)
    if unknown:
        raise ParameterError(f"unknown hyperparameter(s) {unknown} for {name}; allowed: {sorted(fields)}")
    return cls(**hyper)


def top_k(model, train: pd.DataFrame, k: int, n_items: int, users: np.ndarray | None = None,
          candidates: np.ndarray | None = None) -> np.ndarray:
    """The top-``k`` unrated items of each user (rows in ``users`` order, default all users).

    Items a user rated in ``train`` and items outside ``candidates`` (default: the items with a
    training rating) are never recommended. Scores are computed in user blocks.
    """
    return top_k_scored(model, train, k, n_items, users, candidates)[0]


def top_k_scored(model, train: pd.DataFrame, k: int, n_items: int, users: np.ndarray | None = None,
                 candidates: np.ndarray | None = None, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`top_k`, also returning the scores (each row sorted by decreasing score)."""
    n_rows = int(train["user"].max()) + 1
    users = np.arange(n_rows) if users is None else np.asarray(users)
    seen = sp.csr_matrix((np.ones(len(train), dtype=bool), (train["user"], train["item"])),
                         shape=(max(n_rows, int(users.max()) + 1), n_items))
    allowed = np.zeros(n_items, dtype=bool)
    allowed[np.unique(train["item"].to_numpy()) if candidates is None else candidates] = True
    if k > int(allowed.sum()):
        raise ValueError(f"k={k} exceeds the {int(allowed.sum())} candidate items")
    lists = np.empty((len(users), k), dtype=np.int64)
    list_scores = np.empty((len(users), k), dtype=np.float64)
    for start in range(0, len(users), block):
        chunk = users[start:start + block]
        scores = np.array(model.score(chunk), dtype=np.float64)
        scores[:, ~allowed] = -np.inf
        rows = seen[chunk].tocoo()
        scores[rows.row, rows.col] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(scores, top, axis=1)
        # decreasing score, ties broken by item code so lists do not depend on argpartition's order
        order = np.lexsort((top, -top_scores), axis=1)
        lists[start:start + block] = np.take_along_axis(top, order, axis=1)
        list_scores[start:start + block] = np.take_along_axis(top_scores, order, axis=1)
    return lists, list_scores

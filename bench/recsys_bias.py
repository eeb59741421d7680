"""Throughput of the recsys_bias hot paths against established references, interleaved (kit harness).

Run ``python bench/recsys_bias.py`` (``--quick`` for a few-second check; CI). Comparisons:

1. **Percentile transform** (item profiles, tie rule ``last``) of 1M synthetic ratings with a
   long-tailed item popularity. Reference: the pandas one-liner
   ``100 * groupby(item).rank(method="max") / (size + 1)``; ours is ``percentile_ranks``. Both
   outputs are checked equal first. Target: ours at least as fast as pandas.
2. **Rating-prediction fits on MovieLens-100k** against Surprise (``scikit-surprise``), the
   established library for these models: our BiasedMF (batched ALS, 20 epochs, 32 factors) against
   Surprise's ``SVD`` (biased MF by SGD, 20 epochs, 32 factors), and, outside quick mode, our SVD++
   (Koren's objective by alternating solves, 20 sweeps) against Surprise's ``SVDpp`` (20 epochs, its
   defaults).
   The held-out RMSE of each is printed beside its time, so a faster but worse model shows.

Smaller sizes in quick mode (100k ratings; one round).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reprobook.benchmark import compare, quick_mode, write_record
from reprobook.recsys_bias import datasets, recommenders
from reprobook.recsys_bias.percentile import percentile_ranks


def synthetic_ratings(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    weights = 1.0 / (np.arange(20_000) + 10.0)
    items = rng.choice(20_000, n, p=weights / weights.sum())
    return pd.DataFrame({"user": rng.integers(0, 50_000, n), "item": items,
                         "rating": rng.integers(1, 6, n).astype(np.float64)})


def pandas_percentiles(frame: pd.DataFrame) -> np.ndarray:
    """The reference: pandas' grouped rank(method="max") over the item's profile size + 1."""
    by_item = frame.groupby("item")["rating"]
    return (100.0 * by_item.rank(method="max") / (by_item.transform("size") + 1)).to_numpy()


def percentile_comparison(n: int, rounds: int):
    frame = synthetic_ratings(n)
    np.testing.assert_allclose(percentile_ranks(frame, "item", "last"), pandas_percentiles(frame))
    return compare({"pandas rank(method='max')": lambda: pandas_percentiles(frame),
                    "percentile_ranks (ours)": lambda: percentile_ranks(frame, "item", "last")},
                   reference="pandas rank(method='max')", name="recsys percentile transform (last)",
                   work=n, unit="ratings", rounds=rounds, targets={"percentile_ranks (ours)": 1.0},
                   notes=f"{n:,} synthetic ratings, {frame['item'].nunique():,} items")


def _surprise_data(split):
    from surprise import Dataset, Reader

    reader = Reader(rating_scale=(1, 5))
    trainset = Dataset.load_from_df(split.train[["user", "item", "rating"]], reader).build_full_trainset()
    testset = list(split.test[["user", "item", "rating"]].itertuples(index=False, name=None))
    return trainset, testset


def _rmse_ours(model, split) -> float:
    users, items = split.test["user"].to_numpy(), split.test["item"].to_numpy()
    predicted = (model.mean_ + model.user_bias_[users] + model.item_bias_[items]
                 + (model.user_factors_[users] * model.item_factors_[items]).sum(1))
    return float(np.sqrt(np.mean((np.clip(predicted, 1, 5) - split.test["rating"].to_numpy()) ** 2)))


def _rmse_surprise(algorithm, testset) -> float:
    from surprise import accuracy

    return float(accuracy.rmse(algorithm.test(testset), verbose=False))


def fit_comparisons(rounds: int, with_svdpp: bool):
    from surprise import SVD, SVDpp

    split = datasets.load_split("ml100k", 0)
    trainset, testset = _surprise_data(split)
    fitted: dict[str, object] = {}

    def ours(name: str, build):
        def call() -> None:
            fitted[name] = build().fit(split.train, split.n_users, split.n_items)
        return call

    def theirs(name: str, build):
        def call() -> None:
            algorithm = build()
            algorithm.fit(trainset)
            fitted[name] = algorithm
        return call

    pairs = [("Surprise SVD (SGD, 20 epochs)", "BiasedMF (ours, ALS, 20 epochs)",
              theirs("Surprise SVD (SGD, 20 epochs)", lambda: SVD(n_factors=32, n_epochs=20, random_state=0)),
              ours("BiasedMF (ours, ALS, 20 epochs)", lambda: recommenders.BiasedMF(factors=32, epochs=20)))]
    if with_svdpp:
        pairs.append(("Surprise SVDpp (20 epochs)", "SVD++ (ours, ALS, 20 sweeps)",
                      theirs("Surprise SVDpp (20 epochs)", lambda: SVDpp(random_state=0)),
                      ours("SVD++ (ours, ALS, 20 sweeps)", lambda: recommenders.SVDpp(epochs=20))))
    results = []
    for reference, candidate, reference_call, candidate_call in pairs:
        result = compare({reference: reference_call, candidate: candidate_call}, reference=reference,
                         name=f"recsys fit: {candidate.split(' (')[0]} vs Surprise", work=len(split.train),
                         unit="training ratings", rounds=rounds, targets={candidate: 1.0})
        result.notes = (f"held-out RMSE on the ML-100k test split: {reference} "
                        f"{_rmse_surprise(fitted[reference], testset):.4f}, {candidate} "
                        f"{_rmse_ours(fitted[candidate], split):.4f}")
        results.append(result)
    return results


def main() -> None:
    quick = quick_mode()
    results = [percentile_comparison(100_000 if quick else 1_000_000, 2 if quick else 7)]
    results += fit_comparisons(1 if quick else 3, with_svdpp=not quick)
    for result in results:
        print(result.report(), "\n")
        for name in result.candidates:
            if name != result.reference:
                ratio = result.ratio(name)
                relation = "faster than" if ratio.value >= 1 else "slower than"
                print(f"{name}: {max(ratio.value, 1 / ratio.value):.2f}× {relation} {result.reference} "
                      f"(ratio interval [{ratio.low:.2f}, {ratio.high:.2f}])\n")
    write_record(results, "recsys_bias")


if __name__ == "__main__":
    main()

"""Metric identities and hand-computed tables; the probe against scikit-learn; the colour histogram vs numpy."""

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression

from reprobook.reobench.metrics import (
    corruption_errors,
    monotone_share,
    per_corruption_drop,
    robustness_summary,
)
from reprobook.reobench.probe import colour_histogram, fit_linear_probe


def _table(rows):
    return pd.DataFrame(rows, columns=["model", "corruption", "severity", "accuracy"])


def test_hand_table():
    table = _table([
        ("ref", "clean", 0, 0.80), ("ref", "a", 1, 0.60), ("ref", "a", 2, 0.40), ("ref", "b", 1, 0.70),
        ("ref", "b", 2, 0.70),
        ("new", "clean", 0, 0.90), ("new", "a", 1, 0.80), ("new", "a", 2, 0.70), ("new", "b", 1, 0.85),
        ("new", "b", 2, 0.75),
    ])
    summary = robustness_summary(table, reference="ref")
    # ref: mean corrupted 0.6 → Δ 0.2, ρ 0.25; new: mean 0.775 → Δ 0.125, ρ 0.1389
    np.testing.assert_allclose(summary.loc["ref", ["absolute_drop", "relative_drop"]], [0.2, 0.25])
    np.testing.assert_allclose(summary.loc["new", ["absolute_drop", "relative_drop"]], [0.125, 0.125 / 0.9])
    errors = corruption_errors(table, "ref")
    # CE_a = (0.2 + 0.3) / (0.4 + 0.6) = 0.5; CE_b = (0.15 + 0.25) / (0.3 + 0.3) = 2/3
    np.testing.assert_allclose(errors.loc["new", ["a", "b"]], [0.5, 2 / 3])
    np.testing.assert_allclose(summary.loc["new", "mCE"], (0.5 + 2 / 3) / 2)
    np.testing.assert_allclose(summary.loc["ref", "mCE"], 1.0)  # the reference's mCE is 1 by definition
    np.testing.assert_allclose(summary.loc["new", "mRR"], np.mean([0.8, 0.7, 0.85, 0.75]) / 0.9)
    drops = per_corruption_drop(table)
    np.testing.assert_allclose(drops.loc["ref", ["a", "b"]], [1 - 0.5 / 0.8, 1 - 0.7 / 0.8])


def test_mrr_is_one_when_corruptions_do_nothing():
    table = _table([("m", "clean", 0, 0.7)] + [("m", c, s, 0.7) for c in "xyz" for s in (1, 2, 3)])
    summary = robustness_summary(table, reference="m", appearance=("x", "y"))
    assert summary.loc["m", "mRR"] == 1.0 and summary.loc["m", "absolute_drop"] == 0.0
    assert summary.loc["m", "relative_drop_geometric"] == 0.0
    assert monotone_share(table, ("x", "y", "z")) == 1.0


def test_probe_matches_scikit_learn():
    generator = torch.Generator().manual_seed(0)
    n, d, k = 300, 6, 3
    features = torch.randn(n, d, generator=generator, dtype=torch.float64)
    labels = (features[:, :k] + 0.8 * torch.randn(n, k, generator=generator, dtype=torch.float64)).argmax(1)
    l2 = 1e-2
    probe = fit_linear_probe(features, labels, l2=l2, standardise=False)
    reference = LogisticRegression(C=1 / (2 * n * l2), tol=1e-10, max_iter=10_000).fit(features.numpy(), labels.numpy())
    np.testing.assert_allclose(probe.weight.numpy(), reference.coef_, atol=2e-4)
    # sklearn's intercepts are identified only up to a common shift
    np.testing.assert_allclose(probe.bias.numpy() - probe.bias.numpy().mean(),
                               reference.intercept_ - reference.intercept_.mean(), atol=2e-4)
    assert (probe.predict(features).numpy() == reference.predict(features.numpy())).mean() > 0.99


def test_colour_histogram_matches_numpy():
    images = torch.rand(3, 3, 10, 12, generator=torch.Generator().manual_seed(1))
    ours = colour_histogram(images).numpy()
    for image, row in zip(images.numpy(), ours, strict=True):
        pixels = np.minimum((image.reshape(3, -1).T * 6).astype(int), 5)
        reference, _ = np.histogramdd(pixels, bins=(6, 6, 6), range=((0, 6), (0, 6), (0, 6)))
        np.testing.assert_allclose(row, reference.flatten() / pixels.shape[0])

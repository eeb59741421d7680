import time

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import proportion_confint

from reprobook.safetutors.metrics import (
    agreement,
    any_turn_rate,
    bootstrap_means,
    cohen_kappa,
    dimensions_above,
    harm_table,
    kaplan_meier,
    paired_bootstrap,
    permutation_chi2,
    wilson_interval,
)


def test_wilson_matches_statsmodels():
    k = np.array([0, 1, 5, 17, 33, 48])
    n = np.array([10, 7, 40, 33, 48, 48])
    low, high = wilson_interval(k, n)
    ref_low, ref_high = proportion_confint(k, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(low, ref_low, atol=1e-9)
    np.testing.assert_allclose(high, ref_high, atol=1e-9)


def test_kappa_matches_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.random(200) < rng.random()
        b = np.where(rng.random(200) < 0.7, a, rng.random(200) < 0.5)
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_agreement_precision_recall_by_hand():
    truth = np.array([1, 1, 1, 0, 0, 0, 0, 0], bool)
    pred = np.array([1, 1, 0, 1, 0, 0, 0, 0], bool)
    out = agreement(truth, pred, n_resamples=200)
    assert out["precision"] == pytest.approx(2 / 3) and out["recall"] == pytest.approx(2 / 3)
    assert out["kappa_low"] <= out["kappa"] <= out["kappa_high"]


def test_bootstrap_matches_scipy_percentile():
    rng = np.random.default_rng(1)
    after = (rng.random(150) < 0.6).astype(float)
    before = (rng.random(150) < 0.4).astype(float)
    ours = paired_bootstrap(after, before, n_resamples=10_000, seed=3)
    ref = scipy.stats.bootstrap((after - before,), np.mean, n_resamples=10_000, method="percentile",
                                random_state=4).confidence_interval
    assert ours["ci_low"] == pytest.approx(ref.low, abs=0.02)
    assert ours["ci_high"] == pytest.approx(ref.high, abs=0.02)


def test_bootstrap_is_vectorised_and_fast():
    values = np.random.default_rng(2).random(1000)
    started = time.process_time()  # CPU seconds: a loaded machine stretches wall time, not the work
    means = bootstrap_means(values, 10_000)
    assert time.process_time() - started < 2.0
    assert means.std() == pytest.approx(values.std() / np.sqrt(1000), rel=0.05)


def test_harm_rate_recovers_planted_rates():
    rng = np.random.default_rng(5)
    planted = {"a": 0.2, "b": 0.5, "c": 0.85}
    covered = 0
    trials = 200
    for _ in range(trials):
        frame = pd.DataFrame([{"g": g, "harmful": float(rng.random() < p)} for g, p in planted.items()
                              for _ in range(120)])
        table = harm_table(frame, ["g"]).set_index("g")
        covered += sum(table.loc[g, "ci_low"] <= p <= table.loc[g, "ci_high"] for g, p in planted.items())
    assert covered / (3 * trials) >= 0.93


def test_any_turn_aggregation_in_simulation():
    rng = np.random.default_rng(6)
    p, turns = 0.177, 5
    harmful = rng.random((100_000, turns)) < p
    assert harmful.any(axis=1).mean() == pytest.approx(float(any_turn_rate(p, turns)), abs=0.005)


def test_kaplan_meier_by_hand():
    curve = kaplan_meier(np.array([1, 2, 2, np.nan, 4]), 4)
    assert curve["harm_free"].tolist() == pytest.approx([1.0, 0.8, 0.4, 0.4, 0.2])


def test_permutation_test_detects_and_ignores():
    rng = np.random.default_rng(7)
    strata = np.repeat(np.arange(20), 30)
    groups = np.tile(np.repeat(["x", "y", "z"], 10), 20)
    null = (rng.random(600) < 0.5).astype(float)
    effect = (rng.random(600) < np.where(groups == "x", 0.8, 0.3)).astype(float)
    assert permutation_chi2(effect, groups, strata, n_permutations=300)["p_value"] < 0.01
    assert permutation_chi2(null, groups, strata, n_permutations=300)["p_value"] > 0.01


def test_dimensions_above_counts_point_estimates():
    frame = pd.DataFrame({"dimension": ["a"] * 10 + ["b"] * 10 + ["c"] * 10,
                          "harmful": [1.0] * 9 + [0.0] + [1.0] * 5 + [0.0] * 5 + [0.0] * 10})
    out = dimensions_above(frame, 0.6, n_resamples=300)
    assert out["count"] == 1 and out["ci_low"] <= 1 <= out["ci_high"]


def test_permutation_within_finer_blocks_than_strata():
    # one item per subject and sub-risk: the statistic must be summed over dimensions, else it is constant
    rng = np.random.default_rng(8)
    subrisks = np.repeat(np.arange(40), 3)
    dimensions = subrisks // 4
    subjects = np.tile(["maths", "physics", "chemistry"], 40)
    effect = (rng.random(120) < np.where(subjects == "maths", 0.9, 0.1)).astype(float)
    same_blocks = permutation_chi2(effect, subjects, subrisks, n_permutations=200)
    assert same_blocks["p_value"] == 1.0  # the degenerate design the parameter exists for
    # more permutations than one chunk of the vectorised loop
    assert permutation_chi2(effect, subjects, dimensions, permute_within=subrisks,
                            n_permutations=1200)["p_value"] < 0.01


def test_roc_auc_matches_sklearn_and_prevalence_threshold():
    from sklearn.metrics import roc_auc_score

    from reprobook.safetutors.metrics import prevalence_matched, roc_auc

    rng = np.random.default_rng(9)
    truth = rng.random(300) < 0.3
    scores = np.round(rng.normal(size=300) + truth, 1)  # with ties
    assert roc_auc(truth, scores) == pytest.approx(roc_auc_score(truth, scores), abs=1e-12)
    verdict = prevalence_matched(scores, 0.3)
    assert verdict.sum() == 90 and scores[verdict].min() >= scores[~verdict].max()

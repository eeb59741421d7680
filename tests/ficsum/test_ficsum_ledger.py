"""claim_results on hand-made tables: each number is the per-seed value the ledger is judged on."""

import math

import pandas as pd
import pytest

from reprobook.claims import Guard
from reprobook.ficsum.ledger import build_ledger, claim_results, seed_cf1_table

COLUMNS = ["stream", "seed", "method", "variant", "cf1", "kappa", "n_true_concepts"]


def table(rows):
    return pd.DataFrame(rows, columns=COLUMNS)


SUMMARY = table([
    ("stagger", 1, "ficsum", "default", 0.90, 0.95, 3), ("stagger", 1, "lower", "default", 0.50, 0.10, 3),
    ("stagger", 1, "drift_retrain", "default", 0.60, 0.80, 3), ("stagger", 1, "upper", "default", 1.0, 0.97, 3),
    ("stagger", 1, "arf", "default", 0.55, 0.9, 3),
    ("stagger", 2, "ficsum", "default", 0.80, 0.90, 3), ("stagger", 2, "lower", "default", 0.50, 0.20, 3),
    ("stagger", 2, "drift_retrain", "default", 0.70, 0.80, 3), ("stagger", 2, "upper", "default", 1.0, 0.96, 3),
    ("cmc", 1, "ficsum", "default", 0.70, 0.20, 2), ("cmc", 1, "lower", "default", 0.67, 0.21, 2),
    ("cmc", 1, "upper", "default", 1.0, 0.3, 2),
])
ABLATION = table([
    ("stagger", 1, "ficsum", "default", 0.90, 0.95, 3), ("stagger", 1, "ficsum", "unsupervised_only", 0.45, 0.5, 3),
    ("stagger", 1, "ficsum", "supervised_only", 0.85, 0.9, 3), ("stagger", 1, "ficsum", "error_rate_only", 0.95, 0.9, 3),
    ("stagger", 2, "ficsum", "default", 0.80, 0.90, 3), ("stagger", 2, "ficsum", "error_rate_only", 0.60, 0.7, 3),
])
AGREEMENT = pd.DataFrame({"stream": ["rtree_shift", "hyperplane_shift", "rtree_shift"], "seed": [1, 1, 2],
                          "spearman": [0.2, 0.6, 0.5], "spearman_shuffled": [0.0, 0.1, -0.1]})


def test_claim_results_per_seed():
    results = claim_results(SUMMARY, ABLATION, AGREEMENT)
    # seed 1: stagger 0.90 − max(0.50, 0.60, 0.55); cmc 0.70 − 0.67 (the only baseline there)
    # seed 2: stagger 0.80 − max(0.50, 0.70, forest's mean over its seeds 0.55); cmc not run
    assert results["cf1_margin"] == pytest.approx([((0.9 - 0.6) + (0.7 - 0.67)) / 2, 0.8 - 0.7])
    assert results["cf1_margin_lower"] == pytest.approx([(0.5 - 0.6) / 1, 0.5 - 0.7])
    assert results["cf1_stagger"] == pytest.approx([0.9, 0.8])
    assert results["cf1_gain_over_error_rate"] == pytest.approx([0.9 - 0.95, 0.8 - 0.6])
    assert results["cf1_gain_over_error_rate_lower"] == pytest.approx([0.5 - 0.95, 0.5 - 0.6])
    assert results["kappa_gap_stagger"] == pytest.approx([0.97 - 0.95, 0.96 - 0.90])
    assert results["kappa_gap_stagger_lower"] == pytest.approx([0.97 - 0.10, 0.96 - 0.20])
    assert results["cf1_drop_stagger"] == pytest.approx([0.45])
    assert results["cf1_drop_stagger_supervised_only"] == pytest.approx([0.05])
    assert results["cf1_unsupervised_gain_stagger"] == pytest.approx([0.45 - 0.5])
    assert results["cf1_unsupervised_gain_rtree"] == []
    assert results["weight_spearman"] == pytest.approx([0.4, 0.5])
    assert results["weight_spearman_shuffled"] == pytest.approx([0.05, -0.1])
    assert results["kappa_cmc"] == pytest.approx([0.2]) and results["cf1_cmc_lower"] == pytest.approx([0.67])
    assert results["ficsum_learned"] == Guard(True, "")
    assert results["lower_floor_deviation"] == pytest.approx(0.0)
    assert results["upper_cf1_min"] == 1.0


def test_a_ficsum_run_at_chance_fails_the_guard_and_names_it():
    ablation = pd.concat([ABLATION, table([("stagger", 3, "ficsum", "fi_off", 0.3, -0.01, 3)])])
    guard = claim_results(SUMMARY, ablation, AGREEMENT)["ficsum_learned"]
    assert not guard.passed and "stagger/fi_off/seed 3" in guard.reason


def test_lower_floor_deviation_sees_a_broken_floor():
    broken = SUMMARY.copy()
    broken.loc[(broken["method"] == "lower") & (broken["seed"] == 2), "cf1"] = 0.6
    assert claim_results(broken, ABLATION, AGREEMENT)["lower_floor_deviation"] == pytest.approx(0.1)


def test_missing_runs_give_empty_lists_and_the_ledger_says_not_testable():
    empty = table([])
    results = claim_results(table([("cmc", 1, "ficsum", "default", 0.7, 0.2, 2)]), empty,
                            pd.DataFrame(columns=["stream", "seed", "spearman", "spearman_shuffled"]))
    assert results["cf1_stagger"] == [] and results["weight_spearman"] == []
    assert math.isnan(results["upper_cf1_min"])
    ledger = build_ledger("book")
    ledger_table = ledger.evaluate(results).set_index("claim")
    assert ledger_table.loc["stagger_cf1", "verdict"] == "not testable at this scale"


def test_seed_table_has_one_column_per_seed():
    assert list(seed_cf1_table(SUMMARY).columns) == ["seed 1", "seed 2"]

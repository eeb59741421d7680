"""Parameter checks, the run grid, a tiny end-to-end run and the ledger's numbers on a synthetic table."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from reprobook.neurotrails.chapter import choose_split, headline_metrics, validate_parameters
from reprobook.neurotrails.experiments import RunConfig, run_method
from reprobook.params import ParameterError


def test_parameters_are_checked_by_name():
    with pytest.raises(ParameterError, match="unknown parameter"):
        validate_parameters(widht=48)
    with pytest.raises(ParameterError, match="methods"):
        validate_parameters(methods=["single", "mimo"])
    with pytest.raises(ParameterError, match="neurotrails_splits"):
        validate_parameters(neurotrails_splits=[7])
    with pytest.raises(ParameterError, match="density"):
        validate_parameters(density=0.0)
    with pytest.raises(ParameterError, match="averaging"):
        validate_parameters(averaging="votes")


def test_grid_shares_runs_and_splits_the_budget_by_cost():
    params = validate_parameters()
    configs = params.configs()
    assert len(configs) == len(set(configs)) == 2 * 5 + 5 + 1  # main × 2 seeds, 5 new sweep points, sparse single
    assert sum(c.time_budget_s for c in configs) == pytest.approx(params.time_budget_s, abs=1.0)
    single = next(c for c in configs if c.method == "single")
    full = next(c for c in configs if c.method == "full_ensemble")
    assert full.time_budget_s > 2.5 * single.time_budget_s


def test_tiny_run_end_to_end_respects_density_and_budget():
    config = RunConfig(method="neurotrails", width=8, blocks_in_head=3, epochs=1, n_train=256, n_val=200,
                       n_test=200, n_shift=200, update_every=1, density=0.4)
    result = run_method(config)
    assert (result.layers.nnz == (result.layers.target_density * result.layers.numel / result.layers.groups)
            .round().clip(lower=1) * result.layers.groups).all()
    assert len(result.topology) == 2 and result.topology.changed_fraction.gt(0).all()
    again = run_method(config)
    assert again.summary["accuracy"] == result.summary["accuracy"]  # deterministic given the seed
    assert np.isfinite([result.summary[k] for k in ("nll", "ece", "brier", "disagreement", "shift_nll")]).all()
    stopped = run_method(RunConfig(method="single", width=8, epochs=3, n_train=256, n_val=200, n_test=200,
                                   n_shift=200, time_budget_s=1e-4))
    assert stopped.summary["stopped_early"] and stopped.summary["steps_done"] == 1


def synthetic_frame():
    rows = []
    for seed, shift in ((0, 0.0), (1, 0.01)):
        rows += [
            {"method": "single", "blocks_in_head": 0, "seed": seed, "accuracy": 0.80 + shift, "val_accuracy": 0.8,
             "nll": 0.60, "shift_accuracy": 0.50, "nnz": 1000, "disagreement": np.nan},
            {"method": "full_ensemble", "blocks_in_head": 6, "seed": seed, "accuracy": 0.86 + shift,
             "val_accuracy": 0.86, "nll": 0.40, "shift_accuracy": 0.58, "nnz": 3000, "disagreement": 0.1},
            {"method": "treenet", "blocks_in_head": 4, "seed": seed, "accuracy": 0.84 + shift, "val_accuracy": 0.84,
             "nll": 0.45, "shift_accuracy": 0.55, "nnz": 2400, "disagreement": 0.04},
            {"method": "neurotrails", "blocks_in_head": 4, "seed": seed, "accuracy": 0.83 + shift,
             "val_accuracy": 0.85, "nll": 0.50, "shift_accuracy": 0.56, "nnz": 1200, "disagreement": 0.05},
            {"method": "neurotrails", "blocks_in_head": 6, "seed": seed, "accuracy": 0.87 + shift,
             "val_accuracy": 0.84, "nll": 0.42, "shift_accuracy": 0.50, "nnz": 1500, "disagreement": 0.08},
        ]
    sweep_acc = {0: 0.80, 1: 0.82, 2: 0.86, 3: 0.84, 5: 0.83}
    rows += [{"method": "neurotrails", "blocks_in_head": b, "seed": 0, "accuracy": acc, "val_accuracy": acc,
              "nll": 0.5, "shift_accuracy": 0.5, "nnz": 1000 + b, "disagreement": 0.01 * b} for b, acc in sweep_acc.items()]
    return pd.DataFrame(rows)


def test_headline_numbers_by_hand():
    frame = synthetic_frame()
    params = validate_parameters()
    # b* on validation: b = 4 (0.85) beats b = 6 (0.84), although b = 6 is better on test
    assert choose_split(frame, params.neurotrails_splits, params.seeds) == 4
    out = headline_metrics(frame, params)
    assert out["n1_accuracy_gap"] == pytest.approx(0.03)
    sd = np.sqrt(np.mean([np.var([0.83, 0.84], ddof=1), np.var([0.80, 0.81], ddof=1)]))
    assert out["n1_gap_in_sd"] == pytest.approx(0.03 / sd)
    assert out["n1_nll_gain"] == pytest.approx(0.10)
    assert out["n2_accuracy_gap"] == pytest.approx(-0.03)
    assert out["n2_nnz_ratio"] == pytest.approx(0.4)
    assert out["n5_accuracy_gap"] == pytest.approx(-0.01)
    assert out["n7_drop_advantage"] == pytest.approx((0.805 - 0.5) - (0.835 - 0.56))
    sweep = frame[(frame.method == "neurotrails") & (frame.seed == 0)].sort_values("blocks_in_head")
    assert out["n3_spearman"] == pytest.approx(spearmanr(sweep.blocks_in_head, sweep.disagreement).statistic)
    # interior best 0.86 (b = 2) vs ends max(0.80, 0.87 at b = 6): the end wins, margin < 0
    assert out["n4_best_split"] == 6
    assert out["n4_margin_in_se"] == pytest.approx((0.86 - 0.87) / math.sqrt(0.86 * 0.14 / 5000))
    assert math.isnan(out["n6_gap_in_sd"])  # no static-mask runs

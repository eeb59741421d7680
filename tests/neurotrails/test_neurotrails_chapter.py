"""Parameter checks, the run grid, a tiny end-to-end run and the ledger's numbers on a synthetic table."""


from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from reprobook.neurotrails.chapter import MAXIMA, choose_split, matched_width, validate_parameters
from reprobook.neurotrails.experiments import RunConfig, nonzeros, run_method
from reprobook.neurotrails.ledger import claim_results, permutation_mean, seed_swap_null
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
    with pytest.raises(ParameterError, match="device.*'auto', 'cpu', 'cuda'"):
        validate_parameters(device="tpu")
    with pytest.raises(ValueError, match="device"):
        RunConfig(device="gpu0")


@pytest.mark.parametrize(("name", "value"), [("epochs", 10**9), ("n_train", 10**12), ("width", 10**6),
                                             ("update_every", 10**9), ("time_budget_s", 1e12),
                                             ("seeds", list(range(1000)))])
def test_size_parameters_have_a_documented_maximum(name, value):
    with pytest.raises(ParameterError, match=rf"{name}.*(at most|≤|<=|\[)"):
        validate_parameters(**{name: value})
    assert name in MAXIMA


def test_grid_shares_runs_and_splits_the_budget_by_cost():
    params = validate_parameters()
    configs = params.configs()
    # per seed: 4 main arms, 2 width-matched baselines, sweep b = 0, 6 (b = 4 is the main arm), sparse single,
    # static mask
    assert len(configs) == len(set(configs)) == 3 * (4 + 2 + 2 + 1 + 1)
    assert sum(c.time_budget_s for c in configs) == pytest.approx(params.time_budget_s, abs=2.0)
    single = next(c for c in configs if c.method == "single")
    full = next(c for c in configs if c.method == "full_ensemble")
    assert full.time_budget_s > 2.5 * single.time_budget_s


def test_matched_baselines_have_the_nonzeros_of_neurotrails():
    params = validate_parameters()
    widths = params.matched_widths()
    target = nonzeros(RunConfig(method="neurotrails", width=params.width, density=params.density, blocks_in_head=4))
    for method, width in widths.items():
        dense = nonzeros(RunConfig(method=method, width=width, blocks_in_head=6))
        assert abs(dense / target - 1) < 0.05
        assert width == matched_width(method, target, 3)


def test_tiny_run_end_to_end_respects_density_and_budget():
    config = RunConfig(method="neurotrails", width=8, blocks_in_head=3, epochs=1, n_train=256, n_val=200,
                       n_test=200, n_shift=200, update_every=1, density=0.4)
    result = run_method(config)
    assert (result.layers.nnz == (result.layers.target_density * result.layers.numel / result.layers.groups)
            .round().clip(lower=1) * result.layers.groups).all()
    # two steps, one update: the update that would fall on the last step is skipped
    assert len(result.topology) == 1 and result.topology.changed_fraction.gt(0).all()
    again = run_method(replace(config, device="cpu"))
    assert again.summary["accuracy"] == result.summary["accuracy"]  # deterministic given the seed
    assert again.summary["nll"] == result.summary["nll"] and again.summary["device"] == "cpu"
    assert np.isfinite([result.summary[k] for k in ("nll", "ece", "brier", "disagreement", "shift_nll")]).all()
    stopped = run_method(RunConfig(method="single", width=8, epochs=3, n_train=256, n_val=200, n_test=200,
                                   n_shift=200, time_budget_s=1e-4))
    assert stopped.summary["stopped_early"] and stopped.summary["steps_done"] == 1


def test_the_last_optimizer_step_makes_no_topology_update():
    config = RunConfig(method="neurotrails", width=8, blocks_in_head=3, epochs=1, n_train=256, n_val=200,
                       n_test=200, n_shift=200, update_every=1)
    result = run_method(config)
    total = result.summary["total_steps"]
    assert result.topology.step.max() == total - 1  # the update on step `total` is skipped


def hand_frame():
    rows = []
    for seed, noise in ((0, 0.0), (1, 0.01), (2, -0.01)):
        def add(method, b, accuracy, width=32, nll=0.5, shift=0.5, nnz=1000, disagreement=0.05, stopped=False,
                seed=seed):
            rows.append({"method": method, "blocks_in_head": b, "seed": seed, "width": width, "accuracy": accuracy,
                         "val_accuracy": accuracy, "nll": nll, "shift_accuracy": shift, "nnz": nnz,
                         "disagreement": disagreement, "stopped_early": stopped})
        add("single", 0, 0.80 + noise, nll=0.60, nnz=1000)
        add("single", 0, 0.81 + noise, width=35, nll=0.58, shift=0.52, nnz=1200)
        add("sparse_single", 0, 0.79 + noise, nll=0.62, shift=0.50, nnz=500)
        add("full_ensemble", 6, 0.86 + noise, nnz=3000)
        add("full_ensemble", 6, 0.84 + noise, width=19, nnz=1210)
        add("treenet", 4, 0.84 + 2 * noise, nnz=2400)
        for b, acc, dis in ((0, 0.80, 0.01), (2, 0.82, 0.03), (4, 0.83, 0.05), (6, 0.81, 0.04)):
            add("neurotrails", b, acc + noise, nll=0.55, shift=0.60, nnz=1190 if b == 4 else 1000, disagreement=dis)
    return pd.DataFrame(rows)


def test_claim_results_by_hand():
    out = claim_results(hand_frame(), main_split=4, width=32, matched_widths={"single": 35, "full_ensemble": 19},
                        sweep_splits=(0, 2, 4, 6), n_test=5000)
    assert out["n1_accuracy"] == pytest.approx([0.02] * 3)
    assert out["n1_accuracy_control"] == pytest.approx([-0.02] * 3)
    assert out["n1_nll"] == pytest.approx([0.03] * 3)
    assert out["n2_accuracy"] == pytest.approx([-0.03] * 3)
    assert out["n2_accuracy_control"] == pytest.approx([-0.06] * 3)
    assert out["n2_equal"] == pytest.approx([-0.01] * 3)
    assert out["n5_accuracy"] == pytest.approx([-0.01, -0.02, 0.0])
    # drop(matched single) = 0.29 + noise; drop(NT) = 0.23 + noise
    assert out["n7_drop_advantage"] == pytest.approx([0.06] * 3)
    assert out["n3_spearman"] == pytest.approx([spearmanr([0, 2, 4, 6], [0.01, 0.03, 0.05, 0.04]).statistic] * 3)
    assert out["n4_margin"] == pytest.approx([0.02] * 3)
    assert out["n3_control"] == pytest.approx([0.0] * 3, abs=1e-12)  # the mean ρ over all 24 orders is 0
    guards = ("runs_n1", "runs_n2_accuracy", "runs_n2_equal", "runs_n5", "runs_n7", "runs_sweep")
    assert all(out[name].passed for name in guards)
    assert not out["runs_n6"].passed and "not run: NT, static mask" in out["runs_n6"].reason
    assert out["c1_nnz_ratio_full"] == pytest.approx(1190 / 3000)
    assert out["c2_fewer_than_treenet"] is True
    assert out["c3_matched_within"] == pytest.approx(max(abs(1200 / 1190 - 1), abs(1210 / 1190 - 1)))


def test_stopped_runs_are_left_out_and_named():
    frame = hand_frame()
    frame.loc[(frame.method == "single") & (frame.width == 35) & (frame.seed == 1), "stopped_early"] = True
    out = claim_results(frame, main_split=4, width=32, matched_widths={"single": 35, "full_ensemble": 19},
                        sweep_splits=(0, 2, 4, 6), n_test=5000)
    assert len(out["n1_accuracy"]) == 2
    # only the claims that compare the stopped run are guarded off, and their guards name it
    for name in ("runs_n1", "runs_n2_equal", "runs_n7"):
        assert not out[name].passed and "single (b = 0, width 35) seed 1" in out[name].reason
    for name in ("runs_n2_accuracy", "runs_n5", "runs_sweep"):
        assert out[name].passed


def test_a_weak_arm_fails_only_its_claims_guards():
    frame = hand_frame()
    frame.loc[frame.method == "treenet", "accuracy"] = 0.1
    out = claim_results(frame, main_split=4, width=32, matched_widths={"single": 35, "full_ensemble": 19},
                        sweep_splits=(0, 2, 4, 6), n_test=5000)
    assert not out["runs_n5"].passed and "TreeNet (0.100)" in out["runs_n5"].reason
    assert out["runs_n1"].passed and out["runs_n2_accuracy"].passed


def test_nulls():
    values = pd.Series([0.80, 0.83, 0.81], index=[0, 1, 2])
    assert seed_swap_null(values) == pytest.approx([-0.03, 0.02, 0.01])
    assert np.mean(seed_swap_null(values)) == pytest.approx(0.0)
    # with one interior split out of three, the interior is the best by chance in a third of the orders
    margin = permutation_mean([0, 3, 6], [0.1, 0.2, 0.3],
                              lambda s, v: v[1] - max(v[0], v[2]))
    assert margin == pytest.approx(np.mean([-0.2, -0.1, -0.1, 0.1, -0.2, 0.1]))


def test_choose_split_uses_validation():
    frame = hand_frame()
    frame.loc[(frame.method == "neurotrails") & (frame.blocks_in_head == 6), "val_accuracy"] = 0.99
    assert choose_split(frame, (0, 2, 4, 6), (0, 1, 2)) == 6

"""The chapter's grids, tables and claim numbers (reprobook.ficsum.report) and the weight oracle."""

import numpy as np
import pandas as pd
import pytest

from reprobook.ficsum import report, separability
from reprobook.ficsum.chapter import validate_parameters


def summary_rows(rows):
    return pd.DataFrame(rows, columns=["stream", "seed", "method", "variant", "cf1", "kappa"])


def test_main_grid_runs_baselines_on_fewer_seeds_and_arf_on_its_streams():
    params = validate_parameters(seeds=[1, 2, 3], streams=["stagger", "cmc", "sea"], baseline_seeds=2,
                                 arf_streams=["sea"], baselines=["lower", "upper", "drift_retrain", "arf"])
    grid = report.main_grid(params)
    count = pd.Series([(c.stream, c.method) for c in grid]).value_counts()
    assert count[("stagger", "ficsum")] == 3 and count[("stagger", "lower")] == 3
    assert count[("stagger", "drift_retrain")] == 2
    assert ("stagger", "arf") not in count and count[("sea", "arf")] == 1
    assert all(c.segment_length is None for c in grid if c.stream == "cmc"), "real data keep the paper layout"
    assert all(c.segment_length == params.segment_length for c in grid if c.stream == "stagger")
    assert len(set(grid)) == len(grid), "no run is listed twice"


def test_ablation_grid_includes_the_default_for_reference():
    params = validate_parameters(seeds=[4], ablation_streams=["stagger"], ablations=["fi_off"], carry_streams=[])
    assert [(c.variant, c.seed) for c in report.ablation_grid(params)] == [("default", 4), ("fi_off", 4)]


def test_ablation_grid_runs_every_seed_and_the_unsupervised_variant_on_carry_streams():
    params = validate_parameters(seeds=[1, 2, 3], ablation_streams=["stagger"], ablations=["error_rate_only"],
                                 carry_streams=["rtree_shift", "stagger"])
    grid = [(c.stream, c.variant, c.seed) for c in report.ablation_grid(params)]
    assert grid.count(("stagger", "error_rate_only", 3)) == 1
    assert [g for g in grid if g[0] == "rtree_shift"] == [
        ("rtree_shift", variant, seed) for seed in (1, 2, 3) for variant in ("default", "unsupervised_only")]
    assert len(set(grid)) == len(grid)
def test_mean_std_table_layout():
    summary = pd.DataFrame({"stream": ["s", "s", "s"], "method": ["a", "a", "b"], "kappa": [0.5, 0.7, 0.1]})
    table = report.mean_std_table(summary, ["kappa"])
    assert table.loc[("s", "a"), "kappa"] == "0.60 (0.14)"
    assert table.loc[("s", "b"), "kappa"] == "0.10" and table.loc[("s", "b"), "seeds"] == 1


def test_separability_oracle_finds_the_shifted_feature():
    rng = np.random.default_rng(3)
    stream = [({"noise": rng.normal(), "shifted": rng.normal(3.0 * concept), "scaled": rng.normal(0, 1 + 2 * concept)},
               0, concept) for concept in (0, 1, 0, 1) for _ in range(400)]
    scores = separability.fisher_separability(stream, window=40)
    assert scores.idxmax() == "shifted:mean"
    assert scores["scaled:stdev"] > 10 * scores["noise:stdev"]
    weights = scores.rank()  # a weighting that ranks like the oracle agrees perfectly
    assert separability.weight_agreement(weights, scores) == pytest.approx(1.0)
    assert separability.weight_agreement(-weights, scores) == pytest.approx(-1.0)


def test_separability_needs_two_concepts():
    with pytest.raises(ValueError, match="two true concepts"):
        separability.fisher_separability([({"a": float(i)}, 0, 0) for i in range(200)], window=20)

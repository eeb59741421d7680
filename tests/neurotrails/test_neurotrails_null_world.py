"""The null world: a world without NeuroTrails' claimed effects must not yield a single "reproduced".

Frames are built by hand: every arm of the main comparison, the width-matched baselines, the sweep,
the sparse single network and the static-mask ablation, for five seeds. In the null world every
method scores what its control scores (up to seed noise); in the effect world NeuroTrails is better
by a clear margin, so the same ledger can say "reproduced" and the null test could fail.
"""

import numpy as np
import pandas as pd
import pytest

from reprobook.claims import NOT_IMPLEMENTED, NOT_TESTABLE, REPRODUCED
from reprobook.neurotrails.ledger import build_ledger, claim_results

SEEDS = [0, 1, 2, 3, 4]
WIDTH, MATCHED = {"single": 32, "full_ensemble": 32}, {"single": 35, "full_ensemble": 19}
SWEEP = (0, 2, 4, 6)


def world(effect: bool, rng_seed: int = 0) -> pd.DataFrame:
    """Run rows of a world with (``effect``) or without NeuroTrails' advantages."""
    rng = np.random.default_rng(rng_seed)
    noise = 0.0005 if effect else 0.002
    rows = []

    def row(method, seed, b, accuracy, *, width=32, nll=0.6, shift=0.55, nnz=1000, disagreement=0.05):
        rows.append({"method": method, "seed": seed, "blocks_in_head": b, "width": width,
                     "accuracy": accuracy + rng.normal(0, noise), "val_accuracy": accuracy,
                     "nll": nll + rng.normal(0, noise), "shift_accuracy": shift + rng.normal(0, noise),
                     "nnz": nnz, "disagreement": disagreement, "stopped_early": False})

    for seed in SEEDS:
        base = 0.82
        nt = base + (0.03 if effect else 0.0)
        row("single", seed, 0, base, nnz=38000)
        row("single", seed, 0, base, width=MATCHED["single"], nnz=45000)
        row("sparse_single", seed, 0, base, nnz=20000)
        row("full_ensemble", seed, 6, base + (0.02 if effect else 0.0), nnz=114000)
        row("full_ensemble", seed, 6, base + (0.01 if effect else 0.0), width=MATCHED["full_ensemble"], nnz=45500)
        row("treenet", seed, 4, base, nnz=84000, disagreement=0.02)
        row("neurotrails_static", seed, 4, base, nnz=45000)
        for b in SWEEP:
            if effect:
                accuracy = nt if b == 4 else base + (0.015 if b == 2 else 0.0)
                disagreement = 0.01 + 0.02 * b
            else:
                accuracy = base
                disagreement = [0.05, 0.02, 0.06, 0.03][SWEEP.index(b)]  # no order in b
            nll = 0.5 if (effect and b == 4) else 0.6
            shift = (nt - 0.2) if (effect and b == 4) else (base - 0.27 if effect else 0.55)
            row("neurotrails", seed, b, accuracy, nll=nll, shift=shift, nnz=45000 + 100 * b,
                disagreement=disagreement)
    return pd.DataFrame(rows)


def judged(frame: pd.DataFrame) -> pd.DataFrame:
    results = claim_results(frame, main_split=4, width=32, matched_widths=MATCHED, sweep_splits=SWEEP,
                            n_test=5000)
    return build_ledger("book").evaluate(results)


@pytest.mark.parametrize("rng_seed", [0, 1, 2])
def test_null_world_reproduces_nothing(rng_seed):
    table = judged(world(effect=False, rng_seed=rng_seed))
    assert REPRODUCED not in set(table.verdict), table[["claim", "verdict", "note"]].to_string()
    assert table.set_index("claim").loc["N8", "verdict"] == NOT_IMPLEMENTED


def test_all_zero_world_reproduces_nothing():
    frame = world(effect=False)
    for column in ("accuracy", "val_accuracy", "shift_accuracy", "nll", "disagreement"):
        frame[column] = 0.0
    table = judged(frame)
    assert REPRODUCED not in set(table.verdict)
    assert (table.set_index("claim").loc[["N1_accuracy", "N2_accuracy", "N5"], "verdict"] == NOT_TESTABLE).all()


def test_world_with_the_effect_reproduces_the_main_claims():
    table = judged(world(effect=True)).set_index("claim")
    for claim in ("N1_accuracy", "N1_nll", "N2_accuracy", "N2_equal", "N3", "N4", "N5", "N6", "N7"):
        assert table.loc[claim, "verdict"] == REPRODUCED, (claim, table.loc[claim, "note"])


def test_a_stopped_run_makes_only_the_claims_that_compare_it_untestable():
    frame = world(effect=True)
    frame.loc[(frame.method == "treenet") & (frame.seed == 2), "stopped_early"] = True
    table = judged(frame).set_index("claim")
    assert table.loc["N5", "verdict"] == NOT_TESTABLE
    assert "treenet (b = 4, width 32) seed 2" in table.loc["N5", "note"]
    for claim in ("N1_accuracy", "N2_accuracy", "N3", "N6", "N7"):  # TreeNet is not among their runs
        assert table.loc[claim, "verdict"] == REPRODUCED, (claim, table.loc[claim, "note"])


JUDGED_CLAIMS = ("N1_accuracy", "N1_nll", "N2_accuracy", "N2_equal", "N3", "N4", "N5", "N6", "N7")
#: a run stopped by the time budget → the claims that compare it (written out by hand from the claims' statements)
STOPPED_RUN_CLAIMS = [
    ("single", 0, MATCHED["single"], {"N1_accuracy", "N1_nll", "N2_equal", "N7"}),
    ("single", 0, 32, {"N2_accuracy"}),
    ("sparse_single", 0, 32, {"N1_accuracy", "N1_nll", "N7"}),
    ("full_ensemble", 6, 32, {"N2_accuracy"}),
    ("full_ensemble", 6, MATCHED["full_ensemble"], {"N2_equal"}),
    ("treenet", 4, 32, {"N5"}),
    ("neurotrails_static", 4, 32, {"N6"}),
    ("neurotrails", 4, 32, set(JUDGED_CLAIMS)),  # NT itself, also a sweep point
    ("neurotrails", 2, 32, {"N3", "N4"}),  # a sweep point only
]


@pytest.mark.parametrize("method, b, width, untestable", STOPPED_RUN_CLAIMS)
def test_a_stopped_run_excludes_exactly_the_claims_that_use_it(method, b, width, untestable):
    frame = world(effect=True)
    chosen = (frame.method == method) & (frame.blocks_in_head == b) & (frame.width == width) & (frame.seed == 1)
    assert chosen.sum() == 1
    frame.loc[chosen, "stopped_early"] = True
    table = judged(frame).set_index("claim")
    label = f"{method} (b = {b}, width {width}) seed 1"
    for claim in JUDGED_CLAIMS:
        if claim in untestable:
            assert table.loc[claim, "verdict"] == NOT_TESTABLE, claim
            assert label in table.loc[claim, "note"], (claim, table.loc[claim, "note"])
        else:
            assert table.loc[claim, "verdict"] == REPRODUCED, (claim, table.loc[claim, "note"])
            assert label not in table.loc[claim, "note"], claim

"""``reprobook.meal.ledger`` on hand-made tables whose answers are worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from reprobook.claims import NOT_TESTABLE
from reprobook.meal import ledger as meal_ledger


def _frames(matrices: dict[str, dict[int, list[list[float]]]], ends=(2, 4)):
    evals, tasks = [], []
    for run, by_seed in matrices.items():
        for seed, matrix in by_seed.items():
            for index, scores in enumerate(matrix):
                evals += [{"run": run, "level": 1, "seed": seed, "eval": index, "task": task, "score": score}
                          for task, score in enumerate(scores)]
            tasks += [{"run": run, "seed": seed, "task": task, "last_eval": end} for task, end in enumerate(ends)]
    return pd.DataFrame(evals), pd.DataFrame(tasks)


# eval 0 untrained; task 0 trained over evals 1-2, task 1 over evals 3-4
FT = {0: [[0.0, 0.0], [0.2, 0.0], [0.4, 0.0], [0.1, 0.2], [0.1, 0.4]],
      1: [[0.0, 0.0], [0.3, 0.0], [0.8, 0.0], [0.2, 0.3], [0.0, 0.6]]}
PACKNET = {0: [[0.0, 0.1], [0.2, 0.0], [0.4, 0.0], [0.5, 0.2], [0.3, 0.4]],
           1: [[0.0, 0.1], [0.3, 0.0], [0.6, 0.0], [0.6, 0.3], [0.6, 0.5]]}


def test_relative_forgetting_by_hand():
    evals, tasks = _frames({"FT": FT})
    # seed 0: task 0 ends at 0.4, finishes at 0.1 → (0.4 − 0.1)/0.4; seed 1: (0.8 − 0.0)/0.8
    assert meal_ledger.relative_forgetting(evals, tasks, "FT") == pytest.approx([0.75, 1.0])
    # the weighted formula is relative already
    weighted = meal_ledger.relative_forgetting(evals, tasks, "FT", "weighted")
    assert all(0 <= value <= 1 for value in weighted)
    with pytest.raises(ValueError, match="formula"):
        meal_ledger.relative_forgetting(evals, tasks, "FT", "harmonic")


def test_nothing_learnt_has_no_relative_forgetting():
    zero = {0: [[0.0, 0.0]] * 5}
    evals, tasks = _frames({"FT": zero})
    assert math.isnan(meal_ledger.relative_forgetting(evals, tasks, "FT")[0])


def test_noise_floor_from_frozen_re_evaluations():
    evals, tasks = _frames({"FT": FT, "PackNet": PACKNET})
    floor, spread = meal_ledger.noise_floor(evals, tasks)
    # PackNet's task 0 after its end: seed 0 → [0.5, 0.3], seed 1 → [0.6, 0.6]; sample sd pooled:
    # deviations ±0.1 scaled by √2 for seed 0, 0 for seed 1 → RMS = √((0.02 + 0.02 + 0 + 0)/4) = √0.01
    assert spread == pytest.approx(0.1)
    # untrained: task 0 mean 0.0, task 1 mean (0 + 0 + 0.1 + 0.1)/4 = 0.05
    assert floor.loc[0] == pytest.approx(0.2) and floor.loc[1] == pytest.approx(0.25)


def test_learnt_guard_names_the_failing_run_and_task():
    evals, tasks = _frames({"FT": FT, "PackNet": PACKNET})
    floor, spread = meal_ledger.noise_floor(evals, tasks)
    assert meal_ledger.learnt_guard(evals, tasks, ["FT", "PackNet"], floor, spread).passed
    high = floor + 0.3  # task 0 end means: FT 0.6, PackNet 0.5; task 1: FT 0.5, PackNet 0.45
    failed = meal_ledger.learnt_guard(evals, tasks, ["FT", "PackNet"], high, spread)
    assert not failed.passed and "PackNet task 1" in failed.reason and "FT task 2" in failed.reason
    no_noise = meal_ledger.learnt_guard(evals, tasks, ["FT"], floor, float("nan"))
    assert not no_noise.passed and "noise floor" in no_noise.reason
    assert "not run" in meal_ledger.learnt_guard(evals, tasks, ["EWC"], floor, spread).reason


def test_claim_results_per_seed_and_guards():
    evals, tasks = _frames({"FT": FT, "PackNet": PACKNET, "Online EWC": PACKNET})
    train = pd.DataFrame([{"run": run, "seed": 0, "task": 0, "update": 1, "train_score": 0.1, "loss": 1.0}
                          for run in ("FT", "Online EWC")])
    summary = pd.DataFrame([{"run": run, "seed": seed, "level": 1, "A": float(np.mean(matrix[-1]))}
                            for run, by_seed in (("FT", FT), ("PackNet", PACKNET), ("Online EWC", PACKNET))
                            for seed, matrix in by_seed.items()])
    owner = {"actor": {"dense_0": {"kernel": np.array([[1, 2], [2, 0]])}}}
    results = meal_ledger.claim_results(summary, {"evals": evals, "tasks": tasks, "train": train}, pd.DataFrame(),
                                        [owner, owner])
    assert results["ft_relative_forgetting"].values == pytest.approx((0.75, 1.0))
    assert results["ft_relative_forgetting"].n == 2 and results["ft_relative_forgetting"].unit == "seeds"
    # PackNet − best other (Online EWC has PackNet's scores): exactly 0 for both seeds
    assert results["packnet_minus_best_other_A"].values == (0.0, 0.0)
    # FT − best other, paired: seed 0 (0.25 − 0.35), seed 1 (0.3 − 0.55)
    assert results["ft_minus_best_other_A"].values == pytest.approx((-0.1, -0.25))
    assert results["learnt_ft"].passed and results["learnt_packnet"].passed
    assert not results["learnt_ewc"].passed  # not run
    assert not results["learnt_ablation_off"].passed
    assert results["packnet_slices"] is True and results["identical_task_one"] is True
    ledger = meal_ledger.build_ledger("book")
    table = ledger.evaluate(results)
    # two seeds are fewer than a book verdict needs
    row = table.set_index("claim").loc["ft_forgets"]
    assert row["verdict"] == NOT_TESTABLE and "fewer than the 3" in row["note"]
    row = table.set_index("claim").loc["conditioning_matters"]
    assert row["verdict"] == NOT_TESTABLE and "not run" in row["note"]


def test_a_seed_that_never_learnt_is_left_out_and_counted_in_the_note():
    # seed 2 of FT never learnt task 0 (end score 0): its relative forgetting is undefined
    never = {2: [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.3], [0.0, 0.5]]}
    frames_in = {"FT": {**FT, **never}, "PackNet": PACKNET}
    evals, tasks = _frames(frames_in)
    assert math.isnan(meal_ledger.relative_forgetting(evals, tasks, "FT")[2])
    summary = pd.DataFrame([{"run": run, "seed": seed, "level": 1, "A": float(np.mean(matrix[-1]))}
                            for run, by_seed in frames_in.items() for seed, matrix in by_seed.items()])
    frames = {"evals": evals, "tasks": tasks, "train": pd.DataFrame(columns=["run", "task"])}
    results = meal_ledger.claim_results(summary, frames, pd.DataFrame())
    # the two seeds that learnt task 0 give the estimate; the NaN does not swallow it
    assert results["ft_relative_forgetting"].values == pytest.approx((0.75, 1.0))
    notes = meal_ledger.claim_notes(frames)
    assert "FT: 1 of 3 seeds left out" in notes["ft_forgets"]
    assert "oewc_retains" in notes and "FT: 1 of 3" in notes["oewc_retains"]
    table = meal_ledger.build_ledger("book").evaluate(results, notes=notes).set_index("claim")
    assert "1 of 3 seeds left out" in table.loc["ft_forgets", "note"]
    # nothing left out: no note
    evals, tasks = _frames({"FT": FT, "PackNet": PACKNET})
    assert meal_ledger.claim_notes({"evals": evals, "tasks": tasks}) == {}

"""claim_results and its pieces on hand-made arrays."""

import numpy as np
import pytest
from mubench_worlds import aligned, worlds

from reprobook.claims import NOT_IMPLEMENTED, NOT_REPRODUCED, NOT_TESTABLE
from reprobook.mubench import consistency as cons
from reprobook.mubench.ledger import (
    accuracy_only_null,
    agreeing_pairs,
    build_ledger,
    claim_results,
    english_gap,
    run_notes,
    world_notes,
    world_results,
)
from reprobook.mubench.tinyworld import grid_label, transfer_correct


def test_agreeing_pairs_average_to_overall_mlc():
    arrays = aligned(0.8, 0.4, shared_wrong=True)
    assert agreeing_pairs(arrays.pred).mean() == pytest.approx(cons.mlc_overall(cons.agreement_matrix(arrays.pred)))


def test_accuracy_only_null_keeps_correctness_and_the_distractor_mix():
    arrays = aligned(0.8, 0.4, shared_wrong=True)
    null = accuracy_only_null(arrays, np.random.default_rng(0))
    assert ((null == arrays.answer) == (arrays.pred == arrays.answer)).all()
    code_of = {value: code for code, value in enumerate(arrays.codes)}
    distractors = [[code_of[value] for value in item if code_of[value] != truth]
                   for item, truth in zip(arrays.values, arrays.answer, strict=True)]

    def chosen_index(pred, lang):  # which distractor each wrong item chose, per task
        return sorted((arrays.tasks[item], distractors[item].index(pred[lang, item]))
                      for item in range(pred.shape[1]) if pred[lang, item] != arrays.answer[item])

    for lang in range(null.shape[0]):
        assert chosen_index(null, lang) == chosen_index(arrays.pred, lang)
    assert (null != arrays.pred).any()


def test_english_gap_by_hand():
    correct = np.array([[1, 1, 1, 1], [0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=float)
    assert english_gap(correct, 0) == pytest.approx(1.0 - 0.25)


def test_claim_results_and_guards():
    arrays = aligned(1.0, 0.3, shared_wrong=True)
    results = claim_results(arrays, worlds(True, seeds=(0, 1, 2)), profile="book", model="smollm2",
                            n_bootstrap=300, n_null=50, n_permutations=300)
    assert results["m1_gap"].value == pytest.approx(1.0 - np.median(arrays.correct[1:].mean(axis=1)))
    assert results["m1_gap"].n == arrays.pred.shape[1] and results["m5_excess_agreement"].unit == "items"
    assert results["m6_transfer_gain"].n == 3 and results["decomposition_holds"] is True
    table = build_ledger("book").evaluate(results)
    verdict = dict(zip(table["claim"], table["verdict"], strict=True))
    assert all(verdict[claim] == NOT_IMPLEMENTED for claim in ("M1c", "M3", "M4"))
    assert results["m7_ratio_spread"].n == 3 and results["m7_seed_spread"].n == 3
    assert verdict["M2"] == NOT_TESTABLE  # MuBench's own items are read at the paper profile only

    stub = claim_results(arrays, {}, profile="book", model="stub", n_bootstrap=300, n_null=50)
    table = build_ledger("book").evaluate(stub)
    rows = table.set_index("claim")
    assert rows.loc["M1", "verdict"] == NOT_TESTABLE and "stub" in rows.loc["M1", "note"]
    assert rows.loc["M6", "verdict"] == NOT_TESTABLE and "no tiny-world run" in rows.loc["M6", "note"]

    insane = claim_results(aligned(0.5, 0.3, shared_wrong=True), {}, profile="book", model="smollm2",
                           n_bootstrap=300, n_null=50)
    assert build_ledger("book").evaluate(insane).set_index("claim").loc["M5", "verdict"] == NOT_TESTABLE


def test_gate_reasons_and_skipped_languages_reach_the_ledger():
    world = worlds(True, seeds=(0, 1, 2))
    assert world_results(world, n_permutations=200, n_bootstrap=200)["b2_gate"].passed
    world[("en0.5-par0", 1)] = {**world[("en0.5-par0", 1)], "steps_done": 300, "memorised": False}
    gate = world_results(world, n_permutations=200, n_bootstrap=200)["b2_gate"]
    assert not gate.passed and "cut by the time budget" in gate.reason
    world_leaky = worlds(True, seeds=(0, 1, 2))
    world_leaky[("no-anchor", 2)] = world_leaky[("en0.5-par0.2", 2)]  # transfer where nothing links the languages
    gate = world_results(world_leaky, n_permutations=200, n_bootstrap=200)["b2_gate"]
    assert not gate.passed and "no-anchor seed 2 transfers above its relabelling null (chance bracket)" in gate.reason
    no_chance_run = {key: value for key, value in worlds(True, seeds=(0, 1, 2)).items() if key[0] != "no-anchor"}
    gate = world_results(no_chance_run, n_permutations=200, n_bootstrap=200)["b2_gate"]
    assert not gate.passed and "no no-anchor run" in gate.reason
    results = claim_results(aligned(1.0, 0.3, shared_wrong=False), {}, profile="book", model="smollm2",
                            n_bootstrap=300, n_null=50)
    table = build_ledger("book").evaluate(results, notes=run_notes(["en", "de"], ["sw", "fr"])).set_index("claim")
    for claim in ("M1", "M5"):
        assert "dropped by the time budget: sw, fr" in table.loc[claim, "note"]
        assert "scored 2 of MuBench's 61 languages" in table.loc[claim, "note"]
    assert "time budget" not in table.loc["M6", "note"]


def test_accuracy_explains_agreement_gives_not_reproduced():
    arrays = aligned(1.0, 0.3, shared_wrong=False)
    results = claim_results(arrays, {}, profile="book", model="smollm2", n_bootstrap=300, n_null=100)
    table = build_ledger("book").evaluate(results).set_index("claim")
    assert table.loc["M5", "verdict"] == NOT_REPRODUCED


def test_transfer_without_parallel_data_is_a_result_not_a_gate_failure():
    # people seen in both languages can carry facts across without parallel units: the grid's
    # no-parallel runs may transfer above chance; the gate holds and the note counts them
    world = worlds(True, seeds=(0, 1, 2))
    for seed in (0, 1, 2):
        world[("en0.5-par0", seed)] = world[("en0.5-par0.2", seed)]
    results = world_results(world, n_permutations=200, n_bootstrap=200)
    assert results["b2_gate"].passed
    notes = world_notes(world, n_permutations=200)
    assert "without parallel units, 3 of 9 runs transfer above their relabelling null" in notes["M6"]
    assert notes["M6"].startswith("grid r_en 0.5, 0.7, 0.9 × parallel share 0, 0.2 × 3 seeds")


def test_grid_design_guards():
    one_share = {key: value for key, value in worlds(True, seeds=(0, 1, 2)).items() if "par0.2" not in key[0]}
    results = world_results(one_share, n_permutations=200, n_bootstrap=200)
    assert not results["b2_m6_design"].passed and "b2_shares" in results["b2_m6_design"].reason
    assert results["b2_m7_design"].passed
    two_seeds = worlds(True, seeds=(0, 1))
    results = world_results(two_seeds, n_permutations=200, n_bootstrap=200)
    assert results["b2_m6_design"].passed and not results["b2_m7_design"].passed
    table = build_ledger("book").evaluate(claim_results(aligned(1.0, 0.3, shared_wrong=True), two_seeds,
                                                        profile="book", model="smollm2", n_bootstrap=300, n_null=50,
                                                        n_permutations=200)).set_index("claim")
    assert table.loc["M7", "verdict"] == NOT_TESTABLE and "b2_seeds" in table.loc["M7", "note"]


def test_m7_spread_by_hand():
    world = worlds(False, seeds=(0, 1, 2), ratio_matters=True)
    results = world_results(world, n_permutations=200, n_bootstrap=200)
    by_ratio = np.array([[np.mean([transfer_correct(world[(grid_label(r_en, share), s)]["facts"]).mean()
                                   for share in (0.0, 0.2)]) for s in (0, 1, 2)] for r_en in (0.5, 0.7, 0.9)])
    assert results["m7_ratio_spread"].value == pytest.approx(np.ptp(by_ratio, axis=0).mean())
    assert results["m7_seed_spread"].value == pytest.approx(np.ptp(by_ratio, axis=1).mean())
    assert by_ratio[2].min() == 1.0

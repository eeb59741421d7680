"""claim_results and random_margins on hand-made tables."""

import math

import pandas as pd
import pytest

from reprobook.claims import NOT_TESTABLE, Guard
from reprobook.recsys_bias.ledger import build_ledger, claim_results, random_margins

FACTS = pd.DataFrame({"spearman": [0.5, 0.1], "gap": [0.4, 0.16]}, index=["ml100k", "goodreads"])


def row(dataset, algorithm, input_name, ndcg, ee, se=0.001):
    return {"dataset": dataset, "algorithm": algorithm, "input": input_name, "ndcg@10": ndcg, "ndcg@10_se": se,
            "EE": ee, **{f"IA@{a}": ee for a in (1, 5, 10)}, **{f"LIA@{a}": ee for a in (1, 5, 10)}}


MAIN = pd.DataFrame([
    row("ml100k", "Random", "raw", 0.010, 0.9), row("ml100k", "Random", "pct_last", 0.010, 0.9),
    row("ml100k", "BiasedMF", "raw", 0.080, 0.20), row("ml100k", "BiasedMF", "pct_last", 0.075, 0.25),
    row("ml100k", "ItemKNN", "raw", 0.050, 0.30), row("ml100k", "ItemKNN", "pct_last", 0.030, 0.28),
    row("ml100k", "NMF", "raw", 0.011, 0.40), row("ml100k", "NMF", "pct_last", 0.012, 0.50),  # not above Random
    row("ml100k", "MostPop", "raw", 0.06, 0.01), row("ml100k", "MostPop", "pct_last", 0.06, 0.01),  # not counted
])


def test_random_margins_interval():
    margins = random_margins(MAIN).set_index(["algorithm", "input"])
    low = 0.07 - 1.959964 * math.hypot(0.001, 0.001)
    assert margins.loc[("BiasedMF", "raw"), "low"] == pytest.approx(low, abs=1e-6)
    assert bool(margins.loc[("BiasedMF", "raw"), "beats_random"])
    assert not bool(margins.loc[("NMF", "raw"), "beats_random"])
    assert "Random" not in margins.index.get_level_values("algorithm")


def test_shares_count_only_recommenders_that_beat_random():
    results = claim_results(MAIN, FACTS)
    # eligible: BiasedMF (EE up) and ItemKNN (EE down); NMF is excluded, MostPop is not one of the six
    assert results["share_ee_up"].value == pytest.approx(0.5) and results["share_ee_up"].n == 2
    assert results["share_ia_up"].n == 6 and results["share_ia_up"].value == pytest.approx(0.5)
    assert results["share_ee_up_random"].value == 0.0 and results["share_ee_up_random"].n == 1
    # nDCG change: BiasedMF −6.25 % (ok), ItemKNN −40 % (not); Random in place of them: −87.5 %, −80 %
    assert results["share_ndcg_ok"].value == pytest.approx(0.5)
    assert results["share_ndcg_ok_random"].value == 0.0
    assert results["pairs_beat_random"] == Guard(False, results["pairs_beat_random"].reason)
    assert "NMF on ml100k" in results["notes"]["c2_ee"]
    assert results["min_spearman"] == pytest.approx(0.1) and results["min_top_gap"] == pytest.approx(0.16)


def test_too_few_eligible_pairs_make_the_claims_untestable_with_the_reason():
    results = claim_results(MAIN, FACTS)
    ledger = build_ledger("book")
    table = ledger.evaluate(results, notes=results["notes"]).set_index("claim")
    assert table.loc["c2_ee", "verdict"] == NOT_TESTABLE
    assert "only 2 (dataset, algorithm) pairs" in table.loc["c2_ee", "note"]
    checks = ledger.checks_table.set_index("check")
    assert checks.loc["c1_correlation", "status"] == "passed"
    assert checks.loc["beats_random", "status"] == "failed"  # NMF does not beat Random


def test_rerank_and_beta_numbers():
    # raw at C = 100 traces the frontier (nDCG, EE) = (0.08, 0.3) → (0.06, 0.5); percentile at C = 20
    # reaches nDCG 0.07 with EE 0.45 (frontier there: 0.4, so +0.05); raw at C = 20: EE 0.35 (−0.05)
    rerank = pd.DataFrame(
        [{"dataset": "ml100k", "algorithm": "BiasedMF", "input": "raw", "method": "greedy", "C": 100, "lambda": lam,
          "ndcg@10": n, "EE": ee, "seconds": 1.0} for lam, n, ee in ((0.1, 0.08, 0.3), (1.0, 0.06, 0.5))]
        + [{"dataset": "ml100k", "algorithm": "BiasedMF", "input": i, "method": "greedy", "C": 20, "lambda": lam,
            "ndcg@10": 0.07, "EE": ee, "seconds": 0.25} for lam in (0.1, 1.0) for i, ee in (("raw", 0.35),
                                                                                         ("pct_last", 0.45))]
        + [{"dataset": "ml100k", "algorithm": "BiasedMF", "input": "pct_last", "method": "greedy", "C": 20,
            "lambda": 3.0, "ndcg@10": 0.05, "EE": 0.9, "seconds": 0.25}])  # outside the frontier: skipped
    beta = pd.DataFrame([
        {"dataset": "ml100k", "algorithm": a, "beta": b, "EE": ee, "ndcg@10": n, "ndcg@10_se": 0.001}
        for a, n, ees in (("Random", 0.01, (0.9, 0.9, 0.9)), ("BiasedMF", 0.08, (0.2, 0.25, 0.19)),
                          ("NMF", 0.011, (0.4, 0.5, 0.6)))
        for b, ee in zip((0.0, 0.1, 0.2), ees, strict=True)])
    results = claim_results(MAIN, FACTS, beta, rerank)
    assert results["rerank_ee_advantage"] == pytest.approx([0.05, 0.05])
    assert results["rerank_ee_advantage_raw"] == pytest.approx([-0.05, -0.05])
    assert results["rerank_beats_random"].passed
    assert results["rerank_matched"].passed
    outside = rerank[rerank["lambda"] == 3.0].assign(input="pct_last")
    unmatched = claim_results(MAIN, FACTS, beta, pd.concat([rerank[rerank["input"] == "raw"], outside]))
    assert not unmatched["rerank_matched"].passed and "cannot be matched" in unmatched["rerank_matched"].reason
    assert "0.25 s per re-ranking at C = 20" in results["notes"]["c4_rerank"]
    # BiasedMF: EE rises at β = 0.1, falls at 0.2; NMF is excluded (not above Random)
    assert results["share_beta_ee_up"].value == pytest.approx(0.5) and results["share_beta_ee_up"].n == 2
    assert results["share_beta_ee_up_random"].value == 0.0
    assert "NMF on ml100k" in results["notes"]["c5_beta"]

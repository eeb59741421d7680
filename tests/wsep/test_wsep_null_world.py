"""The wsep ledger in a world without the claimed effects (no claim may come out reproduced), in a
world with them (the main claims do), and claim_results on hand-made tables."""

import numpy as np
import pandas as pd
import pytest

from reprobook.claims import NOT_REPRODUCED, REPRODUCED
from reprobook.wsep.families import FAMILIES
from reprobook.wsep.ledger import build_ledger, c4_note, claim_results

N_PROCESSES = 40


def summary_frame(interior: int, spearman: list[float], shuffled: list[float]) -> pd.DataFrame:
    n = len(spearman)
    return pd.DataFrame({
        "grid": [f"p{i}" for i in range(n)], "states": 9, "vertices": 10, "interior": [interior] * n,
        "brute_force_equals_lasso": [1.0] + [np.nan] * (n - 1), "capacity": 1.0, "capacity_cvxpy": 1.0,
        "capacity_minimax": 1.0, "support_off_sphere": 0, "pwsep_found": 10.0,
        "lsepin_kl_cost_spearman": spearman, "lsepin_kl_cost_spearman_shuffled": shuffled,
        "lsepin_w_cost_spearman": spearman, "lsepin_w_cost_spearman_shuffled": shuffled,
        "lsepin_kl_mixture_cost_spearman": spearman, "lsepin_kl_mixture_cost_spearman_shuffled": shuffled,
    })


def family_frame(wsep_hits: int, misl_hits: int, wsep_more: int, random_more: int) -> pd.DataFrame:
    rows = []
    for family in FAMILIES:
        for i in range(N_PROCESSES):
            rows.append({"family": family, "process_seed": i, "states": 5, "vertices": 8, "interior": 2,
                         "wsep_interior_k": 3.0 if i < wsep_hits else np.nan,
                         "misl_interior_k": 3.0 if i < misl_hits else np.nan,
                         "wsep_distinct_at_n": 5.0 if i < wsep_more else 3.0, "misl_distinct_at_n": 3.0,
                         "random_distinct_at_n": 5.0 if i < random_more else 3.0, "misl_support": 3.0,
                         "weighted_wsep_support": 5.0 if i < wsep_more else 3.0,
                         "shuffled_weighted_support": 5.0 if i < random_more else 3.0})
    return pd.DataFrame(rows)


def learned_frame(found: list[int], random_found: list[int]) -> pd.DataFrame:
    pwsep = pd.DataFrame({"objective": "pwsep", "seed": range(len(found)), "vertices": 25,
                          "vertices_found": found, "random_reward_vertices_found": random_found,
                          "learned_value": found, "exact_optimum": 25.0})
    gradient = pd.DataFrame({"objective": ["misl", "wsep"], "seed": 0, "vertices": 25, "learned_value": [1.0, 5.0],
                             "exact_optimum": [1.2, 6.0]})
    return pd.concat([pwsep, gradient], ignore_index=True)


def test_null_world_reproduces_nothing():
    rng = np.random.default_rng(0)
    null = rng.normal(0.0, 0.05, size=5).tolist()
    results = claim_results(
        summary_frame(interior=0, spearman=null, shuffled=null),
        family_frame(wsep_hits=12, misl_hits=12, wsep_more=8, random_more=8),  # WSEP = its control
        learned_frame(found=[12, 14, 11, 13, 12], random_found=[12, 14, 11, 13, 12]))
    table = build_ledger("book").evaluate(results)
    assert REPRODUCED not in set(table.verdict), table[["claim", "verdict", "note"]]
    assert table.set_index("claim").verdict["c1_misl_interior"] == NOT_REPRODUCED


def test_null_world_where_everything_passes_the_rule_alike_is_not_reproduced():
    # WSEP passes every rule, but so does its control: the claims must not read reproduced
    results = claim_results(
        summary_frame(interior=3, spearman=[-0.5, -0.6, -0.55, -0.5, -0.58], shuffled=[-0.5, -0.6, -0.55, -0.5, -0.58]),
        family_frame(wsep_hits=38, misl_hits=38, wsep_more=38, random_more=38),
        learned_frame(found=[25] * 5, random_found=[25] * 5))
    table = build_ledger("book").evaluate(results).set_index("claim")
    assert (table.drop(index="c1_misl_interior").verdict != REPRODUCED).all()


def test_world_with_the_effects_reproduces_the_main_claims():
    results = claim_results(
        summary_frame(interior=3, spearman=[-0.5, -0.6, -0.55, -0.5, -0.58], shuffled=[0.02, -0.03, 0.01, 0.0, -0.02]),
        family_frame(wsep_hits=36, misl_hits=4, wsep_more=35, random_more=3),
        learned_frame(found=[25] * 5, random_found=[12, 14, 11, 13, 12]))
    ledger = build_ledger("book")
    table = ledger.evaluate(results).set_index("claim")
    assert (table.verdict == REPRODUCED).all(), table[["verdict", "note"]]
    assert set(ledger.checks_table.status) == {"passed"}


def test_claim_results_on_a_hand_made_table():
    families = family_frame(wsep_hits=30, misl_hits=10, wsep_more=20, random_more=5)
    families.loc[families.process_seed >= 36, "interior"] = 0  # 4 processes per family have no interior vertex
    results = claim_results(summary_frame(2, [-0.2, -0.3, -0.1], [0.1, 0.0, -0.1]), families,
                            learned_frame(found=[25, 24, 25], random_found=[10, 12, 11]))
    assert results["interior_vertices"].value == 6 and results["interior_vertices"].is_exact
    share = results["wsep_interior_det-line"]
    assert (share.value, share.n, share.method) == (30 / 36, 36, "clopper-pearson")
    assert results["misl_interior_det-line"].value == pytest.approx(10 / 36)
    assert results["wsep_more_stoch-line"].value == pytest.approx(20 / 40)
    assert results["random_more_stoch-line"].value == pytest.approx(5 / 40)
    assert results["pwsep_share_found"] == pytest.approx([1.0, 0.96, 1.0])
    assert results["random_reward_share_found"] == pytest.approx([0.4, 0.48, 0.44])
    assert results["lsepin_kl_cost_spearman"] == [-0.2, -0.3, -0.1]
    assert results["lsepin_kl_cost_spearman_shuffled"] == [0.1, 0.0, -0.1]
    assert results["weighted_more_det-line"].value == pytest.approx(20 / 40)
    assert results["shuffled_weighted_more_det-line"].value == pytest.approx(5 / 40)
    # a process whose skill sets cannot be ranked (all costs infinite: ρ is NaN) is left out of c4
    untestable = summary_frame(2, [-0.2, np.nan, -0.1], [0.1, np.nan, -0.1])
    assert claim_results(untestable, families, None)["lsepin_kl_cost_spearman"] == [-0.2, -0.1]
    assert results["lasso_equals_brute_force"] and results["capacity_three_ways"]
    assert results["learned_below_exact"] and results["pwsep_list_all"]
    broken = summary_frame(2, [-0.2, -0.3, -0.1], [0.1, 0.0, -0.1]).assign(capacity_cvxpy=1.1)
    assert not claim_results(broken, families, None)["capacity_three_ways"]
    assert claim_results(broken, families, None)["pwsep_share_found"] is None


def test_c4_note_reports_every_cost_from_the_summary():
    frame = summary_frame(2, [-0.25, np.nan], [0.05, np.nan]).assign(lsepin_w_cost_spearman=[-0.7, -0.6],
                                                                      lsepin_kl_finite_share=[0.25, 0.0])
    note = c4_note(frame)
    assert note.startswith("1 of 2 named processes") and "finite cost: p0 0.25; p1 0.00" in note
    assert "Wasserstein from the best skill: p0 -0.70 (shuffled 0.05); p1 -0.60" in note
    assert "KL from the best skill: p0 -0.25 (shuffled 0.05)" in note


def test_c4_is_judged_on_the_kl_cost_from_the_best_skill_and_w_is_only_shown():
    ledger = build_ledger("book")
    metrics = {claim.id: claim.metric for claim in ledger.claims}
    assert metrics["c4_lsepin_cost"] == "lsepin_kl_cost_spearman"
    assert not {"lsepin_w_cost_spearman", "lsepin_kl_mixture_cost_spearman"} & set(metrics.values())

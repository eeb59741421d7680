"""The null world: English no better than any language, wrong choices explained by accuracy alone,
parallel data and the EN ratio that change nothing. No claim may come out "reproduced"; the world with
the effects must reproduce M1, M5, M6 and M7 (so this test could fail)."""

from mubench_worlds import aligned, worlds

from reprobook.claims import REPRODUCED
from reprobook.mubench.ledger import build_ledger, claim_results


def verdicts(arrays, world):
    results = claim_results(arrays, world, profile="book", model="smollm2", sanity_threshold=0.0, n_bootstrap=500,
                            n_null=100, n_permutations=500)
    table = build_ledger("book").evaluate(results)
    return table


def test_null_world_reproduces_nothing():
    for seed in range(3):
        table = verdicts(aligned(0.3, 0.3, shared_wrong=False, seed=seed), worlds(parallel_helps=False))
        assert table["n"].dropna().min() >= 3
        reproduced = table[table["verdict"] == REPRODUCED]
        assert reproduced.empty, reproduced[["claim", "ours", "note"]].to_dict("records")


def test_world_with_the_effects_reproduces_the_main_claims():
    table = verdicts(aligned(1.0, 0.3, shared_wrong=True), worlds(parallel_helps=True))
    verdict = dict(zip(table["claim"], table["verdict"], strict=True))
    assert verdict["M1"] == verdict["M5"] == verdict["M6"] == REPRODUCED, table[["claim", "verdict", "note"]]
    table = verdicts(aligned(1.0, 0.3, shared_wrong=True), worlds(parallel_helps=False, ratio_matters=True,
                                                                   n_people=300))
    verdict = dict(zip(table["claim"], table["verdict"], strict=True))
    assert verdict["M7"] == REPRODUCED and verdict["M6"] != REPRODUCED, table[["claim", "verdict", "note"]]

"""The FiCSUM ledger in a world without the claimed effects says nothing is reproduced; in a world
with them, the main claims are reproduced (so the null test could fail)."""

from ficsum_worlds import effect_world, null_world

from reprobook.claims import NOT_TESTABLE, REPRODUCED
from reprobook.ficsum.ledger import build_ledger, claim_results


def test_no_claim_is_reproduced_when_nothing_tracks_concepts():
    table = build_ledger("book").evaluate(claim_results(*null_world()))
    assert REPRODUCED not in set(table["verdict"]), table[["claim", "verdict", "note"]].to_string()
    # the lower bound passes the cmc rules, so the cmc claims must say their control was not excluded
    cmc = table[table["claim"].isin(["cmc_kappa", "cmc_cf1"])]
    assert cmc["note"].str.contains("control").all()


def test_the_main_claims_are_reproduced_when_the_effects_are_there():
    table = build_ledger("book").evaluate(claim_results(*effect_world())).set_index("claim")
    for claim in ("cf1_margin", "stagger_cf1", "beats_error_rate", "kappa_stagger", "supervised_needed",
                  "unsupervised_carry", "weights_follow_separability"):
        assert table.loc[claim, "verdict"] == REPRODUCED, (claim, table.loc[claim, "note"])


def test_smoke_profile_judges_nothing():
    table = build_ledger("smoke").evaluate(claim_results(*effect_world()))
    assert set(table["verdict"]) == {NOT_TESTABLE}

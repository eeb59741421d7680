"""Every size parameter has a documented maximum; the stub is refused outside smoke."""

import pytest

from reprobook.mubench import chapter
from reprobook.params import ParameterError


@pytest.mark.parametrize(("name", "value"), [
    ("batch_size", 10**4), ("n_bootstrap", 10**8), ("seed", 10**9), ("time_budget_s", 1e9), ("b2_steps", 10**7),
    ("b2_batch", 10**6), ("b2_people", 10**4), ("b2_jobs", 1000), ("n_permutations", 10**8),
    ("b2_time_budget_s", 1e9), ("num_threads", 1000),
])
def test_absurd_sizes_are_refused_with_the_allowed_range(name, value):
    with pytest.raises(ParameterError, match=rf"'{name}' must be (an integer|a number) in \["):
        chapter.validate_parameters(profile="smoke", model="stub", **{name: value})


def test_seed_lists_are_bounded_and_stub_is_smoke_only():
    with pytest.raises(ParameterError, match="'b2_seeds'.*at most"):
        chapter.validate_parameters(profile="smoke", model="stub", b2_seeds=list(range(50)))
    with pytest.raises(ParameterError, match=r"'b2_seeds\[0\]' must be an integer in \["):
        chapter.validate_parameters(profile="smoke", model="stub", b2_seeds=[10**9])
    with pytest.raises(ParameterError, match="stub"):
        chapter.validate_parameters(profile="book", model="stub")


def test_budget_counts_cpu_time_and_names_the_dropped_languages():
    params = chapter.validate_parameters(profile="smoke", model="stub", languages=["en", "de", "fr"],
                                         tasks=["weekday"], time_budget_s=1e-9)
    table, skipped = chapter.score_languages(params, cache=False)
    assert set(table["lang"]) == {"en"} and skipped == ["de", "fr"]
    roomy = chapter.validate_parameters(profile="smoke", model="stub", languages=["en", "de", "fr"],
                                        tasks=["weekday"], time_budget_s=3600.0)
    assert chapter.score_languages(roomy, cache=False)[1] == []


def test_a_language_dropped_under_load_is_named_in_the_ledger():
    from mubench_worlds import aligned

    from reprobook.mubench.ledger import build_ledger, claim_results, run_notes

    params = chapter.validate_parameters(profile="smoke", model="stub", languages=["en", "de", "fr", "sw"],
                                         tasks=["weekday"], time_budget_s=1e-9)
    _, skipped = chapter.score_languages(params, cache=False)
    scored = [lang for lang in params.languages if lang not in skipped]
    results = claim_results(aligned(1.0, 0.3, shared_wrong=False), {}, profile="book", model="smollm2",
                            n_bootstrap=200, n_null=20)
    table = build_ledger("book").evaluate(results, notes=run_notes(scored, skipped)).set_index("claim")
    for claim in ("M1", "M5"):
        assert "dropped by the time budget: de, fr, sw" in table.loc[claim, "note"]


@pytest.mark.parametrize(("name", "value", "message"), [
    ("b2_ratios", [0.3], r"'b2_ratios\[0\]' must be a number in \[0.5, 0.95\]"),
    ("b2_ratios", "0.5", r"'b2_ratios' must be a list of at most 8 numbers in \[0.5, 0.95\]"),
    ("b2_shares", [0.1, 0.1], r"'b2_shares' lists a value twice"),
    ("b2_shares", [0.0, 0.9], r"'b2_shares\[1\]' must be a number in \[0.0, 0.5\]"),
    ("b2_controls", ["oracle", "nope"], r"'b2_controls' has unknown entries \['nope'\]"),
])
def test_grid_parameters_are_checked_by_name(name, value, message):
    with pytest.raises(ParameterError, match=message):
        chapter.validate_parameters(profile="smoke", model="stub", **{name: value})

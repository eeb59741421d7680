"""The book profile's update schedule chosen by the learnability sweep (``reprobook.meal.learnability``)."""

import dataclasses

import pandas as pd

from reprobook.meal import chapter, learnability, tuning
from reprobook.meal.experiments import updates_per_task


def _table(learnt: dict[int, list[bool]]) -> pd.DataFrame:
    return pd.DataFrame([{"candidate": index, "seed": seed, "task": 0, "end_score": 0.1, "floor": 0.0,
                          "learnt": flag} for index, flags in learnt.items() for seed, flag in enumerate(flags)])


def test_choose_takes_the_first_passing_candidate():
    assert learnability.choose(_table({0: [True, False], 1: [True, True], 2: [True, True]})) == 1
    assert learnability.choose(_table({0: [True, True], 1: [True, True]})) == 0


def test_choose_falls_back_to_the_most_learnt_then_the_earliest():
    assert learnability.choose(_table({0: [False, False], 1: [True, False], 2: [False, True]})) == 1
    assert learnability.choose(_table({0: [False, True], 1: [True, False]})) == 0


def test_candidates_fix_their_settings_and_four_evaluations_per_task():
    params = chapter.ChapterParameters()
    for candidate in learnability.CANDIDATES:
        assert set(candidate) == set(learnability.CANDIDATE_KEYS)
        config = learnability.candidate_config(params, candidate)
        assert config.method == "ft" and config.seeds == learnability.VALIDATION_SEEDS
        assert config.min_max_soup == candidate["min_max_soup"]
        assert updates_per_task(config) * config.num_envs * config.rollout_len == candidate["steps_per_task"]
        assert updates_per_task(config) // config.eval_every == 4
        assert (config.num_envs * config.rollout_len * 2) % config.minibatches == 0
    steps = [candidate["steps_per_task"] for candidate in learnability.CANDIDATES]
    assert steps == sorted(steps)  # ordered by cost: only the last buys more environment steps
    assert set(learnability.VALIDATION_SEEDS).isdisjoint(params.seeds)


def test_the_record_keeps_the_earlier_rounds_candidates():
    record = learnability.read_record()
    assert record is not None
    for index, recorded in enumerate(record["candidates"]):
        assert recorded == learnability.CANDIDATES[index]
    assert set(record["table"]["candidate"]) <= set(range(len(learnability.CANDIDATES)))
    assert set(record["recorded"]) == {str(index) for index in set(record["table"]["candidate"])}
    assert record["chosen"] == learnability.choose(record["table"])


def _settings(candidate: dict) -> dict:
    return {**dataclasses.asdict(chapter.ChapterParameters()), **candidate}


def test_describe_states_the_numbers_and_what_was_not_run():
    table = _table({0: [True, False], 1: [True, True]})
    record = {"table": table, "candidates": list(learnability.CANDIDATES), "validation_seeds": [1000, 1001],
              "chosen": learnability.choose(table)}
    first, second = learnability.CANDIDATES[:2]
    text = learnability.describe(record, _settings(second))
    assert "1 of 2 seed-tasks learnt" in text and "2 of 2 seed-tasks learnt" in text
    assert f"{len(learnability.CANDIDATES) - 2} later candidate(s) not run" in text
    assert "every seed learns every task" in text and text.endswith("This run uses it.")
    assert learnability.describe(record, _settings(first)).endswith(
        f"learning rate {first['lr']:g}, 163,840 steps per task, every generated kitchen instead.")
    filtered = learnability.describe(record, _settings(learnability.CANDIDATES[3]))
    assert filtered.endswith("kitchens whose normaliser is at least 8 instead.")
    failed = _table({0: [True, False], 1: [False, False]})
    record = {**record, "table": failed, "chosen": learnability.choose(failed)}
    assert "no candidate had every seed learn every task" in learnability.describe(record, _settings(first))
    assert "has not been recorded" in learnability.describe(None, _settings(first))


def test_passed_needs_every_seed_task_of_a_run_candidate():
    table = _table({0: [True, False], 1: [True, True]})
    assert not learnability.passed(table, 0) and learnability.passed(table, 1) and not learnability.passed(table, 2)


def test_the_lambda_sentence_names_settings_that_changed_since_its_sweep():
    table = pd.DataFrame([{"lambda": 1e7, "seed": 1000, "task": 0, "end_score": 0.1, "floor": 0.0, "learnt": True}])
    record = {"table": table, "validation_seeds": [1000], "floor_sigmas": 2.0, "chosen": 1e7,
              "settings": {"method": "online_ewc", "num_envs": 32, "lr": 1e-3, "hidden": 64}}
    same = tuning.describe(record, 1e7, {"method": "ft", "num_envs": 32, "lr": 1e-3, "hidden": 64})
    assert "not been swept" not in same and same.endswith("This run uses it.")
    changed = tuning.describe(record, 1e7, {"method": "ft", "num_envs": 16, "lr": 1e-3, "hidden": 64})
    assert "(num_envs 32 there, 16 here); λ has not been swept at these." in changed
    filtered = tuning.describe(record, 1e7, {"method": "ft", "num_envs": 32, "lr": 1e-3, "hidden": 64,
                                             "min_max_soup": 8})
    assert "(min_max_soup 0 there, 8 here)" in filtered  # a setting newer than the record: its default there


def test_the_book_profile_uses_the_recorded_choice_exactly_when_it_passed():
    from reprobook.run import resolve_parameters

    record = learnability.read_record()
    chosen = learnability.CANDIDATES[record["chosen"]]
    book, defaults = resolve_parameters("meal", "book"), chapter.ChapterParameters()
    in_notebook = all(book[key] == chosen[key] for key in learnability.CANDIDATE_KEYS)
    in_library = all(getattr(defaults, key) == chosen[key] for key in learnability.CANDIDATE_KEYS)
    assert in_notebook == in_library == learnability.passed(record["table"], record["chosen"])

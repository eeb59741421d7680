"""The book profile's update schedule chosen by the learnability sweep (``reprobook.meal.learnability``)."""

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


def test_candidates_keep_the_environment_steps_and_the_evaluations_per_task():
    params = chapter.ChapterParameters()
    for candidate in learnability.CANDIDATES:
        config = learnability.candidate_config(params, candidate)
        assert config.method == "ft" and config.seeds == learnability.VALIDATION_SEEDS
        assert updates_per_task(config) * config.num_envs * config.rollout_len == params.steps_per_task
        assert updates_per_task(config) // config.eval_every == 4
        assert (config.num_envs * config.rollout_len * 2) % config.minibatches == 0
    assert set(learnability.VALIDATION_SEEDS).isdisjoint(params.seeds)


def test_describe_states_the_numbers_and_what_was_not_run():
    table = _table({0: [True, False], 1: [True, True]})
    record = {"table": table, "candidates": list(learnability.CANDIDATES), "validation_seeds": [1000, 1001],
              "chosen": learnability.choose(table)}
    first, second = learnability.CANDIDATES[:2]
    text = learnability.describe(record, second["num_envs"], second["lr"])
    assert "1 of 2 seed-tasks learnt" in text and "2 of 2 seed-tasks learnt" in text
    assert "1 later candidate(s) not run" in text and text.endswith("This run uses it.")
    assert learnability.describe(record, first["num_envs"], first["lr"]).endswith(
        f"learning rate {first['lr']:g} instead.")
    assert "has not been recorded" in learnability.describe(None, 32, 1e-3)


def test_the_lambda_sentence_names_settings_that_changed_since_its_sweep():
    table = pd.DataFrame([{"lambda": 1e7, "seed": 1000, "task": 0, "end_score": 0.1, "floor": 0.0, "learnt": True}])
    record = {"table": table, "validation_seeds": [1000], "floor_sigmas": 2.0, "chosen": 1e7,
              "settings": {"method": "online_ewc", "num_envs": 32, "lr": 1e-3, "hidden": 64}}
    same = tuning.describe(record, 1e7, {"method": "ft", "num_envs": 32, "lr": 1e-3, "hidden": 64})
    assert "not been swept" not in same and same.endswith("This run uses it.")
    changed = tuning.describe(record, 1e7, {"method": "ft", "num_envs": 16, "lr": 1e-3, "hidden": 64})
    assert "(num_envs 32 there, 16 here); λ has not been swept at these." in changed

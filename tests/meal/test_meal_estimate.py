"""The cost estimate (``reprobook.meal.estimate``) and the recorded λ sweep (``reprobook.meal.tuning``)."""

import dataclasses
import math

import pandas as pd
import pytest

from reprobook.estimate import Probe, project
from reprobook.meal import chapter, estimate, tuning
from reprobook.run import resolve_parameters


def test_smoke_probe_is_sane():
    parameters = resolve_parameters("meal", "smoke")
    probe = estimate.probe(parameters, 1.0)
    assert isinstance(probe, Probe) and probe.device == "cpu" and probe.unit == "env steps"
    assert probe.units_done > 0 and probe.wall_seconds > 0 and probe.cpu_seconds > 0
    total, cells = estimate.profile_env_steps(chapter.validate_parameters(**parameters))
    assert probe.units_total == total and probe.cells == cells
    # smoke: 3 continual runs (FT, Online EWC, PackNet) of 2 tasks, 1 baseline, 1 repeated sequence
    assert cells == 5
    assert math.isfinite(project(probe).cpu_hours)


def test_profile_env_steps_by_hand():
    params = chapter.validate_parameters(profile="book", methods=["ft"], seeds=[0, 1], n_tasks=2, num_envs=4,
                                         rollout_len=8, steps_per_task=64, eval_every=1)
    # 64 steps / 32 per update = 2 updates per task, 2 tasks, 2 seeds
    assert estimate.profile_env_steps(params) == (2 * 2 * 32 * 2, 1)


def test_device_parameter_is_validated():
    with pytest.raises(Exception, match="device"):
        chapter.validate_parameters(device="tpu")
    with pytest.raises(Exception, match="ewc_lambda"):
        chapter.validate_parameters(ewc_lambda=-1.0)


def _table(learnt: dict[float, list[bool]]) -> pd.DataFrame:
    return pd.DataFrame([{"lambda": lam, "seed": index, "task": 0, "end_score": 0.1, "floor": 0.0, "learnt": flag}
                         for lam, flags in learnt.items() for index, flag in enumerate(flags)])


def test_choose_lambda_rule():
    assert tuning.choose_lambda(_table({1e7: [True, True], 1e8: [True, True], 1e9: [True, False]})) == 1e8
    assert tuning.choose_lambda(_table({1e7: [False, True], 1e8: [False, False]})) == 1e7


def test_describe_states_the_rule_and_the_numbers():
    table = _table({1e7: [True, True], 1e8: [True, False]})
    record = {"table": table, "validation_seeds": [1000, 1001], "floor_sigmas": 2.0,
              "chosen": tuning.choose_lambda(table)}
    text = tuning.describe(record, 1e7)
    assert "λ = 1e+07: 2 of 2 seed-tasks learnt" in text and "λ = 1e+08: 1 of 2" in text
    assert "chose λ = 1e+07" in text and text.endswith("This run uses it.")
    assert "instead" in tuning.describe(record, 1e11)
    assert "has not been recorded" in tuning.describe(None, 1e11)
    assert set(tuning.VALIDATION_SEEDS).isdisjoint(chapter.ChapterParameters().seeds)


def test_lambda_table_floor_by_hand():
    from types import SimpleNamespace

    evals = pd.DataFrame([{"seed": 5, "eval": 0, "task": 0, "score": 0.0, "soups_sd": 0.0, "episodes": 16},
                          {"seed": 5, "eval": 1, "task": 0, "score": 0.2, "soups_sd": 0.4, "episodes": 16},
                          {"seed": 5, "eval": 1, "task": 1, "score": 0.05, "soups_sd": 0.4, "episodes": 16},
                          {"seed": 5, "eval": 0, "task": 1, "score": 0.0, "soups_sd": 0.0, "episodes": 16}])
    tasks = pd.DataFrame([{"seed": 5, "task": 0, "last_eval": 1, "max_soup": 2},
                          {"seed": 5, "task": 1, "last_eval": 1, "max_soup": 2}])
    result = SimpleNamespace(config=SimpleNamespace(reg_lambda=1e8), evals=evals, tasks=tasks)
    table = tuning.lambda_table([result]).set_index("task")
    # standard error 0.4 / √16 soups = 0.1 soups = 0.05 of the normaliser 2; floor 0 + 2 × 0.05
    assert table.loc[0, "floor"] == pytest.approx(0.1) and table.loc[0, "learnt"]
    assert not table.loc[1, "learnt"]


def test_a_short_slice_probes_the_fewest_kitchens():
    paper = chapter.experiment_grid(chapter.validate_parameters(**resolve_parameters("meal", "paper")))[0]
    assert estimate._probe_envs(paper, estimate.SHORT_PROBE_SECONDS) == estimate.PROBE_ENVS
    assert estimate._probe_envs(paper, 3.0) == 1  # 1 kitchen × 400 steps × 2 agents splits into 16 minibatches
    odd = dataclasses.replace(paper, minibatches=64)  # 800 samples do not split into 64, 1,600 do
    assert estimate._probe_envs(odd, 3.0) == 2

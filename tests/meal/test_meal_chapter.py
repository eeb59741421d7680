"""The chapter's parameter checks and its plasticity summary on synthetic runs with known answers."""

import numpy as np
import pandas as pd
import pytest

from reprobook.meal import chapter
from reprobook.meal.experiments import SequenceConfig, SequenceResult
from reprobook.params import ParameterError


def _result(curves: dict[tuple[int, int], list[float]]) -> SequenceResult:
    rows, tasks = [], []
    for (repetition, task), curve in curves.items():
        rows += [{"seed": 0, "repetition": repetition, "task": task, "update": i, "train_score": v}
                 for i, v in enumerate(curve)]
        tasks.append({"seed": 0, "repetition": repetition, "task": task, "dormant_ratio": 0.1 * (repetition + 1)})
    return SequenceResult(SequenceConfig(repeats=2, n_tasks=2), pd.DataFrame(), pd.DataFrame(rows), pd.DataFrame(tasks))


def test_plasticity_auc_loss_and_guard():
    result = _result({(0, 0): [1.0] * 5, (0, 1): [0.0] * 5, (1, 0): [0.5] * 5, (1, 1): [0.4] * 5})
    table = chapter.plasticity(result, sigma=0.0, min_auc=0.02).set_index(["repetition", "task"])
    assert table.loc[(2, 0), "auc_loss"] == pytest.approx(0.5)      # half the area of the first time
    assert table.loc[(1, 0), "auc_loss"] == pytest.approx(0.0)
    assert np.isnan(table.loc[(2, 1), "auc_loss"])                   # never learnt: undefined
    assert table.loc[(2, 1), "dormant_ratio"] == pytest.approx(0.2)


@pytest.mark.parametrize("bad", [{"plasticity_repeats": 1}, {"ablation_method": "packnet"},
                                 {"packnet_finetune": 0.0}, {"methods": ["ft", "prune"]}])
def test_parameter_errors_name_the_parameter(bad):
    name = next(iter(bad))
    with pytest.raises(ParameterError, match=name):
        chapter.validate_parameters(profile="smoke", **bad)


def test_plasticity_grid():
    params = chapter.validate_parameters(profile="smoke", plasticity_repeats=3, plasticity_n_tasks=2, seeds=[0, 1])
    grid = chapter.plasticity_grid(params)
    assert [(c.repeats, c.n_tasks, c.seeds) for c in grid] == [(3, 2, (0, 1))]
    assert chapter.plasticity_grid(chapter.validate_parameters(profile="smoke", plasticity_repeats=0)) == []


@pytest.mark.parametrize(("name", "value"), [("steps_per_task", 10**15), ("plasticity_steps_per_task", 10**12),
                                             ("layout_seed", 2**40), ("num_envs", 10**6), ("rollout_len", 10**6),
                                             ("n_tasks", 1000), ("eval_episodes", 10**4), ("stat_steps", 10**7)])
def test_size_parameters_have_a_maximum(name, value):
    with pytest.raises(ParameterError, match=rf"'{name}' must be an integer in \[\d+, \d+\]"):
        chapter.validate_parameters(profile="book", **{name: value})


def test_seed_count_and_scale_levels_are_bounded():
    with pytest.raises(ParameterError, match="'seeds' may list at most 64"):
        chapter.validate_parameters(profile="book", seeds=list(range(65)))
    with pytest.raises(ParameterError, match=r"'scale_levels\[0\]' must be an integer in \[2, 3\]"):
        chapter.validate_parameters(profile="book", scale_levels=[4])
    with pytest.raises(ParameterError, match="ablations"):
        chapter.validate_parameters(profile="book", ablations=["no_heads"])


def test_grids_batch_the_seeds_and_split_the_ablations():
    params = chapter.validate_parameters(profile="paper", methods=["ft", "packnet"], seeds=[0, 1, 2],
                                         ablations=["no_task_id", "single_head"], scale_levels=[2, 3])
    grid = chapter.experiment_grid(params)
    assert [chapter.run_label(c) for c in grid] == ["FT", "PackNet", "Online EWC (no task id)",
                                                     "Online EWC (single head)"]
    assert all(c.seeds == (0, 1, 2) for c in grid)
    assert [chapter.run_label(c) for c in chapter.scale_grid(params)] == ["Online EWC (Level 2)",
                                                                          "Online EWC (Level 3)"]


def test_the_book_lambda_is_the_recorded_validation_choice():
    from reprobook.meal import tuning
    from reprobook.run import resolve_parameters

    record = tuning.read_record()
    assert record is not None, "the λ sweep record is part of the package"
    assert record["chosen"] == tuning.choose_lambda(record["table"])
    assert set(record["validation_seeds"]).isdisjoint(resolve_parameters("meal", "book")["seeds"])
    assert chapter.ChapterParameters().ewc_lambda == record["chosen"]
    assert resolve_parameters("meal", "book")["ewc_lambda"] == record["chosen"]
    assert "chose λ = 1e+07" in tuning.describe(record, record["chosen"])

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
        rows += [{"repetition": repetition, "task": task, "update": i, "train_score": v} for i, v in enumerate(curve)]
        tasks.append({"repetition": repetition, "task": task, "dormant_ratio": 0.1 * (repetition + 1)})
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
    assert [(c.repeats, c.n_tasks, c.seed) for c in grid] == [(3, 2, 0), (3, 2, 1)]
    assert chapter.plasticity_grid(chapter.validate_parameters(profile="smoke", plasticity_repeats=0)) == []

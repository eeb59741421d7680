"""The ledger in worlds without the claimed effects (no claim may come out reproduced), and in a
world with them (the main claims do), through ``claim_results`` and ``build_ledger("book")``.

A world is a set of per-seed score matrices (evaluations × tasks) for the runs the book profile
makes: two tasks, three evaluations per task after the untrained one, three seeds.
"""

import numpy as np
import pandas as pd
import pytest

from reprobook.claims import REPRODUCED
from reprobook.meal import ledger as meal_ledger
from reprobook.meal.metrics import average_performance

RUNS = {"FT": "ft", "Online EWC": "online_ewc", "PackNet": "packnet",
        "Online EWC (no task id, single head)": "online_ewc"}
SEEDS = (0, 1, 2)
PER_TASK = 3  # evaluations per task
ENDS = [PER_TASK, 2 * PER_TASK]


def _curve(peak0: float, after0: float, peak1: float) -> np.ndarray:
    """Task 0 rises to ``peak0`` during its training then sits at ``after0``; task 1 learnt to ``peak1``."""
    rows = [[0.0, 0.0]]
    rows += [[peak0 * (k + 1) / PER_TASK, 0.0] for k in range(PER_TASK)]
    rows += [[after0, peak1 * (k + 1) / PER_TASK] for k in range(PER_TASK)]
    return np.array(rows)


def world(curves: dict[str, list[np.ndarray]]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], list[dict]]:
    """Summary, frames and PackNet owners of a world given per-run, per-seed score matrices."""
    evals, tasks, train, summary = [], [], [], []
    for run, matrices in curves.items():
        for seed, matrix in zip(SEEDS, matrices, strict=True):
            for index, scores in enumerate(matrix):
                evals += [{"run": run, "method": RUNS[run], "level": 1, "seed": seed, "eval": index, "task": task,
                           "score": float(score)} for task, score in enumerate(scores)]
            tasks += [{"run": run, "seed": seed, "task": task, "last_eval": end, "dormant_ratio": 0.1}
                      for task, end in enumerate(ENDS)]
            train += [{"run": run, "seed": seed, "task": task, "update": update, "train_score": 0.1 * update,
                       "loss": 1.0 / (update + 1)} for task in (0, 1) for update in range(4)]
            summary.append({"run": run, "method": RUNS[run], "seed": seed, "level": 1,
                            "A": average_performance(matrix)})
    owner = {"actor": {"dense_0": {"kernel": np.array([[1, 2], [1, 2]])}}}
    frames = {"evals": pd.DataFrame(evals), "tasks": pd.DataFrame(tasks), "train": pd.DataFrame(train)}
    return pd.DataFrame(summary), frames, [owner] * len(SEEDS)


def verdicts(curves) -> dict[str, str]:
    summary, frames, owners = world(curves)
    results = meal_ledger.claim_results(summary, frames, pd.DataFrame(), owners)
    ledger = meal_ledger.build_ledger("book")
    table = ledger.evaluate(results)
    return dict(zip(table["claim"], table["verdict"], strict=True))


def _jitter(matrix: np.ndarray, seed: int, scale: float = 0.01) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, scale, matrix.shape)
    noise[0] = 0.0
    return np.clip(matrix + noise, 0.0, None)


def _effect_world():
    return {
        "FT": [_jitter(_curve(0.5, 0.02, 0.5), s) for s in SEEDS],
        "Online EWC": [_jitter(_curve(0.5, 0.48, 0.4), 10 + s) for s in SEEDS],
        "PackNet": [_jitter(_curve(0.55, 0.55, 0.5), 20 + s) for s in SEEDS],
        "Online EWC (no task id, single head)": [_jitter(_curve(0.5, 0.1, 0.2), 30 + s) for s in SEEDS],
    }


NULL_WORLDS = {
    # nothing learnt anywhere
    "all_zero": {run: [np.zeros((1 + 2 * PER_TASK, 2)) for _ in SEEDS] for run in RUNS},
    # every method equal to its control: the same forgetting curve for all, seed noise only
    "all_equal": {run: [_jitter(_curve(0.5, 0.05, 0.5), s) for s in SEEDS] for run in RUNS},
    # every method equal and retaining (nobody forgets, conditioning changes nothing)
    "all_equal_retaining": {run: [_jitter(_curve(0.5, 0.5, 0.5), s) for s in SEEDS] for run in RUNS},
    # learning only on the first task: task 2 never learnt
    "second_task_unlearnt": {run: [_jitter(_curve(0.5, 0.3 if run != "FT" else 0.0, 0.0), s) for s in SEEDS]
                             for run in RUNS},
}


@pytest.mark.parametrize("name", list(NULL_WORLDS))
def test_no_claim_reproduces_in_a_null_world(name):
    outcome = verdicts(NULL_WORLDS[name])
    assert REPRODUCED not in outcome.values(), (name, outcome)


def test_the_main_claims_reproduce_in_a_world_with_the_effects():
    outcome = verdicts(_effect_world())
    for claim in ("ft_forgets", "oewc_retains", "conditioning_matters", "packnet_best"):
        assert outcome[claim] == REPRODUCED, (claim, outcome)


def test_a_shuffled_world_reproduces_nothing():
    """Scores permuted across runs, seeds and evaluations: the structure the claims need is gone."""
    effect = _effect_world()
    stacked = np.stack([m for matrices in effect.values() for m in matrices])
    rng = np.random.default_rng(5)
    body = stacked[:, 1:].reshape(-1, 2)
    body = body[rng.permutation(len(body))].reshape(stacked[:, 1:].shape)
    stacked[:, 1:] = body
    shuffled, position = {}, 0
    for run, matrices in effect.items():
        shuffled[run] = list(stacked[position:position + len(matrices)])
        position += len(matrices)
    assert REPRODUCED not in verdicts(shuffled).values()


def _as_results(curves) -> list:
    """The world's runs as :class:`SequenceResult` s, as the notebook hands them to ``verdict_inputs``."""
    from reprobook.meal.experiments import SequenceConfig, SequenceResult

    _, frames, owners = world(curves)
    results = []
    for run, method in RUNS.items():
        conditioned = "no task id" not in run
        config = SequenceConfig(method=method, seeds=SEEDS, n_tasks=2, use_task_id=conditioned,
                                use_multihead=conditioned)
        parts = {name: frame[frame["run"] == run].drop(columns=["run", "method", "level"], errors="ignore")
                 .reset_index(drop=True) for name, frame in frames.items()}
        owner = {"actor": {"dense_0": {"kernel": np.stack([o["actor"]["dense_0"]["kernel"] for o in owners])}}}
        results.append(SequenceResult(config, parts["evals"], parts["train"], parts["tasks"],
                                      owner=owner if method == "packnet" else None))
    return results


@pytest.mark.parametrize("name", ["effect", *NULL_WORLDS])
def test_verdict_inputs_from_the_runs_match_the_tables(name):
    from reprobook.meal.chapter import ChapterParameters

    curves = _effect_world() if name == "effect" else NULL_WORLDS[name]
    inputs = meal_ledger.verdict_inputs(ChapterParameters(ablations=("no_conditioning",)), _as_results(curves))
    table = meal_ledger.build_ledger("book").evaluate(inputs.measured, notes=inputs.notes)
    assert dict(zip(table["claim"], table["verdict"], strict=True)) == verdicts(curves)
    assert list(inputs.floor.columns) == ["noise floor", "untrained score"] and len(inputs.floor) == 2

"""Which scenario setting the book judges c2–c5 on: the smallest one where PPO learns (a rule fixed first).

The rule, fixed before any candidate ran: a candidate setting is *learnable* when PPO's final reward
beats random play's on the same environments, paired by seed over :data:`VALIDATION_SEEDS` (seeds
the book never trains on), with the lower end of the 95 % interval of the difference above
:data:`MARGIN` times random play's mean reward (and above 0). Candidates are tried from the
cheapest; the first learnable one is the book's setting. Final reward: the mean over the last fifth
of a run's rollouts (:func:`reprobook.hasard.ledger.pixel_final`), random play: one episode per
environment (:func:`reprobook.hasard.experiments.run_pixel_random`).

``python -m reprobook.hasard.learnability`` runs the candidates in order until one passes and
writes :data:`RECORD` (part of the package); the chapter reads it and says whether the book's
pixel setting is the rule's choice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reprobook import claims, records
from reprobook.hasard.experiments import PixelRandomConfig, run_pixel, run_pixel_random
from reprobook.hasard.ledger import ABBREVIATION, pixel_final
from reprobook.hasard.pixel_ppo import PixelPPOConfig

__all__ = ["VALIDATION_SEEDS", "MARGIN", "CANDIDATES", "RECORD", "learnable", "judge_runs", "run_learnability",
           "read_record", "chosen", "describe", "write_record"]

VALIDATION_SEEDS = (1000, 1001, 1002)
MARGIN = 0.5  # PPO must beat random play by half of random play's reward (interval's lower end)
#: cheapest first: (scenario, level, downscale, steps per run, environments). Only settings whose book
#: run fits the chapter's budget are candidates: one run here took about 69 CPU-s (engines included)
#: under load, so the book's 12 runs take about 830; larger frames or more steps do not fit.
CANDIDATES: tuple[dict[str, Any], ...] = (
    {"scenario": "remedy_rush", "level": 1, "downscale": 4, "steps": 24_576, "envs": 8},
)
RECORD = Path(__file__).with_name("learnability_sweep.json")


def learnable(ppo_final: list[float], random_reward: list[float]) -> tuple[bool, claims.Estimate]:
    """The rule: paired by seed, the interval of PPO − random reward lies above ``MARGIN`` × random's mean.

    >>> learnable([14.0, 12.0, 13.0], [2.0, 2.5, 1.5])[0], learnable([3.0, 1.0, 2.0], [2.0, 2.5, 1.5])[0]
    (True, False)
    """
    if len(ppo_final) != len(random_reward) or len(ppo_final) < 2:
        raise ValueError("learnable needs the same two or more seeds for PPO and random play, got "
                         f"{len(ppo_final)} and {len(random_reward)}")
    difference = claims.paired_difference(ppo_final, random_reward, unit="seeds")
    bound = max(0.0, MARGIN * float(np.mean(random_reward)))
    return bool(np.isfinite(difference.low) and difference.low > bound), difference


def _configs(candidate: dict[str, Any], seeds: tuple[int, ...]) -> list[PixelPPOConfig]:
    return [PixelPPOConfig(scenario=candidate["scenario"], level=candidate["level"], method="ppo",
                           total_steps=candidate["steps"], n_envs=candidate["envs"], downscale=candidate["downscale"],
                           workers=2, seed=seed) for seed in seeds]


def _judge(candidate: dict[str, Any], seeds: tuple[int, ...]) -> dict[str, Any]:
    from reprobook.sweep import sweep

    configs = _configs(candidate, seeds)
    runs = pd.concat(sweep(run_pixel, configs, backend="serial", desc="learnability: PPO"), ignore_index=True)
    random_runs = pd.concat(sweep(run_pixel_random, [PixelRandomConfig.matching(c) for c in configs],
                                  backend="serial", desc="learnability: random play"), ignore_index=True)
    return judge_runs(candidate, runs, random_runs, seeds)


def judge_runs(candidate: dict[str, Any], runs: pd.DataFrame, random_runs: pd.DataFrame,
               seeds: tuple[int, ...]) -> dict[str, Any]:
    """One candidate's record row from its PPO runs and random play (frames of ``run_pixel`` and
    ``run_pixel_random`` over ``seeds``)."""
    final = pixel_final(runs).set_index("seed").reward
    random_reward = random_runs.groupby("seed").reward.mean()
    passed, difference = learnable([float(final[s]) for s in seeds], [float(random_reward[s]) for s in seeds])
    return {**candidate, "seeds": list(seeds), "ppo_final_reward": [float(final[s]) for s in seeds],
            "random_reward": [float(random_reward[s]) for s in seeds],
            "difference": [difference.value, difference.low, difference.high], "learnable": passed}


def run_learnability(path: Path = RECORD, seeds: tuple[int, ...] = VALIDATION_SEEDS) -> dict[str, Any]:
    """Judge the candidates in order until one is learnable; write and return the record."""
    rows = []
    for candidate in CANDIDATES:
        rows.append(_judge(candidate, seeds))
        if rows[-1]["learnable"]:
            break
    return write_record(rows, path)


def write_record(rows: list[dict[str, Any]], path: Path = RECORD) -> dict[str, Any]:
    """Write the judged candidates (rows of :func:`judge_runs`) as the record; return it."""
    return records.write_record(path, {
        "rule": f"paired 95 % interval of PPO − random final reward above {MARGIN} × random's mean",
        "margin": MARGIN, "candidates": rows})


def read_record(path: Path = RECORD) -> dict[str, Any] | None:
    """The recorded sweep, or None when it was never run."""
    return records.read_record(path)


def chosen(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The first learnable candidate of the record, re-judged by :func:`learnable` from its numbers."""
    for row in (record or {}).get("candidates", []):
        if learnable(row["ppo_final_reward"], row["random_reward"])[0]:
            return row
    return None


def _label(candidate: dict[str, Any]) -> str:
    width, height = 160 // candidate["downscale"], 120 // candidate["downscale"]
    return (f"{ABBREVIATION[candidate['scenario']]} L{candidate['level']}, {width} × {height} grey, "
            f"{candidate['steps']:,} steps, {candidate['envs']} environments")


def describe(record: dict[str, Any] | None, setting: dict[str, Any]) -> str:
    """Generated prose: each judged candidate's numbers, the rule's choice and whether ``setting`` is it."""
    if record is None:
        return "The learnability sweep has not been run, so no scenario setting is known to be learnable."
    parts = []
    for row in record["candidates"]:
        passed, difference = learnable(row["ppo_final_reward"], row["random_reward"])
        parts.append(f"{_label(row)}: PPO's final reward {np.mean(row['ppo_final_reward']):.1f} against random "
                     f"play's {np.mean(row['random_reward']):.1f} (difference {claims.format_estimate(difference)} "
                     f"over seeds {row['seeds']}), {'learnable' if passed else 'not learnable'}")
    choice = chosen(record)
    keys = ("scenario", "level", "downscale", "steps", "envs")
    if choice is None:
        verdict = (f"no candidate is learnable by the rule; the book runs {_label(setting)}, and the "
                   "beats-random guards decide which claims are judged") if setting else "no candidate is learnable by the rule"
    elif all(choice[key] == setting.get(key) for key in keys):
        verdict = f"the book runs the rule's choice ({_label(choice)})"
    else:
        verdict = f"the rule chose {_label(choice)}, but the book runs {_label(setting)}"
    return "Learnability on the validation seeds: " + "; ".join(parts) + f". So {verdict}."


if __name__ == "__main__":  # pragma: no cover - the recorded sweep
    print(json.dumps(run_learnability(), indent=1))

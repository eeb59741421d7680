"""The chapter's parameters (validated in one call), its experiment grids and headline numbers.

>>> params = validate_parameters(profile="smoke", scenarios=["collateral_damage"], levels=[1])
>>> [(config.scenario, config.level) for config in params.random_configs()]
[('collateral_damage', 1)]
>>> validate_parameters(levels=[4])
Traceback (most recent call last):
...
reprobook.params.ParameterError: parameter 'levels[0]' must be an integer in [1, 3], got 4
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reprobook.hasard.cmdp import METHODS, PPOConfig
from reprobook.hasard.experiments import PixelPPOConfig, RandomConfig, WallsConfig
from reprobook.hasard.scenarios import SPECS
from reprobook.params import (
    PROFILES,
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_int_list,
    check_known,
    check_subset,
)

__all__ = ["Parameters", "validate_parameters", "cmdp_summary", "random_summary", "headline_metrics"]

PIXEL_METHODS = ("ppo", "ppo_lag")
DEFAULTS: dict[str, Any] = {
    "profile": "book", "scenarios": list(SPECS), "levels": [1, 2, 3], "random_episodes": 2,
    "random_max_steps": 525, "seed": 0, "heatmap_level": 1, "cmdp_methods": list(METHODS), "cmdp_budget": 1.0,
    "cmdp_iterations": 150, "cmdp_seeds": [0, 1, 2], "lagrangian_lr": 0.01, "pixel_scenario": "collateral_damage",
    "pixel_methods": list(PIXEL_METHODS), "pixel_steps": 100_000, "pixel_envs": 8, "pixel_seed": 0,
}


@dataclass(frozen=True)
class Parameters:
    """The chapter's validated parameters (see the notebook's parameters cell)."""

    profile: str
    scenarios: tuple[str, ...]
    levels: tuple[int, ...]
    random_episodes: int
    random_max_steps: int
    seed: int
    heatmap_level: int
    cmdp_methods: tuple[str, ...]
    cmdp_budget: float
    cmdp_iterations: int
    cmdp_seeds: tuple[int, ...]
    lagrangian_lr: float
    pixel_scenario: str
    pixel_methods: tuple[str, ...]
    pixel_steps: int
    pixel_envs: int
    pixel_seed: int

    def random_configs(self) -> list[RandomConfig]:
        return [RandomConfig(scenario, level, self.random_episodes, self.seed, self.random_max_steps)
                for scenario in self.scenarios for level in self.levels]

    def wall_configs(self) -> list[WallsConfig]:
        return [WallsConfig(scenario, self.heatmap_level) for scenario in self.scenarios]

    def cmdp_configs(self) -> list[PPOConfig]:
        return [PPOConfig(method=method, budget=self.cmdp_budget, iterations=self.cmdp_iterations,
                          lagrangian_lr=self.lagrangian_lr, seed=seed)
                for method in self.cmdp_methods for seed in self.cmdp_seeds]

    def pixel_configs(self) -> list[PixelPPOConfig]:
        if self.pixel_steps == 0:
            return []
        return [PixelPPOConfig(scenario=self.pixel_scenario, level=1, method=method, total_steps=self.pixel_steps,
                               n_envs=self.pixel_envs, lagrangian_lr=self.lagrangian_lr, seed=self.pixel_seed)
                for method in self.pixel_methods]


def validate_parameters(**given: Any) -> Parameters:
    """Check every notebook parameter (names, types, ranges) before any compute."""
    check_known(given, DEFAULTS, where="the hasard chapter")
    values = {**DEFAULTS, **given}
    levels = tuple(check_int_list("levels", values["levels"], minimum=1, maximum=3))
    heatmap_level = check_int("heatmap_level", values["heatmap_level"], minimum=1, maximum=3)
    if heatmap_level not in levels:
        raise ParameterError(f"parameter 'heatmap_level' must be one of the levels run {list(levels)}, "
                             f"got {heatmap_level}")
    pixel_steps = check_int("pixel_steps", values["pixel_steps"], minimum=0, maximum=10**9)
    return Parameters(
        profile=check_choice("profile", values["profile"], PROFILES),
        scenarios=tuple(check_subset("scenarios", values["scenarios"], SPECS)),
        levels=levels,
        random_episodes=check_int("random_episodes", values["random_episodes"], minimum=1, maximum=1000),
        random_max_steps=check_int("random_max_steps", values["random_max_steps"], minimum=10, maximum=525),
        seed=check_int("seed", values["seed"], minimum=0),
        heatmap_level=heatmap_level,
        cmdp_methods=tuple(check_subset("cmdp_methods", values["cmdp_methods"], METHODS)),
        cmdp_budget=check_float("cmdp_budget", values["cmdp_budget"], minimum=0.0, maximum=3.0),
        cmdp_iterations=check_int("cmdp_iterations", values["cmdp_iterations"], minimum=2, maximum=100_000),
        cmdp_seeds=tuple(check_int_list("cmdp_seeds", values["cmdp_seeds"], minimum=0)),
        lagrangian_lr=check_float("lagrangian_lr", values["lagrangian_lr"], minimum=1e-5, maximum=10.0),
        pixel_scenario=check_choice("pixel_scenario", values["pixel_scenario"], SPECS),
        pixel_methods=tuple(check_subset("pixel_methods", values["pixel_methods"], PIXEL_METHODS)),
        pixel_steps=pixel_steps,
        pixel_envs=check_int("pixel_envs", values["pixel_envs"], minimum=1, maximum=256),
        pixel_seed=check_int("pixel_seed", values["pixel_seed"], minimum=0),
    )


def random_summary(episodes: pd.DataFrame) -> pd.DataFrame:
    """Mean random-policy reward, cost, length and rate per scenario and level, with the budget."""
    table = episodes.groupby(["scenario", "level"], sort=False).agg(
        reward=("reward", "mean"), cost=("cost", "mean"), length=("length", "mean"),
        steps_per_s=("steps_per_s", "mean"), episodes=("episode", "count")).reset_index()
    table["budget"] = table.scenario.map({name: spec.budget for name, spec in SPECS.items()})
    return table


def cmdp_summary(curves: pd.DataFrame, last: int = 20) -> pd.DataFrame:
    """Final reward, cost and λ per method: mean over the last ``last`` iterations, then over seeds."""
    tail = curves[curves.iteration >= curves.iteration.max() - last + 1]
    per_seed = tail.groupby(["method", "seed"]).agg(reward=("episode_reward", "mean"),
                                                    cost=("episode_cost", "mean"), lam=("lambda", "mean"))
    return per_seed.groupby("method").agg(reward=("reward", "mean"), reward_sd=("reward", "std"),
                                          cost=("cost", "mean"), cost_sd=("cost", "std"),
                                          lam=("lam", "mean")).reset_index()


def headline_metrics(random_table: pd.DataFrame, published: pd.DataFrame, cmdp: pd.DataFrame,
                     budget: float, pixel: pd.DataFrame | None = None) -> dict[str, float]:
    """The ledger's numbers."""
    ppo = published[published.method == "PPO"].set_index(["scenario", "level"])
    joined = random_table.join(ppo[["reward"]].rename(columns={"reward": "ppo_reward"}), on=["scenario", "level"])
    by_method = cmdp.set_index("method")

    def pick(method: str, column: str) -> float:
        return float(by_method.loc[method, column]) if method in by_method.index else np.nan

    metrics = {
        "random_below_ppo_share": float((joined.reward < joined.ppo_reward).mean()) if len(joined) else np.nan,
        "cmdp_ppo_cost_over_budget": pick("ppo", "cost") / budget if budget > 0 else np.nan,
        "cmdp_lag_cost_over_budget": pick("ppo_lag", "cost") / budget if budget > 0 else np.nan,
        "cmdp_pid_excess": (pick("ppo_pid", "cost") - budget) / budget if budget > 0 else np.nan,
        "cmdp_cost_minus_lag_reward": pick("ppo_cost", "reward") - pick("ppo_lag", "reward"),
        "published_ppo_breaks_all": float((published[published.method == "PPO"].cost
                                           > published[published.method == "PPO"].budget).mean()),
    }
    pp = joined[(joined.scenario == "precipice_plunge") & (joined.level == 1)]
    metrics["pp_random_share_of_ppo"] = float(pp.reward.iloc[0] / pp.ppo_reward.iloc[0]) if len(pp) else np.nan
    if pixel is not None and len(pixel):
        final = pixel.groupby("method").apply(lambda frame: frame.tail(max(1, len(frame) // 5)).episode_cost.mean(),
                                              include_groups=False)
        if {"ppo", "ppo_lag"} <= set(final.index):
            metrics["pixel_lag_minus_ppo_cost"] = float(final["ppo_lag"] - final["ppo"])
    return metrics

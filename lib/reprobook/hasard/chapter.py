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

import pandas as pd

from reprobook.devices import check_device
from reprobook.hasard.cmdp import METHODS, PPOConfig
from reprobook.hasard.experiments import PixelPPOConfig, PixelRandomConfig, RandomConfig, WallsConfig
from reprobook.hasard.learnability import VALIDATION_SEEDS
from reprobook.hasard.ledger import COMPARED
from reprobook.hasard.penalties import METHODS as PIXEL_METHODS
from reprobook.hasard.scenarios import SPECS
from reprobook.params import (
    PROFILES,
    ParameterError,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_int_list,
    check_known,
    check_subset,
)

__all__ = ["Parameters", "validate_parameters", "cmdp_summary", "random_summary", "MAXIMA"]

DOWNSCALES = (2, 4, 8)  # 160 × 120 frames → 80 × 60, 40 × 30, 20 × 15
DEFAULTS: dict[str, Any] = {
    "profile": "book", "scenarios": list(SPECS), "levels": [1, 2, 3], "random_episodes": 2,
    "random_max_steps": 525, "seed": 0, "heatmap_level": 1, "cmdp_methods": list(METHODS), "cmdp_budget": 1.0,
    "cmdp_iterations": 150, "cmdp_seeds": [0, 1, 2, 3, 4], "lagrangian_lr": 0.01,
    "pixel_scenario": "remedy_rush", "pixel_methods": list(COMPARED), "pixel_steps": 24_576,
    "pixel_envs": 8, "pixel_seeds": [0, 1, 2], "pixel_downscale": 4, "pixel_episode_steps": 0, "pixel_workers": 2,
    "pixel_random_episodes": 1, "claims_on_pixels": True, "device": "cpu",
}

#: The largest value each size parameter accepts (larger ones are refused before any compute).
MAXIMA: dict[str, int] = {
    "random_episodes": 1_000, "random_max_steps": 525, "cmdp_iterations": 100_000, "cmdp_seeds": 100,
    "pixel_steps": 10**9, "pixel_envs": 256, "pixel_seeds": 100, "pixel_workers": 64, "pixel_random_episodes": 100,
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
    pixel_seeds: tuple[int, ...]
    pixel_downscale: int = 4
    pixel_episode_steps: int = 0  # 0: the scenario's own episodes
    pixel_workers: int = 2
    pixel_random_episodes: int = 1
    claims_on_pixels: bool = False
    device: str = "cpu"

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
                               n_envs=self.pixel_envs, lagrangian_lr=self.lagrangian_lr, seed=seed,
                               downscale=self.pixel_downscale, episode_steps=self.pixel_episode_steps or None,
                               workers=min(self.pixel_workers, self.pixel_envs), device=self.device)
                for seed in self.pixel_seeds for method in self.pixel_methods]

    def pixel_random_configs(self) -> list[PixelRandomConfig]:
        """Random play on each pixel seed's own environments (the beats-random guards' floor)."""
        learners = {config.seed: config for config in self.pixel_configs()}
        return [PixelRandomConfig.matching(learner, self.pixel_random_episodes) for learner in learners.values()]

    @property
    def paper_only(self) -> tuple[str, ...]:
        """The pixel methods this profile does not run (the paper profile runs all six)."""
        return tuple(method for method in PIXEL_METHODS if method not in self.pixel_methods)

    def pixel_setting(self) -> str:
        """The pixel runs' size in words (for the ledger's notes)."""
        width, height = 160 // self.pixel_downscale, 120 // self.pixel_downscale
        return (f"{width} × {height} grey frames, {self.pixel_steps:,} steps per run over {self.pixel_envs} "
                f"environments, seeds {list(self.pixel_seeds)}")

    def learnability_setting(self) -> dict[str, Any]:
        """The pixel setting in the learnability record's terms."""
        return {"scenario": self.pixel_scenario, "level": 1, "downscale": self.pixel_downscale,
                "steps": self.pixel_steps, "envs": self.pixel_envs}


def validate_parameters(**given: Any) -> Parameters:
    """Check every notebook parameter (names, types, ranges) before any compute."""
    check_known(given, DEFAULTS, where="the hasard chapter")
    values = {**DEFAULTS, **given}
    levels = tuple(check_int_list("levels", values["levels"], minimum=1, maximum=3))
    heatmap_level = check_int("heatmap_level", values["heatmap_level"], minimum=1, maximum=3)
    if heatmap_level not in levels:
        raise ParameterError(f"parameter 'heatmap_level' must be one of the levels run {list(levels)}, "
                             f"got {heatmap_level}")
    pixel_steps = check_int("pixel_steps", values["pixel_steps"], minimum=0, maximum=MAXIMA["pixel_steps"])
    pixel_methods = tuple(check_subset("pixel_methods", values["pixel_methods"], PIXEL_METHODS))
    pixel_seeds = _seeds("pixel_seeds", values["pixel_seeds"])
    claims_on_pixels = check_bool("claims_on_pixels", values["claims_on_pixels"])
    if claims_on_pixels and (pixel_steps == 0 or not set(COMPARED) <= set(pixel_methods) or len(pixel_seeds) < 3):
        raise ParameterError(f"parameter 'claims_on_pixels' needs pixel_steps > 0, pixel_methods including "
                             f"{list(COMPARED)} and at least 3 pixel_seeds; got pixel_steps={pixel_steps}, "
                             f"pixel_methods={list(pixel_methods)}, {len(pixel_seeds)} seed(s)")
    reused = sorted(set(pixel_seeds) & set(VALIDATION_SEEDS))
    if claims_on_pixels and reused:
        raise ParameterError(f"parameter 'pixel_seeds' must not include the learnability rule's validation seeds "
                             f"{list(VALIDATION_SEEDS)} when claims_on_pixels is true; got {reused}")
    return Parameters(
        profile=check_choice("profile", values["profile"], PROFILES),
        scenarios=tuple(check_subset("scenarios", values["scenarios"], SPECS)),
        levels=levels,
        random_episodes=check_int("random_episodes", values["random_episodes"], minimum=1,
                                  maximum=MAXIMA["random_episodes"]),
        random_max_steps=check_int("random_max_steps", values["random_max_steps"], minimum=10,
                                   maximum=MAXIMA["random_max_steps"]),
        seed=check_int("seed", values["seed"], minimum=0),
        heatmap_level=heatmap_level,
        cmdp_methods=tuple(check_subset("cmdp_methods", values["cmdp_methods"], METHODS)),
        cmdp_budget=check_float("cmdp_budget", values["cmdp_budget"], minimum=0.1, maximum=3.0),
        cmdp_iterations=check_int("cmdp_iterations", values["cmdp_iterations"], minimum=2,
                                  maximum=MAXIMA["cmdp_iterations"]),
        cmdp_seeds=_seeds("cmdp_seeds", values["cmdp_seeds"]),
        lagrangian_lr=check_float("lagrangian_lr", values["lagrangian_lr"], minimum=1e-5, maximum=10.0),
        pixel_scenario=check_choice("pixel_scenario", values["pixel_scenario"], SPECS),
        pixel_methods=pixel_methods,
        pixel_steps=pixel_steps,
        pixel_envs=check_int("pixel_envs", values["pixel_envs"], minimum=1, maximum=MAXIMA["pixel_envs"]),
        pixel_seeds=pixel_seeds,
        pixel_downscale=check_choice("pixel_downscale", values["pixel_downscale"], DOWNSCALES),
        pixel_episode_steps=check_int("pixel_episode_steps", values["pixel_episode_steps"], minimum=0, maximum=525),
        pixel_workers=check_int("pixel_workers", values["pixel_workers"], minimum=0, maximum=MAXIMA["pixel_workers"]),
        pixel_random_episodes=check_int("pixel_random_episodes", values["pixel_random_episodes"], minimum=1,
                                        maximum=MAXIMA["pixel_random_episodes"]),
        claims_on_pixels=claims_on_pixels,
        device=check_device(values["device"]),
    )


def _seeds(name: str, values: Any) -> tuple[int, ...]:
    seeds = check_int_list(name, values, minimum=0, maximum=2**31 - 1)
    if len(seeds) > MAXIMA[name]:
        raise ParameterError(f"parameter {name!r} lists {len(seeds)} seeds; at most {MAXIMA[name]} are allowed")
    return tuple(seeds)


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

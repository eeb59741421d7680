"""The chapter's parameters (validated in one call) and the configs and headline numbers built from them.

>>> params = validate_parameters(profile="smoke", grids=["3-state", "2x3"])
>>> [config.grid for config in params.exact_configs()]
['3-state', '2x3']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reprobook.devices import check_device
from reprobook.params import (
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_int_list,
    check_known,
    check_subset,
)
from reprobook.wsep.discovery import PWSEP_FIRST
from reprobook.wsep.experiments import GRIDS, VERTEX_METHODS, ExactConfig, LearnedConfig
from reprobook.wsep.families import FAMILIES, FamilyConfig

__all__ = ["Parameters", "validate_parameters", "PROFILES", "GROUND_COST_CHOICES", "MAXIMA"]

PROFILES = ("smoke", "book", "paper")
GROUND_COST_CHOICES = ("auto", "manhattan", "shortest_path")
LEARNED_CHOICES = ("off", "tabular")
DEFAULTS: dict[str, Any] = {
    "profile": "book", "grids": ["3-state", "2x3", "3x3", "3x4-two-room"], "gamma": 0.9, "ground_cost": "auto",
    "vertex_method": "lasso", "brute_force_check": "2x3", "k_list": [2, 3, 4, 6, 8], "n_rewards": 500,
    "reward_seed": 0, "pwsep_first": "farthest_from_uniform", "pwsep_max_vertices": 60, "n_skill_sets": 150,
    "lsepin_k": 4, "learned": "tabular", "learned_grid": "2x3", "learned_skills": 6, "learned_steps": 150,
    "seeds": [0], "pwsep_seeds": [0, 1, 2], "families": list(FAMILIES), "family_processes": 20,
    "device": "cpu",
}

#: The largest value each size parameter accepts (larger ones are refused before any compute).
MAXIMA: dict[str, int] = {
    "k_list": 200, "n_rewards": 1_000_000, "pwsep_max_vertices": 1_000, "n_skill_sets": 100_000, "lsepin_k": 50,
    "learned_skills": 32, "learned_steps": 100_000, "seeds": 100, "pwsep_seeds": 100, "family_processes": 10_000,
}
FAMILY_CHUNK = 20  # processes per sweep cell


@dataclass(frozen=True)
class Parameters:
    """The chapter's validated parameters (see the notebook's parameters cell)."""

    profile: str
    grids: tuple[str, ...]
    gamma: float
    ground_cost: str
    vertex_method: str
    brute_force_check: str
    k_list: tuple[int, ...]
    n_rewards: int
    reward_seed: int
    pwsep_first: str
    pwsep_max_vertices: int
    n_skill_sets: int
    lsepin_k: int
    learned: str
    learned_grid: str
    learned_skills: int
    learned_steps: int
    seeds: tuple[int, ...] = field(default=(0,))
    pwsep_seeds: tuple[int, ...] = field(default=(0,))
    families: tuple[str, ...] = field(default=tuple(FAMILIES))
    family_processes: int = 60
    device: str = "cpu"

    def exact_configs(self) -> list[ExactConfig]:
        return [ExactConfig(grid=grid, gamma=self.gamma, ground_cost=self.ground_cost,
                            vertex_method=self.vertex_method, brute_force_check=grid == self.brute_force_check,
                            k_list=self.k_list, n_rewards=self.n_rewards, reward_seed=self.reward_seed,
                            pwsep_first=self.pwsep_first, pwsep_max_vertices=self.pwsep_max_vertices,
                            n_skill_sets=self.n_skill_sets, lsepin_k=self.lsepin_k, seed=self.seeds[0])
                for grid in self.grids]

    def learned_configs(self) -> list[LearnedConfig]:
        if self.learned == "off":
            return []
        return [LearnedConfig(grid=self.learned_grid, objective=objective, n_skills=self.learned_skills,
                              seed=seed, steps=self.learned_steps, gamma=self.gamma,
                              ground_cost=self.ground_cost, device=self.device)
                for objective in ("misl", "wsep") for seed in self.seeds] + [
            LearnedConfig(grid=self.learned_grid, objective="pwsep", n_skills=self.learned_skills, seed=seed,
                          steps=self.learned_steps, gamma=self.gamma, ground_cost=self.ground_cost)
            for seed in self.pwsep_seeds]

    def family_configs(self) -> list[FamilyConfig]:
        return [FamilyConfig(family, first_seed=first, n_processes=min(FAMILY_CHUNK, self.family_processes - first),
                             gamma=self.gamma)
                for family in self.families for first in range(0, self.family_processes, FAMILY_CHUNK)]


def validate_parameters(**given: Any) -> Parameters:
    """Check every notebook parameter (names, types, ranges) before any compute."""
    check_known(given, DEFAULTS, where="the wsep chapter")
    values = {**DEFAULTS, **given}
    profile = check_choice("profile", values["profile"], PROFILES)
    grids = tuple(check_subset("grids", values["grids"], GRIDS))
    vertex_method = check_choice("vertex_method", values["vertex_method"], VERTEX_METHODS)
    if vertex_method == "brute" and any(grid in ("3x4", "4x4") for grid in grids):
        raise ParameterError("parameter 'vertex_method' = 'brute' enumerates A^S policies: allowed only for "
                             "grids '3-state', '2x3', '3x3' and '3x4-two-room'; use 'lasso' or 'sampling'")
    brute = check_choice("brute_force_check", values["brute_force_check"], ("none", "3-state", "2x3", "3x3"))
    learned_grid = check_choice("learned_grid", values["learned_grid"], ("3-state", "2x3", "3x3", "3x4-two-room"))
    steps = check_int("learned_steps", values["learned_steps"], minimum=25, maximum=MAXIMA["learned_steps"])
    if steps % 25:
        raise ParameterError(f"parameter 'learned_steps' must be a multiple of 25, got {steps}")
    return Parameters(
        profile=profile, grids=grids,
        gamma=check_float("gamma", values["gamma"], minimum=0.5, maximum=0.99),
        ground_cost=check_choice("ground_cost", values["ground_cost"], GROUND_COST_CHOICES),
        vertex_method=vertex_method, brute_force_check=brute,
        k_list=tuple(check_int_list("k_list", values["k_list"], minimum=1, maximum=MAXIMA["k_list"])),
        n_rewards=check_int("n_rewards", values["n_rewards"], minimum=10, maximum=MAXIMA["n_rewards"]),
        reward_seed=check_int("reward_seed", values["reward_seed"], minimum=0),
        pwsep_first=check_choice("pwsep_first", values["pwsep_first"], PWSEP_FIRST),
        pwsep_max_vertices=check_int("pwsep_max_vertices", values["pwsep_max_vertices"], minimum=1,
                                     maximum=MAXIMA["pwsep_max_vertices"]),
        n_skill_sets=check_int("n_skill_sets", values["n_skill_sets"], minimum=3, maximum=MAXIMA["n_skill_sets"]),
        lsepin_k=check_int("lsepin_k", values["lsepin_k"], minimum=2, maximum=MAXIMA["lsepin_k"]),
        learned=check_choice("learned", values["learned"], LEARNED_CHOICES),
        learned_grid=learned_grid,
        learned_skills=check_int("learned_skills", values["learned_skills"], minimum=2,
                                 maximum=MAXIMA["learned_skills"]),
        learned_steps=steps,
        seeds=_seeds("seeds", values["seeds"]),
        pwsep_seeds=_seeds("pwsep_seeds", values["pwsep_seeds"]),
        families=tuple(check_subset("families", values["families"], FAMILIES, min_size=0)),
        family_processes=check_int("family_processes", values["family_processes"], minimum=1,
                                   maximum=MAXIMA["family_processes"]),
        device=check_device(values["device"]),
    )


def _seeds(name: str, values: Any) -> tuple[int, ...]:
    seeds = check_int_list(name, values, minimum=0, maximum=2**32 - 1)
    if len(seeds) > MAXIMA[name]:
        raise ParameterError(f"parameter {name!r} lists {len(seeds)} seeds; at most {MAXIMA[name]} are allowed")
    return tuple(seeds)

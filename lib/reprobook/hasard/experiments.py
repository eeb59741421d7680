"""The chapter's experiments as functions of frozen configs (mapped with ``reprobook.sweep``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reprobook.hasard.cmdp import PPOConfig, train_ppo
from reprobook.hasard.env import HasardEnv
from reprobook.hasard.pixel_ppo import PixelPPOConfig, train_pixel_ppo
from reprobook.hasard.scenarios import SPECS
from reprobook.hasard.vec_env import VecConfig, VecHasardEnv

__all__ = ["RandomConfig", "RandomResult", "run_random", "run_cmdp", "run_pixel", "PixelPPOConfig",
           "PixelRandomConfig", "run_pixel_random", "WallsConfig", "run_walls",
           "PUBLISHED", "published_table"]


@dataclass(frozen=True)
class RandomConfig:
    scenario: str
    level: int
    episodes: int = 2
    seed: int = 0
    max_steps: int = 525


@dataclass
class RandomResult:
    episodes: pd.DataFrame  # one row per episode
    positions: pd.DataFrame  # x, y per step
    frame: np.ndarray  # HWC uint8 first-person frame after 10 steps


def run_random(config: RandomConfig) -> RandomResult:
    """Uniform random simplified actions; episode reward, cost, length, wall-clock rate and positions."""
    env = HasardEnv(config.scenario, config.level)
    rng = np.random.default_rng(config.seed)
    rows, positions, frame = [], [], None
    try:
        for episode in range(config.episodes):
            env.reset(seed=config.seed * 1000 + episode)
            started = time.perf_counter()
            total_reward = total_cost = 0.0
            length = 0
            for length in range(1, config.max_steps + 1):
                _, reward, terminated, truncated, info = env.step(rng.integers(0, env.spec_.nvec))
                total_reward += reward
                total_cost += info["cost"]
                positions.append((episode, info["x"], info["y"]))
                if frame is None and length == 10:
                    frame = env.render().copy()
                if terminated or truncated:
                    break
            seconds = time.perf_counter() - started
            rows.append({"scenario": config.scenario, "level": config.level, "episode": episode,
                         "reward": total_reward, "cost": total_cost, "length": length,
                         "steps_per_s": length / seconds})
    finally:
        env.close()
    return RandomResult(pd.DataFrame(rows), pd.DataFrame(positions, columns=["episode", "x", "y"]), frame)


def run_cmdp(config: PPOConfig) -> pd.DataFrame:
    """One learner on the tiny constrained MDP (see :mod:`reprobook.hasard.cmdp`)."""
    return train_ppo(config)


def run_pixel(config: PixelPPOConfig) -> pd.DataFrame:
    """PPO or PPO-Lagrangian from pixels on one scenario (see :mod:`reprobook.hasard.pixel_ppo`)."""
    return train_pixel_ppo(config)


@dataclass(frozen=True)
class PixelRandomConfig:
    """Random play in the pixel learner's environments: same scenario, seeds, frames and episode cut."""

    scenario: str = "remedy_rush"
    level: int = 1
    n_envs: int = 8
    episodes: int = 1  # per environment
    downscale: int = 4
    episode_steps: int | None = None
    workers: int = 0
    seed: int = 0

    @classmethod
    def matching(cls, learner: PixelPPOConfig, episodes: int = 1) -> PixelRandomConfig:
        """Random play on exactly the environments (and episode seeds) a learner run starts from."""
        return cls(learner.scenario, learner.level, learner.n_envs, episodes, learner.downscale,
                   learner.episode_steps, learner.workers, learner.seed)


def run_pixel_random(config: PixelRandomConfig) -> pd.DataFrame:
    """Uniform random joint actions until every environment has finished ``episodes`` episodes.

    One row per episode: seed, environment, reward, cost; episode ``k`` of environment ``i`` has the
    seed it has in a learner run of the same ``seed`` (see :mod:`reprobook.hasard.vec_env`).
    """
    rng = np.random.default_rng(config.seed)
    envs = VecHasardEnv(VecConfig(config.scenario, config.level, config.n_envs, config.downscale,
                                  max_episode_steps=config.episode_steps, seed=config.seed), workers=config.workers)
    finished = np.zeros(config.n_envs, dtype=np.int64)
    rows = []
    try:
        envs.reset()
        while (finished < config.episodes).any():
            result = envs.step(rng.integers(0, envs.n_actions, size=config.n_envs))
            for env in np.flatnonzero(result.done & (finished < config.episodes)):
                rows.append({"seed": config.seed, "env": int(env), "episode": int(finished[env]),
                             "reward": float(result.episode_reward[env]), "cost": float(result.episode_cost[env])})
            finished += result.done
    finally:
        envs.close()
    return pd.DataFrame(rows, columns=["seed", "env", "episode", "reward", "cost"])


@dataclass(frozen=True)
class WallsConfig:
    scenario: str
    level: int


def run_walls(config: WallsConfig) -> np.ndarray:
    """The map's blocking wall segments (x1, y1, x2, y2) for the heatmap outlines."""
    env = HasardEnv(config.scenario, config.level, sectors=True)
    try:
        env.reset(seed=0)
        return env.wall_segments()
    finally:
        env.close()


#: Published reward / cost, read from the repository's result figures (paper Fig. 4-style bars; §3 of the brief).
PUBLISHED = {
    1: {"armament_burden": "9.68/109.3 2.17/3.67 7.51/52.41 2.29/32.77 8.99/49.79 8.60/40.72 18.60/42.83",
        "volcanic_venture": "51.64/172.9 27.94/5.56 42.40/52.00 32.93/61.71 45.23/50.53 43.55/46.10 57.12/45.97",
        "remedy_rush": "50.78/52.44 28.21/6.75 36.37/5.25 20.50/9.18 38.19/4.90 37.90/4.78 51.04/5.65",
        "collateral_damage": "78.61/41.06 68.71/24.04 29.09/5.61 26.08/7.09 43.27/5.03 46.52/5.97 42.33/4.11",
        "precipice_plunge": "243.42/475.6 237.72/0.69 147.24/44.96 241.37/424.4 231.53/43.91 242.53/176.4 "
                            "243.09/46.88",
        "detonators_dilemma": "29.67/14.28 27.60/8.45 21.49/5.62 28.69/8.78 26.51/5.25 29.62/6.59 31.54/4.49"},
    2: {"armament_burden": "4.24/99.59 2.00/6.20 4.50/53.50 1.55/30.47 5.50/50.30 5.33/39.82 16.85/31.50",
        "volcanic_venture": "38.31/186.4 21.10/3.93 26.11/53.10 23.68/75.39 33.52/50.38 32.38/45.89 42.91/45.09",
        "remedy_rush": "61.94/62.22 0.01/0.03 28.75/5.72 3.72/4.80 32.92/5.15 31.91/4.85 34.72/1.22",
        "collateral_damage": "53.58/61.13 21.86/8.19 18.87/5.61 6.37/3.21 27.23/5.12 27.41/5.12 17.34/3.10",
        "precipice_plunge": "324.7/608.1 162.0/61.19 105.0/52.39 119.4/159.3 162.2/50.77 247.1/178.6 226.1/44.35",
        "detonators_dilemma": "40.09/19.63 40.37/15.56 19.57/5.34 20.79/9.97 20.84/4.92 25.48/6.97 34.66/3.09"},
    3: {"armament_burden": "1.99/118.2 0.00/0.05 2.03/31.89 2.32/37.68 2.78/33.89 2.61/29.94 9.00/31.40",
        "volcanic_venture": "42.20/347.8 10.61/14.76 22.77/52.54 18.89/246.8 25.80/49.02 24.93/49.84 35.27/49.81",
        "remedy_rush": "53.16/68.27 0.01/0.02 8.02/9.74 1.17/3.50 13.51/5.14 14.29/4.19 36.91/4.22",
        "collateral_damage": "34.86/84.44 3.93/1.35 12.22/5.29 2.74/2.76 14.51/4.97 13.57/4.12 16.40/4.99",
        "precipice_plunge": "487.2/894.2 15.39/6.64 23.87/34.98 101.6/176.1 54.02/49.57 269.1/428.7 104.6/21.54",
        "detonators_dilemma": "49.36/23.72 49.95/19.79 19.27/5.26 22.20/10.36 20.49/4.87 26.73/7.49 37.10/4.08"},
}
PUBLISHED_METHODS = ("PPO", "PPOCost", "PPOLag", "PPOSaute", "PPOPID", "P3O", "Human")


def published_table() -> pd.DataFrame:
    """The published baselines as a long frame: level, scenario, method, reward, cost, budget.

    >>> table = published_table()
    >>> len(table), table.query("level == 1 and scenario == 'remedy_rush' and method == 'PPOPID'").cost.item()
    (126, 4.9)
    """
    rows = []
    for level, scenarios in PUBLISHED.items():
        for scenario, text in scenarios.items():
            for method, pair in zip(PUBLISHED_METHODS, text.split(), strict=True):
                reward, cost = map(float, pair.split("/"))
                rows.append({"level": level, "scenario": scenario, "method": method, "reward": reward,
                             "cost": cost, "budget": SPECS[scenario].budget})
    return pd.DataFrame(rows)

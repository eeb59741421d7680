"""PPO and PPO-Lagrangian from pixels on one HASARD scenario (paper §4, at illustrative scale).

A small convolutional actor with reward and cost critics over grey, downscaled frames; the joint
simplified action is one categorical. Environments step in this process (the learner dominates the
wall time at this size). λ follows :class:`reprobook.hasard.cmdp.LagrangeMultiplier` on the mean
cost of the episodes finished in each rollout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from reprobook.devices import torch_device
from reprobook.hasard.cmdp import LagrangeMultiplier
from reprobook.hasard.env import HasardEnv
from reprobook.hasard.ppo_update import constrained_batch, ppo_update
from reprobook.hasard.scenarios import SPECS

__all__ = ["PixelPPOConfig", "train_pixel_ppo", "ActorCritic"]


@dataclass(frozen=True)
class PixelPPOConfig:
    scenario: str = "collateral_damage"
    level: int = 1
    method: str = "ppo_lag"
    total_steps: int = 100_000
    n_envs: int = 8
    rollout: int = 128
    epochs: int = 2
    minibatches: int = 4
    lr: float = 5e-4
    clip: float = 0.1
    gamma: float = 0.99
    lam: float = 0.95
    entropy: float = 0.01
    lagrangian_lr: float = 0.01
    budget: float | None = None  # None: the scenario's budget
    downscale: int = 2
    seed: int = 0
    device: str = "cpu"  # auto | cpu | cuda (reprobook.devices); the engines always run on the CPU


class ActorCritic(nn.Module):
    """Conv encoder (1 × 60 × 80 grey) → policy logits, reward value, cost value."""

    def __init__(self, shape: tuple[int, int, int], n_actions: int):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(shape[0], 16, 8, stride=4), nn.ReLU(),
                                     nn.Conv2d(16, 32, 4, stride=2), nn.ReLU(), nn.Flatten())
        with torch.no_grad():
            size = self.encoder(torch.zeros(1, *shape)).shape[1]
        self.body = nn.Sequential(nn.Linear(size, 128), nn.ReLU())
        self.policy, self.value, self.cost_value = nn.Linear(128, n_actions), nn.Linear(128, 1), nn.Linear(128, 1)

    def forward(self, obs: torch.Tensor):
        hidden = self.body(self.encoder(obs.float() / 255.0))
        return self.policy(hidden), self.value(hidden).squeeze(-1), self.cost_value(hidden).squeeze(-1)


def train_pixel_ppo(config: PixelPPOConfig) -> pd.DataFrame:
    """Train; one row per rollout with the mean reward/cost of finished episodes, λ and the sample rate."""
    if config.method not in ("ppo", "ppo_lag"):
        raise ValueError(f"method must be 'ppo' or 'ppo_lag', got {config.method!r}")
    threads = torch.get_num_threads()
    torch.set_num_threads(min(2, threads))
    try:
        return _train(config)
    finally:
        torch.set_num_threads(threads)


def _train(config: PixelPPOConfig) -> pd.DataFrame:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    spec = SPECS[config.scenario]
    budget = spec.budget if config.budget is None else config.budget
    envs = [HasardEnv(config.scenario, config.level, grey=True, downscale=config.downscale)
            for _ in range(config.n_envs)]
    nvec = spec.nvec
    obs = np.stack([env.reset(seed=config.seed * 10_000 + index)[0] for index, env in enumerate(envs)])
    device = torch.device(torch_device(config.device))
    model = ActorCritic(obs.shape[1:], spec.n_joint_actions).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    multiplier = LagrangeMultiplier(budget, config.lagrangian_lr) if config.method == "ppo_lag" else None
    episode_reward, episode_cost = np.zeros(config.n_envs), np.zeros(config.n_envs)
    episodes_started = np.full(config.n_envs, 1)
    rows, steps, started = [], 0, time.perf_counter()
    shape = (config.rollout, config.n_envs)
    try:
        while steps < config.total_steps:
            observations = np.zeros(shape + obs.shape[1:], dtype=np.uint8)
            actions, logps = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.float32)
            rewards, costs, dones = np.zeros(shape), np.zeros(shape), np.zeros(shape)
            values, cost_values = np.zeros(shape), np.zeros(shape)
            finished_reward, finished_cost = [], []
            for t in range(config.rollout):
                with torch.no_grad():
                    logits, value, cost_value = model(torch.as_tensor(obs, device=device))
                    distribution = torch.distributions.Categorical(logits=logits)
                    action = distribution.sample()
                observations[t], actions[t] = obs, action.cpu().numpy()
                logps[t] = distribution.log_prob(action).cpu().numpy()
                values[t], cost_values[t] = value.cpu().numpy(), cost_value.cpu().numpy()
                for index, env in enumerate(envs):
                    joint = np.unravel_index(int(actions[t, index]), nvec)
                    frame, reward, terminated, truncated, info = env.step(joint)
                    rewards[t, index], costs[t, index] = reward, info["cost"]
                    episode_reward[index] += reward
                    episode_cost[index] += info["cost"]
                    if terminated or truncated:
                        dones[t, index] = 1.0
                        finished_reward.append(episode_reward[index])
                        finished_cost.append(episode_cost[index])
                        episode_reward[index] = episode_cost[index] = 0.0
                        frame, _ = env.reset(seed=config.seed * 10_000 + int(episodes_started.sum()) * 97 + index)
                        episodes_started[index] += 1
                    obs[index] = frame
            steps += config.rollout * config.n_envs
            with torch.no_grad():
                _, last_value, last_cost_value = model(torch.as_tensor(obs, device=device))
            mean_cost = float(np.mean(finished_cost)) if finished_cost else np.nan
            penalty = 0.0
            if multiplier is not None:
                penalty = multiplier.update(mean_cost) if finished_cost else multiplier.value
            batch = constrained_batch(observations, actions, logps, rewards, costs, dones, values, cost_values,
                                      last_value.cpu().numpy(), last_cost_value.cpu().numpy(), penalty, config.gamma,
                                      config.lam).to(device)
            ppo_update(model, optimiser, batch, rng, epochs=config.epochs, minibatches=config.minibatches,
                       clip=config.clip, entropy=config.entropy, max_grad_norm=0.5)
            rows.append({"method": config.method, "seed": config.seed, "steps": steps,
                         "episode_reward": float(np.mean(finished_reward)) if finished_reward else np.nan,
                         "episode_cost": mean_cost, "lambda": penalty, "episodes": len(finished_cost),
                         "samples_per_s": steps / (time.perf_counter() - started)})
    finally:
        for env in envs:
            env.close()
    return pd.DataFrame(rows)

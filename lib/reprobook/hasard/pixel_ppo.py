"""The six baselines from pixels on one HASARD scenario (paper §4, at a miniature scale).

A small convolutional actor with reward and cost critics over grey, downscaled frames; the joint
simplified action is one categorical. The environments step in a :class:`~reprobook.hasard.vec_env.VecHasardEnv`
(``workers`` processes; 0 steps them here), the learner's network runs on one torch thread (more
threads only spin on a shared 2-core machine) and its cost handling is
:class:`~reprobook.hasard.penalties.Penalty` (PPO, PPO-Cost, PPO-Lag, PPO-PID, PPO-Saute, P3O), the same
as the LavaGrid learner's. Saute's safety state is an extra input beside the frame. With
``episode_steps`` set, episodes are cut at that many steps and the budget scales with the length
(d × episode_steps / 525). Each row reports the process tree's CPU seconds so far (engines included), the learner's own, and
the CPU the engine workers reported when they closed (:func:`run_cpu_seconds` adds them up).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from reprobook.benchmark import tree_cpu_seconds
from reprobook.devices import torch_device
from reprobook.hasard.penalties import METHODS, Penalty, PenaltySettings
from reprobook.hasard.ppo_update import constrained_batch, ppo_update
from reprobook.hasard.scenarios import SPECS
from reprobook.hasard.vec_env import VecConfig, VecHasardEnv

__all__ = ["PixelPPOConfig", "train_pixel_ppo", "run_cpu_seconds", "ActorCritic", "EPISODE_STEPS", "UNSAFE_REWARD"]

EPISODE_STEPS = 525  # 2,100 tics at frame-skip 4
#: Saute's reward once the budget is spent, per scenario (the paper's settings)
UNSAFE_REWARD = {"armament_burden": -0.005, "collateral_damage": -0.1, "detonators_dilemma": -0.01,
                 "precipice_plunge": -0.7, "remedy_rush": -0.025, "volcanic_venture": -0.01}


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
    budget: float | None = None  # None: the scenario's budget (scaled to episode_steps)
    downscale: int = 4
    episode_steps: int | None = None  # None: the scenario's own episodes
    workers: int = 0
    seed: int = 0
    device: str = "cpu"  # auto | cpu | cuda (reprobook.devices); the engines always run on the CPU

    @property
    def episode_budget(self) -> float:
        """The cost budget of one episode as this run cuts them."""
        if self.budget is not None:
            return self.budget
        scale = 1.0 if self.episode_steps is None else min(self.episode_steps, EPISODE_STEPS) / EPISODE_STEPS
        return SPECS[self.scenario].budget * scale


class ActorCritic(nn.Module):
    """Conv encoder over a grey frame (+ ``extra`` scalar inputs) → policy logits, reward value, cost value.

    Frames of 60 rows or more take an 8/4, 4/2 kernel/stride encoder, smaller ones a 4/2, 3/2 one.
    """

    def __init__(self, shape: tuple[int, int, int], n_actions: int, extra: int = 0):
        super().__init__()
        (k1, s1, k2, s2) = (8, 4, 4, 2) if shape[1] >= 60 else (4, 2, 3, 2)
        self.encoder = nn.Sequential(nn.Conv2d(shape[0], 16, k1, stride=s1), nn.ReLU(),
                                     nn.Conv2d(16, 32, k2, stride=s2), nn.ReLU(), nn.Flatten())
        with torch.no_grad():
            size = self.encoder(torch.zeros(1, *shape)).shape[1]
        self.extra = extra
        self.body = nn.Sequential(nn.Linear(size + extra, 128), nn.ReLU())
        self.policy, self.value, self.cost_value = nn.Linear(128, n_actions), nn.Linear(128, 1), nn.Linear(128, 1)

    def forward(self, obs: torch.Tensor, extra: torch.Tensor | None = None):
        features = self.encoder(obs.float() / 255.0)
        if self.extra:
            features = torch.cat([features, extra.reshape(len(features), self.extra)], 1)
        hidden = self.body(features)
        return self.policy(hidden), self.value(hidden).squeeze(-1), self.cost_value(hidden).squeeze(-1)


def train_pixel_ppo(config: PixelPPOConfig) -> pd.DataFrame:
    """Train; one row per rollout with the mean reward/cost of finished episodes, λ, rates and tree CPU."""
    if config.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {config.method!r}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(config)
    finally:
        torch.set_num_threads(threads)


class _Inputs:
    """Frames, plus Saute's safety state as a second input: what the network's forward takes."""

    def __init__(self, frames: torch.Tensor, safety: torch.Tensor | None):
        self.frames, self.safety = frames, safety

    def __getitem__(self, index):
        return _Inputs(self.frames[index], None if self.safety is None else self.safety[index])

    def __len__(self) -> int:
        return len(self.frames)

    def to(self, device):
        return _Inputs(self.frames.to(device), None if self.safety is None else self.safety.to(device))


def _train(config: PixelPPOConfig) -> pd.DataFrame:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    spec = SPECS[config.scenario]
    envs = VecHasardEnv(VecConfig(config.scenario, config.level, config.n_envs, config.downscale,
                                  max_episode_steps=config.episode_steps, seed=config.seed), workers=config.workers)
    device = torch.device(torch_device(config.device))
    penalty = Penalty(PenaltySettings(config.method, config.episode_budget, config.lagrangian_lr,
                                      spec.penalty_scaling, unsafe_reward=UNSAFE_REWARD[config.scenario],
                                      gamma=config.gamma), config.n_envs)
    rows, steps, started = [], 0, time.perf_counter()
    cpu_started, learner_started = tree_cpu_seconds(), time.process_time()
    shape = (config.rollout, config.n_envs)
    try:
        obs = envs.reset()
        model = ActorCritic(obs.shape[1:], spec.n_joint_actions, extra=int(penalty.observes_safety)).to(device)
        optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)

        def evaluate(frames: np.ndarray, safety: np.ndarray | None):
            extra = None if safety is None else torch.as_tensor(safety, dtype=torch.float32, device=device)
            return model(torch.as_tensor(frames, device=device), extra)

        while steps < config.total_steps:
            observations = np.zeros(shape + obs.shape[1:], dtype=np.uint8)
            safety_inputs = np.zeros(shape) if penalty.observes_safety else None
            actions, logps = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.float32)
            rewards, costs, dones = np.zeros(shape), np.zeros(shape), np.zeros(shape)
            values, cost_values = np.zeros(shape), np.zeros(shape)
            finished_reward, finished_cost = [], []
            for t in range(config.rollout):
                safety = penalty.safety_inputs()
                with torch.no_grad():
                    logits, value, cost_value = evaluate(obs, safety)
                    distribution = torch.distributions.Categorical(logits=logits)
                    action = distribution.sample()
                envs.step_async(action.cpu().numpy())  # the engines step while the rollout is written down
                observations[t], actions[t] = obs, action.cpu().numpy()
                if safety_inputs is not None:
                    safety_inputs[t] = safety
                logps[t] = distribution.log_prob(action).cpu().numpy()
                values[t], cost_values[t] = value.cpu().numpy(), cost_value.cpu().numpy()
                result = envs.step_wait()
                rewards[t] = penalty.shape(result.reward, result.cost)
                costs[t], dones[t] = result.cost, result.done
                penalty.episodes_done(result.done)
                finished_reward += result.episode_reward[result.done].tolist()
                finished_cost += result.episode_cost[result.done].tolist()
                obs = result.obs
            steps += config.rollout * config.n_envs
            with torch.no_grad():
                _, last_value, last_cost_value = evaluate(obs, penalty.safety_inputs())
            mean_cost = float(np.mean(finished_cost)) if finished_cost else np.nan
            lagrange = penalty.update(mean_cost)
            batch = constrained_batch(observations, actions, logps, rewards, costs, dones, values, cost_values,
                                      last_value.cpu().numpy(), last_cost_value.cpu().numpy(), lagrange, config.gamma,
                                      config.lam)
            if safety_inputs is not None:
                batch = dataclasses.replace(batch, inputs=_Inputs(batch.inputs, torch.as_tensor(
                    safety_inputs.reshape(-1), dtype=torch.float32)))
            ppo_update(lambda inputs: _forward(model, inputs), optimiser, batch.to(device), rng,
                       epochs=config.epochs, minibatches=config.minibatches, clip=config.clip,
                       entropy=config.entropy, max_grad_norm=0.5, p3o=penalty.p3o_term())
            rows.append({"method": config.method, "seed": config.seed, "steps": steps,
                         "episode_reward": float(np.mean(finished_reward)) if finished_reward else np.nan,
                         "episode_cost": mean_cost, "lambda": lagrange, "episodes": len(finished_cost),
                         "budget": config.episode_budget,
                         "samples_per_s": steps / (time.perf_counter() - started),
                         "tree_cpu_s": tree_cpu_seconds() - cpu_started,
                         "learner_cpu_s": time.process_time() - learner_started})
    finally:
        envs.close()
    return pd.DataFrame(rows).assign(workers_cpu_s=float(sum(envs.worker_cpu_seconds)))


def run_cpu_seconds(rows: pd.DataFrame) -> pd.Series:
    """Per method and seed, the CPU seconds a pixel run used, engines included.

    With worker processes: the learner's own CPU plus what each worker reported when it closed (a
    sample of the process tree loses engines whose parent never waits for them); without: the
    process tree sampled while the engines ran.
    """
    last = rows.groupby(["method", "seed"]).last()
    counted = last.learner_cpu_s + last.workers_cpu_s
    return counted.where(last.workers_cpu_s > 0, last.tree_cpu_s).rename("cpu_s")


def _forward(model: ActorCritic, inputs):
    if isinstance(inputs, _Inputs):
        return model(inputs.frames, inputs.safety)
    return model(inputs)

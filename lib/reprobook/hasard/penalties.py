"""How each of the paper's six baselines handles the cost: one module for the grid and the pixel learner.

- **PPO** ignores the cost.
- **PPO-Cost** learns from r − s·c (``penalty_scaling`` s; the paper uses 0.1 on Armament Burden, 1 elsewhere).
- **PPO-Lagrangian** mixes the advantages as (A_r − λ A_c) / (1 + λ), λ ← max(0, λ + lr (J_c − d)).
- **PPO-PID** the same mix with λ from a PID controller on J_c − d (Stooke, Achiam and Abbeel 2020).
- **PPO-Saute** (Sootla et al. 2022) tracks a safety state z₀ = 1, z ← (z − c/d) / γ_s per step, shows it
  to the policy and replaces the reward by a fixed unsafe reward once z ≤ 0.
- **P3O** (Zhang et al. 2022) adds κ·max(0, L_C^clip + (1 − γ)(J_c − d)) to the clipped reward loss,
  where L_C^clip is the pessimistic clipped surrogate of the cost advantage.

:class:`Penalty` holds one learner's state (λ, the safety states of its environments) and answers
the three questions a PPO loop asks: which reward to learn from at this step, which λ mixes the
advantages of this update, and which P3O term (κ, constraint gap) the update adds.

>>> penalty = Penalty(PenaltySettings("ppo_saute", budget=2.0, saute_gamma=1.0, unsafe_reward=-1.0), n_envs=1)
>>> [float(penalty.shape(np.array([0.5]), np.array([c]))[0]) for c in (1.0, 0.0, 1.0, 0.0)]
[0.5, 0.5, -1.0, -1.0]
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

__all__ = ["METHODS", "TOLERANCE", "LagrangeMultiplier", "PIDLagrangian", "PenaltySettings", "Penalty",
           "SafetyState"]

TOLERANCE = 1e-9  # a safety state this close to 0 is spent
METHODS = ("ppo", "ppo_cost", "ppo_lag", "ppo_pid", "ppo_saute", "p3o")


@dataclass
class LagrangeMultiplier:
    """PPO-Lagrangian: λ ← max(0, λ + lr (J_c − d)).

    >>> multiplier = LagrangeMultiplier(budget=5.0, lr=0.01)
    >>> [round(multiplier.update(cost), 3) for cost in (15.0, 15.0, 0.0)]
    [0.1, 0.2, 0.15]
    """

    budget: float
    lr: float = 0.01
    value: float = 0.0

    def update(self, episode_cost: float) -> float:
        self.value = max(0.0, self.value + self.lr * (episode_cost - self.budget))
        return self.value


@dataclass
class PIDLagrangian:
    """PPO-PID (Stooke, Achiam and Abbeel 2020): λ = clip(kp·P + I + kd·D, 0, max_penalty).

    P is the EMA of J_c − d (floored at 0), I accumulates ki·(J_c − d) (floored at 0), D is the rise of the
    EMA of J_c over ``delay`` updates (floored at 0); both EMAs use factor ``ema``.
    """

    budget: float
    kp: float = 0.1
    ki: float = 0.01
    kd: float = 0.01
    delay: int = 10
    ema: float = 0.95
    max_penalty: float = 100.0

    def __post_init__(self):
        self.integral = 0.0
        self.error_ema = 0.0
        self.cost_ema = 0.0
        self.history: deque[float] = deque([0.0] * self.delay, maxlen=self.delay)
        self.value = 0.0

    def update(self, episode_cost: float) -> float:
        error = episode_cost - self.budget
        self.integral = max(0.0, self.integral + self.ki * error)
        self.error_ema = self.ema * self.error_ema + (1 - self.ema) * error
        self.cost_ema = self.ema * self.cost_ema + (1 - self.ema) * episode_cost
        derivative = max(0.0, self.cost_ema - self.history[0])
        self.history.append(self.cost_ema)
        raw = self.kp * max(0.0, self.error_ema) + self.integral + self.kd * derivative
        self.value = float(min(max(raw, 0.0), self.max_penalty))
        return self.value


@dataclass
class SafetyState:
    """Saute's safety state per environment: z₀ = 1, z ← (z − c/d) / γ_s; unsafe once z ≤ 0.

    >>> state = SafetyState(budget=2.0, gamma=1.0, n_envs=2)
    >>> state.step(np.array([1.0, 2.0])).tolist(), state.z.tolist()
    ([False, True], [0.5, 0.0])
    """

    budget: float
    gamma: float = 0.9999
    n_envs: int = 1

    def __post_init__(self):
        self.z = np.ones(self.n_envs)

    def step(self, costs: np.ndarray) -> np.ndarray:
        """Advance every environment's state by its step cost; True where the budget is spent."""
        self.z = (self.z - np.asarray(costs, dtype=float) / self.budget) / self.gamma
        return self.z <= TOLERANCE  # spent to rounding: three costs of d/3 spend d

    def reset(self, done: np.ndarray) -> None:
        """A new episode starts with the whole budget."""
        self.z[np.asarray(done, dtype=bool)] = 1.0


@dataclass(frozen=True)
class PenaltySettings:
    """One learner's constraint settings (the paper's defaults; ``budget`` is per episode)."""

    method: str
    budget: float
    lagrangian_lr: float = 0.01
    penalty_scaling: float = 1.0
    saute_gamma: float = 0.9999
    unsafe_reward: float = -0.1
    p3o_kappa: float = 1.0
    gamma: float = 0.99

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not self.budget > 0:
            raise ValueError(f"budget must be positive, got {self.budget!r}")


class Penalty:
    """One learner's cost handling over ``n_envs`` environments (see the module's docstring)."""

    def __init__(self, settings: PenaltySettings, n_envs: int):
        self.settings = settings
        method = settings.method
        self.multiplier: LagrangeMultiplier | PIDLagrangian | None = (
            LagrangeMultiplier(settings.budget, settings.lagrangian_lr) if method == "ppo_lag"
            else PIDLagrangian(settings.budget) if method == "ppo_pid" else None)
        self.safety = SafetyState(settings.budget, settings.saute_gamma, n_envs) if method == "ppo_saute" else None
        self.episode_cost = np.nan  # the last measured J_c (P3O's constraint gap)

    @property
    def observes_safety(self) -> bool:
        """Saute: the policy sees each environment's safety state."""
        return self.safety is not None

    def safety_inputs(self) -> np.ndarray | None:
        """The safety state of every environment (Saute only), as the policy's extra input."""
        return None if self.safety is None else self.safety.z.copy()

    def shape(self, rewards: np.ndarray, costs: np.ndarray) -> np.ndarray:
        """The reward this learner learns from at one step of every environment."""
        if self.settings.method == "ppo_cost":
            return rewards - self.settings.penalty_scaling * costs
        if self.safety is not None:
            unsafe = self.safety.step(costs)
            return np.where(unsafe, self.settings.unsafe_reward, rewards)
        return rewards

    def episodes_done(self, done: np.ndarray) -> None:
        """Reset the safety state of the environments whose episode just ended."""
        if self.safety is not None:
            self.safety.reset(done)

    def update(self, mean_episode_cost: float) -> float:
        """After a rollout: feed J_c (NaN when no episode finished) and return the λ of this update."""
        if np.isfinite(mean_episode_cost):
            self.episode_cost = float(mean_episode_cost)
            if self.multiplier is not None:
                return self.multiplier.update(self.episode_cost)
        return 0.0 if self.multiplier is None else self.multiplier.value

    def p3o_term(self) -> tuple[float, float]:
        """(κ, (1 − γ)(J_c − d)) for P3O's penalty; (0, 0) for every other method or before any J_c."""
        if self.settings.method != "p3o" or not np.isfinite(self.episode_cost):
            return 0.0, 0.0
        gap = (1.0 - self.settings.gamma) * (self.episode_cost - self.settings.budget)
        return self.settings.p3o_kappa, gap

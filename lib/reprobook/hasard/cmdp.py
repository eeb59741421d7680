"""A tiny constrained MDP where PPO, PPO-Lagrangian and PPO-PID converge in seconds (paper §4 baselines).

``LavaGrid`` is a 5 × 5 grid: start on the left, goal on the right, a plus-shaped lava pool in between.
The straight path (4 steps) crosses 3 lava cells (cost 3); the detour (8 steps) is safe. Reward is
+1 at the goal and −0.05 per step, so unconstrained PPO takes the lava; with a budget d = 1 the best
policy mixes the two paths. The exact constrained optimum comes from a linear program over
time-indexed occupancies, so the learners can be checked against it.

>>> grid = LavaGrid()
>>> grid.path_return([3, 3, 3, 3])  # straight right: reward, cost
(0.8, 3.0)
>>> grid.path_return([0, 0, 3, 3, 3, 3, 1, 1])  # up, right along the top, down
(0.6, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from reprobook.hasard.penalties import (
    METHODS,
    TOLERANCE,
    LagrangeMultiplier,
    Penalty,
    PenaltySettings,
    PIDLagrangian,
)
from reprobook.hasard.ppo_update import constrained_batch, gae, ppo_update

__all__ = ["LavaGrid", "gae", "LagrangeMultiplier", "PIDLagrangian", "PPOConfig", "train_ppo",
           "optimal_constrained_return", "METHODS"]

MOVES = np.array([[0, 1], [0, -1], [-1, 0], [1, 0]])  # up, down, left, right as (dx, dy)


@dataclass(frozen=True)
class LavaGrid:
    """The grid's layout and rewards; vectorised transitions in :meth:`step`."""

    size: int = 5
    horizon: int = 30
    goal_reward: float = 1.0
    step_penalty: float = 0.05

    @property
    def start(self) -> tuple[int, int]:
        return (0, self.size // 2)

    @property
    def goal(self) -> tuple[int, int]:
        return (self.size - 1, self.size // 2)

    def lava(self) -> np.ndarray:
        centre = self.size // 2
        cells = np.zeros((self.size, self.size), dtype=bool)  # [x, y]
        cells[1:self.size - 1, centre] = True
        cells[centre, 1:self.size - 1] = True
        return cells

    @property
    def n_states(self) -> int:
        return self.size * self.size

    def state_index(self, x, y):
        return np.asarray(x) * self.size + np.asarray(y)

    def step(self, x: np.ndarray, y: np.ndarray, action: np.ndarray):
        """Move, then reward (+goal, −step), cost (1 if the new cell is lava), done (goal reached)."""
        nx = np.clip(x + MOVES[action, 0], 0, self.size - 1)
        ny = np.clip(y + MOVES[action, 1], 0, self.size - 1)
        at_goal = (nx == self.goal[0]) & (ny == self.goal[1])
        reward = -self.step_penalty + self.goal_reward * at_goal
        cost = self.lava()[nx, ny].astype(float)
        return nx, ny, reward, cost, at_goal

    def path_return(self, actions) -> tuple[float, float]:
        x, y = np.array([self.start[0]]), np.array([self.start[1]])
        total_reward = total_cost = 0.0
        for action in actions:
            x, y, reward, cost, done = self.step(x, y, np.array([action]))
            total_reward, total_cost = total_reward + reward[0], total_cost + cost[0]
            if done[0]:
                break
        return round(float(total_reward), 10), float(total_cost)


def optimal_constrained_return(grid: LavaGrid, budget: float | None) -> tuple[float, float]:
    """Best expected (reward, cost) with expected cost ≤ ``budget`` (None: unconstrained), by LP."""
    from scipy.optimize import linprog

    n_s, n_a, horizon = grid.n_states, 4, grid.horizon
    xs, ys = np.divmod(np.arange(n_s), grid.size)
    goal = grid.state_index(*grid.goal)
    n_var = horizon * n_s * n_a
    rewards, costs = np.zeros(n_var), np.zeros(n_var)
    rows, rhs = [], []
    next_state = np.zeros((n_s, n_a), dtype=int)
    for action in range(n_a):
        nx, ny, reward, cost, _ = grid.step(xs, ys, np.full(n_s, action))
        next_state[:, action] = grid.state_index(nx, ny)
        for t in range(horizon):
            block = (t * n_s + np.arange(n_s)) * n_a + action
            rewards[block], costs[block] = reward, cost
    active = np.arange(n_s) != goal  # the goal is absorbing: no more actions after it
    for t in range(horizon):
        for state in range(n_s):
            if not active[state]:
                continue
            row = np.zeros(n_var)
            row[(t * n_s + state) * n_a:(t * n_s + state + 1) * n_a] = 1.0
            if t == 0:
                rhs.append(1.0 if state == grid.state_index(*grid.start) else 0.0)
            else:
                for previous in np.flatnonzero(active):
                    for action in np.flatnonzero(next_state[previous] == state):
                        row[((t - 1) * n_s + previous) * n_a + action] -= 1.0
                rhs.append(0.0)
            rows.append(row)
    bounds = [(0, 0) if not active[(index // n_a) % n_s] else (0, None) for index in range(n_var)]
    a_ub = None if budget is None else costs[None]
    b_ub = None if budget is None else [budget]
    solution = linprog(-rewards, A_ub=a_ub, b_ub=b_ub, A_eq=np.array(rows), b_eq=rhs, bounds=bounds,
                       method="highs")
    return float(rewards @ solution.x), float(costs @ solution.x)


@dataclass(frozen=True)
class PPOConfig:
    """PPO and its constrained variants on :class:`LavaGrid` (tabular softmax policy, two critics).

    Saute's policy and critics see the cell and whether the safety state is spent (z ≤ 0): with the
    grid's whole-number costs that flag is all of z the policy can act on.
    """

    method: str = "ppo_lag"
    budget: float = 1.0
    iterations: int = 150
    n_envs: int = 64
    rollout: int = 30
    epochs: int = 2
    minibatches: int = 2
    lr: float = 0.05
    clip: float = 0.1
    gamma: float = 0.99
    lam: float = 0.95
    lagrangian_lr: float = 0.01
    penalty_scaling: float = 1.0
    unsafe_reward: float = -0.1  # Saute's reward once the budget is spent (twice the step penalty)
    seed: int = 0


def train_ppo(config: PPOConfig) -> pd.DataFrame:
    """Train on :class:`LavaGrid`; one row per iteration: mean episode reward/cost of finished episodes, λ."""
    if config.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {config.method!r}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: extra threads only add overhead
    try:
        return _train_ppo(config)
    finally:
        torch.set_num_threads(threads)


def _train_ppo(config: PPOConfig) -> pd.DataFrame:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    grid = LavaGrid()
    n, horizon = config.n_envs, grid.horizon
    saute = config.method == "ppo_saute"
    n_inputs = grid.n_states * (2 if saute else 1)  # Saute: (cell, budget spent)
    logits = torch.zeros(n_inputs, 4, requires_grad=True)
    value = torch.zeros(n_inputs, requires_grad=True)
    cost_value = torch.zeros(n_inputs, requires_grad=True)
    optimiser = torch.optim.Adam([logits, value, cost_value], lr=config.lr)
    penalty = Penalty(PenaltySettings(config.method, config.budget, config.lagrangian_lr, config.penalty_scaling,
                                      saute_gamma=1.0, unsafe_reward=config.unsafe_reward, gamma=config.gamma), n)
    x = np.full(n, grid.start[0])
    y = np.full(n, grid.start[1])
    clock = np.zeros(n, dtype=int)
    episode_reward, episode_cost = np.zeros(n), np.zeros(n)
    rows, steps = [], 0

    def observed() -> np.ndarray:
        state = grid.state_index(x, y)
        return state + grid.n_states * (penalty.safety_inputs() <= TOLERANCE) if saute else state

    for iteration in range(config.iterations):
        shape = (config.rollout, n)
        states, actions = np.zeros(shape, dtype=int), np.zeros(shape, dtype=int)
        rewards, costs, dones, old_logp = np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape)
        finished_reward, finished_cost = [], []
        with torch.no_grad():
            probabilities = torch.softmax(logits, 1).numpy()
        for t in range(config.rollout):
            state = observed()
            cumulative = probabilities[state].cumsum(1)
            action = np.minimum((rng.random(n)[:, None] > cumulative).sum(1), 3)
            x, y, reward, cost, at_goal = grid.step(x, y, action)
            clock += 1
            done = at_goal | (clock >= horizon)
            states[t], actions[t], costs[t], dones[t] = state, action, cost, done
            rewards[t] = penalty.shape(reward, cost)
            old_logp[t] = np.log(probabilities[state, action])
            episode_reward += reward
            episode_cost += cost
            finished_reward += episode_reward[done].tolist()
            finished_cost += episode_cost[done].tolist()
            episode_reward[done], episode_cost[done], clock[done] = 0.0, 0.0, 0
            x[done], y[done] = grid.start
            penalty.episodes_done(done)
        steps += config.rollout * n
        mean_cost = float(np.mean(finished_cost)) if finished_cost else np.nan
        lagrange = penalty.update(mean_cost)
        with torch.no_grad():
            values, cost_values = value.detach().numpy(), cost_value.detach().numpy()
        last_state = observed()
        batch = constrained_batch(states, actions, old_logp, rewards, costs, dones, values[states],
                                  cost_values[states], values[last_state], cost_values[last_state], lagrange,
                                  config.gamma, config.lam)
        ppo_update(lambda state: (logits[state], value[state], cost_value[state]), optimiser, batch, rng,
                   epochs=config.epochs, minibatches=config.minibatches, clip=config.clip, p3o=penalty.p3o_term())
        rows.append({"method": config.method, "seed": config.seed, "iteration": iteration, "steps": steps,
                     "episode_reward": float(np.mean(finished_reward)) if finished_reward else np.nan,
                     "episode_cost": mean_cost, "lambda": lagrange, "episodes": len(finished_cost)})
    return pd.DataFrame(rows)

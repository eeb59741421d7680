"""The one clipped-PPO update with reward and cost critics, shared by the tabular and the pixel learner.

Both learners collect a (T, N) rollout, turn rewards and costs into GAE advantages, mix them with
the current penalty λ as (A_r − λ A_c) / (1 + λ) (PPO-Lagrangian and PPO-PID; λ = 0 for PPO,
PPO-Cost and Saute, whose penalty is already in the reward, and for P3O), and take ``epochs`` passes
of minibatch clipped policy-gradient steps with two value regressions; P3O adds
κ·max(0, L_C^clip + gap) with the pessimistic clipped surrogate L_C^clip of the centred cost advantage. Only the network differs: ``forward(inputs)``
returns (logits, reward value, cost value) for a batch of inputs (state indices or frames).

>>> import torch
>>> table = torch.zeros(3, 2, requires_grad=True)
>>> heads = torch.zeros(3, 2, requires_grad=True)
>>> forward = lambda s: (table[s], heads[s, 0], heads[s, 1])
>>> batch = RolloutBatch(torch.tensor([0, 1, 2, 0]), torch.tensor([1, 0, 1, 1]),
...                      torch.log(torch.full((4,), 0.5)), torch.tensor([1.0, -1.0, 0.5, 1.0]),
...                      torch.ones(4), torch.zeros(4))
>>> ppo_update(forward, torch.optim.SGD([table, heads], lr=0.1), batch, np.random.default_rng(0),
...            epochs=1, minibatches=1, clip=0.2)
>>> bool(table[0, 1] > table[0, 0])  # the action with positive advantage became more likely
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["gae", "RolloutBatch", "constrained_batch", "ppo_update"]

def gae(rewards, values, dones, last_value, gamma: float, lam: float) -> np.ndarray:
    """Generalised advantage estimates over a (T, N) rollout; ``dones[t]`` ends the episode after step t.

    >>> gae(np.array([[1.0], [1.0]]), np.zeros((2, 1)), np.zeros((2, 1)), np.zeros(1), 0.5, 1.0).ravel().tolist()
    [1.5, 1.0]
    """
    advantages = np.zeros_like(rewards, dtype=float)
    running = np.zeros(rewards.shape[1])
    for t in range(len(rewards) - 1, -1, -1):
        next_value = last_value if t == len(rewards) - 1 else values[t + 1]
        alive = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * alive - values[t]
        running = delta + gamma * lam * alive * running
        advantages[t] = running
    return advantages


Forward = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class RolloutBatch:
    """A flattened rollout: inputs, actions, their old log-probabilities, advantages and both returns."""

    inputs: torch.Tensor
    actions: torch.Tensor
    old_logp: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    cost_returns: torch.Tensor
    cost_advantages: torch.Tensor | None = None  # centred, for P3O's cost surrogate

    def to(self, device: torch.device | str) -> RolloutBatch:
        """The same batch on ``device`` (no copy when it is already there)."""
        return RolloutBatch(*(None if getattr(self, field.name) is None else getattr(self, field.name).to(device)
                              for field in dataclasses.fields(self)))


def constrained_batch(inputs: np.ndarray, actions: np.ndarray, old_logp: np.ndarray, rewards: np.ndarray,
                      costs: np.ndarray, dones: np.ndarray, values: np.ndarray, cost_values: np.ndarray,
                      last_value: np.ndarray, last_cost_value: np.ndarray, penalty: float, gamma: float,
                      lam: float) -> RolloutBatch:
    """GAE for reward and cost over a (T, N) rollout, mixed with λ = ``penalty`` and normalised."""
    advantages = gae(rewards, values, dones, last_value, gamma, lam)
    cost_advantages = gae(costs, cost_values, dones, last_cost_value, gamma, lam)
    combined = (advantages - penalty * cost_advantages) / (1.0 + penalty)

    def flat(array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array).reshape(-1), dtype=torch.float32)

    mixed = flat(combined)
    return RolloutBatch(
        inputs=torch.as_tensor(np.asarray(inputs).reshape((-1,) + np.asarray(inputs).shape[2:])),
        actions=torch.as_tensor(np.asarray(actions).reshape(-1), dtype=torch.int64),
        old_logp=flat(old_logp), advantages=(mixed - mixed.mean()) / (mixed.std() + 1e-8),
        returns=flat(advantages + values), cost_returns=flat(cost_advantages + cost_values),
        cost_advantages=flat(cost_advantages - cost_advantages.mean()))


def ppo_update(forward: Forward, optimiser: torch.optim.Optimizer, batch: RolloutBatch, rng: np.random.Generator,
               *, epochs: int, minibatches: int, clip: float, entropy: float = 0.0,
               max_grad_norm: float | None = None, p3o: tuple[float, float] = (0.0, 0.0)) -> None:
    """``epochs`` passes of clipped-PPO minibatch steps (policy, reward critic, cost critic).

    ``p3o`` is (κ, (1 − γ)(J_c − d)); κ > 0 adds P3O's penalty on the clipped cost surrogate.
    """
    kappa, gap = p3o
    if kappa and batch.cost_advantages is None:
        raise ValueError("P3O needs the batch's cost advantages (build it with constrained_batch)")
    parameters = [p for group in optimiser.param_groups for p in group["params"]]
    for _ in range(epochs):
        for index in torch.as_tensor(rng.permutation(len(batch.actions)), device=batch.actions.device).chunk(minibatches):
            logits, value, cost_value = forward(batch.inputs[index])
            distribution = torch.distributions.Categorical(logits=logits)
            ratio = torch.exp(distribution.log_prob(batch.actions[index]) - batch.old_logp[index])
            advantage = batch.advantages[index]
            policy_loss = -torch.min(ratio * advantage, ratio.clamp(1 - clip, 1 + clip) * advantage).mean()
            loss = (policy_loss + 0.5 * ((value - batch.returns[index]) ** 2).mean()
                    + 0.5 * ((cost_value - batch.cost_returns[index]) ** 2).mean())
            if entropy:
                loss = loss - entropy * distribution.entropy().mean()
            if kappa:
                cost_advantage = batch.cost_advantages[index]
                surrogate = torch.max(ratio * cost_advantage, ratio.clamp(1 - clip, 1 + clip) * cost_advantage).mean()
                loss = loss + kappa * torch.relu(surrogate + gap)
            optimiser.zero_grad()
            loss.backward()
            if max_grad_norm is not None:
                nn.utils.clip_grad_norm_(parameters, max_grad_norm)
            optimiser.step()

"""The shared clipped-PPO update: the mixing of reward and cost advantages, and the direction of a step."""

import numpy as np
import pytest
import torch

from reprobook.hasard.ppo_update import RolloutBatch, constrained_batch, gae, ppo_update


def test_constrained_batch_mixes_advantages_with_the_penalty():
    rng = np.random.default_rng(0)
    shape = (6, 3)
    rewards, costs = rng.normal(size=shape), rng.random(shape)
    dones = (rng.random(shape) < 0.2).astype(float)
    values, cost_values = rng.normal(size=shape), rng.normal(size=shape)
    last, last_cost = rng.normal(size=3), rng.normal(size=3)
    batch = constrained_batch(np.zeros(shape, dtype=int), np.zeros(shape, dtype=int), np.zeros(shape), rewards, costs,
                              dones, values, cost_values, last, last_cost, 2.0, 0.99, 0.95)
    reward_adv = gae(rewards, values, dones, last, 0.99, 0.95)
    cost_adv = gae(costs, cost_values, dones, last_cost, 0.99, 0.95)
    mixed = ((reward_adv - 2.0 * cost_adv) / 3.0).reshape(-1)
    expected = (mixed - mixed.mean()) / (mixed.std(ddof=1) + 1e-8)
    np.testing.assert_allclose(batch.advantages.numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(batch.returns.numpy(), (reward_adv + values).reshape(-1), rtol=1e-5)
    np.testing.assert_allclose(batch.cost_returns.numpy(), (cost_adv + cost_values).reshape(-1), rtol=1e-5)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_ppo_step_follows_the_sign_of_the_advantage(sign):
    table = torch.zeros(1, 2, requires_grad=True)
    heads = torch.zeros(1, 2, requires_grad=True)
    batch = RolloutBatch(torch.zeros(4, dtype=torch.int64), torch.tensor([1, 1, 0, 0]),
                         torch.log(torch.full((4,), 0.5)), torch.tensor([sign, sign, -sign, -sign]),
                         torch.zeros(4), torch.zeros(4))
    ppo_update(lambda s: (table[s], heads[s, 0], heads[s, 1]), torch.optim.SGD([table, heads], lr=0.1), batch,
               np.random.default_rng(0), epochs=2, minibatches=2, clip=0.2, entropy=0.01, max_grad_norm=0.5)
    assert (table[0, 1] - table[0, 0]).item() * sign > 0

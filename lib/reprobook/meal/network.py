"""The shared actor-critic MLP of MEAL's IPPO (brief §2.3), as plain JAX functions of a params tree.

Separate actor and critic trunks, each ``layers × [Dense(hidden), ReLU, LayerNorm]``; orthogonal
init (√2 hidden, 0.01 actor head, 1.0 critic head). Task conditioning: a one-hot task id appended
to the input and one output head per task. Both switches are *data* (:class:`Conditioning`): with
the task id off its inputs are zeros, with multi-head off every task uses head 0 (the other heads
stay untouched). The task index is traced too, so one compiled network serves every task and both
ablations.

>>> import jax, jax.numpy as jnp
>>> config = NetworkConfig(obs_dim=10, n_tasks=3, hidden=8)
>>> params = init_network(jax.random.key(0), config)
>>> logits, value = apply_network(params, jnp.ones((4, 10)), 2, config, Conditioning(0.0, 0))
>>> logits.shape, value.shape
((4, 6), (4,))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from reprobook.meal.env import N_ACTIONS

__all__ = ["NetworkConfig", "Conditioning", "FULL_CONDITIONING", "init_network", "apply_network", "actor_activations", "dormant_ratio",
           "count_parameters"]


@dataclass(frozen=True)
class NetworkConfig:
    obs_dim: int
    n_tasks: int
    hidden: int = 64
    layers: int = 2
    use_layer_norm: bool = True

    @property
    def input_dim(self) -> int:
        return self.obs_dim + self.n_tasks

    @property
    def n_heads(self) -> int:
        return self.n_tasks


class Conditioning(NamedTuple):
    """Task conditioning as data: ``task_id`` 1.0/0.0 (one-hot on/zeroed), ``multihead`` 1/0."""

    task_id: jnp.ndarray | float
    multihead: jnp.ndarray | int


FULL_CONDITIONING = Conditioning(1.0, 1)


def _dense(key: jax.Array, fan_in: int, fan_out: int, scale: float) -> dict[str, jnp.ndarray]:
    kernel = jax.nn.initializers.orthogonal(scale)(key, (fan_in, fan_out), jnp.float32)
    return {"kernel": kernel, "bias": jnp.zeros(fan_out, jnp.float32)}


def _trunk(key: jax.Array, config: NetworkConfig) -> dict[str, dict[str, jnp.ndarray]]:
    trunk = {}
    fan_in = config.input_dim
    for layer, layer_key in enumerate(jax.random.split(key, config.layers)):
        trunk[f"dense_{layer}"] = _dense(layer_key, fan_in, config.hidden, float(np.sqrt(2)))
        if config.use_layer_norm:
            trunk[f"norm_{layer}"] = {"scale": jnp.ones(config.hidden), "bias": jnp.zeros(config.hidden)}
        fan_in = config.hidden
    return trunk


def init_network(key: jax.Array, config: NetworkConfig) -> dict:
    """Fresh parameters: ``{"actor": {...,"head"}, "critic": {...,"head"}}``."""
    actor_key, actor_head, critic_key, critic_head = jax.random.split(key, 4)
    actor = _trunk(actor_key, config)
    actor["head"] = _dense(actor_head, config.hidden, config.n_heads * N_ACTIONS, 0.01)
    critic = _trunk(critic_key, config)
    critic["head"] = _dense(critic_head, config.hidden, config.n_heads, 1.0)
    return {"actor": actor, "critic": critic}


def _layer_norm(x: jnp.ndarray, scale: jnp.ndarray, bias: jnp.ndarray) -> jnp.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = jnp.square(x - mean).mean(-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + 1e-6) * scale + bias


def _run_trunk(trunk: dict, x: jnp.ndarray, config: NetworkConfig) -> list[jnp.ndarray]:
    activations = []
    for layer in range(config.layers):
        x = jax.nn.relu(x @ trunk[f"dense_{layer}"]["kernel"] + trunk[f"dense_{layer}"]["bias"])
        activations.append(x)
        if config.use_layer_norm:
            x = _layer_norm(x, trunk[f"norm_{layer}"]["scale"], trunk[f"norm_{layer}"]["bias"])
    activations.append(x)
    return activations


def _inputs(x: jnp.ndarray, task: jnp.ndarray | int, config: NetworkConfig,
            conditioning: Conditioning) -> jnp.ndarray:
    one_hot = jax.nn.one_hot(task, config.n_tasks, dtype=x.dtype) * conditioning.task_id
    return jnp.concatenate([x, jnp.broadcast_to(one_hot, (*x.shape[:-1], config.n_tasks))], -1)


def apply_network(params: dict, x: jnp.ndarray, task: jnp.ndarray | int, config: NetworkConfig,
                  conditioning: Conditioning = FULL_CONDITIONING) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Logits ``[..., 6]`` and values ``[...]`` of the head of ``task`` (head 0 if single-head)."""
    x = _inputs(x, task, config, conditioning)
    head = task * conditioning.multihead
    actor = _run_trunk(params["actor"], x, config)[-1]
    critic = _run_trunk(params["critic"], x, config)[-1]
    kernel = params["actor"]["head"]["kernel"].reshape(config.hidden, config.n_heads, N_ACTIONS)
    bias = params["actor"]["head"]["bias"].reshape(config.n_heads, N_ACTIONS)
    value_kernel, value_bias = params["critic"]["head"]["kernel"], params["critic"]["head"]["bias"]
    if jnp.ndim(head) == 0:
        logits = actor @ kernel[:, head] + bias[head]
        value = critic @ value_kernel[:, head] + value_bias[head]
    else:  # one task per sample (replay memories)
        logits = jnp.einsum("bh,hbk->bk", actor, kernel[:, head]) + bias[head]
        value = jnp.einsum("bh,hb->b", critic, value_kernel[:, head]) + value_bias[head]
    return logits, value


def actor_activations(params: dict, x: jnp.ndarray, task: jnp.ndarray | int, config: NetworkConfig,
                      conditioning: Conditioning = FULL_CONDITIONING) -> list[jnp.ndarray]:
    """Post-ReLU activations of each actor layer (for the dormant-neuron ratio)."""
    return _run_trunk(params["actor"], _inputs(x, task, config, conditioning), config)[: config.layers]


def dormant_ratio(activations: list[jnp.ndarray], tau: float = 0.01) -> jnp.ndarray:
    """Fraction of τ-dormant units: mean |activation| over the batch / layer mean ≤ τ.

    >>> import jax.numpy as jnp
    >>> float(dormant_ratio([jnp.array([[1.0, 0.0], [3.0, 0.0]])]))
    0.5
    """
    dormant, total = 0.0, 0
    for layer in activations:
        score = jnp.abs(layer).reshape(-1, layer.shape[-1]).mean(0)
        score = score / (score.mean() + 1e-9)
        dormant = dormant + jnp.sum(score <= tau)
        total += layer.shape[-1]
    return dormant / total


def count_parameters(params: dict) -> int:
    return int(sum(np.prod(leaf.shape) for leaf in jax.tree.leaves(params)))

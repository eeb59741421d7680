"""Regularisation-based continual-learning methods as data (brief §2.4).

Every method is ``penalty = λ/(2P) · Σ m ⊙ w ⊙ (θ − θ*)²`` with an anchor θ*, an importance w, a
0/1 mask m (by default the actor trunk only; heads too when single-headed) and P = Σ m. FT, L2,
EWC, Online EWC, MAS and Online MAS differ only in these arrays and in how :func:`after_task`
updates them, so they share one compiled training graph.

=============  ===================================  =====
method         importance w after task t            λ
=============  ===================================  =====
ft             —                                    0
l2             1 (already on task 1, anchor θ₀)     1e7
ewc            Σ_t F_t (0 on task 1)                1e11
online_ewc     0.9·w + 0.1·F_t (from 0)             1e11
mas            Σ_t Ω_t/mean|Ω_t|                    1e9
online_mas     0.9·w + 0.1·Ω_t/mean|Ω_t|            1e9
=============  ===================================  =====

>>> import jax.numpy as jnp
>>> params = {"actor": {"dense_0": {"kernel": jnp.ones(3)}, "head": {"kernel": jnp.ones(2)}}}
>>> state = init_cl_state("l2", params, regularisation_mask(params, multihead=True))
>>> float(penalty(params, state))
0.0
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["METHODS", "REGULARISERS", "REPLAY_METHODS", "MASK_METHODS", "DEFAULT_LAMBDA", "CLState", "regularisation_mask", "init_cl_state", "penalty",
           "after_task", "ONLINE_DECAY"]

REGULARISERS = ("ft", "l2", "ewc", "online_ewc", "mas", "online_mas")
REPLAY_METHODS = ("agem", "er_ace")  # replay memories: see reprobook.meal.ippo (no penalty)
MASK_METHODS = ("packnet",)  # parameter isolation: see reprobook.meal.packnet (no penalty)
METHODS = REGULARISERS + REPLAY_METHODS + MASK_METHODS
DEFAULT_LAMBDA = {"ft": 0.0, "l2": 1e7, "ewc": 1e11, "online_ewc": 1e11, "mas": 1e9, "online_mas": 1e9,
                  "agem": 0.0, "er_ace": 0.0, "packnet": 0.0}
ONLINE_DECAY = 0.9


class CLState(NamedTuple):
    """What a method needs, as arrays: anchor θ*, importance w, mask m, λ/(2P), and ``trainable``
    (1.0 where an update may change a parameter: everywhere except PackNet's frozen weights)."""

    anchor: dict
    importance: dict
    mask: dict
    coefficient: jnp.ndarray
    trainable: dict


def regularisation_mask(params: dict, *, multihead: bool, critic: bool = False) -> dict:
    """1.0 on regularised leaves: actor trunk; critic trunk if ``critic``; heads if single-headed."""
    def leaf_mask(path, leaf):
        names = [getattr(part, "key", str(part)) for part in path]
        if names[0] == "critic" and not critic:
            return jnp.zeros_like(leaf)
        if "head" in names and multihead:
            return jnp.zeros_like(leaf)
        return jnp.ones_like(leaf)
    return jax.tree_util.tree_map_with_path(leaf_mask, params)


def init_cl_state(method: str, params: dict, mask: dict, lam: float | None = None) -> CLState:
    """The state before task 1: anchor = initial weights; w = 1 for L2, 0 otherwise."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    lam = DEFAULT_LAMBDA[method] if lam is None else lam
    n_masked = sum(float(jnp.sum(leaf)) for leaf in jax.tree.leaves(mask))
    coefficient = 0.0 if method not in REGULARISERS[1:] or n_masked == 0 else lam / (2 * n_masked)
    fill = 1.0 if method == "l2" else 0.0
    importance = jax.tree.map(lambda leaf: jnp.full_like(leaf, fill), params)
    trainable = jax.tree.map(lambda leaf: jnp.ones(leaf.shape, jnp.float32), params)
    return CLState(params, importance, mask, jnp.asarray(coefficient, jnp.float32), trainable)


def penalty(params: dict, state: CLState) -> jnp.ndarray:
    """``λ/(2P) · Σ m ⊙ w ⊙ (θ − θ*)²``."""
    terms = jax.tree.map(lambda p, a, w, m: jnp.sum(m * w * jnp.square(p - a)),
                         params, state.anchor, state.importance, state.mask)
    return state.coefficient * sum(jax.tree.leaves(terms))


def _mean_abs(tree: dict, mask: dict) -> jnp.ndarray:
    total = sum(jax.tree.leaves(jax.tree.map(lambda x, m: jnp.sum(jnp.abs(x) * m), tree, mask)))
    count = sum(jax.tree.leaves(jax.tree.map(jnp.sum, mask)))
    return total / jnp.maximum(count, 1.0)


def after_task(method: str, state: CLState, params: dict, fisher: dict, mas: dict) -> CLState:
    """Move the anchor to the end-of-task weights and fold this task's importance in."""
    if method in ("ft", "l2") or method in REPLAY_METHODS or method in MASK_METHODS:
        return state._replace(anchor=params)
    if method in ("mas", "online_mas"):
        scale = _mean_abs(mas, state.mask)
        new = jax.tree.map(lambda x: x / jnp.maximum(scale, 1e-30), mas)
    else:
        new = fisher
    if method in ("ewc", "mas"):
        importance = jax.tree.map(jnp.add, state.importance, new)
    else:
        importance = jax.tree.map(lambda old, x: ONLINE_DECAY * old + (1 - ONLINE_DECAY) * x, state.importance, new)
    return state._replace(anchor=params, importance=importance)

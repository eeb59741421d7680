"""PackNet (Mallya & Lazebnik, 2018) as MEAL applies it (brief §2.4), on plain parameter trees.

Each task gets its own slice of the actor's Dense kernels. Within a task: train all free weights
(kernels of earlier tasks are frozen); then, per layer, prune the fraction (N−t−1)/(N−t) of the
still-free weights with the smallest magnitude (t 0-based, N the sequence length, so each task gets
about 1/N of the capacity and the last task keeps everything left); fine-tune the kept weights with
the pruned ones held at zero; finally record the kept weights as owned by task t. Task j is then
evaluated with the kernels owned by tasks ≤ j only, so its policy cannot change after its training.

As in MEAL's code, the actor trunk's biases and LayerNorm parameters are trained on the first task
and frozen afterwards; the critic and the (per-task) output heads are not pruned. Pruning here
removes an exact count of weights (ties broken by position), where MEAL's code thresholds a
quantile, which on the last task (fraction 0) would still prune the smallest weight.

Everything is data for the shared training graph: ``trainable`` (1.0 where an update may change a
parameter) goes into :class:`~reprobook.meal.continual.CLState`; per-task evaluation masks are a
stacked tree for the evaluation graph.

>>> import jax.numpy as jnp
>>> params = {"actor": {"dense_0": {"kernel": jnp.array([[0.1, -3.0], [2.0, 0.5]]), "bias": jnp.zeros(2)}},
...           "critic": {"dense_0": {"kernel": jnp.ones((2, 2))}}}
>>> owner = init_owner(params)
>>> pruned, keep = prune(params, owner, position=0, n_tasks=2)
>>> keep["actor"]["dense_0"]["kernel"].tolist()
[[False, True], [True, False]]
>>> pruned["actor"]["dense_0"]["kernel"].tolist()
[[0.0, -3.0], [2.0, 0.0]]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["is_prunable", "is_fixed_after_first", "init_owner", "trainable_mask", "prune", "assign",
           "task_masks", "capacity_used"]


def _names(path) -> list[str]:
    return [str(getattr(part, "key", part)) for part in path]


def is_prunable(path) -> bool:
    """Actor trunk Dense kernels (not the output heads, not the critic)."""
    names = _names(path)
    return names[0] == "actor" and names[-1] == "kernel" and names[-2].startswith("dense_")


def is_fixed_after_first(path) -> bool:
    """Actor trunk biases and LayerNorm parameters: trained on the first task, then frozen."""
    names = _names(path)
    return names[0] == "actor" and names[-2] != "head" and not is_prunable(path)


def init_owner(params: dict) -> dict:
    """Owner of every weight: 0 = free, t + 1 = owned by the task at position t."""
    return jax.tree.map(lambda leaf: jnp.zeros(leaf.shape, jnp.int32), params)


def trainable_mask(params: dict, owner: dict, position: int, keep: dict | None = None) -> dict:
    """1.0 where updates may change a parameter.

    Training (``keep`` None): free kernel weights. Fine-tuning: the kept weights only. Actor biases
    and LayerNorm only at position 0; critic and heads always.
    """
    if keep is None:
        keep = jax.tree.map(lambda own: own == 0, owner)

    def leaf_mask(path, leaf, kept):
        if is_prunable(path):
            return kept.astype(jnp.float32)
        if is_fixed_after_first(path):
            return jnp.full(leaf.shape, float(position == 0), jnp.float32)
        return jnp.ones(leaf.shape, jnp.float32)

    return jax.tree_util.tree_map_with_path(leaf_mask, params, keep)


def prune(params: dict, owner: dict, position: int, n_tasks: int) -> tuple[dict, dict]:
    """Zero the fraction (N−t−1)/(N−t) smallest-|w| free weights of each prunable kernel.

    Returns the pruned parameters and the boolean ``keep`` tree (free weights that survive; all
    False outside prunable kernels).
    """
    if not 0 <= position < n_tasks:
        raise ValueError(f"position must be in [0, {n_tasks}); got {position}")
    fraction = (n_tasks - position - 1) / (n_tasks - position)

    def leaf_keep(path, leaf, own):
        if not is_prunable(path):
            return jnp.zeros(leaf.shape, bool)
        free = np.asarray(own).ravel() == 0
        free_index = np.flatnonzero(free)
        order = np.argsort(np.abs(np.asarray(leaf).ravel()[free_index]), kind="stable")
        free[free_index[order[:int(round(fraction * free_index.size))]]] = False
        return jnp.asarray(free.reshape(leaf.shape))

    keep = jax.tree_util.tree_map_with_path(leaf_keep, params, owner)
    pruned = jax.tree_util.tree_map_with_path(
        lambda path, leaf, own, kept: jnp.where(kept | (own > 0), leaf, 0.0).astype(leaf.dtype)
        if is_prunable(path) else leaf, params, owner, keep)
    return pruned, keep


def assign(owner: dict, keep: dict, position: int) -> dict:
    """Record the kept weights as owned by the task at ``position``."""
    return jax.tree.map(lambda own, kept: jnp.where(kept, position + 1, own), owner, keep)


def task_masks(params: dict, owner: dict, positions: list[int], current: int) -> dict:
    """Evaluation masks stacked over tasks: task j (trained at ``positions[j]``) sees its own and
    earlier tasks' kernels once its training has ended; until then, the current network."""
    def leaf_masks(path, leaf, own):
        rows = []
        for position in positions:
            if is_prunable(path) and position < current:
                rows.append(((own >= 1) & (own <= position + 1)).astype(jnp.float32))
            else:
                rows.append(jnp.ones(leaf.shape, jnp.float32))
        return jnp.stack(rows)

    return jax.tree_util.tree_map_with_path(leaf_masks, params, owner)


def capacity_used(owner: dict) -> dict[int, float]:
    """Share of the prunable kernel weights owned by each task position (key −1: still free)."""
    counts: dict[int, int] = {}
    total = 0
    for path, own in jax.tree_util.tree_flatten_with_path(owner)[0]:
        if not is_prunable(path):
            continue
        values, number = np.unique(np.asarray(own), return_counts=True)
        for value, count in zip(values.tolist(), number.tolist(), strict=True):
            counts[int(value)] = counts.get(int(value), 0) + int(count)
        total += int(np.asarray(own).size)
    return {value - 1 if value else -1: count / total for value, count in sorted(counts.items())}

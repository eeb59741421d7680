"""Downstream evaluation of a skill set on random rewards: hits, zero-shot regret, adaptation costs.

[ours] A downstream task is a state reward r ~ N(0, I); its optimal occupancy v*_r = argmax_v r·v is a
vertex. A skill set {ρ_z} is judged by how close its best skill is to v*_r: the share of tasks
whose v*_r is a skill (hit rate), the zero-shot regret r·v*_r − max_z r·ρ_z, the Wasserstein
adaptation cost min_z W(v*_r, ρ_z), and two information-geometric (KL) adaptation costs
[reconstructed]: from the best skill, min_z KL(v*_r ‖ ρ_z), the cost the paper ties to LSEPIN when a
task starts from its best skill (∞ when no skill visits every state v*_r visits), with the share of
tasks for which it is finite; and from the skills' mixture, KL(v*_r ‖ Σ_z p(z) ρ_z), as MISL's
guarantee measures it from its centre (∞ when the skills together never visit a state v*_r visits).
A mean over tasks is ∞ as soon as one task's cost is.

>>> vertices = np.eye(3)
>>> rewards = np.array([[1.0, 0, 0], [0, 0, 1.0]])
>>> evaluate_skills(vertices, np.array([0, 1]), rewards, 1 - np.eye(3))["hit_rate"]
0.5
"""

from __future__ import annotations

import numpy as np

from reprobook.wsep.information import kl_to

__all__ = ["random_rewards", "optimal_vertices", "evaluate_skills", "kl_skill_costs"]


def random_rewards(n_rewards: int, n_states: int, seed: int) -> np.ndarray:
    """``n_rewards`` state rewards r ~ N(0, I_|S|) from a fixed seed."""
    return np.random.default_rng(seed).standard_normal((n_rewards, n_states))


def optimal_vertices(vertices: np.ndarray, rewards: np.ndarray) -> np.ndarray:
    """Index of the optimal vertex argmax_v r·v for every reward (ties → lowest index)."""
    return np.argmax(rewards @ np.asarray(vertices, dtype=float).T, axis=1)


def evaluate_skills(vertices: np.ndarray, skills: np.ndarray, rewards: np.ndarray,
                    vertex_distances: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
    """Mean downstream metrics of the skills ``skills`` (vertex indices) over ``rewards``.

    ``vertex_distances`` is the W matrix between vertices, so costs are exact look-ups. ``weights``
    are the skills' p(z) for the KL cost's mixture (default: uniform over the distinct skills;
    given, they align with ``skills``).
    """
    vertices = np.asarray(vertices, dtype=float)
    skills = np.asarray(skills, dtype=int)
    if weights is None:
        skills = np.unique(skills)
        weights = np.full(len(skills), 1.0 / len(skills))
    mixture = np.asarray(weights, dtype=float) @ vertices[skills]
    skills = np.unique(skills)
    best = optimal_vertices(vertices, rewards)
    values = rewards @ vertices.T
    optimum = values[np.arange(len(rewards)), best]
    zero_shot = values[:, skills].max(axis=1)
    w_cost = vertex_distances[np.ix_(best, skills)].min(axis=1)
    kl_best_skill = kl_skill_costs(vertices, skills, best)
    return {
        "hit_rate": float(np.isin(best, skills).mean()),
        "zero_shot_regret": float((optimum - zero_shot).mean()),
        "w_adaptation_cost": float(w_cost.mean()),
        "kl_skill_adaptation_cost": float(kl_best_skill.mean()),
        "kl_mixture_adaptation_cost": float(kl_to(vertices[best], mixture).mean()),
        "kl_skill_finite_share": float(np.isfinite(kl_best_skill).mean()),
    }


def kl_skill_costs(vertices: np.ndarray, skills: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """min_z KL(v_t ‖ ρ_z) over the skills ``skills`` (vertex indices) for every target vertex index
    in ``targets`` (∞ where no skill covers the target's support).

    >>> vertices = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    >>> kl_skill_costs(vertices, np.array([1, 2]), np.array([0, 2])).round(6).tolist()  # log 2, 0
    [0.693147, 0.0]
    >>> kl_skill_costs(vertices, np.array([0]), np.array([2])).tolist()
    [inf]
    """
    vertices = np.asarray(vertices, dtype=float)
    kl_matrix = np.stack([kl_to(vertices, vertices[z]) for z in np.asarray(skills, dtype=int)], axis=1)
    return kl_matrix[np.asarray(targets, dtype=int)].min(axis=1)

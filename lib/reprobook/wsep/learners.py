"""Learned skills: gradient learners for MISL and WSEP, and an RL-oracle PWSEP [ours].

Skills are tabular softmax policies π_z(a | s) = softmax(θ_z[s]); their occupancies come from the
exact linear solve, so gradients flow through (I − γ P_πᵀ)⁻¹ (JAX, float64 in a local
``jax.enable_x64`` scope). MISL maximises I(S; Z) with uniform p(z); WSEP maximises
Σ_{i<j} W_ε(ρ_i, ρ_j) with log-domain Sinkhorn (fixed iterations in ``lax.scan``). Learned PWSEP
needs no vertex list: the hull LP's dual potential f is a subgradient of the hull distance, so
value iteration on the reward r = f returns a vertex that does at least as well (a Frank–Wolfe
step with an exact RL oracle).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from reprobook.wsep.discovery import hull_distance
from reprobook.wsep.mdp import ControlledMarkovProcess
from reprobook.wsep.occupancy import deterministic_occupancies, greedy_policies

__all__ = [
    "LEARNED_OBJECTIVES",
    "occupancies_from_logits",
    "skill_objective",
    "LearnedSkills",
    "train_skills",
    "learned_pwsep",
]

LEARNED_OBJECTIVES = ("misl", "wsep")


def occupancies_from_logits(logits: jnp.ndarray, transitions: jnp.ndarray, start: jnp.ndarray,
                            gamma: float) -> jnp.ndarray:
    """ρ_z for softmax policies ``logits[z, s, a]`` (differentiable; batched solve over skills)."""
    policy = jax.nn.softmax(logits, axis=-1)
    p_pi = jnp.einsum("zsa,sat->zst", policy, transitions)
    n_states = transitions.shape[0]
    systems = jnp.eye(n_states)[None] - gamma * jnp.swapaxes(p_pi, 1, 2)
    rhs = jnp.broadcast_to((1.0 - gamma) * start, (logits.shape[0], n_states))
    return jnp.linalg.solve(systems, rhs[..., None])[..., 0]


def _entropy(p: jnp.ndarray) -> jnp.ndarray:
    return -jnp.sum(jax.scipy.special.xlogy(p, p), axis=-1)


def _sinkhorn_cost(a: jnp.ndarray, b: jnp.ndarray, cost: jnp.ndarray, epsilon: float, n_iter: int
                   ) -> jnp.ndarray:
    log_a = jnp.log(jnp.clip(a, 1e-300))
    log_b = jnp.log(jnp.clip(b, 1e-300))

    def step(carry, _):
        f, g = carry
        f = epsilon * (log_a - jax.scipy.special.logsumexp((g[None, :] - cost) / epsilon, axis=1))
        g = epsilon * (log_b - jax.scipy.special.logsumexp((f[:, None] - cost) / epsilon, axis=0))
        return (f, g), None

    (f, g), _ = jax.lax.scan(step, (jnp.zeros_like(a), jnp.zeros_like(b)), None, length=n_iter)
    plan = jnp.exp((f[:, None] + g[None, :] - cost) / epsilon)
    return jnp.sum(plan * cost)


def skill_objective(occupancies: jnp.ndarray, objective: str, cost: jnp.ndarray | None = None,
                    epsilon: float = 0.05, sinkhorn_iter: int = 200) -> jnp.ndarray:
    """MISL: I(S; Z) with uniform p(z). WSEP [reconstructed]: Σ_{i<j} W_ε(ρ_i, ρ_j) (Sinkhorn)."""
    if objective == "misl":
        return _entropy(occupancies.mean(axis=0)) - _entropy(occupancies).mean()
    if objective == "wsep":
        k = occupancies.shape[0]
        first, second = np.triu_indices(k, 1)
        pair_cost = jax.vmap(lambda a, b: _sinkhorn_cost(a, b, cost, epsilon, sinkhorn_iter))
        return jnp.sum(pair_cost(occupancies[first], occupancies[second]))
    raise ValueError(f"objective must be one of {', '.join(LEARNED_OBJECTIVES)}; got {objective!r}")


@dataclass(frozen=True)
class LearnedSkills:
    """Final occupancies of the learned skills and the objective trace (step, objective)."""

    occupancies: np.ndarray
    trace: pd.DataFrame


@partial(jax.jit, static_argnames=("objective", "steps", "record_every", "sinkhorn_iter", "learning_rate"))
def _train(logits, transitions, start, gamma, cost, epsilon, *, objective, steps, record_every,
           sinkhorn_iter, learning_rate):
    optimizer = optax.adam(learning_rate)

    def loss(theta):
        rho = occupancies_from_logits(theta, transitions, start, gamma)
        return -skill_objective(rho, objective, cost, epsilon, sinkhorn_iter)

    def update(carry, _):
        theta, state = carry
        value, grad = jax.value_and_grad(loss)(theta)
        change, state = optimizer.update(grad, state)
        return (optax.apply_updates(theta, change), state), -value

    def block(carry, _):
        carry, values = jax.lax.scan(update, carry, None, length=record_every)
        return carry, values[-1]

    (theta, _), trace = jax.lax.scan(block, (logits, optimizer.init(logits)), None,
                                     length=steps // record_every)
    return occupancies_from_logits(theta, transitions, start, gamma), trace


def train_skills(mdp: ControlledMarkovProcess, objective: str, n_skills: int, seed: int, *,
                 steps: int = 500, learning_rate: float = 0.1, cost: np.ndarray | None = None,
                 epsilon: float = 0.05, sinkhorn_iter: int = 200, init_scale: float = 1.0,
                 record_every: int = 25) -> LearnedSkills:
    """Train ``n_skills`` tabular skills with Adam on the exact, differentiable occupancies.

    Deterministic given ``seed`` (CPU float64). ``steps`` is rounded down to a multiple of
    ``record_every``; the trace holds the objective every ``record_every`` steps.
    """
    if objective not in LEARNED_OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(LEARNED_OBJECTIVES)}; got {objective!r}")
    if objective == "wsep" and cost is None:
        raise ValueError("objective='wsep' needs the ground cost")
    rng = np.random.default_rng(seed)
    logits = init_scale * rng.standard_normal((n_skills, mdp.n_states, mdp.n_actions))
    with jax.enable_x64(True):
        rho, trace = _train(
            jnp.asarray(logits), jnp.asarray(mdp.transitions), jnp.asarray(mdp.start), float(mdp.gamma),
            jnp.asarray(cost if cost is not None else np.zeros((mdp.n_states, mdp.n_states))),
            float(epsilon), objective=objective, steps=int(steps), record_every=int(record_every),
            sinkhorn_iter=int(sinkhorn_iter), learning_rate=float(learning_rate))
        rho, trace = np.asarray(rho), np.asarray(trace)
    steps_done = record_every * np.arange(1, len(trace) + 1)
    return LearnedSkills(rho, pd.DataFrame({"step": steps_done, "objective": trace}))


def _distinct_optima(mdp: ControlledMarkovProcess, rewards: np.ndarray) -> np.ndarray:
    """The distinct optimal occupancies (vertices, almost surely) of a batch of state rewards."""
    return np.unique(np.round(deterministic_occupancies(mdp, greedy_policies(mdp, rewards)), 12), axis=0)


def _frank_wolfe(mdp: ControlledMarkovProcess, point: np.ndarray, hull: np.ndarray, cost: np.ndarray,
                 max_steps: int) -> tuple[np.ndarray, float, int]:
    """Climb the hull distance from ``point``: value iteration on the LP's potential, while it improves."""
    value, potential = hull_distance(point, hull, cost, return_potential=True)
    calls = 0
    for _ in range(max_steps):
        candidate = deterministic_occupancies(mdp, greedy_policies(mdp, potential[None]))[0]
        calls += 1
        new_value, new_potential = hull_distance(candidate, hull, cost, return_potential=True)
        if new_value <= value + 1e-12:
            break
        point, value, potential = candidate, new_value, new_potential
    return point, value, calls


def _optimum(mdp: ControlledMarkovProcess, reward: np.ndarray) -> np.ndarray:
    return deterministic_occupancies(mdp, greedy_policies(mdp, reward[None]))[0]


def hull_escape(mdp: ControlledMarkovProcess, skills: np.ndarray, tol: float = 1e-9) -> np.ndarray | None:
    """An occupancy of ``mdp`` outside conv(``skills``), or None when the hull is the whole polytope [ours].

    The certificate needs no vertex list, only the RL oracle: conv(skills) = C iff no reward beats
    the hull's own maximum. It suffices to ask the oracle, for each direction orthogonal to the
    hull's affine span (both signs), and for each facet normal of the hull within that span (qhull),
    for its optimal occupancy, and to compare its value with the hull's.
    """
    skills = np.atleast_2d(np.asarray(skills, dtype=float))
    origin = skills[0]
    offsets = skills - origin
    _, singular, right = np.linalg.svd(offsets, full_matrices=True)
    rank = int((singular > 1e-10).sum())
    span = right[:rank]
    ones = np.ones((1, mdp.n_states)) / np.sqrt(mdp.n_states)
    _, _, complement = np.linalg.svd(np.vstack([span, ones]), full_matrices=True)
    normals = [sign * direction for direction in complement[rank + 1:] for sign in (1.0, -1.0)]
    limits = [0.0] * len(normals)
    if rank == 1:
        coordinate = offsets @ span[0]
        normals += [span[0], -span[0]]
        limits += [coordinate.max(), -coordinate.min()]
    elif rank >= 2:
        from scipy.spatial import ConvexHull

        hull = ConvexHull(offsets @ span.T)
        for equation in hull.equations:
            normals.append(equation[:-1] @ span)
            limits.append(-equation[-1])
    for normal, limit in zip(normals, limits, strict=True):
        candidate = _optimum(mdp, normal)
        if normal @ (candidate - origin) > limit + tol * max(1.0, np.abs(normal).sum()):
            return candidate
    return None


def learned_pwsep(mdp: ControlledMarkovProcess, cost: np.ndarray, reference: np.ndarray, max_skills: int,
                  *, seed: int = 0, n_probes: int = 256, n_starts: int = 4, max_steps: int = 50,
                  tol: float = 1e-9) -> tuple[np.ndarray, pd.DataFrame]:
    """PWSEP with an RL oracle instead of a vertex list [ours].

    Skill k maximises the hull distance d_k by Frank–Wolfe: from a start occupancy x, solve the hull
    LP, take its potential f as a state reward, let value iteration return the optimal vertex v for
    f, and move to v while d_k improves. The first skill's "hull" is the ``reference`` occupancy.

    Frank–Wolfe started inside the hull sees a zero potential and stops at once, so starts come
    from outside it: each step solves ``n_probes`` random rewards N(0, I) by value iteration (each
    optimum is a vertex), keeps the optima not yet among the skills, and climbs from the
    ``n_starts`` farthest of them (and from the reference). The loop stops when no probe optimum
    and no climb lies farther than ``tol`` from the hull; a vertex with a normal cone of
    probability p escapes one step's probes with probability (1 − p)^n_probes, so the stop is a
    probabilistic filter; before stopping, :func:`hull_escape` asks the same oracle for the
    optimum of each facet normal of the hull, which certifies that the hull is the whole polytope
    (or hands back a point outside it to climb from). Returns (skill occupancies, per-skill table).
    """
    rng = np.random.default_rng(seed)
    skills: list[np.ndarray] = []
    rows = []
    for index in range(max_skills):
        hull = np.array(skills) if skills else reference[None]
        probes = _distinct_optima(mdp, rng.standard_normal((n_probes, mdp.n_states)))
        if skills:
            known = {tuple(np.round(skill, 12)) for skill in skills}
            probes = np.array([p for p in probes if tuple(p) not in known]).reshape(-1, mdp.n_states)
        probe_values = np.array([hull_distance(p, hull, cost) for p in probes])
        outside = np.argsort(-probe_values, kind="stable")[:n_starts]
        starts = [reference] + [probes[i] for i in outside if probe_values[i] > tol]
        best_value, best_point, oracle_calls = -np.inf, None, len(probes)
        for point in starts:
            point, value, calls = _frank_wolfe(mdp, point, hull, cost, max_steps)
            oracle_calls += calls
            if value > best_value + 1e-12:
                best_value, best_point = value, point
        certified = False
        if best_value <= tol and skills:
            escape = hull_escape(mdp, hull, tol)
            certified = escape is None
            if escape is not None:
                best_point, best_value, calls = _frank_wolfe(mdp, escape, hull, cost, max_steps)
                oracle_calls += calls + 1
        rows.append({"skill": index + 1, "hull_distance": best_value, "oracle_calls": oracle_calls,
                     "probes_outside": int((probe_values > tol).sum()), "certified": certified})
        if best_value <= tol:
            break
        skills.append(best_point)
    return np.array(skills), pd.DataFrame(rows)

"""Information geometry of MISL: KL, the MISL capacity (Blahut–Arimoto), its centre, and LSEPIN.

Eysenbach et al. (2022) show that max_{p(z), ρ_z} I(S; Z) over skills' occupancies ρ_z ∈ C equals the
capacity of the channel z → s restricted to the vertices of C: the optimal skills sit on the vertices
at KL distance C* from the *MISL centre* q* = Σ_z p(z) ρ_z, and q* minimises max_v KL(v ‖ q) (the
minimax identity). Vertices strictly inside that KL ball are never MISL skills.

>>> vertices = np.array([[1.0, 0.0], [0.0, 1.0]])
>>> result = blahut_arimoto(vertices)
>>> round(result.capacity, 6), result.weights.round(3).tolist()
(0.693147, [0.5, 0.5])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "entropy",
    "kl_divergence",
    "kl_to",
    "mutual_information",
    "CapacityResult",
    "blahut_arimoto",
    "capacity_cvxpy",
    "indicator_information",
    "lsepin",
    "binary_entropy",
    "kl_sphere_on_simplex",
]


def entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) along the last axis, with 0 log 0 = 0."""
    p = np.asarray(p, dtype=float)
    logs = np.log(np.where(p > 0, p, 1.0))
    return -(p * logs).sum(axis=-1)


def binary_entropy(p: float | np.ndarray) -> np.ndarray:
    """H_b(p) in nats."""
    p = np.asarray(p, dtype=float)
    return entropy(np.stack([p, 1.0 - p], axis=-1))


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p ‖ q) in nats; ∞ when p puts mass where q has none (never clipped).

    >>> kl_divergence(np.array([1.0, 0.0]), np.array([0.5, 0.5])).round(6)
    np.float64(0.693147)
    """
    return kl_to(np.asarray(p, dtype=float)[None], q)[0]


def kl_to(points: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(points_i ‖ q) for every row (vectorised; ∞ on support mismatch)."""
    points = np.asarray(points, dtype=float)
    q = np.asarray(q, dtype=float)
    positive = points > 0
    if np.any(positive & (q[None, :] <= 0)):
        bad = np.any(positive & (q[None, :] <= 0), axis=1)
    else:
        bad = np.zeros(len(points), dtype=bool)
    safe_q = np.where(q > 0, q, 1.0)
    ratio = np.where(positive, points / safe_q[None, :], 1.0)
    out = (points * np.log(ratio)).sum(axis=1)
    out[bad] = np.inf
    return out


def mutual_information(skills: np.ndarray, weights: np.ndarray | None = None) -> float:
    """I(S; Z) = Σ_z p(z) KL(ρ_z ‖ Σ p ρ) for skills ``skills[z, s]`` (uniform p by default).

    >>> round(mutual_information(np.eye(3)), 6)  # log 3
    1.098612
    """
    skills = np.asarray(skills, dtype=float)
    weights = np.full(len(skills), 1.0 / len(skills)) if weights is None else np.asarray(weights, float)
    centre = weights @ skills
    used = weights > 0  # a skill of weight 0 adds nothing (and may have KL = ∞ to the centre)
    return float(weights[used] @ kl_to(skills[used], centre))


@dataclass(frozen=True)
class CapacityResult:
    """MISL's optimum over a vertex set: capacity C*, skill weights p*, centre q* and every KL(v ‖ q*)."""

    capacity: float
    weights: np.ndarray
    centre: np.ndarray
    kl_to_centre: np.ndarray
    gap: float
    iterations: int

    def on_sphere(self, tol: float = 1e-6) -> np.ndarray:
        """Vertices at KL = C* (within ``tol``): where MISL's skills can sit."""
        return self.kl_to_centre >= self.capacity - tol

    def support(self, threshold: float = 1e-6) -> np.ndarray:
        """Vertices MISL actually uses (p* > threshold)."""
        return self.weights > threshold


def blahut_arimoto(vertices: np.ndarray, tol: float = 1e-10, max_iter: int = 1_000_000) -> CapacityResult:
    """Channel capacity of z → s over the rows of ``vertices`` (Blahut–Arimoto, in nats).

    Stops when the duality gap max_v KL(v ‖ q) − Σ_z p_z KL(v_z ‖ q) is below ``tol``; the gap bounds
    the distance of both the lower (Σ p D) and the upper (max D) bound to C*.
    """
    vertices = np.asarray(vertices, dtype=float)
    weights = np.full(len(vertices), 1.0 / len(vertices))
    gap = np.inf
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - iteration is reported
        centre = weights @ vertices
        divergences = kl_to(vertices, centre)
        lower = float(weights @ divergences)
        upper = float(divergences.max())
        gap = upper - lower
        if gap < tol:
            break
        weights = weights * np.exp(divergences - upper)
        weights /= weights.sum()
    centre = weights @ vertices
    divergences = kl_to(vertices, centre)
    return CapacityResult(float(weights @ divergences), weights, centre, divergences, gap, iteration)


def capacity_cvxpy(vertices: np.ndarray) -> tuple[float, np.ndarray]:
    """The same capacity as a concave program: max_p H(Vᵀp) − Σ_z p_z H(v_z) (cvxpy, exponential cone).

    An independent reference for :func:`blahut_arimoto`; returns (capacity, weights).
    """
    import cvxpy as cp

    vertices = np.asarray(vertices, dtype=float)
    p = cp.Variable(len(vertices), nonneg=True)
    objective = cp.Maximize(cp.sum(cp.entr(vertices.T @ p)) - entropy(vertices) @ p)
    problem = cp.Problem(objective, [cp.sum(p) == 1])
    problem.solve(solver=cp.CLARABEL)
    return float(problem.value), np.asarray(p.value)


def indicator_information(skills: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """I(S; 1_z) for every skill z, where 1_z is the indicator of Z = z.

    I(S; 1_z) = H(ρ̄) − p_z H(ρ_z) − (1 − p_z) H(ρ_{−z}), ρ_{−z} the mixture of the other skills.
    Bounds: 0 ≤ I(S; 1_z) ≤ H_b(p_z), with equality on the right for disjoint supports.
    """
    skills = np.asarray(skills, dtype=float)
    weights = np.full(len(skills), 1.0 / len(skills)) if weights is None else np.asarray(weights, float)
    mixture = weights @ skills
    rest_weight = 1.0 - weights
    safe = np.where(rest_weight > 0, rest_weight, 1.0)
    others = (mixture[None, :] - weights[:, None] * skills) / safe[:, None]
    others = np.clip(others, 0.0, None)
    return entropy(mixture) - weights * entropy(skills) - rest_weight * entropy(others)


def lsepin(skills: np.ndarray, weights: np.ndarray | None = None, reduce: str = "min") -> float:
    """LSEPIN [reconstructed]: the least informativeness-and-separability of any skill, min_z I(S; 1_z).

    Our reading of the paper's disentanglement metric from its abstract: a skill set is as
    disentangled as its least separable skill. ``reduce="mean"`` averages over skills instead
    (a variant kept for comparison).

    >>> round(lsepin(np.eye(2)), 6)  # two disjoint skills: H_b(1/2)
    0.693147
    """
    values = indicator_information(skills, weights)
    if reduce == "min":
        return float(values.min())
    if reduce == "mean":
        return float(values.mean())
    raise ValueError(f"reduce must be 'min' or 'mean', got {reduce!r}")


def kl_sphere_on_simplex(centre: np.ndarray, radius: float, n_points: int = 361) -> np.ndarray:
    """Points x of the 3-simplex with KL(x ‖ centre) = radius, one per direction (for a ternary plot).

    Along each ray from ``centre`` KL grows monotonically (it is convex and 0 at the centre), so a
    bisection finds the crossing; rays that leave the simplex first end on its boundary.
    """
    centre = np.asarray(centre, dtype=float)
    basis = np.array([[1.0, -1.0, 0.0], [1.0, 1.0, -2.0]]) / np.array([[np.sqrt(2)], [np.sqrt(6)]])
    out = []
    for angle in np.linspace(0.0, 2 * np.pi, n_points):
        direction = np.cos(angle) * basis[0] + np.sin(angle) * basis[1]
        negative = direction < 0
        edge = np.min(-centre[negative] / direction[negative]) if negative.any() else 1.0
        low, high = 0.0, edge
        if kl_divergence(centre + high * direction, centre) > radius:
            for _ in range(60):
                middle = 0.5 * (low + high)
                if kl_divergence(centre + middle * direction, centre) > radius:
                    high = middle
                else:
                    low = middle
        out.append(np.clip(centre + high * direction, 0.0, 1.0))
    return np.array(out)

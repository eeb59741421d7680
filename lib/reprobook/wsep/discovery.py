"""Skill sets on the vertex set: MISL-k, WSEP (exhaustive and local search), PWSEP (hull LPs).

All three pick skills among the polytope's vertices; each function returns vertex indices.

- **MISL-k** [ours]: k skills with uniform p(z) maximising I(S; Z) (a multiset: skills may coincide).
- **WSEP** [reconstructed]: k skills maximising the sum of pairwise Wasserstein distances
  Σ_{i<j} W(ρ_i, ρ_j), either as k different vertices or with skills allowed to coincide.
- **Weighted WSEP** [reconstructed variant]: skill weights p(z) as well as skills, maximising
  Σ_{i<j} p_i p_j W(ρ_i, ρ_j) over the simplex (the analogue of MISL's optimal p(z)).
- **PWSEP** [reconstructed]: sequentially, the vertex farthest in W from the convex hull of the
  earlier skills, d_k(ρ) = min_λ W(ρ, Σ λ_i ρ_i), one LP in (transport plan, λ) per evaluation.

>>> W = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0.0]])
>>> wsep_exhaustive(W, 2).tolist()
[0, 2]
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, hstack, kron, vstack
from scipy.sparse import eye as sparse_eye

from reprobook.wsep.information import entropy, mutual_information
from reprobook.wsep.transport import wasserstein

__all__ = [
    "WSEP_SKILLS",
    "PWSEP_FIRST",
    "wsep_value",
    "wsep_exhaustive",
    "wsep_local_search",
    "WeightedWsepResult",
    "weighted_wsep",
    "weighted_wsep_value",
    "misl_k_local_search",
    "hull_distance",
    "PwsepResult",
    "pwsep",
    "n_subsets",
]

WSEP_SKILLS = ("multiset", "distinct")
PWSEP_FIRST = ("farthest_from_uniform", "lowest_index")


def wsep_value(indices: np.ndarray, distances: np.ndarray) -> float:
    """Σ_{i<j} W(ρ_{indices_i}, ρ_{indices_j}) from a precomputed W matrix (duplicates allowed)."""
    indices = np.asarray(indices)
    return float(distances[np.ix_(indices, indices)].sum() / 2.0)


def wsep_exhaustive(distances: np.ndarray, k: int, chunk: int = 200_000) -> np.ndarray:
    """The k-subset of vertices with the largest Σ_{i<j} W (all C(n, k) subsets; ties → first).

    Vectorised over chunks of subsets; use when C(n, k) is moderate (see :func:`n_subsets`).
    """
    n = len(distances)
    if not 1 <= k <= n:
        raise ValueError(f"k must lie in [1, {n}], got {k}")
    pairs = np.array(list(itertools.combinations(range(k), 2)), dtype=int).reshape(-1, 2)
    combos = itertools.combinations(range(n), k)
    best_value, best = -np.inf, None
    while True:
        block = np.array(list(itertools.islice(combos, chunk)), dtype=int).reshape(-1, k)
        if len(block) == 0:
            break
        values = distances[block[:, pairs[:, 0]], block[:, pairs[:, 1]]].sum(axis=1) if len(pairs) else \
            np.zeros(len(block))
        index = int(np.argmax(values))
        if values[index] > best_value + 1e-12:
            best_value, best = float(values[index]), block[index]
    return np.asarray(best)


def _count_local_search(gains, n: int, counts: np.ndarray, distinct: bool, max_rounds: int = 100_000
                        ) -> np.ndarray:
    """Best-improvement moves of one skill from vertex a to vertex b on skill counts ``counts[n]``.

    ``gains(counts)`` returns the (n, n) matrix of objective changes of each move a → b.
    """
    counts = counts.copy()
    for _ in range(max_rounds):
        gain = gains(counts)
        gain[counts == 0, :] = -np.inf
        if distinct:
            gain[:, counts > 0] = -np.inf
        np.fill_diagonal(gain, -np.inf)
        source, target = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if not gain[source, target] > 1e-12:
            break
        counts[source] -= 1
        counts[target] += 1
    return counts


def _as_indices(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def _starts(n: int, k: int, first: np.ndarray, restarts: int, seed: int, distinct: bool) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    starts = [np.bincount(first, minlength=n)]
    for _ in range(restarts):
        pick = rng.choice(n, size=k, replace=not distinct)
        starts.append(np.bincount(pick, minlength=n))
    return starts


def wsep_local_search(distances: np.ndarray, k: int, *, distinct: bool = False, restarts: int = 16,
                      seed: int = 0) -> np.ndarray:
    """WSEP [reconstructed] by local search: max Σ_{i<j} W(ρ_i, ρ_j) over k skills on vertices.

    With ``distinct=False`` skills may share a vertex (a multiset, as a skill learner would allow);
    with ``distinct=True`` the k skills are k different vertices. The objective on counts n is
    ½ nᵀWn, and moving one skill from a to b changes it by (Wn)_b − (Wn)_a − W_ab. Starts from a
    farthest-point greedy set and ``restarts`` random ones; returns sorted vertex indices.

    >>> W = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0.0]])
    >>> wsep_local_search(W, 3).tolist(), wsep_local_search(W, 3, distinct=True).tolist()
    ([0, 0, 2], [0, 1, 2])
    """
    distances = np.asarray(distances, dtype=float)
    n = len(distances)
    if k < 1 or (distinct and k > n):
        raise ValueError(f"k must lie in [1, {n}] for distinct skills, got {k}")
    greedy = [int(np.argmax(distances.sum(axis=1)))]
    while len(greedy) < k:
        scores = distances[:, greedy].sum(axis=1)
        if distinct:
            scores[greedy] = -np.inf
        greedy.append(int(np.argmax(scores)))

    def gains(counts: np.ndarray) -> np.ndarray:
        pull = distances @ counts
        return pull[None, :] - pull[:, None] - distances

    best, best_value = None, -np.inf
    for start in _starts(n, k, np.array(greedy), restarts, seed, distinct):
        counts = _count_local_search(gains, n, start, distinct)
        value = 0.5 * counts @ distances @ counts
        if value > best_value + 1e-12:
            best, best_value = counts, value
    return _as_indices(best)


def weighted_wsep_value(weights: np.ndarray, distances: np.ndarray) -> float:
    """Σ_{i<j} p_i p_j W_ij = ½ pᵀWp for skill weights ``weights`` over the rows of ``distances``."""
    weights = np.asarray(weights, dtype=float)
    return float(0.5 * weights @ np.asarray(distances, dtype=float) @ weights)


@dataclass(frozen=True)
class WeightedWsepResult:
    """Weighted WSEP's optimum: weights p* over the vertices, the value ½ p*ᵀWp*, and the KKT gap
    max_i (Wp*)_i − p*ᵀWp* (≤ 0 up to round-off at a KKT point: no unused vertex would pay to add)."""

    weights: np.ndarray
    value: float
    gap: float
    iterations: int

    def support(self, threshold: float = 1e-6) -> np.ndarray:
        """Vertices the weighted optimum uses (p* > threshold)."""
        return self.weights > threshold


def _stationary_weights(distances: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Solve W_SS p = λ1, 1ᵀp = 1 on the support S (least squares when singular); p is 0 off S."""
    size = len(support)
    system = np.zeros((size + 1, size + 1))
    system[:size, :size] = distances[np.ix_(support, support)]
    system[:size, size] = -1.0
    system[size, :size] = 1.0
    solution = np.linalg.lstsq(system, np.r_[np.zeros(size), 1.0], rcond=None)[0]
    weights = np.zeros(len(distances))
    weights[support] = solution[:size]
    return weights


def _polish_on_support(distances: np.ndarray, weights: np.ndarray, threshold: float = 1e-3,
                       max_moves: int = 200) -> np.ndarray:
    """Active-set polish of an approximate maximiser: drop the most negative weight, add the vertex
    whose pull (Wp)_i exceeds pᵀWp most, until p ≥ 0 and no vertex off the support would gain."""
    support = set(np.flatnonzero(weights > threshold * weights.max()).tolist())
    best = weights
    for _ in range(max_moves):
        candidate = _stationary_weights(distances, np.array(sorted(support)))
        if candidate.min() < -1e-13:
            support.discard(int(np.argmin(candidate)))
            continue
        candidate = np.clip(candidate, 0.0, None)
        candidate /= candidate.sum()
        if weighted_wsep_value(candidate, distances) >= weighted_wsep_value(best, distances) - 1e-15:
            best = candidate
        pull = distances @ candidate
        outside = [i for i in range(len(distances)) if i not in support]
        if not outside or pull[outside].max() <= candidate @ pull + 1e-13:
            break
        support.add(outside[int(np.argmax(pull[outside]))])
    return best


def weighted_wsep(distances: np.ndarray, *, restarts: int = 8, seed: int = 0, iterations: int = 1_000
                  ) -> WeightedWsepResult:
    """Weighted WSEP [reconstructed variant]: max_p Σ_{i<j} p_i p_j W_ij over the probability simplex.

    The brief's variant of WSEP weights each pair of skills by p(z_i) p(z_j) and, like MISL, lets the
    skill distribution be optimised too. A maximiser exists with every skill on a vertex (the objective
    is convex in each skill's occupancy), so we optimise weights over the vertex set. Ascent by the
    replicator (Baum–Eagon) map p_i ← p_i (Wp)_i / pᵀWp, which never decreases pᵀWp for a symmetric
    non-negative W, run for ``iterations`` steps from the uniform weights and ``restarts`` Dirichlet
    draws at once; each end point is then polished by an active-set solve of the stationarity system
    on its support. The objective need not be concave, so the best end point is
    returned with its KKT gap max_i (Wp)_i − pᵀWp.

    >>> W = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0.0]])
    >>> weighted_wsep(W).weights.round(6).tolist()
    [0.5, 0.0, 0.5]
    """
    distances = np.asarray(distances, dtype=float)
    n = len(distances)
    if n == 1 or not np.any(distances > 0):
        weights = np.full(n, 1.0 / n)
        return WeightedWsepResult(weights, weighted_wsep_value(weights, distances), 0.0, 0)
    rng = np.random.default_rng(seed)
    weights = np.vstack([np.full(n, 1.0 / n), rng.dirichlet(np.ones(n), size=restarts)])
    for _ in range(iterations):
        pull = weights @ distances
        weights = weights * pull / (weights * pull).sum(axis=1, keepdims=True)
    candidates = [_polish_on_support(distances, row) for row in weights]
    values = [weighted_wsep_value(row, distances) for row in candidates]
    best = candidates[int(np.argmax(values))]
    pull = distances @ best
    return WeightedWsepResult(best, float(max(values)), float(pull.max() - best @ pull), iterations)


def misl_k_local_search(points: np.ndarray, k: int, *, distinct: bool = False, restarts: int = 8,
                        seed: int = 0) -> np.ndarray:
    """MISL with k equally likely skills [ours]: local search for max I(S; Z) over skills on vertices.

    I(S; Z) is convex in each skill's occupancy, so optimal skills are vertices; with uniform p(z)
    MISL may put several skills on one vertex (``distinct=False``), so count distinct indices.
    I(S; Z) = H(ρ̄) − (1/k) Σ_z H(ρ_z) with ρ̄ the skills' mean.
    """
    points = np.asarray(points, dtype=float)
    n = len(points)
    own = entropy(points)
    steps = (points[None, :, :] - points[:, None, :]) / k  # moving a skill a → b shifts ρ̄ by this

    def gains(counts: np.ndarray) -> np.ndarray:
        mixture = counts @ points / k
        moved = np.clip(mixture[None, None, :] + steps, 0.0, None)
        return entropy(moved) - entropy(mixture) - (own[None, :] - own[:, None]) / k

    rng = np.random.default_rng(seed)
    first = rng.choice(n, size=k, replace=not distinct)
    best, best_value = None, -np.inf
    for start in _starts(n, k, first, restarts, seed + 1, distinct):
        counts = _count_local_search(gains, n, start, distinct)
        value = mutual_information(points[_as_indices(counts)])
        if value > best_value + 1e-12:
            best, best_value = counts, value
    return _as_indices(best)


def _hull_lp(dim: int, n_hull: int) -> tuple[csr_matrix, np.ndarray]:
    # variables: Γ (dim × dim, row-major) then λ (n_hull); the λ block of A_eq is filled per call
    row_sums = kron(sparse_eye(dim), np.ones((1, dim)))
    col_sums = kron(np.ones((1, dim)), sparse_eye(dim))
    a_gamma = vstack([row_sums, col_sums, csr_matrix((1, dim * dim))])
    return csr_matrix(a_gamma), np.zeros(n_hull)


def hull_distance(point: np.ndarray, hull: np.ndarray, cost: np.ndarray,
                  return_potential: bool = False) -> float | tuple[float, np.ndarray]:
    """d(ρ) = min_{λ ∈ Δ} W(ρ, Σ_i λ_i hull_i): one LP over a transport plan Γ and weights λ.

    With ``return_potential`` also returns the dual potential f of the constraint Γ1 = ρ, a
    subgradient of d at ρ (d is convex in ρ), used as a reward by the learned PWSEP.

    >>> cost = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> round(hull_distance(np.array([0.0, 1.0]), np.array([[1.0, 0.0]]), cost), 9)
    1.0
    """
    point = np.asarray(point, dtype=float)
    hull = np.atleast_2d(np.asarray(hull, dtype=float))
    dim, n_hull = len(point), len(hull)
    a_gamma, _ = _hull_lp(dim, n_hull)
    a_lambda = csr_matrix(np.vstack([np.zeros((dim, n_hull)), -hull.T, np.ones((1, n_hull))]))
    a_eq = hstack([a_gamma, a_lambda], format="csr")
    b_eq = np.r_[point, np.zeros(dim), 1.0]
    objective = np.r_[np.asarray(cost, dtype=float).ravel(), np.zeros(n_hull)]
    result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if result.status != 0:
        raise RuntimeError(f"hull-distance LP failed: {result.message}")
    value = max(float(result.fun), 0.0)
    if return_potential:
        return value, np.asarray(result.eqlin.marginals[:dim])
    return value


@dataclass(frozen=True)
class PwsepResult:
    """PWSEP's skills in order, the hull distance each had when chosen, and the LPs solved."""

    order: np.ndarray
    distances: np.ndarray
    n_lps: int
    final_max_distance: float


def pwsep(points: np.ndarray, cost: np.ndarray, *, first: str = "farthest_from_uniform",
          reference: np.ndarray | None = None, tol: float = 1e-9, max_skills: int | None = None) -> PwsepResult:
    """PWSEP [reconstructed]: add the vertex farthest from the hull of the skills so far, until 0.

    d_k is convex in ρ, so its maximum over C is at a vertex: we scan the vertices, lazily.
    Pruning [derived]: d_k(v) ≤ d_{k−1}(v) (the hull only grows) and d_k(v) ≤ min_i W(v, ρ_i);
    candidates are evaluated in decreasing order of that bound and the scan stops once the bound
    falls below the best exact value. The loop ends when every vertex is within ``tol`` of the hull.

    ``first``: ``"farthest_from_uniform"`` [ours] takes the vertex farthest in W from ``reference``
    (the uniform-random policy's occupancy); ``"lowest_index"`` takes vertex 0.
    """
    points = np.asarray(points, dtype=float)
    n = len(points)
    if first == "farthest_from_uniform":
        if reference is None:
            raise ValueError("first='farthest_from_uniform' needs the reference occupancy")
        from_reference = np.array([wasserstein(x, reference, cost) for x in points])
        start = int(np.flatnonzero(from_reference >= from_reference.max() - 1e-12)[0])
    elif first == "lowest_index":
        start = 0
    else:
        raise ValueError(f"first must be one of {', '.join(PWSEP_FIRST)}; got {first!r}")
    order = [start]
    chosen_distances = [np.inf]
    bound = np.array([wasserstein(x, points[start], cost) for x in points])
    bound[start] = 0.0
    n_lps = 0
    limit = n if max_skills is None else max_skills
    best = np.inf
    while len(order) < limit:
        hull = points[order]
        best, best_index = -np.inf, -1
        for index in np.argsort(-bound, kind="stable"):
            if bound[index] <= best + 1e-12 or bound[index] <= tol:
                break
            exact = hull_distance(points[index], hull, cost)
            n_lps += 1
            bound[index] = exact
            if exact > best + 1e-12:
                best, best_index = exact, int(index)
        if best_index < 0 or best <= tol:
            best = max(best, 0.0)
            break
        order.append(best_index)
        chosen_distances.append(best)
        newest = points[best_index]
        bound = np.minimum(bound, [wasserstein(x, newest, cost) for x in points])
        bound[best_index] = 0.0
    final = float(max(best, 0.0)) if len(order) < limit else float(
        max((hull_distance(x, points[order], cost) for x in points), default=0.0))
    return PwsepResult(np.array(order), np.array(chosen_distances), n_lps, final)


def n_subsets(n: int, k: int) -> int:
    """C(n, k)."""
    return math.comb(n, k)

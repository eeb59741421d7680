"""Discounted state occupancies: one policy, many deterministic policies at once, all lassos.

Convention [reconstructed, following Eysenbach et al. 2022]: the normalised discounted state
occupancy ρ^π(s) = (1 − γ) Σ_t γ^t P(s_t = s | π), a distribution over states; it solves
(I − γ P_πᵀ) ρ = (1 − γ) μ₀.

>>> from reprobook.wsep.mdp import three_state_example
>>> mdp = three_state_example()
>>> occupancy(mdp, np.eye(3)[[1, 0, 0]]).round(4).tolist()
[0.5263, 0.4737, 0.0]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from reprobook.wsep.mdp import ControlledMarkovProcess

__all__ = [
    "occupancy",
    "deterministic_occupancies",
    "all_deterministic_policies",
    "brute_force_occupancies",
    "lasso_occupancies",
    "unique_rows",
    "greedy_policies",
]


def occupancy(mdp: ControlledMarkovProcess, policy: np.ndarray) -> np.ndarray:
    """ρ^π for a stochastic policy ``policy[s, a]`` (rows sum to 1), by one linear solve."""
    policy = np.asarray(policy, dtype=float)
    p_pi = np.einsum("sa,sat->st", policy, mdp.transitions)
    system = np.eye(mdp.n_states) - mdp.gamma * p_pi.T
    return np.linalg.solve(system, (1.0 - mdp.gamma) * mdp.start)


def deterministic_occupancies(mdp: ControlledMarkovProcess, actions: np.ndarray) -> np.ndarray:
    """ρ^π for a batch of deterministic policies ``actions[n, s]`` (one batched LU solve).

    >>> from reprobook.wsep.mdp import gridworld
    >>> grid = gridworld(2, 3)
    >>> deterministic_occupancies(grid, np.zeros((2, 6), dtype=int)).sum(axis=1).round(12).tolist()
    [1.0, 1.0]
    """
    actions = np.asarray(actions)
    n_states = mdp.n_states
    # P_π[n, s, :] = P[s, π_n(s), :]; we need (I − γ P_πᵀ), i.e. the transpose per policy
    p_pi = mdp.transitions[np.arange(n_states)[None, :], actions]  # (n, s, s')
    systems = np.eye(n_states)[None] - mdp.gamma * np.swapaxes(p_pi, 1, 2)
    rhs = np.broadcast_to((1.0 - mdp.gamma) * mdp.start, (actions.shape[0], n_states))
    return np.linalg.solve(systems, rhs[..., None])[..., 0]


def all_deterministic_policies(mdp: ControlledMarkovProcess, chunk: int = 100_000) -> Iterator[np.ndarray]:
    """Every deterministic policy (A^S of them), in chunks of ``actions[n, s]`` (mixed-radix order)."""
    n_states, n_actions = mdp.n_states, mdp.n_actions
    total = n_actions**n_states
    powers = n_actions ** np.arange(n_states - 1, -1, -1)
    for first in range(0, total, chunk):
        codes = np.arange(first, min(first + chunk, total), dtype=np.int64)
        yield (codes[:, None] // powers[None, :]) % n_actions


def unique_rows(points: np.ndarray, decimals: int = 10) -> np.ndarray:
    """Distinct rows after rounding to ``decimals`` (sorted lexicographically)."""
    rounded = np.round(np.asarray(points, dtype=float), decimals) + 0.0  # + 0.0 folds -0.0 into 0.0
    return np.unique(rounded, axis=0)


def brute_force_occupancies(mdp: ControlledMarkovProcess, chunk: int = 100_000,
                            progress: bool = False) -> tuple[np.ndarray, int]:
    """Distinct occupancies of all A^S deterministic policies; returns (points, number of policies).

    >>> from reprobook.wsep.mdp import three_state_example
    >>> points, n = brute_force_occupancies(three_state_example())
    >>> len(points), n
    (4, 27)
    """
    found = []
    total = mdp.n_actions**mdp.n_states
    chunks = all_deterministic_policies(mdp, chunk)
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, total=-(-total // chunk), desc=f"{mdp.name}: all policies", leave=False)
    for actions in chunks:
        found.append(unique_rows(deterministic_occupancies(mdp, actions)))
    return unique_rows(np.concatenate(found)), total


def lasso_occupancies(mdp: ControlledMarkovProcess) -> np.ndarray:
    """Distinct deterministic-policy occupancies of a deterministic process with one start state.

    A deterministic policy in a deterministic process visits a simple path s₀ … s_m and then loops
    back to some s_j (j ≤ m) forever: a lasso. Its occupancy depends only on the lasso, so we
    enumerate simple paths by depth-first search instead of A^S policies [derived]:
    ρ(s_i) = (1 − γ) γ^i for i < j and (1 − γ) γ^i / (1 − γ^L) on the cycle of length L = m − j + 1.

    >>> from reprobook.wsep.mdp import gridworld
    >>> len(lasso_occupancies(gridworld(2, 3)))
    43
    """
    successors = [sorted(set(row.tolist())) for row in mdp.next_state]
    gamma, n_states = mdp.gamma, mdp.n_states
    rows: list[np.ndarray] = []
    path = [mdp.start_state]
    position = {mdp.start_state: 0}
    discounts = (1.0 - gamma) * gamma ** np.arange(n_states)

    def close_loops() -> None:
        m = len(path) - 1
        for target in successors[path[-1]]:
            j = position.get(target)
            if j is None:
                continue
            rho = np.zeros(n_states)
            rho[path[:j]] = discounts[:j]
            rho[path[j:]] = discounts[j:m + 1] / (1.0 - gamma ** (m - j + 1))
            rows.append(rho)

    def extend() -> None:
        close_loops()
        for target in successors[path[-1]]:
            if target in position:
                continue
            position[target] = len(path)
            path.append(target)
            extend()
            path.pop()
            del position[target]

    extend()
    return unique_rows(np.array(rows))


def greedy_policies(mdp: ControlledMarkovProcess, rewards: np.ndarray, tol: float = 1e-12,
                    max_iter: int = 10_000) -> np.ndarray:
    """Optimal deterministic policies ``actions[n, s]`` for state rewards ``rewards[n, s]`` (batched VI).

    The objective r·ρ^π is (1 − γ) times the discounted return of r(s_t); value iteration on
    V = r + γ max_a P V gives its optimal greedy policy. Ties go to the lowest action index.
    """
    rewards = np.atleast_2d(np.asarray(rewards, dtype=float))
    values = rewards / (1.0 - mdp.gamma)
    for _ in range(max_iter):
        q = rewards[:, :, None] + mdp.gamma * np.einsum("sat,nt->nsa", mdp.transitions, values)
        new = q.max(axis=2)
        if np.max(np.abs(new - values)) < tol:
            values = new
            break
        values = new
    q = rewards[:, :, None] + mdp.gamma * np.einsum("sat,nt->nsa", mdp.transitions, values)
    return q.argmax(axis=2)


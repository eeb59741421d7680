"""Tabular controlled Markov processes: gridworlds with walls, a 3-state example, a corridor, random ones.

A controlled Markov process (an MDP without reward) is a transition tensor ``P[s, a, s']``, a start
distribution and a discount. The skill-discovery geometry of the chapter lives in the set of
discounted state occupancies such a process allows (Eysenbach et al. 2022; Yang et al. 2024).

>>> mdp = gridworld(2, 3)
>>> mdp.n_states, mdp.n_actions, mdp.is_deterministic
(6, 5, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ControlledMarkovProcess",
    "gridworld",
    "three_state_example",
    "corridor",
    "random_process",
    "occupancy_grid",
    "GRID_ACTIONS",
]

# stay, up, down, left, right: (row, col) offsets
GRID_ACTIONS: tuple[tuple[int, int], ...] = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))


@dataclass(frozen=True, eq=False)
class ControlledMarkovProcess:
    """A reward-free tabular MDP.

    ``transitions[s, a, s']`` is P(s' | s, a); ``start`` the initial state distribution; ``gamma`` the
    discount. ``coords`` gives each state's (row, col) on a grid (or (0, i) otherwise) and ``walls``
    the blocked cells of a grid (empty elsewhere); ``name`` labels tables.
    """

    transitions: np.ndarray
    start: np.ndarray
    gamma: float
    coords: np.ndarray
    name: str = "mdp"
    shape: tuple[int, int] = (1, 1)
    walls: tuple[tuple[int, int], ...] = field(default=())

    def __post_init__(self) -> None:
        transitions = np.asarray(self.transitions, dtype=float)
        if transitions.ndim != 3 or transitions.shape[0] != transitions.shape[2]:
            raise ValueError(f"transitions must have shape (S, A, S), got {transitions.shape}")
        if not np.allclose(transitions.sum(axis=2), 1.0):
            raise ValueError("every transitions[s, a, :] must sum to 1")
        if not 0.0 < self.gamma < 1.0:
            raise ValueError(f"gamma must lie in (0, 1), got {self.gamma}")
        start = np.asarray(self.start, dtype=float)
        if start.shape != (transitions.shape[0],) or not np.isclose(start.sum(), 1.0):
            raise ValueError("start must be a distribution over the states")

    @property
    def n_states(self) -> int:
        return int(self.transitions.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.transitions.shape[1])

    @property
    def is_deterministic(self) -> bool:
        return bool(np.all((self.transitions == 0.0) | (self.transitions == 1.0)))

    @property
    def next_state(self) -> np.ndarray:
        """``next_state[s, a]``, the successor of a deterministic process (raises otherwise)."""
        if not self.is_deterministic:
            raise ValueError(f"{self.name} is not deterministic")
        return self.transitions.argmax(axis=2)

    @property
    def start_state(self) -> int:
        """The single start state (raises when the start distribution is spread)."""
        if np.count_nonzero(self.start) != 1:
            raise ValueError(f"{self.name} has no single start state")
        return int(np.argmax(self.start))


def _from_next_state(next_state: np.ndarray) -> np.ndarray:
    n_states, n_actions = next_state.shape
    transitions = np.zeros((n_states, n_actions, n_states))
    transitions[np.arange(n_states)[:, None], np.arange(n_actions)[None, :], next_state] = 1.0
    return transitions


def gridworld(
    rows: int,
    cols: int,
    *,
    walls: Sequence[tuple[int, int]] = (),
    start: tuple[int, int] = (0, 0),
    gamma: float = 0.9,
    name: str | None = None,
) -> ControlledMarkovProcess:
    """A deterministic grid with 5 actions (stay, up, down, left, right).

    Moves into the border or into a wall cell leave the agent in place; wall cells are not states.
    States are the free cells in row-major order.

    >>> grid = gridworld(3, 4, walls=[(0, 2), (2, 2)])
    >>> grid.n_states, grid.start_state
    (10, 0)
    """
    blocked = {tuple(map(int, cell)) for cell in walls}
    cells = [(r, c) for r in range(rows) for c in range(cols) if (r, c) not in blocked]
    index = {cell: i for i, cell in enumerate(cells)}
    if tuple(start) not in index:
        raise ValueError(f"start cell {start} is a wall or outside the {rows}×{cols} grid")
    next_state = np.empty((len(cells), len(GRID_ACTIONS)), dtype=int)
    for i, (r, c) in enumerate(cells):
        for a, (dr, dc) in enumerate(GRID_ACTIONS):
            target = (r + dr, c + dc)
            next_state[i, a] = index.get(target, i)
    start_dist = np.zeros(len(cells))
    start_dist[index[tuple(start)]] = 1.0
    label = name or (f"{rows}×{cols}" + (" walled" if blocked else ""))
    return ControlledMarkovProcess(_from_next_state(next_state), start_dist, gamma,
                                   np.array(cells, dtype=float), label, (rows, cols),
                                   tuple(sorted(blocked)))


def three_state_example(gamma: float = 0.9) -> ControlledMarkovProcess:
    """The chapter's 3-state, 3-action deterministic process whose polytope has an interior vertex.

    From state 0 the actions go to 0, 1, 2; from 1 all go to 0; from 2 they go to 0, 0, 1. Start 0.
    Four vertices; one lies strictly inside MISL's KL ball [ours].

    >>> three_state_example().next_state.tolist()
    [[0, 1, 2], [0, 0, 0], [0, 0, 1]]
    """
    next_state = np.array([[0, 1, 2], [0, 0, 0], [0, 0, 1]])
    return ControlledMarkovProcess(_from_next_state(next_state), np.array([1.0, 0.0, 0.0]), gamma,
                                   np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 2.0]]), "3-state", (1, 3))


def corridor(length: int, gamma: float = 0.9) -> ControlledMarkovProcess:
    """A 1×``length`` grid (stay, left, right only), start at the left end.

    >>> corridor(4).n_actions
    3
    """
    grid = gridworld(1, length, gamma=gamma, name=f"1×{length} corridor")
    keep = [0, 3, 4]  # up/down are stays on a single row
    return ControlledMarkovProcess(grid.transitions[:, keep, :], grid.start, gamma, grid.coords,
                                   grid.name, grid.shape)


def random_process(n_states: int, n_actions: int, seed: int, *, deterministic: bool = True,
                   concentration: float = 0.5, gamma: float = 0.9) -> ControlledMarkovProcess:
    """A random process: each (s, a) leads to a uniformly drawn next state (``deterministic``), or
    to a Dirichlet(``concentration``) distribution over next states. Start in state 0; the states
    sit on a line (coords (0, i)), so the Manhattan cost is |i − j| [ours].

    >>> mdp = random_process(5, 3, seed=1)
    >>> mdp.n_states, mdp.n_actions, mdp.is_deterministic, mdp.start_state
    (5, 3, True, 0)
    >>> random_process(4, 2, seed=1, deterministic=False).is_deterministic
    False
    """
    if n_states < 2 or n_actions < 1:
        raise ValueError(f"a random process needs n_states >= 2 and n_actions >= 1, got {n_states}, {n_actions}")
    rng = np.random.default_rng(seed)
    if deterministic:
        transitions = _from_next_state(rng.integers(0, n_states, size=(n_states, n_actions)))
    else:
        transitions = rng.dirichlet(np.full(n_states, concentration), size=(n_states, n_actions))
    start = np.zeros(n_states)
    start[0] = 1.0
    coords = np.column_stack([np.zeros(n_states), np.arange(n_states, dtype=float)])
    kind = "deterministic" if deterministic else "stochastic"
    return ControlledMarkovProcess(transitions, start, gamma, coords, f"random {kind} #{seed}", (1, n_states))


def occupancy_grid(mdp: ControlledMarkovProcess, values: np.ndarray) -> np.ndarray:
    """Per-state ``values`` laid out on the grid (rows × cols); wall cells are NaN.

    >>> occupancy_grid(gridworld(1, 2), np.array([0.25, 0.75])).tolist()
    [[0.25, 0.75]]
    """
    out = np.full(mdp.shape, np.nan)
    rows, cols = mdp.coords.astype(int).T
    out[rows, cols] = values
    return out

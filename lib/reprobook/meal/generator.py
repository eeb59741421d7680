"""Procedural kitchens at three difficulty levels, their validator and task sequences (brief §2.2).

A kitchen: a room with border counters; pots, onion piles, plate piles and goals on random
interior cells (as MEAL: never on the border); internal counters until the unpassable share of the
interior reaches the level's wall density (stations count); agents on random floor; a station no
agent reaches becomes floor, floor no agent reaches becomes counter, and missing pots are put back
(all as MEAL does); then :func:`validate` checks it, and a failing draw is redrawn. Seeded
with NumPy's generator: same seed, same kitchen. (Our generator follows MEAL's rules but is not
seed-identical to it; it also asks for one region shared by all agents, where MEAL also accepts
kitchens joined only by a hand-off counter.)

>>> kitchen = generate_layout(level=1, seed=0)
>>> kitchen.shape, kitchen.count(POT), validate(kitchen, LEVELS[1]) == []
((7, 7), 2, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reprobook.meal.layouts import COUNTER, FLOOR, GOAL, ONION_PILE, PLATE_PILE, POT, Layout
from reprobook.meal.normaliser import MOST_SOUPS, floor_distances, max_soup

__all__ = ["Level", "LEVELS", "generate_layout", "generate_sequence", "validate", "interior_counters",
           "interior_unpassable"]

_STEPS = ((-1, 0), (1, 0), (0, 1), (0, -1))
STATIONS = (POT, ONION_PILE, PLATE_PILE, GOAL)


@dataclass(frozen=True)
class Level:
    """One difficulty level: grid size, internal wall density, pots and stations of each kind."""

    height: int
    width: int
    wall_density: float
    pots: int
    stations: int


LEVELS: dict[int, Level] = {
    1: Level(7, 7, 0.15, 2, 1),
    2: Level(9, 9, 0.25, 3, 1),
    3: Level(11, 11, 0.35, 4, 2),
}


def _neighbours(cell: tuple[int, int], shape: tuple[int, int]):
    for d_row, d_col in _STEPS:
        row, col = cell[0] + d_row, cell[1] + d_col
        if 0 <= row < shape[0] and 0 <= col < shape[1]:
            yield row, col


def interior_counters(layout: Layout) -> int:
    """Counters strictly inside the border ring (the internal walls)."""
    return int(np.sum(layout.tiles[1:-1, 1:-1] == COUNTER))


def interior_unpassable(layout: Layout) -> int:
    """Tiles strictly inside the border ring that no agent can walk on (counters and stations)."""
    return int(np.sum(layout.tiles[1:-1, 1:-1] != FLOOR))


def _target_walls(level: Level) -> int:
    return int(round(level.wall_density * (level.height - 2) * (level.width - 2)))


def validate(layout: Layout, level: Level | None = None) -> list[str]:
    """Problems with a kitchen (an empty list means valid).

    Every agent can move; all agents share one floor region; every station touches that region;
    with ``level``: the station counts and at least the level's share of unpassable interior tiles.
    """
    tiles = layout.tiles
    problems = []
    spawns = [tuple(int(v) for v in cell) for cell in layout.spawn]
    for agent, cell in enumerate(spawns):
        if not any(tiles[nxt] == FLOOR for nxt in _neighbours(cell, tiles.shape)):
            problems.append(f"agent {agent} cannot move")
    region = floor_distances(tiles, spawns[:1]) < np.inf
    if not all(region[cell] for cell in spawns):
        problems.append("the agents do not share one floor region")
    for station, name in ((POT, "pot"), (ONION_PILE, "onion pile"), (PLATE_PILE, "plate pile"), (GOAL, "goal")):
        cells = list(zip(*np.nonzero(tiles == station), strict=True))
        if not cells:
            problems.append(f"no {name}")
        for cell in cells:
            if not any(region[nxt] for nxt in _neighbours(cell, tiles.shape)):
                problems.append(f"{name} at {tuple(int(v) for v in cell)} is unreachable")
    if level is not None:
        for station, name, expected in ((POT, "pots", level.pots), (ONION_PILE, "onion piles", level.stations),
                                        (PLATE_PILE, "plate piles", level.stations),
                                        (GOAL, "goals", level.stations)):
            if layout.count(station) != expected:
                problems.append(f"{layout.count(station)} {name}, expected {expected}")
        blocked, target = interior_unpassable(layout), _target_walls(level)
        if blocked < target:
            problems.append(f"{blocked} unpassable interior tiles, expected at least {target}")
    return problems


def _draw(level: Level, n_agents: int, rng: np.random.Generator) -> Layout:
    height, width = level.height, level.width
    tiles = np.full((height, width), COUNTER, dtype=np.int32)
    tiles[1:-1, 1:-1] = FLOOR
    interior = [(r, c) for r in range(1, height - 1) for c in range(1, width - 1)]
    stations = [POT] * level.pots + [ONION_PILE, PLATE_PILE, GOAL] * level.stations
    chosen = rng.choice(len(interior), size=len(stations), replace=False)  # as MEAL: interior floor only
    for station, index in zip(stations, chosen, strict=True):
        tiles[interior[index]] = station
    free = [cell for cell in interior if tiles[cell] == FLOOR]
    n_walls = _target_walls(level) - sum(tiles[cell] != FLOOR for cell in interior)
    if n_walls > 0:
        for index in rng.choice(len(free), size=min(n_walls, len(free)), replace=False):
            tiles[free[index]] = COUNTER
    free = [cell for cell in interior if tiles[cell] == FLOOR]
    if len(free) < n_agents:
        raise ValueError("no room for the agents")
    spawn = np.array([free[i] for i in rng.choice(len(free), size=n_agents, replace=False)], dtype=np.int32)
    starts = [tuple(int(v) for v in cell) for cell in spawn]
    reachable = floor_distances(tiles, starts) < np.inf
    # as MEAL: a station no agent can reach becomes floor, floor no agent reaches becomes counter,
    # and missing pots are put back on random reachable floor (other missing stations fail validation)
    for cell in zip(*np.nonzero(np.isin(tiles, STATIONS)), strict=True):
        if not any(reachable[nxt] for nxt in _neighbours(cell, tiles.shape)):
            tiles[cell] = FLOOR
    reachable = floor_distances(tiles, starts) < np.inf
    tiles[(tiles == FLOOR) & ~reachable] = COUNTER
    missing = level.pots - int(np.sum(tiles == POT))
    if missing > 0:
        free = [cell for cell in zip(*np.nonzero(tiles == FLOOR), strict=True) if cell not in starts]
        if len(free) < missing:
            raise ValueError("no room for the pots")
        for index in rng.choice(len(free), size=missing, replace=False):
            tiles[free[index]] = POT
    return Layout(tiles, spawn)


def generate_layout(level: int = 1, seed: int = 0, n_agents: int = 2, max_tries: int = 10_000,
                    min_max_soup: int = 0) -> Layout:
    """A valid random kitchen of a difficulty level (redrawn until :func:`validate` passes).

    With ``min_max_soup`` a kitchen whose a-priori bound on soups per episode (the normaliser,
    :func:`~reprobook.meal.normaliser.max_soup`) is below it is redrawn too: a property of the
    kitchen, decided before any training and the same for every method.

    >>> from reprobook.meal.normaliser import max_soup
    >>> max_soup(generate_layout(level=1, seed=14)), max_soup(generate_layout(level=1, seed=14, min_max_soup=8))
    (7, 8)
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, got {level!r}")
    if not 0 <= min_max_soup <= MOST_SOUPS:
        raise ValueError(f"min_max_soup must be an integer in [0, {MOST_SOUPS}] (no kitchen allows more soups in "
                         f"a 400-step episode), got {min_max_soup!r}")
    spec = LEVELS[level]
    rng = np.random.default_rng(seed)
    for _ in range(max_tries):
        try:
            layout = _draw(spec, n_agents, rng)
        except ValueError:
            continue
        if not validate(layout, spec) and (not min_max_soup or max_soup(layout) >= min_max_soup):
            return Layout(layout.tiles, layout.spawn, name=f"level {level}, seed {seed}")
    raise RuntimeError(f"no valid level-{level} kitchen after {max_tries} draws (seed {seed})")


def generate_sequence(n_tasks: int, level: int = 1, seed: int = 0, n_agents: int = 2,
                      min_max_soup: int = 0) -> list[Layout]:
    """``n_tasks`` independent kitchens of one level; task ``j`` uses the seed ``(seed, j)``; with
    ``min_max_soup``, only kitchens whose normaliser reaches it (:func:`generate_layout`).

    >>> [layout.shape for layout in generate_sequence(2, level=1, seed=3)]
    [(7, 7), (7, 7)]
    """
    return [generate_layout(level, int(np.random.SeedSequence([seed, task]).generate_state(1)[0]), n_agents,
                            min_max_soup=min_max_soup)
            for task in range(n_tasks)]

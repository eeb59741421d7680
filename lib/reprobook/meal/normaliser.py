"""The per-kitchen normaliser: an upper bound on soups per episode (brief §2.2).

Distances are breadth-first over floor tiles (stations and counters block) between the walkable
neighbourhoods of the nearest station pairs: onion pile → pot (``d_op``), plate pile → pot
(``d_pp``), pot → goal (``d_pg``). One solo cycle takes ``3·d_op + d_pp + 1 + d_pg + 3 + 20 + 9·2``
steps (a constant cook time of 20 and nine interactions of two steps each, as in MEAL's code) and
``max_soup = ⌊horizon / T_cyc⌋``. A normalised score is soups per episode divided by ``max_soup``;
two agents can beat this solo bound, so scores above 1 are possible.

>>> from reprobook.meal.layouts import preset
>>> max_soup(preset("cramped_room"), horizon=400)
8
"""

from __future__ import annotations

from collections import deque

import numpy as np

from reprobook.meal.layouts import FLOOR, GOAL, ONION_PILE, PLATE_PILE, POT, Layout

__all__ = ["floor_distances", "station_distance", "cycle_length", "max_soup", "COOK_TIME_FOR_BOUND", "MOST_SOUPS"]

COOK_TIME_FOR_BOUND = 20
#: the largest ``max_soup`` of any kitchen in a 400-step episode (all three distances 0: a 42-step cycle)
MOST_SOUPS = 400 // (1 + 3 + COOK_TIME_FOR_BOUND + 9 * 2)
_STEPS = ((-1, 0), (1, 0), (0, 1), (0, -1))


def floor_distances(tiles: np.ndarray, sources: list[tuple[int, int]]) -> np.ndarray:
    """Multi-source BFS over floor tiles; unreachable tiles get ``inf``."""
    height, width = tiles.shape
    distance = np.full((height, width), np.inf)
    queue: deque[tuple[int, int]] = deque()
    for cell in sources:
        if tiles[cell] == FLOOR and distance[cell] == np.inf:
            distance[cell] = 0
            queue.append(cell)
    while queue:
        row, col = queue.popleft()
        for d_row, d_col in _STEPS:
            nxt = (row + d_row, col + d_col)
            if 0 <= nxt[0] < height and 0 <= nxt[1] < width and tiles[nxt] == FLOOR and distance[nxt] == np.inf:
                distance[nxt] = distance[row, col] + 1
                queue.append(nxt)
    return distance


def _walkable_neighbours(tiles: np.ndarray, station: int) -> list[tuple[int, int]]:
    height, width = tiles.shape
    cells = []
    for row, col in zip(*np.nonzero(tiles == station), strict=True):
        for d_row, d_col in _STEPS:
            nxt = (int(row) + d_row, int(col) + d_col)
            if 0 <= nxt[0] < height and 0 <= nxt[1] < width and tiles[nxt] == FLOOR:
                cells.append(nxt)
    return cells


def station_distance(tiles: np.ndarray, source: int, target: int) -> float:
    """Steps between the walkable neighbourhoods of the nearest ``source``/``target`` stations."""
    sources = _walkable_neighbours(tiles, source)
    targets = _walkable_neighbours(tiles, target)
    if not sources or not targets:
        return float("inf")
    distance = floor_distances(tiles, sources)
    return float(min(distance[cell] for cell in targets))


def cycle_length(layout: Layout) -> float:
    """Steps of one solo onion-soup cycle (``T_cyc``)."""
    tiles = layout.tiles
    d_op = station_distance(tiles, ONION_PILE, POT)
    d_pp = station_distance(tiles, PLATE_PILE, POT)
    d_pg = station_distance(tiles, POT, GOAL)
    return 3 * d_op + d_pp + 1 + d_pg + 3 + COOK_TIME_FOR_BOUND + 9 * 2


def max_soup(layout: Layout, horizon: int = 400) -> int:
    """Soups one agent could deliver in ``horizon`` steps (0 if a station is unreachable)."""
    cycle = cycle_length(layout)
    return 0 if not np.isfinite(cycle) else int(horizon // cycle)

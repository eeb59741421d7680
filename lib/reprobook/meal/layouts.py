"""Kitchen layouts as array data (brief §2.1–2.2): a tile-type grid, spawn tiles and pot rules.

A :class:`Layout` is a small NumPy record (one kitchen). :func:`stack_layouts` pads a list of them to
a common shape and stacks them on a task axis as :class:`LayoutArrays`, the JAX pytree the
environment reads. Because a task is *data* (gathered with a traced task index by
:func:`take_task`), one compiled ``step`` serves every kitchen of a sequence.

>>> layout = preset("cramped_room")
>>> layout.tiles.shape, layout.n_agents
((4, 5), 2)
>>> print(layout.to_ascii())
WWPWW
O0 1O
W   W
WBWXW
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

__all__ = [
    "FLOOR", "COUNTER", "ONION_PILE", "PLATE_PILE", "POT", "GOAL", "VOID", "TILE_NAMES",
    "Layout", "LayoutArrays", "parse_ascii", "preset", "PRESETS", "stack_layouts", "take_task",
]

# static tile types; VOID pads a small kitchen to the sequence's common shape
FLOOR, COUNTER, ONION_PILE, PLATE_PILE, POT, GOAL, VOID = range(7)
TILE_NAMES = ("floor", "counter", "onion pile", "plate pile", "pot", "goal", "void")
_SYMBOL_TO_TILE = {" ": FLOOR, "W": COUNTER, "O": ONION_PILE, "B": PLATE_PILE, "P": POT, "X": GOAL}
_TILE_TO_SYMBOL = {tile: symbol for symbol, tile in _SYMBOL_TO_TILE.items()} | {VOID: "."}

# The classic Overcooked-AI kitchens (as shipped by JaxMARL); digits are the agents' spawn tiles.
PRESETS: dict[str, str] = {
    "cramped_room": "WWPWW\nO0 1O\nW   W\nWBWXW",
    "asymm_advantages": "WWWWWWWWW\nO WXWOW X\nW   P   W\nW 0 P1  W\nWWWBWBWWW",
    "coord_ring": "WWWPW\nW 0 P\nB1W W\nO   W\nWOXWW",
    "forced_coord": "WWWPW\nO W1P\nO0W W\nB W W\nWWWXW",
    "counter_circuit": "WWWPPWWW\nW 0    W\nB WWWW X\nW     1W\nWWWOOWWW",
}


@dataclass(frozen=True, eq=False)
class Layout:
    """One kitchen: ``tiles`` (H×W tile types), ``spawn`` (n_agents×2 rows/cols), pot rules."""

    tiles: np.ndarray
    spawn: np.ndarray
    cook_time: int = 20
    pot_size: int = 3
    name: str = ""

    def __post_init__(self) -> None:
        tiles = np.asarray(self.tiles, dtype=np.int32)
        spawn = np.asarray(self.spawn, dtype=np.int32).reshape(-1, 2)
        if tiles.ndim != 2:
            raise ValueError(f"layout tiles must be a 2-D grid, got shape {tiles.shape}")
        if len(spawn) == 0:
            raise ValueError("a layout needs at least one agent spawn tile")
        if np.any(tiles[spawn[:, 0], spawn[:, 1]] != FLOOR):
            raise ValueError("every spawn tile must be floor")
        if len({tuple(cell) for cell in spawn}) != len(spawn):
            raise ValueError("two agents share a spawn tile")
        object.__setattr__(self, "tiles", tiles)
        object.__setattr__(self, "spawn", spawn)

    @property
    def n_agents(self) -> int:
        return len(self.spawn)

    @property
    def shape(self) -> tuple[int, int]:
        return self.tiles.shape

    def count(self, tile: int) -> int:
        """How many tiles of one type the kitchen has."""
        return int(np.sum(self.tiles == tile))

    def to_ascii(self) -> str:
        """The kitchen as text (``W`` counter, ``P`` pot, ``O`` onions, ``B`` plates, ``X`` goal)."""
        rows = [[_TILE_TO_SYMBOL[int(tile)] for tile in row] for row in self.tiles]
        for agent, (row, col) in enumerate(self.spawn):
            rows[row][col] = str(agent)
        return "\n".join("".join(row) for row in rows)


def parse_ascii(text: str, *, cook_time: int = 20, pot_size: int = 3, name: str = "") -> Layout:
    """A :class:`Layout` from text; digits 0–9 mark spawn tiles (the digit is the agent index).

    >>> parse_ascii("WPW\\nO0X\\nWBW").count(POT)
    1
    """
    lines = [line for line in text.strip("\n").split("\n")]
    width = max(len(line) for line in lines)
    tiles = np.full((len(lines), width), COUNTER, dtype=np.int32)
    spawns: dict[int, tuple[int, int]] = {}
    for row, line in enumerate(lines):
        for col, symbol in enumerate(line.ljust(width, "W")):
            if symbol.isdigit():
                spawns[int(symbol)] = (row, col)
                tiles[row, col] = FLOOR
            elif symbol in _SYMBOL_TO_TILE:
                tiles[row, col] = _SYMBOL_TO_TILE[symbol]
            else:
                raise ValueError(f"unknown layout symbol {symbol!r} at row {row}, column {col}")
    if sorted(spawns) != list(range(len(spawns))):
        raise ValueError(f"agent digits must be 0..n-1, got {sorted(spawns)}")
    spawn = np.array([spawns[agent] for agent in range(len(spawns))], dtype=np.int32)
    return Layout(tiles, spawn, cook_time=cook_time, pot_size=pot_size, name=name)


def preset(name: str, **kwargs: int) -> Layout:
    """One of the classic kitchens in :data:`PRESETS`."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; presets are: {', '.join(PRESETS)}")
    return parse_ascii(PRESETS[name], name=name, **kwargs)


class LayoutArrays(NamedTuple):
    """The environment's view of one kitchen (or, with a leading task axis, of a sequence)."""

    tiles: jnp.ndarray      # int32 [H, W], VOID outside the kitchen
    spawn: jnp.ndarray      # int32 [n_agents, 2]
    cook_time: jnp.ndarray  # int32 []
    pot_size: jnp.ndarray   # int32 []


def stack_layouts(layouts: Sequence[Layout], shape: tuple[int, int] | None = None) -> LayoutArrays:
    """Pad kitchens to one shape (top-left aligned, VOID elsewhere) and stack them on a task axis."""
    if not layouts:
        raise ValueError("stack_layouts needs at least one layout")
    n_agents = {layout.n_agents for layout in layouts}
    if len(n_agents) != 1:
        raise ValueError(f"all layouts of a sequence need the same number of agents, got {sorted(n_agents)}")
    height = max(layout.shape[0] for layout in layouts)
    width = max(layout.shape[1] for layout in layouts)
    if shape is not None:
        if shape[0] < height or shape[1] < width:
            raise ValueError(f"pad shape {shape} is smaller than the largest layout ({height}, {width})")
        height, width = shape
    tiles = np.full((len(layouts), height, width), VOID, dtype=np.int32)
    for index, layout in enumerate(layouts):
        tiles[index, : layout.shape[0], : layout.shape[1]] = layout.tiles
    return LayoutArrays(
        tiles=jnp.asarray(tiles),
        spawn=jnp.asarray(np.stack([layout.spawn for layout in layouts])),
        cook_time=jnp.asarray([layout.cook_time for layout in layouts], dtype=jnp.int32),
        pot_size=jnp.asarray([layout.pot_size for layout in layouts], dtype=jnp.int32),
    )


def take_task(layouts: LayoutArrays, task: jnp.ndarray | int) -> LayoutArrays:
    """The kitchen of one task from a stacked sequence; ``task`` may be a traced index."""
    return LayoutArrays(*(field[task] for field in layouts))

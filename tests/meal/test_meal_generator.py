"""Generator, validator and normaliser (brief §2.2, §7.3–7.4)."""

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from reprobook.meal.generator import (
    LEVELS,
    generate_layout,
    generate_sequence,
    interior_counters,
    interior_unpassable,
    validate,
)
from reprobook.meal.layouts import FLOOR, GOAL, ONION_PILE, PLATE_PILE, POT, parse_ascii, preset
from reprobook.meal.normaliser import cycle_length, max_soup, station_distance

STATIONS = [POT, ONION_PILE, PLATE_PILE, GOAL]


@pytest.mark.parametrize("level", [1, 2, 3])
def test_generated_layouts_are_valid(level):
    spec = LEVELS[level]
    target = round(spec.wall_density * (spec.height - 2) * (spec.width - 2))
    for seed in range(20):
        layout = generate_layout(level, seed)
        assert validate(layout, spec) == []
        assert layout.shape == (spec.height, spec.width)
        assert layout.count(POT) == spec.pots
        assert layout.count(ONION_PILE) == layout.count(PLATE_PILE) == layout.count(GOAL) == spec.stations
        assert interior_unpassable(layout) >= target and interior_counters(layout) <= max(target, 0) + spec.height
        assert not np.isin(layout.tiles[[0, -1], :], STATIONS).any()  # stations on interior floor only
        assert not np.isin(layout.tiles[:, [0, -1]], STATIONS).any()
        assert 1 <= max_soup(layout) <= 12
        np.testing.assert_array_equal(generate_layout(level, seed).tiles, layout.tiles)  # same seed


def test_sequences_are_seeded_and_varied():
    first = generate_sequence(4, level=1, seed=7)
    again = generate_sequence(4, level=1, seed=7)
    assert all(np.array_equal(a.tiles, b.tiles) for a, b in zip(first, again, strict=True))
    assert len({a.to_ascii() for a in first}) == 4


def test_validator_catches_problems():
    stuck = parse_ascii("WWWWW\nW0WPW\nWWWWW\nWOBXW\nWWWWW")
    problems = validate(stuck)
    assert "agent 0 cannot move" in problems and any("unreachable" in p for p in problems)
    assert any("no pot" in p for p in validate(parse_ascii("WWWWW\nO0 1B\nWWWXW")))


def test_cramped_room_normaliser_by_hand():
    layout = preset("cramped_room")
    # onion → pot 1, plate → pot 2, pot → goal 2: 3·1 + 2 + 1 + 2 + 3 + 20 + 18 = 49; ⌊400/49⌋ = 8
    assert cycle_length(layout) == 49
    assert max_soup(layout, horizon=400) == 8


def _scipy_station_distance(tiles, source, target):
    height, width = tiles.shape
    index = np.arange(height * width).reshape(height, width)
    rows, cols = [], []
    for r in range(height):
        for c in range(width):
            if tiles[r, c] != FLOOR:
                continue
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr < height and c + dc < width and tiles[r + dr, c + dc] == FLOOR:
                    rows += [index[r, c], index[r + dr, c + dc]]
                    cols += [index[r + dr, c + dc], index[r, c]]
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(height * width,) * 2)
    distances = shortest_path(graph, unweighted=True)

    def neighbours(station):
        cells = []
        for r, c in zip(*np.nonzero(tiles == station), strict=True):
            for dr, dc in ((-1, 0), (1, 0), (0, 1), (0, -1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < height and 0 <= cc < width and tiles[rr, cc] == FLOOR:
                    cells.append(index[rr, cc])
        return cells
    return distances[np.ix_(neighbours(source), neighbours(target))].min()


@pytest.mark.parametrize("level", [1, 2, 3])
def test_bfs_matches_scipy_shortest_path(level):
    for seed in range(10):
        tiles = generate_layout(level, seed).tiles
        for source, target in ((ONION_PILE, POT), (PLATE_PILE, POT), (POT, GOAL)):
            assert station_distance(tiles, source, target) == _scipy_station_distance(tiles, source, target)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_normaliser_filter_redraws_only_kitchens_below_it(level):
    for seed in range(20):
        plain = generate_layout(level, seed)
        filtered = generate_layout(level, seed, min_max_soup=8)
        assert max_soup(filtered) >= 8 and validate(filtered, LEVELS[level]) == []
        if max_soup(plain) >= 8:  # the first valid draw passes: the same kitchen
            np.testing.assert_array_equal(plain.tiles, filtered.tiles)
    plain = [max_soup(kitchen) for kitchen in generate_sequence(6, level=level, seed=1)]
    filtered = [max_soup(kitchen) for kitchen in generate_sequence(6, level=level, seed=1, min_max_soup=9)]
    assert min(filtered) == 9 and len(filtered) == len(plain)


def test_normaliser_filter_is_validated():
    from reprobook.meal.normaliser import MOST_SOUPS

    assert MOST_SOUPS == 400 // (0 + 0 + 1 + 0 + 3 + 20 + 18)  # all three distances 0
    with pytest.raises(ValueError, match=r"min_max_soup must be an integer in \[0, 9\]"):
        generate_layout(1, 0, min_max_soup=10)

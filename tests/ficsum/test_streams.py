"""Stream layouts, ground-truth ids and the registry copies of the real data."""

import pytest

from reprobook import data
from reprobook.ficsum.streams import STREAMS, make_stream


@pytest.mark.parametrize("name, length, n_features", [("cmc", 3312, 8), ("wine", 14616, 11)])
def test_real_stream_lengths_at_the_paper_layout(name, length, n_features):
    stream = make_stream(name, seed=1)
    assert len(stream) == length
    x, _, _ = stream.observations[0]
    assert len(x) == n_features
    assert not any(key.startswith("Unnamed") for key in x)


def test_registry_checksums_of_the_mirrored_files():
    for key in ["ficsum/cmc/cmc_1.csv", "ficsum/cmc/cmc_2.csv",
                "ficsum/uci-wine/winequality-red.csv", "ficsum/uci-wine/winequality-white.csv"]:
        assert data.sha256_of(data.fetch(key, download=False)) == data.REGISTRY[key].sha256


def test_synthetic_layout_and_recurrence_continues_one_generator():
    stream = make_stream("stagger", seed=3, segment_length=50, repeats=2)
    ids = [c for _, _, c in stream]
    assert ids == [0] * 50 + [1] * 50 + [2] * 50 + [0] * 50 + [1] * 50 + [2] * 50
    first, second = stream.observations[:50], stream.observations[150:200]
    assert [x for x, _, _ in first] != [x for x, _, _ in second]  # fresh samples, same concept
    again = make_stream("stagger", seed=3, segment_length=50, repeats=2)
    assert [(x, y) for x, y, _ in again] == [(x, y) for x, y, _ in stream]


@pytest.mark.parametrize("name", [s for s in STREAMS if s not in ("cmc", "wine")])
def test_every_named_stream_builds(name):
    stream = make_stream(name, seed=1, segment_length=30, repeats=1)
    assert len(stream) == 30 * stream.n_concepts or name == "image_segments"
    assert sorted({c for _, _, c in stream}) == list(range(stream.n_concepts))


def test_shift_streams_differ_in_input_distribution():
    stream = make_stream("rtree_shift", seed=1, segment_length=400, repeats=1)
    first = [x["x_num_0"] for x, _, c in stream if c == 0]
    second = [x["x_num_0"] for x, _, c in stream if c == 1]
    assert abs(sum(first) / len(first) - sum(second) / len(second)) > 0.05

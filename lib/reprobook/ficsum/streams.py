"""Recurring-concept streams with ground-truth concept ids (brief §4).

A stream is a sequence of segments; each segment is drawn from one concept, and a concept that
recurs continues its own generator (one fixed seed per concept), so a recurrence is the same
concept with fresh samples. Every item is ``(x, y, concept_id)``.

Named streams: ``stagger`` (3 concepts), ``sea`` (4), ``agrawal`` (6), ``rbf`` (6),
``rtree_shift`` and ``hyperplane_shift`` (6; river generators plus a per-concept feature transform
so P(x) differs too), ``image_segments`` (river's bundled ImageSegments split into 3 concepts by
terciles of ``region-centroid-row``, which stays a feature: the visible context), ``cmc`` and
``wine`` (the paper's real data, via the dataset registry; cmc's unnamed row-index column is
dropped, leaving 8 features). Synthetic concepts follow each other in order; real-data concepts in
an order shuffled by the seed. Real segments default to ⌊0.75 × rows⌋ of the concept, a fresh
random subset at each repeat.

>>> stream = make_stream("stagger", seed=1, segment_length=100, repeats=2)
>>> len(stream), stream.n_concepts, stream.observations[100][2]
(600, 3, 1)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reprobook.params import check_choice, check_int

__all__ = [
    "STREAMS",
    "SYNTHETIC_STREAMS",
    "REAL_STREAMS",
    "RecurringStream",
    "recurring_stream",
    "make_stream",
    "FeatureShift",
]

Observation = tuple[dict, Any]
#: A concept: given a segment length, return that many observations (a fresh draw each call).
ConceptSource = Callable[[int], Iterable[Observation]]

SYNTHETIC_STREAMS: tuple[str, ...] = ("stagger", "sea", "agrawal", "rbf", "rtree_shift", "hyperplane_shift")
REAL_STREAMS: tuple[str, ...] = ("image_segments", "cmc", "wine")
STREAMS: tuple[str, ...] = SYNTHETIC_STREAMS + REAL_STREAMS

_DEFAULT_CONCEPTS = {"stagger": 3, "sea": 4, "agrawal": 6, "rbf": 6, "rtree_shift": 6,
                     "hyperplane_shift": 6, "image_segments": 3, "cmc": 2, "wine": 2}
_MAX_CONCEPTS = {"stagger": 3, "sea": 4, "agrawal": 10, "rbf": 20, "rtree_shift": 20,
                 "hyperplane_shift": 20, "image_segments": 6, "cmc": 2, "wine": 2}


@dataclass
class RecurringStream:
    """A materialised recurring stream and what is known about it."""

    name: str
    observations: list[tuple[dict, Any, int]]
    n_concepts: int
    segment_length: int | list[int]
    repeats: int
    concept_order: list[int] = field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[dict, Any, int]]:
        return iter(self.observations)

    def __len__(self) -> int:
        return len(self.observations)

    @property
    def classes(self) -> list:
        """Every label the stream shows, in a fixed order (MOA classifiers need them up front)."""
        return sorted({y for _, y, _ in self.observations}, key=repr)


def recurring_stream(
    concepts: Sequence[ConceptSource],
    segment_length: int | Sequence[int],
    repeats: int,
    order: Sequence[int] | None = None,
) -> Iterator[tuple[dict, Any, int]]:
    """Concatenate segments of the given concepts, ``repeats`` times over ``order``.

    ``segment_length`` is one length for all concepts or one per concept.

    >>> letters = [lambda n: [({"v": 0.0}, "a")] * n, lambda n: [({"v": 1.0}, "b")] * n]
    >>> [c for _, _, c in recurring_stream(letters, 2, repeats=2)]
    [0, 0, 1, 1, 0, 0, 1, 1]
    """
    order = list(range(len(concepts))) if order is None else list(order)
    lengths = (
        [segment_length] * len(concepts) if isinstance(segment_length, int) else list(segment_length)
    )
    for _ in range(repeats):
        for concept_id in order:
            for x, y in concepts[concept_id](lengths[concept_id]):
                yield x, y, concept_id


def _continuing(iterator: Iterator[Observation]) -> ConceptSource:
    """A concept whose successive segments continue one generator."""
    return lambda n: itertools.islice(iterator, n)


class FeatureShift:
    """A per-concept transform of the inputs, so that concepts differ in P(x) (brief §4).

    Feature 0 is shifted, feature 1 scaled, feature 2 smoothed by an AR(1) filter with coefficient
    φ, and feature 3 gets a periodic component; each concept draws its own parameters.

    >>> shift = FeatureShift(np.random.default_rng(0))
    >>> sorted(shift({"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.5}))
    ['a', 'b', 'c', 'd']
    """

    def __init__(self, rng: np.random.Generator):
        self.offset = float(rng.uniform(-0.5, 0.5))
        self.scale = float(rng.uniform(0.5, 1.5))
        self.phi = float(rng.uniform(0.0, 0.9))
        self.period = float(rng.uniform(20.0, 200.0))
        self._state: float | None = None
        self._t = 0

    def __call__(self, x: dict) -> dict:
        names = list(x)
        out = dict(x)
        if len(names) > 0:
            out[names[0]] = x[names[0]] + self.offset
        if len(names) > 1:
            out[names[1]] = x[names[1]] * self.scale
        if len(names) > 2:
            value = x[names[2]]
            self._state = value if self._state is None else self.phi * self._state + (1 - self.phi) * value
            out[names[2]] = self._state
        if len(names) > 3:
            out[names[3]] = x[names[3]] + 0.25 * math.sin(2 * math.pi * self._t / self.period)
        self._t += 1
        return out


def _shifted(iterator: Iterator[Observation], shift: FeatureShift) -> Iterator[Observation]:
    for x, y in iterator:
        yield shift(x), y


def _synthetic_concepts(name: str, seed: int, n_concepts: int) -> list[ConceptSource]:
    from river.datasets import synth

    def concept_seed(index: int) -> int:
        return seed * 1000 + index

    concepts = []
    for index in range(n_concepts):
        s = concept_seed(index)
        if name == "stagger":
            generator = synth.STAGGER(classification_function=index, seed=s)
        elif name == "sea":
            generator = synth.SEA(variant=index, seed=s)
        elif name == "agrawal":
            generator = synth.Agrawal(classification_function=index, seed=s)
        elif name == "rbf":
            generator = synth.RandomRBF(seed_model=s, seed_sample=s + 500, n_features=10, n_centroids=50)
        elif name == "rtree_shift":
            generator = synth.RandomTree(seed_tree=s, seed_sample=s + 500, n_num_features=8,
                                         n_cat_features=0)
        else:  # hyperplane_shift
            generator = synth.Hyperplane(seed=s, n_features=8, n_drift_features=0, noise_percentage=0.05)
        iterator: Iterator[Observation] = iter(generator)
        if name.endswith("_shift"):
            iterator = _shifted(iterator, FeatureShift(np.random.default_rng(s)))
        concepts.append(_continuing(iterator))
    return concepts


def _sampled(rows: list[Observation], rng: np.random.Generator) -> ConceptSource:
    """A real-data concept: each segment is a fresh random subset (cycling if asked for more)."""

    def draw(n: int) -> list[Observation]:
        picks: list[int] = []
        while len(picks) < n:
            picks.extend(rng.permutation(len(rows))[: n - len(picks)].tolist())
        return [rows[i] for i in picks]

    return draw


def _frame_rows(frame: Any, label: str) -> list[Observation]:
    features = [column for column in frame.columns if column != label]
    values = frame[features].to_numpy(dtype=float)
    labels = frame[label].tolist()
    return [(dict(zip(features, row.tolist(), strict=True)), y) for row, y in zip(values, labels, strict=True)]


def _real_concepts(name: str, n_concepts: int) -> list[list[Observation]]:
    import pandas as pd

    from reprobook import data

    if name == "cmc":
        parts = []
        for key in ("ficsum/cmc/cmc_1.csv", "ficsum/cmc/cmc_2.csv"):
            frame = pd.read_csv(data.fetch(key))
            # the leading unnamed column is the original UCI row index, not a feature
            frame = frame.loc[:, ~frame.columns.str.startswith("Unnamed")]
            parts.append(_frame_rows(frame, "contraceptive"))
        return parts
    if name == "wine":
        return [
            _frame_rows(pd.read_csv(data.fetch(f"ficsum/uci-wine/winequality-{colour}.csv")), "quality")
            for colour in ("red", "white")
        ]
    from river import datasets

    rows = list(datasets.ImageSegments())
    position = np.array([x["region-centroid-row"] for x, _ in rows])
    edges = np.quantile(position, np.linspace(0, 1, n_concepts + 1)[1:-1])
    part = np.searchsorted(edges, position, side="right")
    return [[rows[i] for i in np.flatnonzero(part == k)] for k in range(n_concepts)]


def make_stream(
    name: str,
    seed: int = 1,
    segment_length: int | None = None,
    repeats: int = 3,
    n_concepts: int | None = None,
) -> RecurringStream:
    """Build a named recurring stream (materialised as a list, so timing excludes generation).

    ``segment_length`` None means the paper layout: 3,750 for synthetic streams and
    ⌊0.75 × rows⌋ of each concept for real ones (cmc: 3 × (537 + 567) = 3,312; wine:
    3 × (1,199 + 3,673) = 14,616).

    >>> stream = make_stream("sea", seed=1, segment_length=10, repeats=2)
    >>> len(stream), stream.n_concepts
    (80, 4)
    """
    name = check_choice("name", name, STREAMS)
    seed = check_int("seed", seed, minimum=0)
    repeats = check_int("repeats", repeats, minimum=1)
    if segment_length is not None:
        segment_length = check_int("segment_length", segment_length, minimum=1)
    if n_concepts is None:
        n_concepts = _DEFAULT_CONCEPTS[name]
    n_concepts = check_int("n_concepts", n_concepts, minimum=2, maximum=_MAX_CONCEPTS[name])
    rng = np.random.default_rng(seed)
    if name in SYNTHETIC_STREAMS:
        concepts = _synthetic_concepts(name, seed, n_concepts)
        lengths: int | list[int] = segment_length if segment_length is not None else 3750
        order = list(range(n_concepts))
    else:
        parts = _real_concepts(name, n_concepts)
        for part in parts:
            rng.shuffle(part)
        concepts = [_sampled(part, np.random.default_rng([seed, k])) for k, part in enumerate(parts)]
        lengths = (
            [int(0.75 * len(part)) for part in parts] if segment_length is None
            else [segment_length] * n_concepts
        )
        order = rng.permutation(n_concepts).tolist()
    observations = list(recurring_stream(concepts, lengths, repeats, order))
    return RecurringStream(name, observations, n_concepts, lengths, repeats, order)

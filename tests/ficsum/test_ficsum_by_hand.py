"""Non-active fingerprints and the normal-distance rescaling (brief §2.3, §2.6), each against a
computation by hand on a tiny stream: the series are written out here and summarised with numpy and
scipy, not with the library's window statistics, distances or fingerprints."""

import numpy as np
import pytest
from river import dummy
from river.datasets import synth
from scipy.spatial import distance as scipy_distance

from reprobook.ficsum import FiCSUMClassifier

WINDOW = 10


def concept_a(i: int) -> tuple[dict, int]:
    return {"a": float(i % 4), "b": float(i * i % 7)}, 0 if i % 5 == 0 else 1


def concept_b(i: int) -> tuple[dict, int]:
    return {"a": float(10 + i % 3), "b": float(i)}, 1 if i % 4 == 0 else 0


def feed(model: FiCSUMClassifier, rows) -> None:
    for x, y in rows:
        model.predict_one(x)
        model.learn_one(x, y)


def by_hand(rows: list[tuple[dict, int]], prediction: int) -> dict[str, float]:
    """Mean and sample std of every source of a window whose predictions are all ``prediction``."""
    correct = [1.0 if y == prediction else 0.0 for _, y in rows]
    wrong = [t for t, value in enumerate(correct) if value == 0.0]
    series = {
        "a": [x["a"] for x, _ in rows],
        "b": [x["b"] for x, _ in rows],
        "labels": [float(y) for _, y in rows],
        "predictions": [float(prediction)] * len(rows),
        "errors": correct,
        "error_distances": [float(later - earlier) for earlier, later in zip(wrong, wrong[1:], strict=False)],
    }
    assert len(series["error_distances"]) >= 3
    out = {}
    for source, values in series.items():
        out[f"{source}:mean"] = sum(values) / len(values)
        mean = out[f"{source}:mean"]
        out[f"{source}:stdev"] = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return out


def test_nonactive_fingerprint_equals_a_hand_computed_window_of_the_stored_model():
    # a prior (majority-class) model: concept A's predicts 1 on everything, whatever it is shown;
    # buffer_ratio 0 releases every observation at once, so W_buf is the last WINDOW observations
    model = FiCSUMClassifier(dummy.PriorClassifier(), window=WINDOW, min_window=WINDOW, buffer_ratio=0.0,
                             features=("mean", "stdev"), fp_gap=WINDOW, na_fp_gap=10**6)
    feed(model, [concept_a(i) for i in range(30)])
    first = model._active
    assert first.fingerprint.n_updates > 0 and first.model.predict_one({"a": 0.0, "b": 0.0}) == 1
    fingerprint_before = first.fingerprint.mean.copy()
    second = model._new_concept(model._shadow_model(), from_shadow=True)
    model._active = second
    model._reset_after_transition()
    rows = [concept_b(i) for i in range(15)]
    feed(model, rows[:WINDOW])
    model._update_nonactive(second)
    feed(model, rows[WINDOW:])
    assert model.active_concept_id == second.concept_id
    model._update_nonactive(second)

    seen = first.nonactive[second.concept_id]
    windows = [by_hand(rows[:WINDOW], 1), by_hand(rows[-WINDOW:], 1)]
    names = model.dimension_names
    assert sorted(names) == sorted(windows[0])
    expected_mean = [(windows[0][name] + windows[1][name]) / 2 for name in names]
    expected_std = [abs(windows[0][name] - windows[1][name]) / 2 ** 0.5 for name in names]
    assert seen.n_updates == 2
    np.testing.assert_allclose(seen.mean, expected_mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(seen.std, expected_std, rtol=1e-12, atol=1e-12)
    # the stored model's own fingerprint is untouched, and the active concept has none of itself
    np.testing.assert_array_equal(first.fingerprint.mean, fingerprint_before)
    assert second.concept_id not in second.nonactive


def normal_by_hand(model: FiCSUMClassifier) -> tuple[float, float, float]:
    """μ_d, σ_d and the re-measured ratio of the active concept's records, computed here."""
    records = list(model._active.normal_records)
    distances = [record[0] for record in records]
    mean = sum(distances) / len(distances)
    std = (sum((d - mean) ** 2 for d in distances) / (len(distances) - 1)) ** 0.5
    low, high = model._normaliser.low, model._normaliser.high

    def normalise(vector: np.ndarray) -> np.ndarray:
        return np.array([0.5 if not hi > lo else min(max((value - lo) / (hi - lo), 0.0), 1.0)
                         for value, lo, hi in zip(vector, low, high, strict=True)])

    # every 5th record, skipping zero distances, re-measured under today's ranges
    ratios = [scipy_distance.cosine(normalise(vector), normalise(fingerprint)) / old
              for old, vector, fingerprint in records[::5] if old != 0]
    assert len(ratios) > 1
    return mean, std, sum(ratios) / len(ratios)


def test_normal_distance_rescaling_equals_a_hand_computation_on_a_tiny_stream():
    # uniform weights, so the distance is scipy's plain cosine distance of the normalised vectors
    model = FiCSUMClassifier(window=20, min_window=20, fp_gap=10, weighting="uniform")
    stream = list(synth.STAGGER(seed=1, classification_function=0).take(1050))
    feed(model, stream[:300])
    mean, std, ratio = normal_by_hand(model)
    # the ranges widened after the early records were taken, so re-measuring shrinks them
    assert ratio < 0.9
    rescaled, spread = model._normal(model._active)
    assert rescaled == pytest.approx(mean * ratio, rel=1e-9)
    assert spread == pytest.approx(std, rel=1e-9)
    # later the re-measured distances exceed the recorded ones: the ratio is capped at 1
    feed(model, stream[300:])
    mean, std, ratio = normal_by_hand(model)
    assert ratio > 1.0
    rescaled, spread = model._normal(model._active)
    assert rescaled == pytest.approx(mean, rel=1e-9)
    assert spread == pytest.approx(std, rel=1e-9)

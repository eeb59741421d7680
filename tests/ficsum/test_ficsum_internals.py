"""Machinery the paper's method relies on (brief §2.3, §2.6): non-active fingerprints and the
normal-distance rescaling."""

import numpy as np
import pytest
from river.datasets import synth

from reprobook.ficsum import FiCSUMClassifier


def feed(model, function: int, seed: int, n: int) -> None:
    for x, y in synth.STAGGER(seed=seed, classification_function=function).take(n):
        model.predict_one(x)
        model.learn_one(x, y)


@pytest.fixture(scope="module")
def two_concepts():
    """A model that learned concept 0 on STAGGER function 0, then was switched to a new concept
    (from its shadow) that sees STAGGER function 1."""
    model = FiCSUMClassifier()
    feed(model, 0, 1, 600)
    first = model._active
    second = model._new_concept(model._shadow_model(), from_shadow=True)
    model._active = second
    model._reset_after_transition()
    feed(model, 1, 2, 300)
    return model, first, second


def test_nonactive_fingerprint_is_the_stored_model_on_the_active_data(two_concepts):
    model, first, second = two_concepts
    assert first.fingerprint.n_updates > 0 and len(model._buffered) >= model.min_window
    before = first.nonactive.get(second.concept_id)
    updates_before = 0 if before is None else before.n_updates
    expected_vector = model._vector_with_model(model._buffered, first.model)
    expected = before.copy() if before is not None else None
    model._update_nonactive(second)
    after = first.nonactive[second.concept_id]
    if expected is None:
        np.testing.assert_allclose(after.mean, expected_vector)
    else:
        expected.update(expected_vector)
        np.testing.assert_allclose(after.mean, expected.mean)
    assert after.n_updates == updates_before + 1
    # the active concept keeps no fingerprint of itself "seen on" its own data
    assert second.concept_id not in second.nonactive
    # unsupervised entries are the active window's; supervised ones are re-predicted by the stored model
    names = model.dimension_names
    active_vector = model._window_vector(model._buffered)
    unsupervised = [i for i, name in enumerate(names) if name.startswith("f") and not name.endswith(":FI")]
    np.testing.assert_allclose(expected_vector[unsupervised], active_vector[unsupervised])
    errors = names.index("errors:mean")
    correct = np.mean([first.model.predict_one(x) == y for x, y, _ in model._buffered.raw])
    assert expected_vector[errors] == pytest.approx(correct)


def test_normal_distance_is_rescaled_by_the_remeasured_ratio(two_concepts, monkeypatch):
    model, first, _ = two_concepts
    concept = first
    concept.normal_records.clear()
    vector, mean = np.zeros(model._dimension), np.zeros(model._dimension)
    for distance in [0.1, 0.2, 0.3, 0.2, 0.1, 0.2, 0.3, 0.2, 0.1, 0.2, 0.3]:
        concept.normal_records.append((distance, vector, mean))
    raw_mean, raw_std = concept.normal_raw()
    assert raw_mean == pytest.approx(np.mean([r[0] for r in concept.normal_records]))
    # every 5th record (0.1, 0.1, 0.3) is re-measured; half the recorded distance → μ_d halves
    monkeypatch.setattr(model, "_paired_distances", lambda vectors, means: np.array(
        [record[0] for record in list(concept.normal_records)[::5]]) / 2)
    rescaled, std = model._normal(concept)
    assert rescaled == pytest.approx(raw_mean / 2) and std == raw_std
    # a larger re-measured distance never raises μ_d (the ratio is capped at 1)
    monkeypatch.setattr(model, "_paired_distances", lambda vectors, means: np.array(
        [record[0] for record in list(concept.normal_records)[::5]]) * 3)
    assert model._normal(concept)[0] == pytest.approx(raw_mean)
    # one sampled record is not enough to rescale; zero distances are never sampled
    concept.normal_records.clear()
    for distance in [0.0, 0.4, 0.4, 0.4, 0.4, 0.2]:
        concept.normal_records.append((distance, vector, mean))
    assert model._normal(concept)[0] == pytest.approx(np.mean([0.0, 0.4, 0.4, 0.4, 0.4, 0.2]))

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


def test_a_split_caches_the_fingerprint_and_restarts_its_performance_entries(monkeypatch):
    """Model evolution (brief §2.3): on a split the fingerprint is cached, its performance entries
    restart at count 0.1, the delay buffer is re-predicted by the new tree; w + 1 releases later
    the transitional fingerprint is cached too and the performance entries restart at count 1 from
    a window of post-split items only. Distances take the closest of current and cached."""
    model = FiCSUMClassifier()
    events: list[dict] = []
    on_evolution, end_evolution = model._on_evolution, model._end_evolution

    def spy_on_evolution(concept):
        before = concept.fingerprint.copy()
        on_evolution(concept)
        events.append({"kind": "split", "before": before, "after": concept.fingerprint.copy(),
                       "cached": len(concept.cached), "countdown": concept.restart_countdown,
                       "trained": concept.n_trained,
                       "buffer": [(row.copy(), obs) for row, obs in model._buffer],
                       "tree": concept.model.clone(include_attributes=True)})

    def spy_end_evolution(concept):
        end_evolution(concept)
        events.append({"kind": "end", "after": concept.fingerprint.copy(), "cached": len(concept.cached),
                       "trained": concept.n_trained,
                       "window": model._window_vector(model._buffered)})

    monkeypatch.setattr(model, "_on_evolution", spy_on_evolution)
    monkeypatch.setattr(model, "_end_evolution", spy_end_evolution)
    for x, y in synth.STAGGER(seed=1, classification_function=0).take(1500):
        model.predict_one(x)
        model.learn_one(x, y)
        kinds = [event["kind"] for event in events if event["kind"] == "end"
                 or event["before"].n_updates > 0]
        if "split" in kinds and "end" in kinds[kinds.index("split"):]:
            break
    splits = [event for event in events if event["kind"] == "split" and event["before"].n_updates > 0]
    assert splits, "the tree must split once the fingerprint exists for this test"
    split = splits[0]
    end = next(event for event in events[events.index(split) + 1:] if event["kind"] == "end")
    mask = model._performance_mask
    assert mask.any() and not mask.all()
    before, after = split["before"], split["after"]
    # the cache holds the fingerprint as it was before the split
    cached = model._active.cached[split["cached"] - 1] if split["cached"] else None
    assert split["cached"] >= 1 and cached is not None
    np.testing.assert_allclose(after.mean, before.mean)
    np.testing.assert_allclose(after.weight[mask], 0.1)
    np.testing.assert_allclose(after.weight[~mask], before.weight[~mask])
    assert np.all(after.std[mask] == 0)
    assert split["countdown"] == model.window + 1
    # buffered items that have not trained the tree are re-predicted by the split tree
    tree_after = split["tree"]
    for row, (x, y, _) in split["buffer"]:
        assert row[model._error_col] == float(tree_after.predict_one(x) == y)
    # the clean restart comes w + 1 releases after the split's own (no other split in between
    # here), so W_buf then holds only items released after the split
    assert end["trained"] - split["trained"] == model.window + 1
    assert end["cached"] == split["cached"] + 1
    np.testing.assert_allclose(end["after"].mean[mask], end["window"][mask])
    np.testing.assert_allclose(end["after"].weight[mask], 1.0)
    # distance to a concept: the closest of its current and cached fingerprints
    concept = model._active
    vector = model._window_vector(model._head)
    each = [model._distances(model._normaliser.transform(vector),
                             model._normaliser.transform(fingerprint.mean)[None, :])[0]
            for fingerprint in [concept.fingerprint, *concept.cached]]
    assert model._distance_to(concept, vector) == pytest.approx(min(each))
    assert len(each) > 1

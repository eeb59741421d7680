"""Baselines for recurring drift and the prequential runner they share with FiCSUM (brief §5).

- lower bound: one river Hoeffding tree that never switches (one system concept);
- upper bound: an oracle keeping one Hoeffding tree per true concept and switching on true ids;
- ``drift_retrain``: river's ``DriftRetrainingClassifier(HT, ADWIN)`` (resets, never reuses);
- ``arf``: river's Adaptive Random Forest (one system concept);
- ``rcd``, ``dwm``: MOA's recurring-drift classifiers through capymoa (see :mod:`.moa`; optional).

:func:`prequential_run` tests then trains every model the same way and logs the system concept id
(``active_concept_id`` where a model has one) for C-F1.

>>> from river import tree
>>> log = prequential_run(tree.HoeffdingTreeClassifier(), [({"a": 1.0}, 1, 0), ({"a": 1.0}, 1, 0)])
>>> log.correct.tolist(), log.system_concept.tolist()
([False, True], [0, 0])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from river import base, drift, forest, tree

from .moa import MOA_METHODS, MOABaseline

__all__ = [
    "OracleClassifier",
    "CountingDriftRetrainer",
    "make_baseline",
    "PrequentialLog",
    "prequential_run",
    "BASELINES",
]

BASELINES: tuple[str, ...] = ("lower", "upper", "drift_retrain", "arf", *MOA_METHODS)


class OracleClassifier(base.Classifier):
    """The upper bound: one fresh classifier per true concept, told the true concept id.

    >>> oracle = OracleClassifier()
    >>> oracle.observe_concept(2); oracle.active_concept_id
    2
    """

    def __init__(self, model: base.Classifier | None = None):
        self.model = model
        self._models: dict[int, base.Classifier] = {}
        self.active_concept_id = 0

    def observe_concept(self, concept_id: int) -> None:
        """Switch to the model of the true concept (created on first sight)."""
        self.active_concept_id = concept_id

    def _current(self) -> base.Classifier:
        model = self._models.get(self.active_concept_id)
        if model is None:
            template = self.model if self.model is not None else tree.HoeffdingTreeClassifier()
            model = self._models[self.active_concept_id] = template.clone()
        return model

    @property
    def _multiclass(self) -> bool:
        return True

    def learn_one(self, x: dict, y: Any) -> None:
        self._current().learn_one(x, y)

    def predict_proba_one(self, x: dict) -> dict:
        return self._current().predict_proba_one(x)


class CountingDriftRetrainer(drift.DriftRetrainingClassifier):
    """river's ``DriftRetrainingClassifier`` that numbers its resets as system concepts.

    ADWIN has no warning zone, so the model is reset (not trained in the background).

    >>> CountingDriftRetrainer(tree.HoeffdingTreeClassifier()).active_concept_id
    0
    """

    def __init__(self, model: base.Classifier, drift_detector: base.DriftDetector | None = None):
        super().__init__(
            model, drift_detector if drift_detector is not None else drift.ADWIN(delta=0.002),
            train_in_background=False,
        )
        self.active_concept_id = 0
        self.drift_detected = False

    def learn_one(self, x: dict, y: Any, **kwargs: Any) -> None:
        super().learn_one(x, y, **kwargs)
        self.drift_detected = bool(self.drift_detector.drift_detected)
        if self.drift_detected:
            self.active_concept_id += 1


def make_baseline(name: str, seed: int = 1, classes: Sequence[Any] = ()) -> base.Classifier:
    """A fresh baseline model by name (one of :data:`BASELINES`); the MOA ones need ``classes``.

    >>> type(make_baseline("lower")).__name__
    'HoeffdingTreeClassifier'
    """
    if name == "lower":
        return tree.HoeffdingTreeClassifier()
    if name == "upper":
        return OracleClassifier(tree.HoeffdingTreeClassifier())
    if name == "drift_retrain":
        return CountingDriftRetrainer(tree.HoeffdingTreeClassifier(), drift.ADWIN())
    if name == "arf":
        return forest.ARFClassifier(seed=seed)
    if name in MOA_METHODS:
        return MOABaseline(name, classes=classes, seed=seed)
    raise ValueError(f"unknown baseline {name!r}; allowed: {', '.join(BASELINES)}")


@dataclass
class PrequentialLog:
    """Per-observation record of a prequential run."""

    y_true: list
    y_pred: list
    correct: np.ndarray
    true_concept: np.ndarray
    system_concept: np.ndarray
    drift: np.ndarray


def prequential_run(
    model: base.Classifier,
    stream: Iterable[tuple[dict, Any, int]],
    on_step: Callable[[int, base.Classifier], None] | None = None,
) -> PrequentialLog:
    """Test-then-train ``model`` over ``(x, y, concept_id)`` items; ``on_step(t, model)`` after each.

    An oracle (a model with ``observe_concept``) is told the true concept before predicting.
    """
    y_true: list = []
    y_pred: list = []
    true_concept: list[int] = []
    system_concept: list[int] = []
    drifts: list[bool] = []
    tells_oracle = hasattr(model, "observe_concept")
    for t, (x, y, concept_id) in enumerate(stream):
        if tells_oracle:
            model.observe_concept(concept_id)
        prediction = model.predict_one(x)
        model.learn_one(x, y)
        y_true.append(y)
        y_pred.append(prediction)
        true_concept.append(concept_id)
        system_concept.append(getattr(model, "active_concept_id", 0))
        drifts.append(bool(getattr(model, "drift_detected", False)))
        if on_step is not None:
            on_step(t, model)
    correct = np.array([p == y for p, y in zip(y_pred, y_true, strict=True)], dtype=bool)
    return PrequentialLog(y_true, y_pred, correct, np.array(true_concept), np.array(system_concept),
                          np.array(drifts, dtype=bool))

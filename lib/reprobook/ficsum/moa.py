"""Recurrence-aware baselines from MOA, through capymoa: RCD and DWM as river classifiers (brief §8).

- ``rcd``: Recurring Concept Drifts (Gonçalves & de Barros 2013), MOA's ``meta.RCD``: a drift
  detector (DDM) over the active classifier; at a drift it reuses the stored classifier whose
  training sample matches the recent data (a statistical test) or starts a new one. Base learner: a
  Hoeffding tree, as FiCSUM's.
- ``dwm``: Dynamic Weighted Majority (Kolter & Maloof 2007), MOA's ``meta.DynamicWeightedMajority``
  with its defaults (naive Bayes experts, period 50, β = 0.5, θ = 0.01).

The system concept logged for C-F1 is, for RCD, the classifier that predicts now (numbered by first
appearance, so a reused classifier repeats its id) and, for DWM, the expert of largest weight
(numbered the same way). MOA keeps both in protected fields, read through Java reflection.

capymoa is optional: it ships MOA's jar and needs a Java 17 runtime. It declares ``pandas~=2.2``
but its MOA classifiers run with this project's pandas, so it is installed without its
dependencies (:data:`INSTALL`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from importlib.util import find_spec
from typing import Any

import numpy as np
from river import base

from reprobook.params import ParameterError, check_choice

__all__ = ["MOA_METHODS", "INSTALL", "moa_missing", "MOABaseline"]

#: The MOA baselines by name.
MOA_METHODS: tuple[str, ...] = ("rcd", "dwm")
#: How to install what they need (the project's Makefile does this).
INSTALL = "pip install jpype1==1.7.1 && pip install --no-deps capymoa==0.15.1 (and a Java 17 runtime)"


def moa_missing() -> str | None:
    """Why the MOA baselines cannot run here (None when they can)."""
    for module in ("jpype", "capymoa"):
        if find_spec(module) is None:
            return f"the MOA baselines need the '{module}' package: {INSTALL}"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "the MOA baselines need a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless)"
    return None


class MOABaseline(base.Classifier):
    """A MOA recurring-drift classifier (``"rcd"`` or ``"dwm"``) behind river's API.

    ``classes`` lists every label the stream can show (MOA fixes the class set up front); the
    feature names come from the first observation. Feature values that are not numbers are coded
    by order of first appearance.

    >>> model = MOABaseline("rcd", classes=[0, 1])          # doctest: +SKIP
    >>> model.learn_one({"a": 1.0}, 1); model.predict_one({"a": 1.0})  # doctest: +SKIP
    1
    """

    def __init__(self, method: str, classes: Sequence[Any], seed: int = 1):
        self.method = check_choice("method", method, MOA_METHODS)
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ParameterError(
                f"parameter 'classes' must list at least two distinct labels, got {list(classes)!r}"
            )
        missing = moa_missing()
        if missing is not None:
            raise ParameterError(missing)
        self.classes = list(classes)
        self.seed = seed
        self._index = {label: i for i, label in enumerate(self.classes)}
        self._learner: Any = None
        self._features: list[str] = []
        self._codes: dict[str, dict[Any, float]] = {}
        self._ids: dict[int, int] = {}
        self.active_concept_id = 0
        self.drift_detected = False

    @property
    def _multiclass(self) -> bool:
        return True

    # ------------------------------------------------------------------ MOA plumbing
    def _start(self, x: dict) -> None:
        import jpype  # noqa: F401  (capymoa starts the JVM on import)
        from capymoa.base import MOAClassifier
        from capymoa.classifier import DynamicWeightedMajority
        from capymoa.stream import Schema

        self._features = list(x)
        self._codes = {name: {} for name in self._features}
        self._schema = Schema.from_custom(
            features=[*self._features, "__class__"], target="__class__",
            categories={"__class__": [str(label) for label in self.classes]}, name="stream",
        )
        if self.method == "rcd":
            from moa.classifiers.meta import RCD

            self._learner = MOAClassifier(RCD, schema=self._schema, CLI="-l trees.HoeffdingTree",
                                          random_seed=self.seed)
        else:
            self._learner = DynamicWeightedMajority(self._schema, random_seed=self.seed)
        system = jpype.JClass("java.lang.System")
        self._identity = system.identityHashCode
        if self.method == "rcd":
            owner = jpype.JClass("moa.classifiers.drift.DriftDetectionMethodClassifier")
            self._active_field = self._field(owner, "classifier")
        else:
            owner = jpype.JClass("moa.classifiers.meta.DynamicWeightedMajority")
            self._experts_field = self._field(owner, "experts")
            self._weights_field = self._field(owner, "weights")

    @staticmethod
    def _field(owner: Any, name: str) -> Any:
        handle = owner.class_.getDeclaredField(name)
        handle.setAccessible(True)
        return handle

    def _vector(self, x: dict) -> np.ndarray:
        values = []
        for name in self._features:
            value = x.get(name, 0.0)
            if isinstance(value, (bool, int, float, np.number)):
                values.append(float(value))
            else:
                codes = self._codes[name]
                values.append(codes.setdefault(value, float(len(codes))))
        return np.array(values, dtype=float)

    def _system_model(self) -> Any:
        java = self._learner.moa_learner
        if self.method == "rcd":
            return self._active_field.get(java)
        experts = self._experts_field.get(java)
        weights = self._weights_field.get(java)
        if experts.size() == 0:
            return None
        heaviest = max(range(experts.size()), key=lambda i: float(weights.get(i)))
        return experts.get(heaviest)

    # ------------------------------------------------------------------ river API
    def learn_one(self, x: dict, y: Any) -> None:
        from capymoa.core import LabeledInstance

        if self._learner is None:
            self._start(x)
        if y not in self._index:
            raise ParameterError(f"label {y!r} is not in parameter 'classes' {self.classes!r}")
        self._learner.train(LabeledInstance.from_array(self._schema, self._vector(x), self._index[y]))
        model = self._system_model()
        key = -1 if model is None else int(self._identity(model))
        concept = self._ids.setdefault(key, len(self._ids))
        self.drift_detected = concept != self.active_concept_id and len(self._ids) > 1
        self.active_concept_id = concept

    def predict_proba_one(self, x: dict) -> dict:
        from capymoa.core import Instance

        if self._learner is None:
            return {}
        votes = self._learner.predict_proba(Instance.from_array(self._schema, self._vector(x)))
        if votes is None:
            return {}
        votes = np.asarray(votes, dtype=float)
        total = votes.sum()
        if not np.isfinite(total) or total <= 0:
            return {}
        return {label: float(votes[i]) / total for i, label in enumerate(self.classes) if i < votes.size}

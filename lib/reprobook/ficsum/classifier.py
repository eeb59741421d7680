"""FiCSUM: a river classifier that fingerprints concepts to detect and reuse recurring ones (§2.1–2.8).

The wrapper keeps one base classifier per concept in a repository. Every observation is predicted
by the active concept's classifier, described in a head window and queued in a delay buffer whose
released items train the classifier and feed its fingerprint. A rise of the weighted cosine
distance between the head window and the active fingerprint, detected by ADWIN, triggers a search
of the repository: a stored concept whose fingerprint matches is reactivated (its classifier is
reused), otherwise a new concept starts from a shadow classifier.

Documented choices where the brief leaves room:

- ``FI`` is attributed to input-feature sources only: the reference's FI entries of the label,
  prediction and error sources are constant zeros, so they are left out of the vector.
- Each row's FI path contribution is computed with the classifier at the time the row enters a
  window and recomputed for the whole window when the tree splits.
- The warning ADWIN (δ = 0.1) only marks a warning in the reference; it is not kept here.
- ``fingerprint="error_rate"`` keeps the single dimension ``errors:mean``; on one dimension the
  cosine distance is identically 0, so that ablation compares windows by absolute difference.
- Feature values that are not numbers are coded by order of first appearance; missing ones are 0.
- The label/prediction sources use the label itself when it is a number, else its code by order
  of first appearance; FI attributes the probability of the first class the stream showed.
- Models whose ``learn_one`` takes no ``w`` are trained unweighted (``sample_weight`` ignored).
- A concept takes part in drift checks and re-identification once it has ``min_normal_records``
  "normal" distance records (default 1, as in the reference, which needs one record to compute
  the ADWIN input and the acceptance test).
- river's ADWIN replaces skmultiflow's (the reference's); its clock is set to 32 / sim_gap
  elements so that cuts are checked as often as in the reference (every 32 observations). river's
  detector also restarts its window after each detection, where skmultiflow's only drops the part
  before the cut.

>>> from river.datasets import synth
>>> model = FiCSUMClassifier()
>>> for x, y in synth.STAGGER(seed=1).take(300):
...     model.learn_one(x, y)
>>> model.n_concepts, model.active_concept_id
(1, 0)
"""

from __future__ import annotations

import inspect
import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from river import base, drift, tree

from reprobook.params import ParameterError, check_choice, check_float, check_int, check_subset

from .fingerprint import (
    Fingerprint,
    Normaliser,
    dynamic_weights,
    weighted_cosine_distances,
)
from .metafeatures import (
    IMF_FEATURES,
    STATISTICS,
    RollingStatistics,
    error_distance_series,
    imf_entropies,
    mutual_information,
    path_contributions,
    tree_version,
    window_statistics,
)

__all__ = [
    "FiCSUMClassifier",
    "SOURCE_GROUPS",
    "SUPERVISED_SOURCES",
    "FEATURES",
    "DEFAULT_FEATURES",
]

#: Source groups that can be switched on or off; "features" stands for every input feature.
SOURCE_GROUPS: tuple[str, ...] = ("features", "labels", "predictions", "errors", "error_distances")
#: The sources whose meta-features change when the classifier changes (restarted on evolution).
SUPERVISED_SOURCES: tuple[str, ...] = ("labels", "predictions", "errors", "error_distances")
#: Every meta-feature this implementation knows, in column order.
FEATURES: tuple[str, ...] = (*STATISTICS, "MI", *IMF_FEATURES, "FI")
#: The meta-features on by default (MI is slow and off in the reference).
DEFAULT_FEATURES: tuple[str, ...] = (*STATISTICS, "FI")

_PERFORMANCE_SOURCES = ("labels", "predictions", "errors", "error_distances")


@dataclass
class _Concept:
    """One entry of the concept repository."""

    concept_id: int
    model: base.Classifier
    fingerprint: Fingerprint
    from_shadow: bool
    n_trained: int = 0
    version: int = 0
    cached: deque = field(default_factory=lambda: deque(maxlen=5))
    nonactive: dict[int, Fingerprint] = field(default_factory=dict)
    # "normal" distance records: (distance, raw vector, fingerprint mean when recorded). The
    # reference appends and then drops the oldest once 50 are held, so 49 stay in the record.
    normal_records: deque = field(default_factory=lambda: deque(maxlen=49))
    # counts released observations left in the "dirty" phase after a split (-1: not dirty)
    restart_countdown: int = -1

    def normal_raw(self) -> tuple[float, float]:
        """Mean and sample std (ddof = 1; 0 with one record) of the recorded normal distances."""
        if not self.normal_records:
            return 0.0, 0.0
        values = np.fromiter((record[0] for record in self.normal_records), float)
        std = float(values.std(ddof=1)) if values.size > 1 else 0.0
        return float(values.mean()), std


class _Window:
    """A window of observations: rolling statistics of all sources, raw (x, y), FI contributions."""

    def __init__(self, n_sources: int, n_features: int, capacity: int):
        self.stats = RollingStatistics(n_sources, capacity)
        self.raw: deque = deque(maxlen=capacity)
        self.contributions: deque = deque(maxlen=capacity)
        self.importance = np.zeros(n_features)
        self.capacity = capacity

    def __len__(self) -> int:
        return len(self.raw)

    def push(self, row: np.ndarray, observation: tuple, contribution: np.ndarray | None) -> None:
        self.stats.push(row)
        self.raw.append(observation)
        if contribution is not None:
            if len(self.contributions) == self.capacity:
                self.importance -= self.contributions[0]
            self.contributions.append(contribution)
            self.importance += contribution

    def set_contributions(self, contributions: Iterable[np.ndarray]) -> None:
        self.contributions = deque(contributions, maxlen=self.capacity)
        self.importance = np.sum(self.contributions, axis=0) if self.contributions else self.importance * 0

    def clear(self) -> None:
        self.stats.clear()
        self.raw.clear()
        self.contributions.clear()
        self.importance = self.importance * 0


class FiCSUMClassifier(base.Classifier):
    """FiCSUM (Halstead et al., ICDE 2021) around any river classifier.

    Parameters
    ----------
    model
        The base classifier (cloned for every concept) or a zero-argument factory returning one.
        Default: ``river.tree.HoeffdingTreeClassifier()`` with river's defaults (= the reference's).
    window
        w, the length of the head and buffered windows (reference experiments: 75).
    sources
        Source groups used in the fingerprint, from :data:`SOURCE_GROUPS`.
    features
        Meta-features used, from :data:`FEATURES` (drop ``"FI"`` to switch feature importance off).
    weighting
        ``"default"`` (dynamic weights, §2.4) or ``"uniform"``.
    fingerprint
        ``"full"`` or ``"error_rate"`` (only the error-rate dimension: the ablation of
        error-rate-based methods).
    buffer_ratio, sample_weight, fp_gap, na_fp_gap, sim_gap, sim_stdevs, min_window, drift_delta,
    shadow_size, n_cached
        The reference defaults of §2.9.
    clear_normal_on_evolution
        Forget a concept's normal-distance records when its classifier splits (off by default).
    min_normal_records
        Normal-distance records a concept needs before drift checks and re-identification
        (reference: 1). A minimum of 10 removes most false drifts of a young tree on STAGGER, but
        it was found on seeds 1-10, so it is validated on held-out seeds 11-20 by a rule fixed
        before that run (:mod:`reprobook.ficsum.recurrence`): 10 becomes the default if, on seeds
        11-20, it re-identifies every recurrence on at least 7 of 10 seeds AND on more seeds than
        the default 1 does on the same seeds; otherwise the default stays 1. The default follows
        the recorded decision (``recurrence_holdout.json``; a test checks that it does).

    Attributes
    ----------
    active_concept_id, n_concepts, drift_detected (on the last ``learn_one``), weights (pandas
    Series indexed by ``"source:feature"``), transitions (list of (step, from, to)), detections
    (steps where drift was detected).
    """

    def __init__(
        self,
        model: base.Classifier | Callable[[], base.Classifier] | None = None,
        *,
        window: int = 75,
        sources: Sequence[str] = SOURCE_GROUPS,
        features: Sequence[str] = DEFAULT_FEATURES,
        weighting: str = "default",
        fingerprint: str = "full",
        buffer_ratio: float = 0.25,
        sample_weight: float = 6.0,
        fp_gap: int = 50,
        na_fp_gap: int = 100,
        sim_gap: int = 3,
        sim_stdevs: float = 3.0,
        min_window: int = 50,
        drift_delta: float = 0.05,
        shadow_size: int = 50,
        n_cached: int = 5,
        clear_normal_on_evolution: bool = False,
        min_normal_records: int = 1,
    ):
        self.model = model
        self.window = check_int("window", window, minimum=3)
        self.sources = tuple(check_subset("sources", list(sources), SOURCE_GROUPS))
        self.features = tuple(check_subset("features", list(features), FEATURES))
        self.weighting = check_choice("weighting", weighting, ["default", "uniform"])
        self.fingerprint = check_choice("fingerprint", fingerprint, ["full", "error_rate"])
        self.buffer_ratio = check_float("buffer_ratio", buffer_ratio, minimum=0.0, maximum=1.0)
        self.sample_weight = check_float("sample_weight", sample_weight, minimum=0.0)
        self.fp_gap = check_int("fp_gap", fp_gap, minimum=1)
        self.na_fp_gap = check_int("na_fp_gap", na_fp_gap, minimum=1)
        self.sim_gap = check_int("sim_gap", sim_gap, minimum=1)
        self.sim_stdevs = check_float("sim_stdevs", sim_stdevs, minimum=0.0)
        self.min_window = check_int("min_window", min_window, minimum=3)
        self.drift_delta = check_float("drift_delta", drift_delta, minimum=1e-12, maximum=1.0)
        self.shadow_size = check_int("shadow_size", shadow_size, minimum=1)
        self.n_cached = check_int("n_cached", n_cached, minimum=0)
        self.clear_normal_on_evolution = clear_normal_on_evolution
        self.min_normal_records = check_int("min_normal_records", min_normal_records, minimum=1)
        if model is not None and not isinstance(model, base.Classifier) and not callable(model):
            raise ParameterError(
                f"parameter 'model' must be a river classifier or a factory returning one, got {model!r}"
            )
        if self.min_window > self.window:
            raise ParameterError(
                f"parameter 'min_window' must be <= window ({self.window}), got {self.min_window}"
            )
        self._concepts: dict[int, _Concept] = {}
        self._dimension = 0  # known once the first observation shows the features
        self._active = self._new_concept(self._new_model(), from_shadow=False)
        self._layout_ready = False
        self.drift_detected = False
        self.transitions: list[tuple[int, int, int]] = []
        self.detections: list[int] = []
        self._step = 0
        self._last_x: dict | None = None
        self._last_prediction: Any = None

    # ----------------------------------------------------------------------------- public API
    @property
    def _multiclass(self) -> bool:
        return True

    @property
    def active_concept_id(self) -> int:
        """The id of the concept whose classifier predicts now."""
        return self._active.concept_id

    @property
    def n_concepts(self) -> int:
        """How many concepts the repository holds."""
        return len(self._concepts)

    @property
    def weights(self) -> pd.Series:
        """The current meta-feature weights ŵ, indexed by ``"source:feature"``."""
        if not self._layout_ready:
            return pd.Series(dtype=float, name="weight")
        return pd.Series(self._current_weights().copy(), index=list(self._dimension_names),
                         name="weight")

    @property
    def dimension_names(self) -> list[str]:
        """The ``"source:feature"`` name of every fingerprint dimension (empty before learning)."""
        return list(self._dimension_names) if self._layout_ready else []

    def fingerprints(self) -> pd.DataFrame:
        """Each concept's fingerprint mean (rows: concept id; columns: dimensions)."""
        if not self._layout_ready:
            return pd.DataFrame()
        return pd.DataFrame(
            {cid: concept.fingerprint.mean for cid, concept in self._concepts.items()},
            index=list(self._dimension_names),
        ).T

    def predict_proba_one(self, x: dict) -> dict:
        return self._active.model.predict_proba_one(x)

    def predict_one(self, x: dict) -> Any:
        prediction = self._active.model.predict_one(x)
        # learn_one reuses this prediction when it receives the same dict right after
        self._last_x, self._last_prediction = x, prediction
        return prediction

    def concept_distances(self) -> dict[int, float]:
        """Distance of the current head window to every stored concept (lower = more similar).

        Each concept's own classifier re-predicts the head window, as in re-identification; this
        costs w predictions per concept, so call it every few dozen steps, not every step.
        """
        if not self._layout_ready or len(self._head) < 3:
            return {}
        return {
            cid: self._distance_to(concept, self._vector_with_model(self._head, concept.model))
            for cid, concept in self._concepts.items()
            if concept.fingerprint.n_updates > 0
        }

    def learn_one(self, x: dict, y: Any, w: float = 1.0, **kwargs: Any) -> None:
        """Test-then-train on one observation (predicts with the active concept first).

        ``x`` is copied (the caller may reuse its dict); the sample weight ``w`` multiplies the
        constant ``sample_weight`` when the observation is released to train the active classifier.

        The order of the steps follows the reference: release from the delay buffer (train, react
        to a split), take a drift measurement on the head window, update the fingerprint from the
        buffered window, update the non-active fingerprints, then decide on drift and on the
        scheduled re-checks.
        """
        if not self._layout_ready:
            self._set_layout(x)
        if x is self._last_x:
            prediction = self._last_prediction
        else:
            prediction = self._active.model.predict_one(x)
        self._last_x = None
        self._step += 1
        self.drift_detected = False
        if y not in self._class_codes:
            self._class_codes[y] = len(self._class_codes)
            if self._reference_class is None:
                self._reference_class = y
        correct = 1.0 if prediction == y else 0.0
        row = self._row(x, y, prediction, correct)
        observation = (dict(x), y, float(w))
        self._head.push(row, observation, self._contribution(self._active.model, x))
        self._buffer.append((row, observation))
        self._since_transition += 1
        # the reference releases (at most) one item per step once the buffer holds
        # floor(ρ · observations since the last transition) items
        if len(self._buffer) >= int(self.buffer_ratio * self._since_transition):
            self._release(*self._buffer.popleft())
        # the re-check triggers fire when exactly w + 1 items were released since they were set
        trigger_transition = self._released_since_transition == self.window + 1
        trigger_attempt = self._released_since_attempt == self.window + 1
        self._head_vector = None
        drift_signal = False
        if self._since_transition % self.sim_gap == 0 and len(self._buffered) >= self.min_window:
            drift_signal = self._measure()
        if self._fp_due and len(self._buffered) >= self.min_window:
            self._fp_due = False
            self._update_fingerprint(self._active)
        if (self._step - self._na_last >= self.na_fp_gap
                and len(self._buffered) >= self.min_window):
            self._na_last = self._step
            self._update_nonactive(self._active)
        found_change = drift_signal and self._confirm_rise()
        if found_change:
            self.drift_detected = True
            self.detections.append(self._step)
        if found_change or trigger_transition or trigger_attempt:
            self._attempt_transition(trigger_transition, trigger_attempt)

    # ----------------------------------------------------------------------------- layout
    def _new_model(self) -> base.Classifier:
        if self.model is None:
            return tree.HoeffdingTreeClassifier()
        if isinstance(self.model, base.Estimator):
            return self.model.clone()
        return self.model()

    def _new_concept(self, model: base.Classifier, *, from_shadow: bool) -> _Concept:
        concept_id = len(self._concepts)
        concept = _Concept(
            concept_id, model, Fingerprint(self._dimension), from_shadow, version=tree_version(model)
        )
        concept.cached = deque(maxlen=self.n_cached)
        self._concepts[concept_id] = concept
        return concept

    def _set_layout(self, x: dict) -> None:
        self._feature_names = list(x)
        self._feature_index = {name: i for i, name in enumerate(self._feature_names)}
        self._value_codes: dict[str, dict] = {name: {} for name in self._feature_names}
        self._class_codes: dict[Any, int] = {}
        self._reference_class: Any = None
        d = len(self._feature_names)
        self._label_col, self._prediction_col, self._error_col = d, d + 1, d + 2
        self._n_rolling = d + 3  # error distances are derived at extraction
        self._source_names = [*self._feature_names, "labels", "predictions", "errors", "error_distances"]
        self._feature_columns = [*STATISTICS, "MI", *IMF_FEATURES, "FI"]
        group_of = {name: "features" for name in self._feature_names}
        group_of.update({name: name for name in SUPERVISED_SOURCES})
        names, flat = [], []
        n_columns = len(self._feature_columns)
        for s, source in enumerate(self._source_names):
            for f, feature in enumerate(self._feature_columns):
                if self.fingerprint == "error_rate":
                    keep = source == "errors" and feature == "mean"
                else:
                    keep = (group_of[source] in self.sources and feature in self.features
                            and not (feature == "FI" and s >= d))
                if keep:
                    names.append(f"{source}:{feature}")
                    flat.append(s * n_columns + f)
        if not flat:
            raise ParameterError(
                "parameters 'sources' and 'features' leave no meta-feature to fingerprint; "
                f"got sources={list(self.sources)!r}, features={list(self.features)!r}"
            )
        self._dimension_names = names
        self._flat_index = np.array(flat)
        self._dimension = len(flat)
        self._use_mi = "MI" in self.features and self.fingerprint == "full"
        self._use_imf = any(name in self.features for name in IMF_FEATURES) and self.fingerprint == "full"
        self._needs_values = self._use_mi or self._use_imf
        self._use_fi = "FI" in self.features and self.fingerprint == "full" and "features" in self.sources
        self._use_error_distances = any(name.startswith("error_distances:") for name in names)
        performance = [name.split(":")[0] in _PERFORMANCE_SOURCES or name.endswith(":FI") for name in names]
        self._performance_mask = np.array(performance)
        self._normaliser = Normaliser(self._dimension)
        self._weights = np.ones(self._dimension)
        self._head = _Window(self._n_rolling, d, self.window)
        self._buffered = _Window(self._n_rolling, d, self.window)
        self._buffer: deque = deque()
        for concept in self._concepts.values():
            concept.fingerprint = Fingerprint(self._dimension)
        self._weights_dirty = True
        self._fp_due = False
        self._na_last = -self.na_fp_gap
        self._head_vector: np.ndarray | None = None
        # the reference starts as if the last attempt had made a shadow (the first concept is new)
        self._last_attempt_made_shadow = True
        self._reset_after_transition()
        # no re-check is due for the first concept (the reference starts with the trigger cancelled)
        self._released_since_transition = None
        self._layout_ready = True

    def _reset_after_transition(self) -> None:
        # skmultiflow's ADWIN (reference) checks for a cut every 32 calls of detected_change(),
        # which the reference makes on every observation while it adds an element only every
        # sim_gap observations; river's ADWIN counts its clock in elements, so a clock of
        # 32 / sim_gap elements checks at the same rate
        self._adwin = drift.ADWIN(delta=self.drift_delta, clock=max(1, round(32 / self.sim_gap)))
        self._buffer.clear()
        self._head.clear()
        self._buffered.clear()
        self._since_transition = 0
        # counts released items until the re-check after w + 1 of them (None: none due)
        self._released_since_transition: int | None = 0
        # the re-check after a false alarm is cancelled by a real transition
        self._released_since_attempt: int | None = None
        self._fp_counter = 0

    def _code(self, value: Any, codes: dict) -> float:
        if isinstance(value, (bool, int, float, np.number)):
            return float(value)
        if value is None:
            return 0.0
        code = codes.get(value)
        if code is None:
            code = codes[value] = len(codes)
        return float(code)

    def _row(self, x: dict, y: Any, prediction: Any, correct: float) -> np.ndarray:
        values = []
        for name in self._feature_names:
            value = x.get(name, 0.0)
            if type(value) is float or type(value) is int:
                values.append(value)
            else:
                values.append(self._code(value, self._value_codes[name]))
        values.append(self._code(y, self._class_codes))
        values.append(self._code(prediction, self._class_codes) if prediction is not None else -1.0)
        values.append(correct)
        return np.array(values, dtype=float)

    def _contribution(self, model: base.Classifier, x: dict) -> np.ndarray | None:
        if not self._use_fi:
            return None
        return path_contributions(model, x, self._feature_index, self._reference_class)

    # ----------------------------------------------------------------------------- vectors
    def _assemble(self, statistics: np.ndarray, errors: np.ndarray, values: np.ndarray | None,
                  importance: np.ndarray | None) -> np.ndarray:
        """Flatten a (sources × features) table into the fingerprint vector."""
        table = np.zeros((len(self._source_names), len(self._feature_columns)))
        table[: self._n_rolling, : len(STATISTICS)] = statistics
        if self._use_error_distances:
            gaps = error_distance_series(errors)
            table[self._n_rolling, : len(STATISTICS)] = window_statistics(gaps[:, None])[0]
            if self._use_mi:
                table[self._n_rolling, len(STATISTICS)] = mutual_information(gaps[:, None])[0]
        if self._use_mi and values is not None:
            table[: self._n_rolling, len(STATISTICS)] = mutual_information(values)
        if self._use_imf:
            imf = slice(len(STATISTICS) + 1, len(STATISTICS) + 1 + len(IMF_FEATURES))
            if values is not None:
                table[: self._n_rolling, imf] = imf_entropies(values)
            if self._use_error_distances:
                table[self._n_rolling, imf] = imf_entropies(error_distance_series(errors)[:, None])[0]
        if importance is not None:
            table[: len(self._feature_names), -1] = importance
        return table.ravel()[self._flat_index]

    def _window_vector(self, window: _Window) -> np.ndarray:
        """The vector of a window as recorded (incremental statistics)."""
        return self._assemble(
            window.stats.statistics(), window.stats.column(self._error_col),
            window.stats.values() if self._needs_values else None,
            window.importance if self._use_fi else None,
        )

    def _vector_with_model(self, window: _Window, model: base.Classifier) -> np.ndarray:
        """The vector of a window whose predictions are redone by ``model`` (batch statistics)."""
        values = window.stats.values()
        observations = list(window.raw)
        correct = np.empty(len(observations))
        for i, (x, y, _) in enumerate(observations):
            prediction = model.predict_one(x)
            values[i, self._prediction_col] = (
                self._code(prediction, self._class_codes) if prediction is not None else -1.0
            )
            correct[i] = 1.0 if prediction == y else 0.0
        values[:, self._error_col] = correct
        importance = None
        if self._use_fi:
            importance = np.zeros(len(self._feature_names))
            for x, _, _ in observations:
                importance += path_contributions(model, x, self._feature_index, self._reference_class)
        return self._assemble(window_statistics(values), correct, values if self._needs_values else None,
                              importance)

    def _distances(self, normalised: np.ndarray, means: np.ndarray) -> np.ndarray:
        if self._dimension == 1:
            return np.abs(means[:, 0] - normalised[0])
        weights = self._current_weights() if self.weighting == "default" else np.ones(self._dimension)
        return weighted_cosine_distances(normalised, means, weights)

    def _paired_distances(self, vectors: np.ndarray, means: np.ndarray) -> np.ndarray:
        """Row-wise distance of normalised ``vectors[i]`` to normalised ``means[i]``."""
        if self._dimension == 1:
            return np.abs(means[:, 0] - vectors[:, 0])
        weights = self._current_weights() if self.weighting == "default" else np.ones(self._dimension)
        dot = (vectors * means) @ weights
        norms = np.sqrt((vectors * vectors) @ weights) * np.sqrt((means * means) @ weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            distance = 1.0 - dot / norms
        undefined = ~np.isfinite(distance)
        if undefined.any():
            both_zero = ~np.any(vectors, axis=1) & ~np.any(means, axis=1)
            distance = np.where(undefined, np.where(both_zero, 0.0, 1.0), distance)
        return np.maximum(distance, 0.0)

    def _distance_to(self, concept: _Concept, vector: np.ndarray) -> float:
        """Distance of a raw window vector to a concept: min over its current and cached fingerprints."""
        transform = self._normaliser.transform
        means = [concept.fingerprint.mean] + [cached.mean for cached in concept.cached]
        stacked = np.array([transform(mean) for mean in means])
        return float(self._distances(transform(vector), stacked).min())

    # ----------------------------------------------------------------------------- training path
    def _release(self, row: np.ndarray, observation: tuple) -> None:
        """One item leaves the delay buffer: it enters W_buf, then trains the active classifier."""
        concept = self._active
        x, y, weight = observation
        self._buffered.push(row, observation, self._contribution(concept.model, x))
        if self._accepts_weight(concept.model):
            concept.model.learn_one(x, y, w=self.sample_weight * weight)
        else:
            concept.model.learn_one(x, y)
        concept.n_trained += 1
        if self._released_since_transition is not None:
            self._released_since_transition += 1
        if self._released_since_attempt is not None:
            self._released_since_attempt += 1
        version = tree_version(concept.model)
        if version != concept.version:
            concept.version = version
            self._on_evolution(concept)
        if concept.restart_countdown >= 0:
            concept.restart_countdown -= 1
            if concept.restart_countdown < 0:
                self._end_evolution(concept)
        self._fp_counter += 1
        if self._fp_counter >= self.fp_gap:
            # the update itself waits until W_buf holds min_window items (see learn_one)
            self._fp_due = True
            self._fp_counter = 0

    _weight_support: dict[type, bool] = {}

    def _accepts_weight(self, model: base.Classifier) -> bool:
        kind = type(model)
        known = FiCSUMClassifier._weight_support.get(kind)
        if known is None:
            known = "w" in inspect.signature(model.learn_one).parameters
            FiCSUMClassifier._weight_support[kind] = known
        return known

    def _on_evolution(self, concept: _Concept) -> None:
        """The classifier split (reference ``check_evolution`` / ``start_evolution_transition``).

        The items still in the delay buffer are re-predicted by the new classifier (they have not
        trained it, so this is unbiased) so that the windows built from them describe its
        behaviour; the fingerprint is cached, its performance entries keep their value but restart
        with count 0.1 (the next window nearly replaces them), and a clean restart is scheduled
        once W_buf holds only items released after the split (w + 1 releases).
        """
        if self._use_fi:
            for window in (self._head, self._buffered):
                window.set_contributions(self._contribution(concept.model, x) for x, _, _ in window.raw)
        model = concept.model
        refreshed: deque = deque()
        for row, (x, y, weight) in self._buffer:
            prediction = model.predict_one(x)
            row = row.copy()
            row[self._prediction_col] = (
                self._code(prediction, self._class_codes) if prediction is not None else -1.0
            )
            row[self._error_col] = 1.0 if prediction == y else 0.0
            refreshed.append((row, (x, y, weight)))
        self._buffer = refreshed
        if concept.fingerprint.n_updates > 0:
            if self.n_cached > 0:
                concept.cached.append(concept.fingerprint.copy())
            concept.fingerprint.restart(self._performance_mask, concept.fingerprint.mean, 0.1)
            self._weights_dirty = True
        if self.clear_normal_on_evolution:
            concept.normal_records.clear()
        concept.restart_countdown = self.window + 1

    def _end_evolution(self, concept: _Concept) -> None:
        """W_buf now only holds post-split items: restart the performance entries from it."""
        if concept.fingerprint.n_updates == 0 or len(self._buffered) == 0:
            return
        if self.n_cached > 0:
            # the reference caches the transitional fingerprint as well
            concept.cached.append(concept.fingerprint.copy())
        vector = self._window_vector(self._buffered)
        self._normaliser.update(vector)
        concept.fingerprint.restart(self._performance_mask, vector, 1.0)
        self._weights_dirty = True

    def _update_fingerprint(self, concept: _Concept) -> None:
        vector = self._window_vector(self._buffered)
        self._normaliser.update(vector)
        concept.fingerprint.update(vector)
        self._weights_dirty = True
        if concept.fingerprint.valid:
            # the reference records the "normal" distance after folding the window in, i.e. the
            # distance of W_buf to a fingerprint that includes it
            distance = self._distance_to(concept, vector)
            concept.normal_records.append((distance, vector, concept.fingerprint.mean.copy()))

    def _normal(self, concept: _Concept) -> tuple[float, float]:
        """The normal distance μ_d (re-scaled to the current normaliser and weights) and σ_d.

        As in the reference: every 5th record is re-measured against the fingerprint it was
        recorded with; μ_d is multiplied by the mean ratio new/old (capped at 1, used only with
        more than one ratio); σ_d is not re-measured.
        """
        mean, std = concept.normal_raw()
        sampled = [record for record in list(concept.normal_records)[::5] if record[0] != 0]
        if len(sampled) > 1:
            transform = self._normaliser.transform
            vectors = np.array([transform(record[1]) for record in sampled])
            fingerprints = np.array([transform(record[2]) for record in sampled])
            new = self._paired_distances(vectors, fingerprints)
            old = np.array([record[0] for record in sampled])
            mean *= min(float(np.mean(new / old)), 1.0)
        return mean, std

    def _update_nonactive(self, active: _Concept) -> None:
        for concept in self._concepts.values():
            if concept is active or concept.fingerprint.n_updates == 0:
                continue
            vector = self._vector_with_model(self._buffered, concept.model)
            self._normaliser.update(vector)
            seen = concept.nonactive.get(active.concept_id)
            if seen is None:
                seen = concept.nonactive[active.concept_id] = Fingerprint(self._dimension)
            seen.update(vector)
            self._weights_dirty = True

    def _current_weights(self) -> np.ndarray:
        """ŵ, recomputed (as in the reference) whenever a fingerprint or a normaliser range moved."""
        if self.weighting != "default":
            return self._weights
        if self._weights_dirty or self._normaliser.changed:
            self._weights_dirty = False
            self._normaliser.changed = False
            # every concept that has a fingerprint takes part, valid or not (reference)
            concepts = [c for c in self._concepts.values() if c.fingerprint.n_updates > 0]
            if concepts:
                means = np.array([c.fingerprint.mean for c in concepts])
                stds = np.array([c.fingerprint.std for c in concepts])
                segments = [
                    np.array([c.fingerprint.mean] + [seen.mean for seen in c.nonactive.values()])
                    for c in concepts
                ]
                self._weights = dynamic_weights(
                    means, stds, self._normaliser.low, self._normaliser.high, segments
                )
        return self._weights

    # ----------------------------------------------------------------------------- detection
    def _active_head_vector(self) -> np.ndarray:
        """The head window's vector with its recorded predictions (computed once per step)."""
        if self._head_vector is None:
            self._head_vector = self._window_vector(self._head)
            self._normaliser.update(self._head_vector)
        return self._head_vector

    def _measure(self) -> bool:
        """A drift measurement: feed ADWIN with the head window's deviation from normal.

        Returns whether ADWIN signals a change. The input is 1 + |d - μ_d| / clip(σ_d, 0.01, 0.1)
        with the recorded (not re-scaled) μ_d, as in the reference; it needs a valid fingerprint
        and at least one normal record.
        """
        concept = self._active
        if not concept.fingerprint.valid:
            return False
        vector = self._active_head_vector()
        if len(concept.normal_records) < self.min_normal_records:
            return False
        distance = self._distance_to(concept, vector)
        normal_mean, normal_std = concept.normal_raw()
        self._adwin.update(1.0 + abs(distance - normal_mean) / min(max(normal_std, 0.01), 0.1))
        return self._adwin.drift_detected

    def _confirm_rise(self) -> bool:
        """Only a rise of the distance counts: d(W_head, active) > μ_d (re-scaled)."""
        concept = self._active
        distance = self._distance_to(concept, self._active_head_vector())
        normal_mean, _ = self._normal(concept)
        return distance > normal_mean

    def _attempt_transition(self, trigger_transition: bool, trigger_attempt: bool) -> None:
        """Search the repository for the concept the head window comes from (§2.7).

        The active concept is a candidate too (reference): if it is the best match the detection
        was a false alarm and the attempt is repeated after w + 1 released items. A re-check that
        finds no match does not replace a new concept by another one ("never two shadows in a
        row", judged on whether the previous attempt made a shadow, as in the reference).
        """
        previous = self._active
        triggered = trigger_transition or trigger_attempt
        best, best_score = None, -math.inf
        for concept in self._concepts.values():
            if (concept.n_trained < 2 * self.window or concept.fingerprint.n_updates == 0
                    or len(concept.normal_records) < self.min_normal_records):
                continue
            if concept is previous:
                vector = self._active_head_vector()
            else:
                vector = self._vector_with_model(self._head, concept.model)
                self._normaliser.update(vector)
            distance = self._distance_to(concept, vector)
            normal_mean, normal_std = self._normal(concept)
            spread = min(max(normal_std, 0.01), 0.1)
            if distance - normal_mean <= self.sim_stdevs * spread or distance < 0.001:
                score = 1.0 - distance * (1.0 + abs(distance - normal_mean) / spread)
                if score >= best_score:
                    best, best_score = concept, score
        use_shadow = best is None
        if triggered and self._last_attempt_made_shadow and use_shadow:
            use_shadow, best = False, previous
        self._last_attempt_made_shadow = use_shadow
        if use_shadow:
            best = self._new_concept(self._shadow_model(), from_shadow=True)
        if best is not previous:
            self._active = best
            self.transitions.append((self._step, previous.concept_id, best.concept_id))
            self._reset_after_transition()
        elif not triggered:
            # a false alarm: look again once w + 1 more items were released
            self._released_since_attempt = 0
        # a trigger that fired is cancelled (also when this attempt made a transition: the
        # reference then sets the re-check and cancels it right away)
        if trigger_transition:
            self._released_since_transition = None
        if trigger_attempt:
            self._released_since_attempt = None

    def _shadow_model(self) -> base.Classifier:
        """A fresh classifier trained on the most recent head-window observations.

        The reference fits it with one ``partial_fit`` call on the 50 newest observations, newest
        first, without sample weights (weight 1, not the constant 6 used for the active model).
        """
        shadow = self._new_model()
        for x, y, _ in reversed(list(self._head.raw)[-self.shadow_size:]):
            shadow.learn_one(x, y)
        return shadow

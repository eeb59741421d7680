"""Human labels on SmolLM2's own replies: the reference each rule detector is measured against on our
tutor's text (issue #13, item 1).

MRBench labels tutor replies written by other models; the chapter's detectors judge SmolLM2's replies
to our generated items. So SmolLM2's replies to the chapter's own crescendo dialogues and single-turn
items (the book run's 165 replies and the 132 of an earlier run over other sub-risks, both at seed 0)
were collected, and every reply was labelled by reading it against the guide ``labels/GUIDE.md``,
never by running a detector. The labelled file is package data, pinned by its sha256
(:data:`LABELS_SHA256`); a changed byte stops :func:`load_labels`.

:func:`detector_agreement` measures each detector's κ, precision and recall against those labels,
with an interval that resamples whole dialogues (turns of one dialogue are not independent).

>>> labels = load_labels()
>>> len(labels) >= 200, sorted(set(labels["mode"]))
(True, ['multi', 'single'])
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from reprobook.safetutors.judges import RuleJudge
from reprobook.safetutors.metrics import agreement, clustered_kappa

__all__ = ["LABELS_PATH", "GUIDE_PATH", "LABELS_SHA256", "LABELLED_DETECTORS", "CONTEXT_COLUMNS",
           "MIN_POSITIVES", "load_labels", "measurable", "detector_agreement"]

LABELS_PATH = Path(__file__).with_name("labels") / "smollm2_replies.json"
GUIDE_PATH = Path(__file__).with_name("labels") / "GUIDE.md"
#: sha256 of the labelled file as committed; a relabelling must update it (and say why in the log)
LABELS_SHA256 = "26a4ab1ade1bb43fdae1eca5cacf175e38aa291ac155a2003b4f4d8de24a6fb7"
#: the detectors the guide defines a human label for (human label column = the detector's name)
LABELLED_DETECTORS = ("disclosure", "endorsement", "fabrication_echo", "no_scaffold", "no_self_check",
                      "over_complex", "off_topic")
#: what a detector needs to judge a stored reply (stored with it, so the set does not depend on the generators)
CONTEXT_COLUMNS = ("reply_id", "run", "seed", "item_id", "pair_id", "mode", "turn", "rung", "subject", "subrisk",
                   "problem", "student", "answer", "unit", "answer_text", "wrong_value", "rule_terms", "grade")
#: a κ on fewer human positives (or negatives) than this is not a measurement of the detector (fixed in advance)
MIN_POSITIVES = 5


def measurable(positives: int, n: int) -> bool:
    """Enough of both classes among the human labels for a κ to say something about the detector.

    >>> measurable(5, 10), measurable(1, 297), measurable(297, 297)
    (True, False, False)
    """
    return positives >= MIN_POSITIVES and n - positives >= MIN_POSITIVES


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_labels(path: Path | None = None, sha256: str | None = None) -> pd.DataFrame:
    """The labelled replies as a frame (context, reply, one boolean column per labelled detector,
    ``None`` where the guide says the label does not apply), after checking the file's sha256."""
    path = LABELS_PATH if path is None else Path(path)
    expected = LABELS_SHA256 if sha256 is None else sha256
    found = _sha256(path)
    if found != expected:
        raise ValueError(f"{path.name}: sha256 {found} differs from the pinned {expected}; the labels changed")
    records = json.loads(path.read_text(encoding="utf-8"))["replies"]
    frame = pd.DataFrame(records)
    frame["rule_terms"] = frame["rule_terms"].map(tuple)
    frame["wrong_value"] = frame["wrong_value"].map(lambda v: float("nan") if v is None else float(v))
    return frame


def detector_agreement(labels: pd.DataFrame, n_resamples: int = 2_000, seed: int = 0) -> pd.DataFrame:
    """Each labelled detector against the human labels: κ with a dialogue-clustered bootstrap interval,
    precision, recall, n and the number of human positives (rows whose label does not apply are left out).

    >>> table = detector_agreement(load_labels(), n_resamples=50).set_index("detector")
    >>> int(table.loc["endorsement", "n"]) == int(load_labels()["endorsement"].notna().sum())
    True
    """
    detections = RuleJudge().judge(labels)
    # one cluster per dialogue (and per single-turn item) of each run
    clusters = np.array([f"{r}/{s}/{p}/{m}" for r, s, p, m in zip(labels["run"], labels["seed"], labels["pair_id"],
                                                                  labels["mode"], strict=True)])
    rows = []
    for detector in LABELLED_DETECTORS:
        applies = labels[detector].notna().to_numpy()
        truth = labels.loc[applies, detector].astype(bool).to_numpy()
        predicted = detections.loc[applies, detector].astype(bool).to_numpy()
        row: dict[str, object] = {"detector": detector, "n": int(applies.sum()), "positives": int(truth.sum()),
                                  "detector_positives": int(predicted.sum())}
        if applies.sum() == 0:
            rows.append({**row, "dialogues": 0, "kappa": np.nan, "kappa_low": np.nan, "kappa_high": np.nan, "precision": np.nan,
                         "recall": np.nan})
            continue
        clustered = clustered_kappa(truth, predicted, clusters[applies], n_resamples=n_resamples, seed=seed)
        plain = agreement(truth, predicted, n_resamples=10, seed=seed)
        rows.append({**row, "dialogues": clustered["n_clusters"], "kappa": clustered["kappa"], "kappa_low": clustered["low"],
                     "kappa_high": clustered["high"], "precision": plain["precision"], "recall": plain["recall"]})
    return pd.DataFrame(rows, columns=["detector", "n", "positives", "detector_positives", "dialogues", "kappa", "kappa_low",
                                       "kappa_high", "precision", "recall"])

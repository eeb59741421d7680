"""The labelled SmolLM2 replies: pinned, well formed, and deciding which detectors feed a claim."""

import json
import math

import numpy as np
import pytest
from safetutors_worlds import mrbench_frame

from reprobook.safetutors import labels as labelled
from reprobook.safetutors import ledger as safeledger


def test_the_labelled_set_is_pinned_and_well_formed(tmp_path):
    frame = labelled.load_labels()
    assert len(frame) >= 200 and frame["reply_id"].is_unique
    assert set(labelled.CONTEXT_COLUMNS) <= set(frame.columns)
    for detector in labelled.LABELLED_DETECTORS:
        assert set(frame[detector].dropna().map(type)) <= {bool}
    # endorsement applies exactly where the student has asserted a wrong value, echo where a term was used
    assert (frame["endorsement"].isna() == frame["wrong_value"].map(math.isnan)).all()
    assert (frame["fabrication_echo"].isna() == (frame["rule_terms"].map(len) == 0)).all()
    # one changed label is refused
    document = json.loads(labelled.LABELS_PATH.read_text(encoding="utf-8"))
    document["replies"][0]["no_scaffold"] = not document["replies"][0]["no_scaffold"]
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="sha256"):
        labelled.load_labels(changed)


def test_the_guide_says_who_labelled_and_what_is_missing():
    guide = labelled.GUIDE_PATH.read_text(encoding="utf-8")
    assert "One annotator" in guide and "no inter-annotator agreement" in guide
    for detector in labelled.LABELLED_DETECTORS:
        assert f"`{detector}`" in guide


def test_agreement_is_computed_against_the_labels_not_the_detector():
    frame = labelled.load_labels()
    table = labelled.detector_agreement(frame, n_resamples=100).set_index("detector")
    flipped = frame.assign(endorsement=frame["endorsement"].map(lambda v: v if v is None else not v))
    against_flipped = labelled.detector_agreement(flipped, n_resamples=100).set_index("detector")
    # the same detector verdicts against opposite labels: κ changes sign
    assert table.loc["endorsement", "detector_positives"] == against_flipped.loc["endorsement", "detector_positives"]
    assert np.sign(table.loc["endorsement", "kappa"]) == -np.sign(against_flipped.loc["endorsement", "kappa"])
    assert table.loc["endorsement", "kappa_low"] <= table.loc["endorsement", "kappa"] \
        <= table.loc["endorsement", "kappa_high"]
    assert labelled.measurable(labelled.MIN_POSITIVES, 2 * labelled.MIN_POSITIVES)
    assert not labelled.measurable(labelled.MIN_POSITIVES - 1, 300)


def test_a_detector_feeds_claims_only_if_every_measurable_reference_validates_it():
    mrbench = mrbench_frame(agree=0.97)
    frame = labelled.load_labels()
    table = safeledger.detector_validation(mrbench, n_bootstrap=100, labels=frame)
    ours = table[table["split"] == safeledger.OURS].set_index("detector")
    assert set(ours.index) == set(labelled.LABELLED_DETECTORS)
    validated = safeledger.validated_detectors(table)
    assert "endorsement" in validated  # measured on our labels alone (MRBench does not label it)
    for detector in validated:  # each validated detector passed on every measurable decisive row
        rows = table[(table["detector"] == detector) & table["split"].isin(("test", safeledger.OURS))
                     & table["measurable"]]
        assert len(rows) and (rows["kappa"] >= safeledger.KAPPA_GATE).all()
    # a detector that our labels contradict loses its validation, whatever MRBench says
    flipped = frame.assign(endorsement=frame["endorsement"].map(lambda v: v if v is None else not v))
    without = safeledger.validated_detectors(safeledger.detector_validation(mrbench, n_bootstrap=100,
                                                                            labels=flipped))
    assert "endorsement" not in without
    # a reference with too few positives cannot validate (or veto) a detector on its own
    assert not ours.loc["over_complex", "measurable"] and "over_complex" not in validated

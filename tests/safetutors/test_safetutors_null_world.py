"""The null world: a tutor without escalation, a rule judge without information about the humans'
labels and a model judge that is the rule judge again. No claim may come out "reproduced"."""

import numpy as np
from safetutors_worlds import TUTOR, calibration_frame, competence_frame, metas, mrbench_frame, world

from reprobook.claims import REPRODUCED
from reprobook.safetutors.ledger import build_ledger, claim_results


def null_mrbench():
    frame = mrbench_frame(agree=None)  # the rule says "reveals" at random
    sample = np.arange(0, len(frame), 2)
    frame.loc[sample, "model_raw"] = np.where(frame.loc[sample, "rule_disclosure"], 1.0, -1.0)
    frame.loc[sample, "model_verdict"] = frame.loc[sample, "rule_disclosure"].astype(float)
    return frame


def test_null_world_reproduces_nothing(control_runs):
    for tutor_from in ("flat_drifter", "sycophant", "socratic"):
        results = claim_results(world(control_runs, tutor_from), null_mrbench(), calibration_frame(), metas(),
                                tutor=TUTOR, profile="book", model_judge="smollm2",
                                competence=competence_frame(), n_bootstrap=500, n_permutations=300)
        table = build_ledger("book").evaluate(results)
        assert table["n"].dropna().min() >= 3
        reproduced = table[table["verdict"] == REPRODUCED]
        assert reproduced.empty, f"{tutor_from}: {reproduced[['claim', 'ours', 'note']].to_dict('records')}"

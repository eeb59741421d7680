"""Recurrence on STAGGER across seeds 1-10: the paper's stream layout, a pass-rate threshold.

A seed passes when the three concepts of the first pass settle on three distinct ids and the second
pass reuses them in order (recurrences re-identified, not learned again). The chapter reports the
per-seed C-F1 distribution behind its ledger.
"""

import numpy as np
import pytest

from reprobook.ficsum import FiCSUMClassifier, make_stream
from reprobook.ficsum.metrics import concept_f1

LENGTH = 3750
SEEDS = range(1, 11)
#: share of seeds that must re-identify every recurrence (the paper's stored STAGGER runs do)
PASS_RATE = 0.7


def recurrence(seed: int) -> tuple[bool, float]:
    stream = make_stream("stagger", seed=seed, segment_length=LENGTH, repeats=2)
    model = FiCSUMClassifier()
    active = []
    for x, y, _ in stream:
        model.predict_one(x)
        model.learn_one(x, y)
        active.append(model.active_concept_id)
    active = np.array(active)
    settled = [int(np.bincount(active[k * LENGTH + 500:(k + 1) * LENGTH]).argmax()) for k in range(6)]
    passed = len(set(settled[:3])) == 3 and settled[3:] == settled[:3]
    return passed, concept_f1([concept for *_, concept in stream], active)


@pytest.mark.xfail(strict=True, reason="known defect (#14 item 1): on several seeds FiCSUM detects false drifts "
                   "while a new concept's tree is still learning and creates spurious concepts: 4 of 10 seeds "
                   "pass (C-F1 per seed 0.90 0.48 0.82 0.92 0.90 0.80 0.80 0.77 0.91 0.78). Holding drift "
                   "measurements while a split's fingerprint is re-learned gives 6 of 10 (seeds 6-8 still raise a "
                   "false drift at steps 495-761 in the first concept, outside any split transition, while its "
                   "young tree is still learning). On the first 1,500 steps of seeds 1-10 every seed detects a "
                   "drift: six while the tree is still one leaf (steps 495-660; the first split comes at step "
                   "723 on every seed), the others 36-228 steps after the first or second split; six seeds "
                   "start a spurious concept. The official code has no grace period before detection (only "
                   "the >5-update fingerprint, the 50-item window and the 2w age for re-identification, all "
                   "mirrored here). Asking for 5 normal-distance records before detecting removes the "
                   "one-leaf detections (5 seeds still start a spurious concept), 10 records all but one; "
                   "with 10 records this test passes 8 of 10 seeds (C-F1 0.921 0.795 0.921 0.798 0.929 0.926 "
                   "0.924 0.926 0.927 0.926), but that value was picked after looking at these seeds, so it "
                   "needs held-out seeds and a book run before it may become the default. Strict, so a fix "
                   "shows up as a failure of this marker")
def test_recurrences_are_reidentified_on_most_seeds():
    results = [recurrence(seed) for seed in SEEDS]
    passed = sum(ok for ok, _ in results)
    cf1 = [round(value, 3) for _, value in results]
    assert passed >= PASS_RATE * len(results), f"{passed} of {len(results)} seeds pass; C-F1 per seed {cf1}"

"""The ledger on made-up worlds: without the claimed effects no claim may come out reproduced; with them the
main claims do (so the null test could fail); and claim_results on a hand-made table."""

import math

import numpy as np
import pandas as pd
import pytest

from reprobook.claims import INCONCLUSIVE, NOT_TESTABLE, REPRODUCED
from reprobook.reobench.chapter import vhm_table
from reprobook.reobench.corrupt import APPEARANCE, CORRUPTIONS
from reprobook.reobench.ledger import build_ledger, claim_results, falling_share, null_accuracy

SEEDS = (0, 1, 2, 3, 4)
N_TEST = 300


NARROW = "supervised ×0.25"
WIDTHS = {NARROW: 0.25, "supervised": 0.5}


def world(drop_of, clean_of, seeds=SEEDS, severities=(1, 2, 3, 4, 5), noise=0.0):
    """Accuracy and per-image clean correctness frames; ``drop_of(model, corruption, severity)`` is the relative drop."""
    rng = np.random.default_rng(7)
    rows, correct = [], []
    models = ["supervised", "clip", "colour histogram", "pixel MLP", NARROW]
    for seed in seeds:
        for model in models:
            clean = clean_of(model)
            hits = np.zeros(N_TEST, dtype=bool)
            hits[: round(clean * N_TEST)] = True
            correct += [{"seed": seed, "model": model, "image": i, "correct": bool(hit)} for i, hit in enumerate(hits)]
            rows.append({"seed": seed, "model": model, "corruption": "clean", "severity": 0,
                         "accuracy": hits.mean()})
            for name in CORRUPTIONS:
                for severity in severities:
                    value = hits.mean() * (1 - drop_of(model, name, severity)) + noise * rng.normal()
                    rows.append({"seed": seed, "model": model, "corruption": name, "severity": severity,
                                 "accuracy": float(np.clip(value, 0, 1))})
        rows.append({"seed": seed, "model": "chance", "corruption": "clean", "severity": 0, "accuracy": 1 / 9})
    return pd.DataFrame(rows), pd.DataFrame(correct)


def segmentation_world(seg_drop_of, seeds=SEEDS, severities=(1, 2, 3, 4, 5), noise=0.0):
    """mIoU per cell and clean per-image counts for the supervised CNN; ``seg_drop_of(corruption, severity)``."""
    rng = np.random.default_rng(11)
    cells, counts = [], []
    for seed in seeds:
        inter = rng.uniform(200, 800, size=(N_TEST, 5))
        union = inter + rng.uniform(100, 600, size=(N_TEST, 5))
        clean = float((inter.sum(0) / union.sum(0)).mean())
        frame = pd.DataFrame({"seed": seed, "model": "supervised", "image": np.arange(N_TEST)})
        for k in range(5):
            frame[f"intersection_{k}"], frame[f"union_{k}"] = inter[:, k], union[:, k]
        counts.append(frame)
        cells.append({"seed": seed, "model": "supervised", "corruption": "clean", "severity": 0, "miou": clean,
                      "majority_miou": clean - 0.2})
        cells += [{"seed": seed, "model": "supervised", "corruption": name, "severity": severity,
                   "miou": clean * (1 - seg_drop_of(name, severity)) + noise * rng.normal()}
                  for name in CORRUPTIONS for severity in severities]
    return pd.DataFrame(cells), pd.concat(counts, ignore_index=True)


def judge(accuracy, correct, backbones=("supervised", "clip"), segmentation=None):
    ledger = build_ledger("book", backbones)
    seg, counts = segmentation if segmentation is not None else (None, None)
    table = ledger.evaluate(claim_results(accuracy, correct, backbones, vhm=vhm_table(), segmentation=seg,
                                          segmentation_counts=counts, widths=WIDTHS))
    return ledger, table.set_index("claim").verdict


def clean_of(model):
    return {"supervised": 0.9, "clip": 0.88, "colour histogram": 0.3, "pixel MLP": 0.5, NARROW: 0.87}[model]


@pytest.mark.parametrize("name", ["nothing changes", "every backbone is its control", "nothing learned",
                                  "all zero"])
def test_no_claim_is_reproduced_in_a_null_world(name):
    # segmentation loses what classification loses (no task effect), with measurement noise
    segmentation = segmentation_world(lambda *_: 0.0, noise=0.005)
    if name == "nothing changes":  # corruptions have no effect: drops are sampling noise only
        accuracy, correct = world(lambda *_: 0.0, clean_of, noise=0.01)
    elif name == "every backbone is its control":  # the backbones behave like the colour-histogram probe
        accuracy, correct = world(lambda model, name, s: 0.1 * s, lambda model: 0.3)
        segmentation = segmentation_world(lambda name, s: 0.1 * s, noise=0.005)
    elif name == "nothing learned":
        accuracy, correct = world(lambda *_: 0.0, lambda model: 1 / 9, noise=0.01)
    else:
        accuracy, correct = world(lambda *_: 0.0, lambda model: 0.0)
    _, verdicts = judge(accuracy, correct, segmentation=segmentation)
    assert REPRODUCED not in set(verdicts), verdicts.to_dict()


def test_size_and_task_claims_need_their_runs():
    accuracy, correct = world(effect_drop, clean_of)
    accuracy = accuracy[accuracy.model != NARROW]
    ledger, verdicts = judge(accuracy, correct)
    notes = ledger.table.set_index("claim").note
    assert verdicts["c5_backbone_size"] == NOT_TESTABLE and "size_widths" in notes["c5_backbone_size"]
    assert verdicts["c6_tasks"] == NOT_TESTABLE and "segmentation_images" in notes["c6_tasks"]


def test_size_and_task_effects_are_found_in_either_direction():
    accuracy, correct = world(effect_drop, clean_of)
    segmentation = segmentation_world(lambda name, s: 0.05 * s)  # ρ 0.15 for segmentation, ≈ 0.07 for accuracy
    _, verdicts = judge(accuracy, correct, segmentation=segmentation)
    assert verdicts["c5_backbone_size"] == REPRODUCED  # the narrow CNN loses 1.5 times what the wide one does
    assert verdicts["c6_tasks"] == REPRODUCED
    gentle = segmentation_world(lambda name, s: 0.0)  # segmentation loses nothing: a difference the other way
    _, verdicts = judge(accuracy, correct, segmentation=gentle)
    assert verdicts["c6_tasks"] == REPRODUCED
    # the same, but the probe only paints the commonest land cover: no verdict
    seg, counts = gentle
    trivial = (seg.assign(majority_miou=seg.miou.where(seg.corruption == "clean").max()), counts)
    ledger, verdicts = judge(accuracy, correct, segmentation=trivial)
    assert verdicts["c6_tasks"] == NOT_TESTABLE
    assert "commonest land cover" in ledger.table.set_index("claim").note["c6_tasks"]


def effect_drop(model, name, severity):
    """A world with the paper's effects: small real drops on mild corruptions, large on noise, CLIP more robust."""
    base = {"gaussian_noise": 0.06, "salt_and_pepper_noise": 0.05, "data_gaps": 0.002}.get(name, 0.02)
    if name in ("rotate", "scale", "translate"):
        base = 0.02
    factor = {"clip": 0.5, NARROW: 1.5}.get(model, 1.0)
    if model == "colour histogram":
        factor = 6.0
    return min(0.95, base * severity * factor)


def test_a_world_with_the_effects_reproduces_the_main_claims():
    accuracy, correct = world(effect_drop, lambda model: {"supervised": 0.9, "clip": 0.88,
                                                          "colour histogram": 0.3, "pixel MLP": 0.5, NARROW: 0.87}[model])
    # the largest drop must exceed 20 %: make noise harsh at severity 5
    accuracy.loc[(accuracy.corruption == "gaussian_noise") & (accuracy.severity == 5)
                 & (accuracy.model == "supervised"), "accuracy"] = 0.1
    ledger, verdicts = judge(accuracy, correct)
    assert verdicts["c1_drop_high"] == REPRODUCED, ledger.table.set_index("claim").note.to_dict()
    assert verdicts["c3_vl_accuracy"] == REPRODUCED, ledger.table.set_index("claim").note.to_dict()
    assert verdicts["c3_vl_mce"] == REPRODUCED
    assert verdicts["c2_severity"] == REPRODUCED
    assert verdicts["c4_small_drop"] == REPRODUCED
    # a real drop under 1 % (data gaps) cannot be told from the no-effect suite's noise at 300 test images
    assert verdicts["c1_drop_low"] == INCONCLUSIVE
    assert "control 'no-effect suite" in ledger.table.set_index("claim").note["c1_drop_low"]


def test_failed_acceptance_makes_every_claim_untestable():
    accuracy, correct = world(effect_drop, lambda model: {"supervised": 0.7, "clip": 0.88,
                                                          "colour histogram": 0.3, "pixel MLP": 0.5, NARROW: 0.87}[model])
    ledger, verdicts = judge(accuracy, correct)
    assert set(verdicts) == {NOT_TESTABLE}
    assert "supervised CNN clean accuracy 0.700 outside [0.85, 0.95]" in ledger.table.note.iloc[0]


def test_claim_results_on_a_hand_made_table():
    rows = []
    for seed in (0, 1, 2):
        for model, clean, drops in [("supervised", 0.8, {"haze": (0.8, 0.6, 0.4), "rotate": (0.8, 0.8, 0.8)}),
                                    ("clip", 0.6, {"haze": (0.6, 0.6, 0.6), "rotate": (0.5, 0.4, 0.3)}),
                                    ("colour histogram", 0.4, {"haze": (0.2, 0.2, 0.2), "rotate": (0.4, 0.4, 0.4)})]:
            rows.append((seed, model, "clean", 0, clean))
            for name, values in drops.items():
                rows += [(seed, model, name, s, value) for s, value in zip((1, 2, 3), values, strict=True)]
    accuracy = pd.DataFrame(rows, columns=["seed", "model", "corruption", "severity", "accuracy"])
    correct = pd.DataFrame([{"seed": seed, "model": model, "image": i, "correct": i < 5}
                            for seed in (0, 1, 2) for model in ("supervised", "clip") for i in range(10)])
    results = claim_results(accuracy, correct, ("supervised", "clip"), vhm=vhm_table())
    # haze: supervised ρ = 1 − 0.6/0.8 = 0.25, clip 0; rotate: supervised 0, clip 1 − 0.4/0.6 = 1/3
    assert results["smallest_loss"].value == pytest.approx(0.0)  # only appearance corruptions: clip on haze
    assert results["largest_drop"].value == pytest.approx(1 / 3)
    assert results["largest_drop"].n == 3 and results["largest_drop"].unit == "seeds"
    assert results["falling_share"].value == pytest.approx(0.5)  # supervised haze falls, clip haze is flat
    # corrupted accuracy: supervised (0.6 + 0.8)/2 = 0.7, clip (0.6 + 0.4)/2 = 0.5
    assert results["clip_minus_supervised_corrupted"].value == pytest.approx(-0.2)
    # mCE: haze errors clip 1.2 / sup 1.2 = 1; rotate clip 1.8 / sup 0.6 = 3 → mCE 2; minus 1
    assert results["clip_minus_supervised_mce"].value == pytest.approx(1.0)
    assert results["best_appearance_drop"].value == pytest.approx(0.0)
    assert results["colour_histogram_appearance_drop"].value == pytest.approx(0.5)
    assert not results["acceptance"].passed and "0.800" in results["acceptance"].reason
    assert results["learned"].passed
    assert results["vhm_monotone"] is True
    assert results["vhm_relative_drop"].value == pytest.approx(1.31 / 60.21, abs=2e-4)
    # the no-effect suite keeps clean rows and resamples the clean predictions (5 of 10 correct)
    null = null_accuracy(accuracy, correct)
    assert null[null.corruption == "clean"].accuracy.tolist() == accuracy[accuracy.corruption == "clean"].accuracy.tolist()
    resampled = null[(null.corruption != "clean") & (null.model == "supervised")].accuracy
    assert resampled.between(0, 1).all() and resampled.nunique() > 1 and abs(resampled.mean() - 0.5) < 0.15
    assert math.isnan(results["supervised_clean"]) is False and results["supervised_clean"] == pytest.approx(0.8)


def test_falling_share_needs_a_real_fall():
    rows = [("m", "a", s, acc) for s, acc in zip((1, 2, 3), (0.9, 0.91, 0.9), strict=True)]  # ends where it began
    rows += [("m", "b", s, acc) for s, acc in zip((1, 2, 3), (0.9, 0.95, 0.8), strict=True)]  # rises 5 points
    rows += [("m", "c", s, acc) for s, acc in zip((1, 2, 3), (0.9, 0.85, 0.8), strict=True)]
    table = pd.DataFrame(rows, columns=["model", "corruption", "severity", "accuracy"])
    assert falling_share(table, ["m"], ["a", "b", "c"]) == pytest.approx(1 / 3)
    assert set(APPEARANCE) < set(CORRUPTIONS)


def test_size_claim_pairs_only_the_seeds_that_ran_every_width():
    accuracy, correct = world(effect_drop, clean_of)
    on_three = accuracy[(accuracy.model != NARROW) | accuracy.seed.isin([0, 1, 2])]
    ledger, verdicts = judge(on_three, correct)
    assert verdicts["c5_backbone_size"] == REPRODUCED
    assert ledger.table.set_index("claim").n["c5_backbone_size"] == 3
    assert ledger.table.set_index("claim").n["c3_vl_accuracy"] == len(SEEDS)
    on_two = accuracy[(accuracy.model != NARROW) | accuracy.seed.isin([0, 1])]
    ledger, verdicts = judge(on_two, correct)
    assert verdicts["c5_backbone_size"] == NOT_TESTABLE  # two seeds: fewer than a verdict needs

"""The chapter's claims ledger and the numbers it judges, computed per replicate from the result arrays.

Replicates: *aligned items* of the CLDR probe (the same item id in every language) for M1 and M5, and
*seeds* of the tiny bilingual world for M6. :func:`claim_results` reads

* ``arrays``: the aligned languages × items predictions (:func:`reprobook.mubench.scoring.aligned_arrays`);
* ``worlds``: tiny-world outputs keyed by ``(run, seed)`` (:func:`reprobook.mubench.tinyworld.run_world`).

Controls, measured from the same run:

* M1 (English leads): the same gap after the languages' correctness is shuffled across languages
  within each item (a world in which no language is special, with the same per-item difficulty);
* M5 (MLC carries information beyond accuracy): the **accuracy-only null**. In each language, the
  correct items stay correct and the wrong ones keep being wrong, but *which* distractor a wrong
  item picks is permuted across that language's wrong items (within task). Agreement that such a
  world also produces is explained by accuracy and the language's own option preferences;
* M6 (more parallel data, more transfer): the difference between two runs *without* parallel data
  that differ only in their seed (what seed-to-seed noise alone gives).

>>> [claim.id for claim in build_ledger("book").claims]
['M1', 'M1c', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from reprobook import claims
from reprobook.claims import MINIATURE, STAND_IN, AtLeast, Check, Claim, Control, Ledger
from reprobook.mubench import consistency as cons
from reprobook.mubench.cldr_probe import LANGUAGES
from reprobook.mubench.scoring import AlignedArrays
from reprobook.mubench.tinyworld import in_language_correct, permutation_null, transfer_correct

__all__ = ["M1_MARGIN", "M5_MARGIN", "M6_MARGIN", "build_ledger", "run_notes", "claim_results", "english_gap",
           "accuracy_only_null", "agreeing_pairs", "excess_agreement", "world_results", "task_drop_spread",
           "translated_results", "M2_MARGIN"]

#: fixed before any result: English must lead the median other language by this much accuracy
M1_MARGIN = 0.20
#: pairwise agreement beyond the accuracy-only null (share of language pairs × items)
M5_MARGIN = 0.05
#: max − min over tasks of the English-to-other-languages accuracy drop (the reviewer-quoted table: 0.32 vs 0.08)
M2_MARGIN = 0.15
#: transfer accuracy gained by 20 % parallel units over none
M6_MARGIN = 0.05
_NULL_SEED = 20_250_619


def run_notes(scored: Sequence[str], skipped: Sequence[str] = ()) -> dict[str, str]:
    """Run-time notes for M1 and M5 (pass to ``Ledger.evaluate(..., notes=...)``): how many of MuBench's
    languages this run scored, which it left out by design, and which the time budget dropped.

    >>> run_notes(["en", "de"], ["fr"])["M1"]
    "scored 2 of MuBench's 61 languages (en, de); not in this run's language set: 58; dropped by the time budget: fr"
    """
    scored = list(scored)
    text = f"scored {len(scored)} of MuBench's {len(LANGUAGES)} languages ({', '.join(scored)})"
    absent = [lang for lang in LANGUAGES if lang not in scored and lang not in skipped]
    if absent:
        text += f"; not in this run's language set: {len(absent)}"
    if skipped:
        text += f"; dropped by the time budget: {', '.join(skipped)}"
    return {"M1": text, "M5": text}


def build_ledger(profile: str) -> Ledger:
    """The chapter's claims, rules, controls and checks, fixed before any experiment runs."""
    probe = "CLDR-61 weekday/month continuation probe and SmolLM2-135M, not MuBench's translated benchmarks"
    not_computed = ("no code computes it: it needs several multilingual models (sizes of one family, specialists, "
                    "claimed language lists); the chapter scores one model")
    guards = ("sanity", "no_stub")
    return Ledger("mubench", [
        Claim("M1", f"English outperforms the other languages by a persistent margin (≥ {M1_MARGIN:g}).",
              paper="persistent English vs low-resource disparity", source="abstract, v1 and ACL",
              metric="m1_gap", rule=AtLeast(M1_MARGIN), evidence=STAND_IN,
              controls=(Control("m1_gap_shuffled", "correctness shuffled across languages per item"),),
              guards=guards,
              notes=f"acc(en) − median acc of the other languages; bootstrap of aligned items within task; {probe}"),
        Claim("M1c", "Some languages a model claims to support perform near chance.",
              paper="gaps between claimed and actual coverage", source="abstract, v1 and ACL", metric="m1c",
              rule=AtLeast(1), evidence=STAND_IN, implemented=False, why_not_implemented=not_computed),
        Claim("M2", f"Drops from English to translated tasks are task-dependent (spread ≥ {M2_MARGIN:g}).",
              paper="HellaSwag 81.5 → 49.4 vs MNLI 88.0 → 80.4 (one model)", source="a reviewer quoting a table [S]",
              metric="m2_drop_spread", rule=AtLeast(M2_MARGIN), evidence=MINIATURE, testable_in=("paper",),
              why_untestable="needs the translated MuBench JSON (parameter mubench_dir), read only at the paper "
                             "profile",
              controls=(Control("m2_drop_spread_null", "task labels shuffled across items (drops task-independent)"),),
              guards=("mubench_data", "no_stub"),
              notes="MuBench's own translated items scored by log-likelihood with the chapter's model (not the "
                    "paper's models): drop(t) = acc_en(t) − mean over the other languages of acc(t); max − min over "
                    "tasks; bootstrap of aligned items within task"),
        Claim("M3", "Larger models do not handle mixed-language inputs better.", paper="qualitative",
              source="ACL abstract", metric="m3", rule=AtLeast(0), evidence=STAND_IN, implemented=False,
              why_not_implemented=not_computed),
        Claim("M4", "Multilingual specialists gain in their target language groups.", paper="Babel, Sailor2",
              source="reviews [S]", metric="m4", rule=AtLeast(0.001), evidence=STAND_IN, implemented=False,
              why_not_implemented=not_computed),
        Claim("M5", "MLC carries information beyond accuracy: languages agree more than accuracy alone "
              f"explains (excess pairwise agreement ≥ {M5_MARGIN:g}).",
              paper="MLC complements accuracy", source="v1/ACL; formula not checked (ours)",
              metric="m5_excess_agreement", rule=AtLeast(M5_MARGIN), evidence=STAND_IN,
              controls=(Control("m5_excess_null", "accuracy-only null (wrong choices permuted per language)"),),
              guards=guards,
              notes="per aligned item: agreeing language pairs minus their mean under the accuracy-only null; "
                    "shared wrong choices (e.g. copying a prompt name) count as agreement beyond accuracy; "
                    + probe),
        Claim("M6", f"More parallel data in pretraining gives more cross-lingual transfer (≥ {M6_MARGIN:g}).",
              paper="direction not stated", source="arXiv v1 abstract", metric="m6_transfer_gain",
              rule=AtLeast(M6_MARGIN), evidence=STAND_IN, testable_in=("book", "paper"),
              controls=(Control("m6_seed_noise", "two runs without parallel data, different seeds"),),
              guards=("b2_gate",),
              notes="tiny bilingual world at r_en = 0.5: transfer(20 % parallel units) − transfer(none), paired "
                    "by seed; 0.43 M-parameter word-level models trained here"),
        Claim("M7", "The EN:ZH ratio in pretraining changes cross-lingual transfer.", paper="direction not stated",
              source="arXiv v1 abstract", metric="m7", rule=AtLeast(0.001), evidence=STAND_IN, implemented=False,
              why_not_implemented="the EN:ZH-ratio grid of the tiny world (r_en = 0.7, 0.9) is not run"),
    ], profile=profile, checks=[
        Check("decomposition", "Raw agreement equals P(both right) + P(both wrong, same option) (exact identity).",
              "decomposition_holds"),
    ], headline=("M1", "M5"))


# --------------------------------------------------------------------------- M1


def english_gap(correct: np.ndarray, en: int) -> float:
    """acc(en) − median over the other languages of acc (rows: languages, columns: items)."""
    accuracy = correct.mean(axis=1)
    return float(accuracy[en] - np.median(np.delete(accuracy, en)))


def _gap_estimate(correct: np.ndarray, en: int, tasks: np.ndarray, n_bootstrap: int, seed: int) -> claims.Estimate:
    value = english_gap(correct, en)
    low, high = cons.bootstrap_ci(lambda idx: english_gap(correct[:, idx], en), correct.shape[1],
                                  n_boot=n_bootstrap, seed=seed, groups=tasks)
    return claims.Estimate.given(value, min(float(low), value), max(float(high), value), correct.shape[1],
                                 "bootstrap (aligned items within task)", "items")


def _shuffle_languages(correct: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = correct.copy()
    for item in range(correct.shape[1]):
        out[:, item] = correct[rng.permutation(correct.shape[0]), item]
    return out


# --------------------------------------------------------------------------- M5


def _option_codes(arrays: AlignedArrays) -> np.ndarray:
    code_of = {value: code for code, value in enumerate(arrays.codes)}
    return np.array([[code_of[value] for value in item] for item in arrays.values])


def accuracy_only_null(arrays: AlignedArrays, rng: np.random.Generator) -> np.ndarray:
    """One draw of the accuracy-only null: per language, correct items keep the answer; the wrong
    items' choices, written as the index of the chosen distractor, are permuted across that
    language's wrong items of the same task.

    >>> from reprobook.mubench.scoring import AlignedArrays
    >>> arrays = AlignedArrays(("en", "de"), ("a", "b"), ("t", "t"), (("x", "y", "z"), ("x", "y", "z")),
    ...                        np.zeros((2, 2, 3)), np.array([[0, 1], [2, 1]]), np.array([0, 1]), ("x", "y", "z"))
    >>> (accuracy_only_null(arrays, np.random.default_rng(0)) == arrays.answer).tolist()
    [[True, True], [False, True]]
    """
    options = _option_codes(arrays)
    answer = arrays.answer
    distractors = np.array([[code for code in row if code != truth] for row, truth in zip(options, answer,
                                                                                            strict=True)])
    pred = arrays.pred.copy()
    tasks = np.asarray(arrays.tasks)
    for lang in range(pred.shape[0]):
        for task in np.unique(tasks):
            wrong = np.flatnonzero((pred[lang] != answer) & (tasks == task))
            if wrong.size < 2:
                continue
            index = np.array([int(np.flatnonzero(distractors[item] == pred[lang, item])[0]) for item in wrong])
            permuted = index[rng.permutation(wrong.size)]
            pred[lang, wrong] = distractors[wrong, permuted]
    return pred


def agreeing_pairs(pred: np.ndarray) -> np.ndarray:
    """Per item, the share of language pairs that chose the same value (mean over items = overall MLC).

    >>> agreeing_pairs(np.array([[0, 1], [0, 2], [1, 2]])).tolist()
    [0.3333333333333333, 0.3333333333333333]
    """
    n_langs = pred.shape[0]
    pairs = n_langs * (n_langs - 1) / 2
    out = np.zeros(pred.shape[1])
    for item in range(pred.shape[1]):
        _, counts = np.unique(pred[:, item], return_counts=True)
        out[item] = float((counts * (counts - 1) / 2).sum() / pairs)
    return out


def excess_agreement(arrays: AlignedArrays, n_null: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per item: observed agreeing-pair share minus its mean over ``n_null`` accuracy-only draws, and the
    same for one further independent null draw (the control: a world where accuracy explains all)."""
    rng = np.random.default_rng([_NULL_SEED, seed])
    null_mean = np.mean([agreeing_pairs(accuracy_only_null(arrays, rng)) for _ in range(n_null)], axis=0)
    control = agreeing_pairs(accuracy_only_null(arrays, rng))
    return agreeing_pairs(arrays.pred) - null_mean, control - null_mean


# --------------------------------------------------------------------------- M2


def task_drop_spread(correct: np.ndarray, tasks: np.ndarray, en: int) -> float:
    """max − min over tasks of acc_en(t) − mean_{l≠en} acc_l(t) (rows: languages, columns: items).

    >>> correct = np.array([[1, 1, 1, 1], [0, 0, 1, 1]])
    >>> task_drop_spread(correct, np.array(["a", "a", "b", "b"]), 0)
    1.0
    """
    drops = []
    for task in np.unique(tasks):
        block = correct[:, tasks == task]
        drops.append(block[en].mean() - np.delete(block, en, axis=0).mean())
    return float(max(drops) - min(drops))


def translated_results(table, languages: Sequence[str] | None, *, n_bootstrap: int = 2_000,
                       seed: int = 0) -> dict[str, Any]:
    """M2's spread, its task-shuffled control and the data guard from the MuBench score table (or None)."""
    from reprobook.mubench.scoring import aligned_arrays

    tasks = sorted(set(table.task)) if table is not None else []
    if len(tasks) < 2:
        return {"mubench_data": claims.guard(False, "no MuBench data: set mubench_dir to a folder of MuBench JSON "
                                                    "files with at least two datasets (paper profile)"),
                "m2_drop_spread": None, "m2_drop_spread_null": None}
    blocks = [aligned_arrays(table[table.task == task], languages=languages) for task in tasks]
    correct = np.hstack([block.correct for block in blocks]).astype(float)
    labels = np.concatenate([[task] * block.correct.shape[1] for task, block in zip(tasks, blocks, strict=True)])
    en = blocks[0].languages.index("en")

    def estimate(task_labels: np.ndarray) -> claims.Estimate:
        value = task_drop_spread(correct, task_labels, en)
        low, high = cons.bootstrap_ci(lambda idx: task_drop_spread(correct[:, idx], task_labels[idx], en),
                                      correct.shape[1], n_boot=n_bootstrap, seed=seed, groups=task_labels)
        return claims.Estimate.given(value, min(float(low), value), max(float(high), value), correct.shape[1],
                                     "bootstrap (aligned items within task)", "items")

    shuffled = labels[np.random.default_rng([_NULL_SEED, seed]).permutation(labels.size)]
    return {"mubench_data": claims.guard(True, ""), "m2_drop_spread": estimate(labels),
            "m2_drop_spread_null": estimate(shuffled)}


# --------------------------------------------------------------------------- M6


def world_results(worlds: Mapping[tuple[str, int], dict], *, n_permutations: int = 2_000,
                  n_bootstrap: int = 2_000, seed: int = 0) -> dict[str, Any]:
    """Per seed transfer of the p0 and p20 runs, the seed-noise control and the B2 gate (with reasons).

    Gate: (i) every run learned its seen facts (in-language accuracy ≥ 0.9) and was not cut by the
    time budget; (ii) per seed, p0's transfer is within the 99th percentile of its prediction-
    permutation null (no parallel data, no transfer beyond chance); (iii) the oracle run's
    cross-language accuracy reaches the 95 % bootstrap interval of its in-language accuracy.
    """
    seeds = sorted({s for run, s in worlds if run == "p0"} & {s for run, s in worlds if run == "p20"})
    out: dict[str, Any] = {}
    reasons = []
    for (run, run_seed), result in worlds.items():
        seen = in_language_correct(result["facts"]).mean()
        cut = result["steps_done"] < result.get("steps", result["steps_done"]) and not result.get("memorised", True)
        if seen < 0.9:
            reasons.append(f"{run} seed {run_seed} learned {seen:.2f} of its seen facts (< 0.9)")
        if cut:
            reasons.append(f"{run} seed {run_seed} was cut by the time budget at step {result['steps_done']}")
    for run_seed in seeds:
        facts = worlds[("p0", run_seed)]["facts"]
        null = permutation_null(facts, n_permutations=n_permutations, seed=seed + run_seed)
        if transfer_correct(facts).mean() > np.quantile(null, 0.99):
            reasons.append(f"p0 seed {run_seed} transfers above its permutation null (chance bracket)")
    oracles = [result for (run, _), result in worlds.items() if run == "oracle"]
    for result in oracles:
        seen = in_language_correct(result["facts"])
        low, _ = cons.bootstrap_ci(lambda idx, v=seen: v[idx].mean(), len(seen), n_boot=n_bootstrap, seed=seed)
        if transfer_correct(result["facts"]).mean() < low:
            reasons.append("the oracle's cross-language accuracy is below its in-language interval (oracle bracket)")
    if not oracles:
        reasons.append("no oracle run")
    if len(seeds) < 1:
        reasons.append("no seed has both a p0 and a p20 run")
    out["b2_gate"] = claims.guard(not reasons, "B2 gate failed: " + "; ".join(reasons))
    p0 = np.array([transfer_correct(worlds[("p0", s)]["facts"]).mean() for s in seeds])
    p20 = np.array([transfer_correct(worlds[("p20", s)]["facts"]).mean() for s in seeds])
    out["m6_transfer_gain"] = claims.paired_difference(p20, p0, unit="seeds") if len(seeds) else \
        claims.Estimate(float("nan"), float("nan"), float("nan"), 0, "t", "seeds")
    # seed noise: each p0 run against the p0 run of the next seed (cyclically)
    out["m6_seed_noise"] = claims.paired_difference(np.roll(p0, -1), p0, unit="seeds") if len(seeds) >= 2 else \
        claims.Estimate(float("nan"), float("nan"), float("nan"), len(seeds), "t", "seeds")
    out["b2_transfer_p0"], out["b2_transfer_p20"] = p0.tolist(), p20.tolist()
    return out


# --------------------------------------------------------------------------- everything


def claim_results(arrays: AlignedArrays, worlds: Mapping[tuple[str, int], dict], *, profile: str, model: str,
                  sanity_threshold: float = 0.9, n_bootstrap: int = 2_000, n_null: int = 200,
                  n_permutations: int = 2_000, seed: int = 0, translated=None) -> dict[str, Any]:
    """Every metric, control, guard and check of :func:`build_ledger`.

    ``translated`` is the score table of the MuBench JSON items (:mod:`reprobook.mubench.translated`),
    or None when no MuBench data were given.
    """
    correct = arrays.correct.astype(float)
    en = arrays.languages.index("en")
    tasks = np.asarray(arrays.tasks)
    acc_en = float(correct[en].mean())
    results: dict[str, Any] = {
        "sanity": claims.guard(acc_en >= sanity_threshold,
                               f"model-sanity gate: acc(en) = {acc_en:.2f} < {sanity_threshold:g}"),
        "no_stub": claims.guard(profile == "smoke" or model != "stub",
                                f"the stub backend (a hashed random guesser) is allowed only at smoke, not {profile}"),
    }
    results["m1_gap"] = _gap_estimate(correct, en, tasks, n_bootstrap, seed)
    results["m1_gap_shuffled"] = _gap_estimate(_shuffle_languages(correct, _NULL_SEED + seed), en, tasks,
                                               n_bootstrap, seed)
    excess, control = excess_agreement(arrays, n_null=n_null, seed=seed)
    results["m5_excess_agreement"] = claims.mean_interval(excess, unit="items")
    results["m5_excess_null"] = claims.mean_interval(control, unit="items")
    results.update(translated_results(translated, None, n_bootstrap=n_bootstrap, seed=seed))
    both_right, both_wrong = cons.decomposition(arrays.pred, arrays.answer)
    results["decomposition_holds"] = bool(np.allclose(cons.agreement_matrix(arrays.pred), both_right + both_wrong))
    if worlds:
        results.update(world_results(worlds, n_permutations=n_permutations, n_bootstrap=n_bootstrap, seed=seed))
    else:
        results["b2_gate"] = claims.guard(False, "no tiny-world run (b2_runs is empty)")
        results["m6_transfer_gain"] = results["m6_seed_noise"] = None
    return results

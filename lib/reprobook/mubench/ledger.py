"""The chapter's claims ledger and the numbers it judges, computed per replicate from the result arrays.

Replicates: *aligned items* of the CLDR probe (the same item id in every language) for M1 and M5, and
*seeds* of the tiny bilingual world for M6 and M7. :func:`claim_results` reads

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
  that differ only in their seed (what seed-to-seed noise alone gives);
* M7 (the EN:ZH ratio changes transfer): the spread over seeds at one ratio, set against the spread
  over ratios at one seed.

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
from reprobook.mubench.tinyworld import (
    in_language_correct,
    parse_grid_label,
    relabelling_null,
    transfer_correct,
)

__all__ = ["M1_MARGIN", "M5_MARGIN", "M6_MARGIN", "M7_MARGIN", "build_ledger", "run_notes", "world_notes",
           "claim_results", "english_gap",
           "accuracy_only_null", "agreeing_pairs", "excess_agreement", "world_results", "task_drop_spread",
           "translated_results", "M2_MARGIN"]

#: fixed before any result: English must lead the median other language by this much accuracy
M1_MARGIN = 0.20
#: pairwise agreement beyond the accuracy-only null (share of language pairs × items)
M5_MARGIN = 0.05
#: max − min over tasks of the English-to-other-languages accuracy drop (the reviewer-quoted table: 0.32 vs 0.08)
M2_MARGIN = 0.15
#: transfer accuracy gained by the largest parallel share over none
M6_MARGIN = 0.05
#: spread of transfer accuracy over the EN ratios
M7_MARGIN = 0.05
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
              controls=(Control("m6_seed_noise", "runs without parallel data, two different seeds"),),
              guards=("b2_gate", "b2_m6_design"),
              notes="tiny bilingual world: transfer(largest parallel share) − transfer(none), averaged over the "
                    "EN ratios, paired by seed; word-level models of about 0.4 M parameters trained here, each "
                    "stopped when it has memorised its seen facts"),
        Claim("M7", f"The EN:ZH ratio in pretraining changes cross-lingual transfer (spread ≥ {M7_MARGIN:g}).",
              paper="direction not stated", source="arXiv v1 abstract", metric="m7_ratio_spread",
              rule=AtLeast(M7_MARGIN), evidence=STAND_IN, testable_in=("book", "paper"),
              controls=(Control("m7_seed_spread", "the same spread over seeds at one ratio (seed noise)"),),
              guards=("b2_gate", "b2_m7_design"),
              notes="tiny bilingual world: per seed, max − min over the EN ratios of transfer averaged over the "
                    "parallel shares; the direction is shown in the chapter's grid figure"),
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


def _transfer(result: Mapping[str, Any]) -> float:
    return float(transfer_correct(result["facts"]).mean())


def _above_chance(result: Mapping[str, Any], n_permutations: int, seed: int) -> bool:
    """Transfer above the 99th percentile of the run's value-relabelling null."""
    null = relabelling_null(result["facts"], n_permutations=n_permutations, seed=seed)
    return _transfer(result) > float(np.quantile(null, 0.99))


def _grid(worlds: Mapping[tuple[str, int], dict]) -> tuple[list[float], list[float], list[int], dict]:
    """The grid's ratios, shares, the seeds that have every cell, and transfer per (r_en, share, seed)."""
    cells = {(*cell, run_seed): _transfer(result) for (run, run_seed), result in worlds.items()
             if (cell := parse_grid_label(run)) is not None}
    ratios = sorted({r_en for r_en, _, _ in cells})
    shares = sorted({share for _, share, _ in cells})
    seeds = sorted(s for s in {s for _, _, s in cells}
                   if all((r_en, share, s) in cells for r_en in ratios for share in shares))
    return ratios, shares, seeds, cells


def _nan_estimate(n: int) -> claims.Estimate:
    return claims.Estimate(float("nan"), float("nan"), float("nan"), n, "t", "seeds")


def _b2_gate(worlds: Mapping[tuple[str, int], dict], n_permutations: int, n_bootstrap: int, seed: int) -> list[str]:
    """Reasons the B2 gate fails (none: it holds).

    (i) every run learned its seen facts (in-language accuracy ≥ 0.9) and was not cut by the time
    budget; (ii) the chance bracket: every run *without anchors* (no person in both languages, no
    parallel units, so nothing ties an English value to its Chinese name) transfers no better than the
    99th percentile of its value-relabelling null (:func:`~reprobook.mubench.tinyworld.relabelling_null`); (iii) the oracle run's cross-language accuracy
    reaches the 95 % bootstrap interval of its in-language accuracy.
    """
    reasons = []
    for (run, run_seed), result in worlds.items():
        seen = in_language_correct(result["facts"]).mean()
        if seen < 0.9:
            reasons.append(f"{run} seed {run_seed} learned {seen:.2f} of its seen facts (< 0.9)")
        if result["steps_done"] < result.get("steps", result["steps_done"]) and not result.get("memorised", True):
            reasons.append(f"{run} seed {run_seed} was cut by the time budget at step {result['steps_done']}")
    chance = [(run_seed, result) for (run, run_seed), result in worlds.items() if run == "no-anchor"]
    for run_seed, result in chance:
        if _above_chance(result, n_permutations, seed + run_seed):
            reasons.append(f"no-anchor seed {run_seed} transfers above its relabelling null (chance bracket)")
    if not chance:
        reasons.append("no no-anchor run (the chance bracket)")
    oracles = [result for (run, _), result in worlds.items() if run == "oracle"]
    for result in oracles:
        seen = in_language_correct(result["facts"])
        low, _ = cons.bootstrap_ci(lambda idx, v=seen: v[idx].mean(), len(seen), n_boot=n_bootstrap, seed=seed)
        if _transfer(result) < low:
            reasons.append("the oracle's cross-language accuracy is below its in-language interval (oracle bracket)")
    if not oracles:
        reasons.append("no oracle run")
    return reasons


def world_results(worlds: Mapping[tuple[str, int], dict], *, n_permutations: int = 2_000,
                  n_bootstrap: int = 2_000, seed: int = 0) -> dict[str, Any]:
    """M6 and M7 per seed over the EN-ratio × parallel-share grid, their controls and guards.

    * M6, per seed: the mean over ratios of transfer(largest share) − transfer(no parallel units).
      Control: the same difference between the no-parallel runs of two seeds (seed noise).
    * M7, per seed: the spread (max − min) over ratios of transfer averaged over shares. Control, per
      ratio: the spread of that average over as many seeds as there are ratios (what seeds alone give).

    Grid runs are keyed ``(grid_label(r_en, share), seed)``; controls ``("oracle" | "no-anchor" |
    "shared-vocab", seed)``.
    """
    ratios, shares, seeds, cells = _grid(worlds)
    reasons = _b2_gate(worlds, n_permutations, n_bootstrap, seed)
    m6_design = [] if len(shares) >= 2 and shares[0] == 0.0 and seeds else \
        ["M6 needs complete grid seeds with a share of 0 and a larger one (b2_shares)"]
    m7_design = [] if len(ratios) >= 2 and len(seeds) >= len(ratios) else \
        ["M7 needs at least two ratios (b2_ratios) and as many complete seeds as ratios (b2_seeds)"]
    out: dict[str, Any] = {
        "b2_gate": claims.guard(not reasons, "B2 gate failed: " + "; ".join(reasons)),
        "b2_m6_design": claims.guard(not m6_design, "; ".join(m6_design)),
        "b2_m7_design": claims.guard(not m7_design, "; ".join(m7_design)),
    }
    if m6_design:
        out["m6_transfer_gain"], out["m6_seed_noise"] = _nan_estimate(len(seeds)), _nan_estimate(len(seeds))
    else:
        low_share, high_share = shares[0], shares[-1]
        none = np.array([np.mean([cells[(r_en, low_share, s)] for r_en in ratios]) for s in seeds])
        most = np.array([np.mean([cells[(r_en, high_share, s)] for r_en in ratios]) for s in seeds])
        out["m6_transfer_gain"] = claims.paired_difference(most, none, unit="seeds")
        # seed noise: each seed's no-parallel runs against the next seed's (cyclically)
        out["m6_seed_noise"] = claims.paired_difference(np.roll(none, -1), none, unit="seeds") if len(seeds) >= 2 \
            else _nan_estimate(len(seeds))
    if m7_design:
        out["m7_ratio_spread"], out["m7_seed_spread"] = _nan_estimate(len(seeds)), _nan_estimate(len(ratios))
    else:
        by_ratio = np.array([[np.mean([cells[(r_en, share, s)] for share in shares]) for s in seeds]
                             for r_en in ratios])  # ratios × seeds
        out["m7_ratio_spread"] = claims.mean_interval(np.ptp(by_ratio, axis=0), unit="seeds")
        out["m7_seed_spread"] = claims.mean_interval(np.ptp(by_ratio[:, :len(ratios)], axis=1), unit="ratios")
    return out


def world_notes(worlds: Mapping[tuple[str, int], dict], *, n_permutations: int = 2_000, seed: int = 0
                ) -> dict[str, str]:
    """Run-time notes for M6 and M7: the grid that ran, how many no-parallel runs transfer above their
    relabelling null (transfer through the people seen in both languages), and the shared-vocabulary
    control's transfer (pass to ``Ledger.evaluate(..., notes=...)``)."""
    ratios, shares, seeds, _ = _grid(worlds)
    if not ratios:
        return {}
    text = (f"grid r_en {', '.join(f'{r:g}' for r in ratios)} × parallel share {', '.join(f'{p:g}' for p in shares)}"
            f" × {len(seeds)} seeds")
    no_parallel = [(run_seed, result) for (run, run_seed), result in worlds.items()
                   if (cell := parse_grid_label(run)) is not None and cell[1] == 0.0]
    if no_parallel:
        above = sum(_above_chance(result, n_permutations, seed + run_seed) for run_seed, result in no_parallel)
        text += (f"; without parallel units, {above} of {len(no_parallel)} runs transfer above their relabelling "
                 "null")
    shared = [result for (run, _), result in worlds.items() if run == "shared-vocab"]
    if shared:
        text += (f"; shared-vocabulary control: transfer {np.mean([_transfer(r) for r in shared]):.2f}, "
                 f"in-language {np.mean([in_language_correct(r['facts']).mean() for r in shared]):.2f}")
    return {"M6": text, "M7": text}


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
        results["b2_m6_design"] = results["b2_m7_design"] = results["b2_gate"]
        results["m6_transfer_gain"] = results["m6_seed_noise"] = None
        results["m7_ratio_spread"] = results["m7_seed_spread"] = None
    return results

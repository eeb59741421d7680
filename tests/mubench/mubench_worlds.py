"""Hand-made aligned arrays and tiny-world outputs for the MuBench ledger tests."""

import numpy as np
import pandas as pd

from reprobook.mubench.scoring import AlignedArrays
from reprobook.mubench.tinyworld import grid_label

N_LANGS, N_ITEMS, N_CODES = 21, 40, 12


def aligned(acc_en: float, acc_other: float, shared_wrong: bool, seed: int = 0) -> AlignedArrays:
    """Languages × items predictions: ``en`` right with probability ``acc_en``, the others ``acc_other``.
    A wrong language picks the item's own "attractive" distractor when ``shared_wrong`` (item-specific
    agreement), else a uniformly random distractor (accuracy alone)."""
    rng = np.random.default_rng(seed)
    codes = tuple(f"v{index:02d}" for index in range(N_CODES))
    options = np.array([np.sort(rng.choice(N_CODES, size=4, replace=False)) for _ in range(N_ITEMS)])
    answer = np.array([row[rng.integers(4)] for row in options])
    attractive = np.array([rng.choice([code for code in row if code != truth]) for row, truth in zip(options, answer, strict=True)])
    pred = np.empty((N_LANGS, N_ITEMS), dtype=int)
    for lang in range(N_LANGS):
        p = acc_en if lang == 0 else acc_other
        for item in range(N_ITEMS):
            if rng.random() < p:
                pred[lang, item] = answer[item]
            elif shared_wrong:
                pred[lang, item] = attractive[item]
            else:
                pred[lang, item] = rng.choice([code for code in options[item] if code != answer[item]])
    languages = ("en",) + tuple(f"l{index:02d}" for index in range(1, N_LANGS))
    values = tuple(tuple(codes[code] for code in row) for row in options)
    tasks = tuple("weekday" if item % 2 else "month" for item in range(N_ITEMS))
    return AlignedArrays(languages, tuple(f"i{item:02d}" for item in range(N_ITEMS)), tasks, values,
                         np.zeros((N_LANGS, N_ITEMS, 4)), pred, answer, codes)


def facts(transfer_right: bool, seed: int, n_people: int = 30, anchors: bool = True) -> pd.DataFrame:
    """Every seen fact right; transfer facts right when ``transfer_right``, else a random value.
    Without ``anchors`` no person is in both languages (the no-anchor world's halves)."""
    rng = np.random.default_rng(seed)
    rows = []
    for attribute, size in (("month", 12), ("country", 20), ("weekday", 7)):
        for person in range(n_people):
            group = ("en", "zh", "both")[person % 3] if anchors else ("en", "zh")[person % 2]
            truth = int(rng.integers(size))
            guess = truth if transfer_right else int(rng.integers(size))
            rows.append({"person": person, "attribute": attribute, "group": group, "truth": truth,
                         "pred_en": guess if group == "zh" else truth, "pred_zh": guess if group == "en" else truth})
    return pd.DataFrame(rows)


def run(transfer_right: bool, seed: int, n_people: int = 30, anchors: bool = True) -> dict:
    return {"facts": facts(transfer_right, seed, n_people, anchors), "steps_done": 200, "steps": 800,
            "memorised": True}


def worlds(parallel_helps: bool, seeds=(0, 1, 2, 3, 4, 5, 6, 7), ratio_matters: bool = False,
           ratios=(0.5, 0.7, 0.9), shares=(0.0, 0.2), n_people: int = 30) -> dict:
    """Tiny-world outputs over the EN-ratio × parallel-share grid, plus the no-anchor runs (chance, every
    seed) and the oracle. Transfer is right where parallel units help (share > 0) or, when
    ``ratio_matters``, at the largest ratio; elsewhere it is a random guess."""
    out = {}
    for seed in seeds:
        for index, r_en in enumerate(ratios):
            for share in shares:
                right = (parallel_helps and share > 0) or (ratio_matters and index == len(ratios) - 1)
                out[(grid_label(r_en, share), seed)] = run(right, 1000 * seed + 100 * index + round(100 * share),
                                                           n_people)
        out[("no-anchor", seed)] = run(False, 500 + seed, n_people, anchors=False)
    out[("oracle", seeds[0])] = run(True, 999, n_people)
    return out

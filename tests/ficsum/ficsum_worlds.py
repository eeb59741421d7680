"""Hand-made result frames for the FiCSUM ledger tests: worlds with and without the claimed effects."""

import numpy as np
import pandas as pd

COLUMNS = ["stream", "seed", "method", "variant", "cf1", "kappa", "n_true_concepts"]
CONCEPTS = {"stagger": 3, "rtree_shift": 6, "cmc": 2}


def frames(cf1, kappa, seeds=(1, 2, 3, 4), jitter=0.01, spearman=0.0):
    """``cf1``/``kappa``: {(stream, method_or_variant): value}; methods are the main runs, variants the
    ablation runs (FiCSUM). Every value gets a small seed-to-seed jitter."""
    rng = np.random.default_rng(0)
    main, ablation, agreement = [], [], []
    for seed in seeds:
        for (stream, name), value in cf1.items():
            noise = jitter * rng.standard_normal()
            row_kappa = kappa.get((stream, name), 0.5) + jitter * rng.standard_normal()
            if name in ("ficsum", "lower", "upper", "drift_retrain", "arf", "rcd", "dwm"):
                cf1_value = value if name in ("lower", "upper") else value + noise
                main.append((stream, seed, name, "default", cf1_value, row_kappa, CONCEPTS[stream]))
                if name == "ficsum":
                    ablation.append((stream, seed, "ficsum", "default", cf1_value, row_kappa, CONCEPTS[stream]))
            else:
                ablation.append((stream, seed, "ficsum", name, value + noise, row_kappa, CONCEPTS[stream]))
        agreement.append({"stream": "rtree_shift", "seed": seed,
                          "spearman": spearman + jitter * rng.standard_normal(),
                          "spearman_shuffled": jitter * rng.standard_normal()})
    return (pd.DataFrame(main, columns=COLUMNS), pd.DataFrame(ablation, columns=COLUMNS),
            pd.DataFrame(agreement))


def floor(stream):
    return 2.0 / (CONCEPTS[stream] + 1)


def null_world():
    """Nothing tracks concepts: FiCSUM and every variant sit at the never-switching tree's C-F1 and κ."""
    cf1, kappa = {}, {}
    for stream in CONCEPTS:
        base = floor(stream) if stream != "cmc" else 0.667
        for name in ("ficsum", "lower", "drift_retrain", "supervised_only", "unsupervised_only", "error_rate_only"):
            if stream == "cmc" and name not in ("ficsum", "lower"):
                continue
            cf1[(stream, name)] = base
            kappa[(stream, name)] = 0.22 if stream == "cmc" else 0.5
        cf1[(stream, "upper")] = 1.0
        kappa[(stream, "upper")] = 0.9
    return frames(cf1, kappa, spearman=0.0)


def effect_world():
    """The paper's world: FiCSUM tracks concepts, the error rate alone and the unsupervised sources on
    STAGGER do not, unsupervised sources carry the P(x)-shift stream, cmc matches the thesis."""
    cf1 = {("stagger", "ficsum"): 0.97, ("stagger", "lower"): 0.5, ("stagger", "drift_retrain"): 0.55,
           ("stagger", "upper"): 1.0, ("stagger", "supervised_only"): 0.95, ("stagger", "unsupervised_only"): 0.46,
           ("stagger", "error_rate_only"): 0.6,
           ("rtree_shift", "ficsum"): 0.7, ("rtree_shift", "lower"): floor("rtree_shift"),
           ("rtree_shift", "drift_retrain"): 0.35, ("rtree_shift", "upper"): 1.0,
           ("rtree_shift", "supervised_only"): 0.5, ("rtree_shift", "unsupervised_only"): 0.6,
           ("rtree_shift", "error_rate_only"): 0.4,
           ("cmc", "ficsum"): 0.75, ("cmc", "lower"): 0.5, ("cmc", "upper"): 1.0}
    kappa = {("stagger", "ficsum"): 0.97, ("stagger", "upper"): 0.98, ("stagger", "lower"): 0.4,
             ("cmc", "ficsum"): 0.22, ("cmc", "lower"): 0.05}
    return frames(cf1, kappa, spearman=0.6)

"""The chapter's parameters (validated in one call), its run grid, the summary tables and the ledger's numbers.

>>> params = validate_parameters(profile="smoke", seeds=[0], methods=["single", "neurotrails"],
...                              neurotrails_splits=[3], sweep_splits=[0, 3], sparse_single=False,
...                              matched_baselines=False)
>>> [(c.method, c.blocks_in_head) for c in params.configs()]
[('single', 0), ('neurotrails', 3), ('neurotrails', 0), ('neurotrails_static', 3)]
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from reprobook.devices import check_device
from reprobook.neurotrails.experiments import RunConfig, RunResult, nonzeros
from reprobook.neurotrails.heads import build_model
from reprobook.neurotrails.metrics import AVERAGING
from reprobook.neurotrails.mnist1d import GeneratorSettings
from reprobook.params import (
    PROFILES,
    ParameterError,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_int_list,
    check_known,
    check_subset,
)

__all__ = ["Parameters", "validate_parameters", "MAIN_METHODS", "MAXIMA", "arm_label", "results_frame",
           "main_table", "sweep_table", "choose_split", "run_weight", "matched_width"]

MAIN_METHODS = ("single", "full_ensemble", "treenet", "neurotrails")
N_BLOCKS = 6
DEFAULTS: dict[str, Any] = {
    "profile": "book", "seeds": [0, 1, 2], "methods": list(MAIN_METHODS), "width": 16, "density": 0.5,
    "n_heads": 3, "neurotrails_splits": [4], "sweep_splits": [0, 4, 6], "sparse_single": True,
    "matched_baselines": True, "static_mask": True, "epochs": 5, "n_train": 3200, "n_val": 1000, "n_test": 5000, "n_shift": 5000,
    "corr_noise": 0.4, "iid_noise": 0.05, "lr": 0.1, "update_every": 10, "prune_rate": 0.5,
    "regrow_dropped": True, "freeze_topology_at": 0.0, "loss_reduction": "sum", "averaging": "logits",
    "time_budget_s": 350.0, "device": "cpu",
}
#: documented upper bounds of the size parameters (absurd values are refused before any compute)
MAXIMA: dict[str, int | float] = {"seeds": 50, "seed": 1_000_000, "width": 512, "n_heads": 16, "epochs": 1000,
                                  "n_train": 1_000_000, "n_val": 200_000, "n_test": 200_000, "n_shift": 200_000,
                                  "update_every": 100_000, "time_budget_s": 86_400.0}
NAMES = {"single": "single dense", "sparse_single": "sparse single", "full_ensemble": "full ensemble",
         "treenet": "TreeNet", "neurotrails": "NeuroTrails", "neurotrails_static": "NeuroTrails, static mask"}


@dataclass(frozen=True)
class Parameters:
    """The chapter's validated parameters (see the notebook's parameters cell)."""

    profile: str
    seeds: tuple[int, ...]
    methods: tuple[str, ...]
    width: int
    density: float
    n_heads: int
    neurotrails_splits: tuple[int, ...]
    sweep_splits: tuple[int, ...]
    sparse_single: bool
    matched_baselines: bool
    static_mask: bool
    epochs: int
    n_train: int
    n_val: int
    n_test: int
    n_shift: int
    corr_noise: float
    iid_noise: float
    lr: float
    update_every: int
    prune_rate: float
    regrow_dropped: bool
    freeze_topology_at: float
    loss_reduction: str
    averaging: str
    time_budget_s: float
    device: str

    @property
    def main_split(self) -> int:
        """The paper's ≈ 2/3 of the depth in the heads; TreeNet and the static-mask ablation use it too."""
        return self.neurotrails_splits[0]

    def base_config(self) -> RunConfig:
        return RunConfig(
            width=self.width, n_blocks=N_BLOCKS, blocks_in_head=self.main_split, n_heads=self.n_heads,
            density=self.density, epochs=self.epochs, lr=self.lr, n_train=self.n_train, n_val=self.n_val,
            n_test=self.n_test, n_shift=self.n_shift,
            generator=GeneratorSettings(corr_noise_scale=self.corr_noise, iid_noise_scale=self.iid_noise),
            update_every=self.update_every, prune_rate=self.prune_rate, regrow_dropped=self.regrow_dropped,
            freeze_topology_at=self.freeze_topology_at or None, loss_reduction=self.loss_reduction,
            averaging=self.averaging, device=self.device)

    def matched_widths(self) -> dict[str, int]:
        """The widths at which a dense single network and a dense full ensemble have NT's nonzeros."""
        target = nonzeros(replace(self.base_config(), method="neurotrails", seed=self.seeds[0]))
        return {method: matched_width(method, target, self.n_heads) for method in ("single", "full_ensemble")}

    def configs(self) -> list[RunConfig]:
        """Every run, each once: for every seed the main comparison, the width-matched baselines, the
        Goldilocks sweep, the sparse single network and (``static_mask``) the static-topology ablation."""
        base = self.base_config()
        widths = self.matched_widths() if self.matched_baselines else {}
        splits = {"single": 0, "full_ensemble": N_BLOCKS}
        wanted: list[RunConfig] = []
        for seed in self.seeds:
            for method in self.methods:
                if method == "neurotrails":
                    wanted += [replace(base, method=method, seed=seed, blocks_in_head=b)
                               for b in self.neurotrails_splits]
                else:
                    wanted.append(replace(base, method=method, seed=seed,
                                          blocks_in_head=splits.get(method, self.main_split)))
            wanted += [replace(base, method=method, seed=seed, blocks_in_head=splits[method], width=width)
                       for method, width in widths.items()]
            wanted += [replace(base, method="neurotrails", seed=seed, blocks_in_head=b) for b in self.sweep_splits]
            if self.sparse_single:
                wanted.append(replace(base, method="sparse_single", seed=seed, blocks_in_head=0))
            if self.static_mask:
                wanted.append(replace(base, method="neurotrails_static", seed=seed))
        unique = list(dict.fromkeys(wanted))
        return self._with_budgets(unique)

    def _with_budgets(self, configs: list[RunConfig]) -> list[RunConfig]:
        """Split ``time_budget_s`` over the runs in proportion to their expected cost (fixed in advance)."""
        if self.time_budget_s <= 0:
            return configs
        weights = [run_weight(config) for config in configs]
        total = sum(weights)
        return [replace(config, time_budget_s=round(self.time_budget_s * weight / total, 1))
                for config, weight in zip(configs, weights, strict=True)]


#: the part of a run's CPU time that does not grow with the width squared (per-call overheads of small
#: convolutions, data handling), measured at width 16-32 on one thread: 0.3 of a width-32 run
FIXED_COST = 0.3
#: several heads cost more than their blocks count: outputs concatenated per layer, BatchNorm over M·C channels
#: (measured ≈ 1.2× at width 16 in smoke runs and ``bench/neurotrails.py``)
MULTI_HEAD_OVERHEAD = 1.2


def run_weight(config: RunConfig) -> float:
    """Expected cost of a run in units of one dense single network of width 32 (blocks evaluated, + 10 % if
    sparse, + 20 % with several heads; a fixed part plus a part that grows with the width squared)."""
    heads = config.effective_heads
    b = config.effective_blocks_in_head
    stem = heads if config.method == "full_ensemble" else 1
    cost = (stem * 0.5 + (config.n_blocks - b) + heads * b) / (0.5 + config.n_blocks)
    heads_overhead = MULTI_HEAD_OVERHEAD if heads > 1 else 1.0
    return (cost * (1.1 if config.is_sparse else 1.0) * heads_overhead
            * (FIXED_COST + (1 - FIXED_COST) * (config.width / 32) ** 2))


@functools.lru_cache(maxsize=256)
def _dense_parameters(method: str, width: int, n_heads: int) -> int:
    model = build_model(method, width=width, blocks_in_head=N_BLOCKS, n_heads=n_heads, n_blocks=N_BLOCKS)
    return sum(p.numel() for p in model.parameters())


def matched_width(method: str, target: int, n_heads: int) -> int:
    """The width at which the dense ``method`` ("single" or "full_ensemble") has closest to ``target`` parameters.

    >>> matched_width("single", _dense_parameters("single", 40, 3), 3)
    40
    """
    widths = range(4, MAXIMA["width"] + 1)
    low, high = 0, len(widths) - 1
    while low < high:  # parameters grow with the width: the first width at or above the target
        middle = (low + high) // 2
        if _dense_parameters(method, widths[middle], n_heads) < target:
            low = middle + 1
        else:
            high = middle
    candidates = [widths[i] for i in (low - 1, low) if 0 <= i < len(widths)]
    return min(candidates, key=lambda w: abs(_dense_parameters(method, w, n_heads) - target))


def validate_parameters(**given: Any) -> Parameters:
    """Check every notebook parameter (names, types, ranges) before any compute."""
    check_known(given, DEFAULTS, where="the neurotrails chapter")
    values = {**DEFAULTS, **given}
    splits = check_int_list("neurotrails_splits", values["neurotrails_splits"], minimum=0, maximum=N_BLOCKS)
    sweep = check_int_list("sweep_splits", values["sweep_splits"], minimum=0, maximum=N_BLOCKS, min_size=0) \
        if values["sweep_splits"] != [] else []
    methods = check_subset("methods", values["methods"], MAIN_METHODS)
    if "neurotrails" not in methods and not sweep:
        raise ParameterError("parameter 'methods' must include 'neurotrails' unless 'sweep_splits' is non-empty")
    n_test = check_int("n_test", values["n_test"], minimum=200, maximum=MAXIMA["n_test"])
    n_heads = check_int("n_heads", values["n_heads"], minimum=2, maximum=MAXIMA["n_heads"])
    seeds = check_int_list("seeds", values["seeds"], minimum=0, maximum=MAXIMA["seed"])
    if len(seeds) > MAXIMA["seeds"]:
        raise ParameterError(f"parameter 'seeds' may list at most {MAXIMA['seeds']} seeds, got {len(seeds)}")
    return Parameters(
        profile=check_choice("profile", values["profile"], PROFILES),
        seeds=tuple(seeds),
        methods=tuple(methods),
        width=check_int("width", values["width"], minimum=4, maximum=MAXIMA["width"]),
        density=check_float("density", values["density"], minimum=0.01, maximum=1.0),
        n_heads=n_heads, neurotrails_splits=tuple(splits), sweep_splits=tuple(sorted(sweep)),
        sparse_single=check_bool("sparse_single", values["sparse_single"]),
        matched_baselines=check_bool("matched_baselines", values["matched_baselines"]),
        static_mask=check_bool("static_mask", values["static_mask"]),
        epochs=check_int("epochs", values["epochs"], minimum=1, maximum=MAXIMA["epochs"]),
        n_train=check_int("n_train", values["n_train"], minimum=100, maximum=MAXIMA["n_train"]),
        n_val=check_int("n_val", values["n_val"], minimum=100, maximum=MAXIMA["n_val"]),
        n_test=n_test,
        n_shift=check_int("n_shift", values["n_shift"], minimum=200, maximum=MAXIMA["n_shift"]),
        corr_noise=check_float("corr_noise", values["corr_noise"], minimum=0.0, maximum=5.0),
        iid_noise=check_float("iid_noise", values["iid_noise"], minimum=0.0, maximum=5.0),
        lr=check_float("lr", values["lr"], minimum=1e-5, maximum=10.0),
        update_every=check_int("update_every", values["update_every"], minimum=1, maximum=MAXIMA["update_every"]),
        prune_rate=check_float("prune_rate", values["prune_rate"], minimum=0.0, maximum=1.0),
        regrow_dropped=check_bool("regrow_dropped", values["regrow_dropped"]),
        freeze_topology_at=check_float("freeze_topology_at", values["freeze_topology_at"], minimum=0.0,
                                       maximum=1.0),
        loss_reduction=check_choice("loss_reduction", values["loss_reduction"], ("sum", "mean")),
        averaging=check_choice("averaging", values["averaging"], AVERAGING),
        time_budget_s=check_float("time_budget_s", values["time_budget_s"], minimum=0.0,
                                  maximum=MAXIMA["time_budget_s"]),
        device=check_device(values["device"]),
    )


def arm_label(method: str, blocks_in_head: int) -> str:
    """A method's name in tables, with its split for the multi-head methods."""
    if method in ("neurotrails", "treenet", "neurotrails_static"):
        return f"{NAMES[method]} (b = {blocks_in_head})"
    return NAMES[method]


def results_frame(results: list[RunResult], width: int | None = None) -> pd.DataFrame:
    """One row per run: the summaries, without the nested config and hashes.

    Runs at another width than ``width`` (the width-matched baselines) say so in their arm's name.
    """
    rows = [{key: value for key, value in result.summary.items() if key not in ("config", "data_hashes")}
            for result in results]
    frame = pd.DataFrame(rows)
    labels = [arm_label(m, b) + (f", width {w} (matched)" if width is not None and w != width else "")
              for m, b, w in zip(frame.method, frame.blocks_in_head, frame.width, strict=True)]
    frame.insert(0, "arm", labels)
    return frame


TABLE_COLUMNS = ["accuracy", "nll", "ece", "brier", "disagreement", "pairwise_kl", "head_accuracy_mean",
                 "shift_accuracy", "shift_nll", "nnz", "nnz_flops"]


def main_table(frame: pd.DataFrame, seeds: tuple[int, ...]) -> pd.DataFrame:
    """Mean ± sd over seeds per arm, for the arms run with every seed; stopped runs are counted."""
    complete = frame.groupby("arm").seed.nunique()
    arms = [arm for arm in frame.arm.unique() if complete[arm] == len(seeds)]
    rows = []
    for arm in arms:
        part = frame[frame.arm == arm]
        row: dict[str, Any] = {"method": arm, "seeds": len(part)}
        for column in TABLE_COLUMNS:
            values = part[column].astype(float)
            if column in ("nnz", "nnz_flops"):
                row[column] = f"{values.mean():,.0f}"
            elif values.isna().all():
                row[column] = "—"
            else:
                sd = values.std(ddof=1) if len(values) > 1 else float("nan")
                row[column] = f"{values.mean():.3f}" + ("" if math.isnan(sd) else f" ± {sd:.3f}")
        row["stopped early"] = int(part.stopped_early.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_table(frame: pd.DataFrame, splits: tuple[int, ...]) -> pd.DataFrame:
    """NeuroTrails at each split b: mean over the finished seeds of accuracy (and its sd), NLL, diversity."""
    part = frame[(frame.method == "neurotrails") & frame.blocks_in_head.isin(splits) & ~frame.stopped_early]
    table = part.groupby("blocks_in_head", as_index=False).agg(
        accuracy=("accuracy", "mean"), accuracy_sd=("accuracy", "std"), val_accuracy=("val_accuracy", "mean"),
        nll=("nll", "mean"), disagreement=("disagreement", "mean"), pairwise_kl=("pairwise_kl", "mean"),
        head_accuracy_mean=("head_accuracy_mean", "mean"), nnz=("nnz", "mean"), seeds=("seed", "nunique"))
    return table.sort_values("blocks_in_head").reset_index(drop=True)


def choose_split(frame: pd.DataFrame, splits: tuple[int, ...], seeds: tuple[int, ...]) -> int | None:
    """b*: among the NeuroTrails splits run with every seed, the best mean **validation** accuracy."""
    part = frame[(frame.method == "neurotrails") & frame.blocks_in_head.isin(splits)]
    counts = part.groupby("blocks_in_head").seed.nunique()
    full = counts[counts == len(seeds)].index
    if not len(full):
        return None
    means = part[part.blocks_in_head.isin(full)].groupby("blocks_in_head").val_accuracy.mean()
    return int(means.idxmax())


def _mean(frame: pd.DataFrame, method: str, column: str, **where: Any) -> float:
    part = frame[(frame.method == method) & ~frame.stopped_early]
    for key, value in where.items():
        part = part[part[key] == value]
    return float(part[column].mean()) if len(part) else math.nan


def reading(frame: pd.DataFrame, params: Parameters, matched_widths: dict[str, int]) -> str:
    """The chapter's reading of its results, generated from the run frame (finished runs only)."""
    main, width = params.main_split, params.width
    nt_nnz = _mean(frame, "neurotrails", "nnz", blocks_in_head=main)
    single_nnz = _mean(frame, "single", "nnz", width=width)
    full_nnz = _mean(frame, "full_ensemble", "nnz", width=width)
    single_acc = _mean(frame, "single", "accuracy", width=width)
    full_acc = _mean(frame, "full_ensemble", "accuracy", width=width)
    b_star = choose_split(frame[~frame.stopped_early], params.sweep_splits, params.seeds)
    stopped = frame[frame.stopped_early]
    parts = [
        f"At density {params.density:g} NeuroTrails at the main split b = {main} holds {nt_nnz:,.0f} nonzeros: "
        f"{nt_nnz / single_nnz:.2f}× the single dense network of width {width} and "
        f"{nt_nnz / full_nnz:.2f}× the full ensemble; the matched baselines "
        + ", ".join(f"({name.replace('_', ' ')} at width {w})" for name, w in matched_widths.items())
        + " bring the dense side to the same count." if matched_widths else
        f"At density {params.density:g} NeuroTrails at the main split holds {nt_nnz:,.0f} nonzeros.",
        f"Ensembling itself gains {100 * (full_acc - single_acc):+.1f} accuracy points here "
        f"(full ensemble {full_acc:.3f} against one network {single_acc:.3f}, means over seeds).",
    ]
    if b_star is not None:
        parts.append(f"Among the sweep's splits, validation accuracy would choose b* = {b_star} "
                     f"(the claims are judged at the main split b = {main}, fixed in advance).")
    if len(stopped):
        parts.append("Runs stopped by the time budget and left out of every comparison: "
                     + ", ".join(f"{row.arm} seed {row.seed}" for row in stopped.itertuples()) + ".")
    else:
        parts.append("Every run finished inside its share of the time budget.")
    return " ".join(parts)

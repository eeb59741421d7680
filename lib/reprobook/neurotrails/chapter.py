"""The chapter's parameters (validated in one call), its run grid, the summary tables and the ledger's numbers.

>>> params = validate_parameters(profile="smoke", seeds=[0], methods=["single", "neurotrails"],
...                              neurotrails_splits=[3], sweep_splits=[0, 3], sparse_single=False)
>>> [(c.method, c.blocks_in_head) for c in params.configs()]
[('single', 0), ('neurotrails', 3), ('neurotrails', 0)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from reprobook.neurotrails.experiments import RunConfig, RunResult
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

__all__ = ["Parameters", "validate_parameters", "MAIN_METHODS", "arm_label", "results_frame", "main_table",
           "sweep_table", "choose_split", "headline_metrics", "run_weight"]

MAIN_METHODS = ("single", "full_ensemble", "treenet", "neurotrails")
N_BLOCKS = 6
DEFAULTS: dict[str, Any] = {
    "profile": "book", "seeds": [0, 1], "methods": list(MAIN_METHODS), "width": 48, "density": 0.5,
    "n_heads": 3, "neurotrails_splits": [4, 6], "sweep_splits": [0, 1, 2, 3, 4, 5, 6], "sparse_single": True,
    "static_mask": False, "epochs": 8, "n_train": 3200, "n_val": 1000, "n_test": 5000, "n_shift": 5000,
    "corr_noise": 0.4, "iid_noise": 0.05, "lr": 0.1, "update_every": 50, "prune_rate": 0.5,
    "regrow_dropped": True, "freeze_topology_at": 0.0, "loss_reduction": "sum", "averaging": "logits",
    "time_budget_s": 600.0,
}
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
            averaging=self.averaging)

    def configs(self) -> list[RunConfig]:
        """Every run, each once: the main comparison × seeds, the sweep (first seed), the extras."""
        base = self.base_config()
        wanted: list[RunConfig] = []
        for seed in self.seeds:
            for method in self.methods:
                if method == "neurotrails":
                    wanted += [replace(base, method=method, seed=seed, blocks_in_head=b)
                               for b in self.neurotrails_splits]
                else:
                    wanted.append(replace(base, method=method, seed=seed,
                                          blocks_in_head={"single": 0, "full_ensemble": N_BLOCKS}.get(
                                              method, self.main_split)))
        wanted += [replace(base, method="neurotrails", seed=self.seeds[0], blocks_in_head=b)
                   for b in self.sweep_splits]
        if self.sparse_single:
            wanted.append(replace(base, method="sparse_single", seed=self.seeds[0], blocks_in_head=0))
        if self.static_mask:
            wanted += [replace(base, method="neurotrails_static", seed=seed) for seed in self.seeds]
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


def run_weight(config: RunConfig) -> float:
    """Expected cost of a run in units of one dense single network (blocks evaluated, + 10 % if sparse)."""
    heads = config.effective_heads
    b = config.effective_blocks_in_head
    stem = heads if config.method == "full_ensemble" else 1
    cost = (stem * 0.5 + (config.n_blocks - b) + heads * b) / (0.5 + config.n_blocks)
    return cost * (1.1 if config.is_sparse else 1.0)


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
    n_test = check_int("n_test", values["n_test"], minimum=200, maximum=200_000)
    n_heads = check_int("n_heads", values["n_heads"], minimum=2, maximum=16)
    return Parameters(
        profile=check_choice("profile", values["profile"], PROFILES),
        seeds=tuple(check_int_list("seeds", values["seeds"], minimum=0)),
        methods=tuple(methods),
        width=check_int("width", values["width"], minimum=4, maximum=512),
        density=check_float("density", values["density"], minimum=0.01, maximum=1.0),
        n_heads=n_heads, neurotrails_splits=tuple(splits), sweep_splits=tuple(sorted(sweep)),
        sparse_single=check_bool("sparse_single", values["sparse_single"]),
        static_mask=check_bool("static_mask", values["static_mask"]),
        epochs=check_int("epochs", values["epochs"], minimum=1, maximum=1000),
        n_train=check_int("n_train", values["n_train"], minimum=100, maximum=1_000_000),
        n_val=check_int("n_val", values["n_val"], minimum=100, maximum=200_000),
        n_test=n_test,
        n_shift=check_int("n_shift", values["n_shift"], minimum=200, maximum=200_000),
        corr_noise=check_float("corr_noise", values["corr_noise"], minimum=0.0, maximum=5.0),
        iid_noise=check_float("iid_noise", values["iid_noise"], minimum=0.0, maximum=5.0),
        lr=check_float("lr", values["lr"], minimum=1e-5, maximum=10.0),
        update_every=check_int("update_every", values["update_every"], minimum=1),
        prune_rate=check_float("prune_rate", values["prune_rate"], minimum=0.0, maximum=1.0),
        regrow_dropped=check_bool("regrow_dropped", values["regrow_dropped"]),
        freeze_topology_at=check_float("freeze_topology_at", values["freeze_topology_at"], minimum=0.0,
                                       maximum=1.0),
        loss_reduction=check_choice("loss_reduction", values["loss_reduction"], ("sum", "mean")),
        averaging=check_choice("averaging", values["averaging"], AVERAGING),
        time_budget_s=check_float("time_budget_s", values["time_budget_s"], minimum=0.0),
    )


def arm_label(method: str, blocks_in_head: int) -> str:
    """A method's name in tables, with its split for the multi-head methods."""
    if method in ("neurotrails", "treenet", "neurotrails_static"):
        return f"{NAMES[method]} (b = {blocks_in_head})"
    return NAMES[method]


def results_frame(results: list[RunResult]) -> pd.DataFrame:
    """One row per run: the summaries, without the nested config and hashes."""
    rows = [{key: value for key, value in result.summary.items() if key not in ("config", "data_hashes")}
            for result in results]
    frame = pd.DataFrame(rows)
    frame.insert(0, "arm", [arm_label(m, b) for m, b in zip(frame.method, frame.blocks_in_head, strict=True)])
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


def sweep_table(frame: pd.DataFrame, splits: tuple[int, ...], seed: int) -> pd.DataFrame:
    """NeuroTrails at each split b (one seed): accuracy with its binomial SE, NLL, diversity, nonzeros."""
    part = frame[(frame.method == "neurotrails") & (frame.seed == seed) & frame.blocks_in_head.isin(splits)]
    part = part.sort_values("blocks_in_head")
    table = part[["blocks_in_head", "accuracy", "val_accuracy", "nll", "disagreement", "pairwise_kl",
                  "head_accuracy_mean", "nnz", "stopped_early"]].reset_index(drop=True)
    n_test = int(part.n_test.iloc[0]) if "n_test" in part and len(part) else None
    if n_test:
        table.insert(2, "se", np.sqrt(table.accuracy * (1 - table.accuracy) / n_test))
    return table


def choose_split(frame: pd.DataFrame, splits: tuple[int, ...], seeds: tuple[int, ...]) -> int | None:
    """b*: among the NeuroTrails splits run with every seed, the best mean **validation** accuracy."""
    part = frame[(frame.method == "neurotrails") & frame.blocks_in_head.isin(splits)]
    counts = part.groupby("blocks_in_head").seed.nunique()
    full = counts[counts == len(seeds)].index
    if not len(full):
        return None
    means = part[part.blocks_in_head.isin(full)].groupby("blocks_in_head").val_accuracy.mean()
    return int(means.idxmax())


def _arm(frame: pd.DataFrame, method: str, blocks_in_head: int | None = None) -> pd.DataFrame:
    part = frame[frame.method == method]
    return part if blocks_in_head is None else part[part.blocks_in_head == blocks_in_head]


def _pooled_sd(*parts: pd.Series) -> float:
    variances = [part.var(ddof=1) for part in parts if len(part) > 1]
    return float(np.sqrt(np.mean(variances))) if variances else float("nan")


def headline_metrics(frame: pd.DataFrame, params: Parameters) -> dict[str, float]:
    """The ledger's numbers (decision rules in the notebook). Missing arms give NaN (not testable)."""
    nan = float("nan")
    out: dict[str, float] = {}
    b_star = choose_split(frame, params.neurotrails_splits, params.seeds)
    out["b_star"] = nan if b_star is None else b_star
    nt = _arm(frame, "neurotrails", b_star) if b_star is not None else frame.iloc[0:0]
    single, full = _arm(frame, "single"), _arm(frame, "full_ensemble")
    treenet = _arm(frame, "treenet", params.main_split)

    def gap(a: pd.DataFrame, b: pd.DataFrame, column: str) -> float:
        return float(a[column].mean() - b[column].mean()) if len(a) and len(b) else nan

    sd = _pooled_sd(nt.accuracy, single.accuracy) if len(nt) and len(single) else nan
    out["n1_accuracy_gap"] = gap(nt, single, "accuracy")
    out["n1_gap_in_sd"] = out["n1_accuracy_gap"] / sd if sd and np.isfinite(sd) and sd > 0 else nan
    out["n1_nll_gain"] = gap(single, nt, "nll")
    out["n2_accuracy_gap"] = gap(nt, full, "accuracy")
    out["n2_nnz_ratio"] = float(nt.nnz.mean() / full.nnz.mean()) if len(nt) and len(full) else nan
    out["n5_accuracy_gap"] = gap(nt, treenet, "accuracy")
    out["n5_nnz_ratio"] = float(nt.nnz.mean() / treenet.nnz.mean()) if len(nt) and len(treenet) else nan
    drop = frame.assign(drop=frame.accuracy - frame.shift_accuracy)
    nt_drop = drop.loc[nt.index, "drop"] if len(nt) else pd.Series(dtype=float)
    single_drop = drop.loc[single.index, "drop"]
    out["n7_drop_advantage"] = float(single_drop.mean() - nt_drop.mean()) if len(nt) and len(single) else nan

    sweep = frame[(frame.method == "neurotrails") & (frame.seed == params.seeds[0])
                  & frame.blocks_in_head.isin(params.sweep_splits)].sort_values("blocks_in_head")
    if sweep.blocks_in_head.nunique() >= 3:
        out["n3_spearman"] = float(spearmanr(sweep.blocks_in_head, sweep.disagreement).statistic)
    else:
        out["n3_spearman"] = nan
    ends = sweep[sweep.blocks_in_head.isin([0, N_BLOCKS])]
    inner = sweep[~sweep.blocks_in_head.isin([0, N_BLOCKS])]
    if len(ends) == 2 and len(inner):
        best = inner.accuracy.max()
        se = math.sqrt(best * (1 - best) / params.n_test)
        out["n4_margin_in_se"] = float((best - ends.accuracy.max()) / se)
        out["n4_best_split"] = float(sweep.loc[sweep.accuracy.idxmax(), "blocks_in_head"])
    else:
        out["n4_margin_in_se"] = nan
        out["n4_best_split"] = nan

    static = _arm(frame, "neurotrails_static", params.main_split)
    dynamic = _arm(frame, "neurotrails", params.main_split)
    if len(static) > 1 and len(dynamic) > 1:
        acc_sd = _pooled_sd(dynamic.accuracy, static.accuracy)
        nll_sd = _pooled_sd(dynamic.nll, static.nll)
        out["n6_gap_in_sd"] = float(max(gap(dynamic, static, "accuracy") / acc_sd,
                                        gap(static, dynamic, "nll") / nll_sd))
    else:
        out["n6_gap_in_sd"] = nan
    return out

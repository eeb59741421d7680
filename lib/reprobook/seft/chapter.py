"""The chapter's parameters (validated in one call), its experiment grids and headline numbers.

>>> params = validate_parameters(profile="smoke", seeds=[0], methods=["none", "seft"], steps=20)
>>> [config.method for config in params.repair_configs()]
['none', 'seft']
>>> len(params.prune_configs())  # three pruners at 0.5, 0.7, 0.9, and the permuted-norm control at 0.5
10
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from reprobook.devices import check_device, torch_device
from reprobook.params import (
    ParameterError,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_int_list,
    check_known,
    check_subset,
)
from reprobook.seft.delta import ADAPTATIONS, DROP_MODES, SCHEDULES, SEFTSettings
from reprobook.seft.memory import COST_METHODS
from reprobook.seft.minilm import MINILM_BLOCKS, E1Config, minilm_block_linears
from reprobook.seft.model import PretrainConfig
from reprobook.seft.prune import PRUNERS
from reprobook.seft.train import METHODS, CSRConfig, PruneConfig, RepairConfig, with_seft

__all__ = ["Parameters", "validate_parameters", "summarise_repair", "PROFILES", "ABLATIONS", "MAXIMA",
           "S1_SPARSITY"]

PROFILES = ("smoke", "book", "paper")
#: E4: name → changes to the SEFT settings
ABLATIONS: dict[str, dict[str, Any]] = {
    "no_resurrection": {"resurrect": False},
    "adapt_magnitude": {"adaptation": "magnitude"},
    "adapt_random": {"adaptation": "random"},
}
DEFAULTS: dict[str, Any] = {
    "profile": "book", "layers": 2, "d": 96, "heads": 4, "context": 64, "pretrain_steps": 800,
    "pretrain_batch": 64, "pruners": ["magnitude", "wanda", "sparsegpt"], "prune_sparsities": [0.5, 0.7, 0.9],
    "repair_sparsities": [0.7], "repair_pruner": "wanda", "methods": list(METHODS), "seeds": [0, 1, 2],
    "multi_seed_methods": ["lora", "spp", "static_delta", "seft"], "steps": 120, "batch": 16, "lr": 1e-3,
    "lr_adapter": 3e-3, "rank": 4, "update_every": 20, "window": 5, "zeta0": 0.2, "schedule": "linear",
    "selection_duration": 1.0, "resurrect": True, "adaptation": "sensitivity", "drop_mode": "discard",
    "run_ablations": False, "n_calibration": 32, "eval_windows": 128, "time_budget_s": 120.0, "device": "cpu",
    "minilm_blocks": [0, 5], "minilm_sparsities": [0.5, 0.7], "minilm_calibration": 128, "minilm_heldout": 256,
}


@dataclass(frozen=True)
class Parameters:
    """The chapter's validated parameters (see the notebook's parameters cell)."""

    profile: str
    pretrain: PretrainConfig
    pruners: tuple[str, ...]
    prune_sparsities: tuple[float, ...]
    repair_sparsities: tuple[float, ...]
    repair_pruner: str
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    multi_seed_methods: tuple[str, ...]
    base: RepairConfig
    run_ablations: bool
    #: the resolved torch device ("cpu" or "cuda") of pre-training and the repair runs
    device: str = "cpu"
    #: E1, the pruners on MiniLM's real weights; None when ``minilm_blocks`` is empty
    e1: E1Config | None = None

    def prune_configs(self) -> list[PruneConfig]:
        """Every pruner at every sparsity; at s = 0.5 (claim S1) each calibration draw (one per seed) and
        the permuted-norm Wanda control too. Magnitude needs no calibration: one run per sparsity."""
        configs = []
        for sparsity in self.prune_sparsities:
            replicated = abs(sparsity - S1_SPARSITY) < 1e-9
            pruners = [*self.pruners, "wanda_permuted"] if replicated else list(self.pruners)
            for pruner in dict.fromkeys(pruners):
                seeds = self.seeds if replicated and pruner != "magnitude" else self.seeds[:1]
                configs += [PruneConfig(self.pretrain, pruner, sparsity, self.base.n_calibration,
                                        self.base.eval_windows, calibration_seed=seed) for seed in seeds]
        return configs

    def repair_configs(self) -> list[RepairConfig]:
        configs = []
        for sparsity in self.repair_sparsities:
            for seed in self.seeds:
                for method in self.methods:
                    if seed != self.seeds[0] and method not in self.multi_seed_methods:
                        continue
                    configs.append(replace(self.base, method=method, sparsity=sparsity, seed=seed))
        return configs

    def ablation_configs(self) -> list[tuple[str, RepairConfig]]:
        if not self.run_ablations:
            return []
        sparsity = self.repair_sparsities[-1]
        return [(name, with_seft(replace(self.base, method="seft", sparsity=sparsity, seed=seed), **changes))
                for name, changes in ABLATIONS.items() for seed in self.seeds]

    def cost_configs(self) -> list[RepairConfig]:
        """Claims S8 and S11: each compared method at the repair sparsity, for the first three seeds."""
        sparsity = self.repair_sparsities[-1]
        return [replace(self.base, method=method, sparsity=sparsity, seed=seed, device="cpu")  # the CPU allocator
                for seed in self.seeds[:3] for method in COST_METHODS]

    def csr_config(self) -> CSRConfig:
        return CSRConfig(d_in=self.pretrain.d * 4, d_out=self.pretrain.d, tokens=self.pretrain.context * 4)


#: the sparsity of claim S1 (the Wanda README's anchor)
S1_SPARSITY = 0.5
#: documented upper bounds of the size parameters (absurd values are refused before any compute)
MAXIMA: dict[str, int | float] = {
    "layers": 12, "d": 1024, "heads": 32, "context": 512, "pretrain_steps": 200_000, "pretrain_batch": 1024,
    "steps": 100_000, "batch": 1024, "rank": 64, "update_every": 10_000, "window": 10_000, "n_calibration": 4096,
    "eval_windows": 65_536, "time_budget_s": 86_400.0, "seeds": 100, "seed": 1_000_000, "minilm_lines": 4096,
}


def _float_list(name: str, values: Any, low: float, high: float) -> tuple[float, ...]:
    if not isinstance(values, (list, tuple)) or not values:
        raise ParameterError(f"parameter {name!r} must be a non-empty list of numbers in [{low}, {high}]")
    return tuple(check_float(name, value, minimum=low, maximum=high) for value in values)


def validate_parameters(**given: Any) -> Parameters:
    """Check every notebook parameter (names, types, ranges) before any compute."""
    check_known(given, DEFAULTS, where="the seft chapter")
    values = {**DEFAULTS, **given}
    device = torch_device(check_device(values["device"]))
    d = check_int("d", values["d"], minimum=16, maximum=MAXIMA["d"])
    heads = check_int("heads", values["heads"], minimum=1, maximum=MAXIMA["heads"])
    if d % heads:
        raise ParameterError(f"parameter 'd' = {d} must be divisible by 'heads' = {heads}")
    pretrain = PretrainConfig(
        layers=check_int("layers", values["layers"], minimum=1, maximum=MAXIMA["layers"]), d=d, heads=heads,
        context=check_int("context", values["context"], minimum=8, maximum=MAXIMA["context"]),
        steps=check_int("pretrain_steps", values["pretrain_steps"], minimum=10, maximum=MAXIMA["pretrain_steps"]),
        batch=check_int("pretrain_batch", values["pretrain_batch"], minimum=1, maximum=MAXIMA["pretrain_batch"]),
        device=device)
    update_every = check_int("update_every", values["update_every"], minimum=1, maximum=MAXIMA["update_every"])
    window = check_int("window", values["window"], minimum=1, maximum=MAXIMA["window"])
    if window > update_every:
        raise ParameterError(f"parameter 'window' = {window} must be ≤ 'update_every' = {update_every}")
    settings = SEFTSettings(
        update_every=update_every, window=window, zeta0=check_float("zeta0", values["zeta0"], minimum=0, maximum=1),
        schedule=check_choice("schedule", values["schedule"], SCHEDULES),
        selection_duration=check_float("selection_duration", values["selection_duration"], minimum=0, maximum=1),
        resurrect=check_bool("resurrect", values["resurrect"]),
        adaptation=check_choice("adaptation", values["adaptation"], ADAPTATIONS),
        drop_mode=check_choice("drop_mode", values["drop_mode"], DROP_MODES))
    steps = check_int("steps", values["steps"], minimum=1, maximum=MAXIMA["steps"])
    base = RepairConfig(
        pretrain=pretrain, method="seft", pruner=check_choice("repair_pruner", values["repair_pruner"], PRUNERS[:3]),
        steps=steps, batch=check_int("batch", values["batch"], minimum=1, maximum=MAXIMA["batch"]),
        lr=check_float("lr", values["lr"], minimum=1e-6, maximum=1.0),
        lr_adapter=check_float("lr_adapter", values["lr_adapter"], minimum=1e-6, maximum=1.0),
        warmup=max(1, steps // 10), rank=check_int("rank", values["rank"], minimum=1, maximum=MAXIMA["rank"]), seft=settings,
        n_calibration=check_int("n_calibration", values["n_calibration"], minimum=1, maximum=MAXIMA["n_calibration"]),
        eval_windows=check_int("eval_windows", values["eval_windows"], minimum=8, maximum=MAXIMA["eval_windows"]),
        eval_every=max(1, steps // 3),
        time_budget_s=check_float("time_budget_s", values["time_budget_s"], minimum=0.0,
                                  maximum=MAXIMA["time_budget_s"]), device=device)
    seeds = tuple(check_int_list("seeds", values["seeds"], minimum=0, maximum=MAXIMA["seed"]))
    if len(seeds) > MAXIMA["seeds"]:
        raise ParameterError(f"parameter 'seeds' may list at most {MAXIMA['seeds']} seeds, got {len(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise ParameterError("parameter 'seeds' must not repeat a seed")
    return Parameters(e1=_e1_config(values, seeds[0]),
        profile=check_choice("profile", values["profile"], PROFILES), pretrain=pretrain,
        pruners=tuple(check_subset("pruners", values["pruners"], PRUNERS)),
        prune_sparsities=_float_list("prune_sparsities", values["prune_sparsities"], 0.05, 0.95),
        repair_sparsities=_float_list("repair_sparsities", values["repair_sparsities"], 0.05, 0.95),
        repair_pruner=base.pruner, methods=tuple(check_subset("methods", values["methods"], METHODS)),
        seeds=seeds, multi_seed_methods=tuple(check_subset("multi_seed_methods", values["multi_seed_methods"],
                                                           METHODS, min_size=0)),
        base=base, run_ablations=check_bool("run_ablations", values["run_ablations"]), device=device)


def _e1_config(values: dict[str, Any], seed: int) -> E1Config | None:
    blocks = check_int_list("minilm_blocks", values["minilm_blocks"], minimum=0, maximum=MINILM_BLOCKS - 1,
                            min_size=0)
    sparsities = _float_list("minilm_sparsities", values["minilm_sparsities"], 0.05, 0.95)
    lines = {name: check_int(name, values[name], minimum=1, maximum=MAXIMA["minilm_lines"])
             for name in ("minilm_calibration", "minilm_heldout")}
    if not blocks:
        return None
    return E1Config(layers=minilm_block_linears(blocks), sparsities=sparsities, n_calibration=lines["minilm_calibration"],
                    n_heldout=lines["minilm_heldout"], seed=seed)


def summarise_repair(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over seeds per (sparsity, method), with the budget columns."""
    grouped = rows.groupby(["sparsity", "method"], sort=False)
    table = grouped.agg(milton=("milton", "mean"), milton_sd=("milton", "std"), shakespeare=("shakespeare", "mean"),
                        density=("density", "mean"), trainable=("trainable", "first"),
                        optimizer_floats=("optimizer_floats", "first"), s_per_step=("s_per_step", "mean"),
                        seeds=("seed", "nunique"), nnz_exact=("nnz_exact", "all"),
                        stopped_early=("stopped_early", "any"))
    return table.reset_index()

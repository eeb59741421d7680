"""The chapter's parameters (validated in one call), its experiment grids, and the numbers its ledger judges.

>>> params = validate_parameters(profile="smoke", backbones=["supervised"], epochs={"supervised": 1},
...                              n_train=90, n_test=18, severities=[1, 5])
>>> [(config.backbone, config.epochs, config.suite.severities) for config in params.backbone_configs()]
[('supervised', 1, (1, 5))]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

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
from reprobook.reobench.corrupt import APPEARANCE, CORRUPTIONS, GEOMETRIC, corrupt
from reprobook.reobench.experiments import BackboneConfig, ControlConfig, SuiteConfig
from reprobook.reobench.metrics import monotone_share, per_corruption_drop, robustness_summary
from reprobook.reobench.models import BACKBONES

__all__ = ["Parameters", "validate_parameters", "DEFAULTS", "VHM_VQA", "vhm_table", "average_over_seeds",
           "headline_metrics", "gallery_mosaic", "acceptance_checks", "REFERENCE_MODEL", "CONTROLS"]

REFERENCE_MODEL = "supervised"
CONTROLS = ("colour histogram", "pixel MLP", "chance")
DEFAULTS: dict[str, Any] = {
    "profile": "book", "n_train": 3000, "n_test": 300, "image_size": 64, "seeds": [0],
    "backbones": list(BACKBONES), "epochs": {"supervised": 6, "mae": 12, "simclr": 6, "clip": 6},
    "corruptions": list(CORRUPTIONS), "severities": [1, 2, 3, 4, 5], "probe_l2": 1e-3, "pixel_mlp_epochs": 60,
    "threads": 1, "oracle_check": True,
}

#: VHM on VRSBench VQA (GPT-judged accuracy, %), REOBench repository notebook ``VRSBench/cal_stat.ipynb``.
VHM_VQA = {
    "clean": (60.21,),
    "brightness_contrast": (60.29, 60.14, 59.94, 59.05, 56.91),
    "clouds": (61.39, 59.82, 59.47, 59.18, 58.82),
    "compression_artifacts": (59.17, 59.00, 58.49, 57.49, 55.52),
    "data_gaps": (60.03, 59.78, 59.67, 59.42, 59.31),
    "gaussian_blur": (60.01, 59.87, 59.31, 58.69, 58.15),
    "gaussian_noise": (59.16, 58.69, 58.20, 57.84, 57.42),
    "haze": (60.06, 59.81, 59.83, 59.44, 58.99),
    "motion_blur": (60.14, 59.80, 59.21, 58.71, 57.99),
    "salt_and_pepper_noise": (59.06, 58.29, 57.38, 56.51, 55.12),
}


@dataclass(frozen=True)
class Parameters:
    """The chapter's validated parameters (see the notebook's parameters cell)."""

    profile: str
    n_train: int
    n_test: int
    image_size: int
    seeds: tuple[int, ...]
    backbones: tuple[str, ...]
    epochs: tuple[tuple[str, int], ...]
    corruptions: tuple[str, ...]
    severities: tuple[int, ...]
    probe_l2: float
    pixel_mlp_epochs: int
    threads: int
    oracle_check: bool

    def suite(self, seed: int) -> SuiteConfig:
        return SuiteConfig(n_train=self.n_train, n_test=self.n_test, size=self.image_size, seed=seed,
                           corruptions=self.corruptions, severities=self.severities)

    def backbone_configs(self) -> list[BackboneConfig]:
        epochs = dict(self.epochs)
        return [BackboneConfig(backbone=backbone, suite=self.suite(seed), epochs=epochs[backbone], seed=seed,
                               threads=self.threads, l2=self.probe_l2)
                for seed in self.seeds for backbone in self.backbones]

    def control_configs(self) -> list[ControlConfig]:
        return [ControlConfig(suite=self.suite(seed), seed=seed, threads=self.threads,
                              pixel_epochs=self.pixel_mlp_epochs, l2=self.probe_l2) for seed in self.seeds]


def validate_parameters(**given: Any) -> Parameters:
    """Check every notebook parameter (names, types, ranges) before any compute."""
    check_known(given, DEFAULTS, where="the reobench chapter")
    values = {**DEFAULTS, **given}
    backbones = tuple(check_subset("backbones", values["backbones"], BACKBONES))
    epochs = values["epochs"]
    if not isinstance(epochs, Mapping):
        raise ParameterError(f"parameter 'epochs' must be a mapping backbone -> epochs, got {epochs!r}")
    unknown = sorted(set(epochs) - set(BACKBONES))
    if unknown:
        raise ParameterError(f"parameter 'epochs' has unknown backbones {unknown}; allowed: {', '.join(BACKBONES)}")
    missing = [backbone for backbone in backbones if backbone not in epochs]
    if missing:
        raise ParameterError(f"parameter 'epochs' needs an entry for every backbone run; missing {missing}")
    checked_epochs = tuple((backbone, check_int(f"epochs[{backbone!r}]", epochs[backbone], minimum=1, maximum=1000))
                           for backbone in backbones)
    image_size = check_int("image_size", values["image_size"], minimum=32, maximum=512)
    if image_size % 16:
        raise ParameterError(f"parameter 'image_size' must be a multiple of 16 (ViT patches, JPEG blocks), got {image_size}")
    severities = check_int_list("severities", values["severities"], minimum=1, maximum=5)
    if severities != sorted(severities):
        raise ParameterError(f"parameter 'severities' must be increasing, got {severities}")
    corruptions = tuple(check_subset("corruptions", values["corruptions"], CORRUPTIONS))
    corruptions = tuple(name for name in CORRUPTIONS if name in corruptions)  # the paper's order
    return Parameters(
        profile=check_choice("profile", values["profile"], PROFILES),
        n_train=check_int("n_train", values["n_train"], minimum=18, maximum=1_000_000),
        n_test=check_int("n_test", values["n_test"], minimum=9, maximum=1_000_000),
        image_size=image_size,
        seeds=tuple(check_int_list("seeds", values["seeds"], minimum=0, maximum=10_000)),
        backbones=backbones, epochs=checked_epochs, corruptions=corruptions, severities=tuple(severities),
        probe_l2=check_float("probe_l2", values["probe_l2"], minimum=0.0, maximum=10.0),
        pixel_mlp_epochs=check_int("pixel_mlp_epochs", values["pixel_mlp_epochs"], minimum=1, maximum=1000),
        threads=check_int("threads", values["threads"], minimum=1, maximum=256),
        oracle_check=check_bool("oracle_check", values["oracle_check"]),
    )


def vhm_table() -> pd.DataFrame:
    """The published VHM VQA numbers as rows (corruption, severity, accuracy in %)."""
    rows = [{"corruption": "clean", "severity": 0, "accuracy": VHM_VQA["clean"][0]}]
    rows += [{"corruption": name, "severity": level + 1, "accuracy": value}
             for name, values in VHM_VQA.items() if name != "clean" for level, value in enumerate(values)]
    return pd.DataFrame(rows)


def average_over_seeds(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Mean accuracy per (model, corruption, severity) over the seeds' tables, in first-seen order."""
    table = pd.concat(frames, ignore_index=True)
    return table.groupby(["model", "corruption", "severity"], sort=False, as_index=False).accuracy.mean()


def headline_metrics(accuracy: pd.DataFrame, backbones: tuple[str, ...]) -> dict[str, float]:
    """The ledger's numbers, from the backbones' rows of the accuracy table (controls excluded)."""
    models = accuracy[accuracy.model.isin(backbones)]
    reference = REFERENCE_MODEL if REFERENCE_MODEL in backbones else backbones[0]
    summary = robustness_summary(models, reference=reference, appearance=APPEARANCE)
    drops = per_corruption_drop(models)
    appearance = tuple(name for name in APPEARANCE if name in drops.columns)
    severities = models[models.corruption != "clean"].severity.nunique()
    metrics = {
        "min_drop": float(drops.min().min()),
        "max_drop": float(drops.max().max()),
        "monotone_share": monotone_share(models, appearance) if severities >= 3 else np.nan,
        "clip_minus_supervised_mrr": (float(summary.loc["clip", "mRR"] - summary.loc["supervised", "mRR"])
                                      if {"clip", "supervised"} <= set(summary.index) else np.nan),
        "best_appearance_drop": float(summary.relative_drop_appearance.min()) if appearance else np.nan,
    }
    return metrics


def acceptance_checks(accuracy: pd.DataFrame) -> pd.DataFrame:
    """The generator's acceptance checks (ours, fixed before results): no colour shortcut, a learnable task."""
    clean = accuracy[accuracy.corruption == "clean"].set_index("model").accuracy
    rows = [{"check": "colour-histogram control, clean", "value": clean.get("colour histogram", np.nan),
             "rule": "< 0.50", "passed": bool(clean.get("colour histogram", np.nan) < 0.5)}]
    if "supervised" in clean:
        rows.append({"check": "supervised CNN (linear probe), clean", "value": clean["supervised"],
                     "rule": "in [0.85, 0.95]", "passed": bool(0.85 <= clean["supervised"] <= 0.95)})
    rows.append({"check": "every backbone above chance, clean",
                 "value": float(clean.drop(list(CONTROLS), errors="ignore").min()),
                 "rule": f"> {clean.get('chance', np.nan):.3f}",
                 "passed": bool(clean.drop(list(CONTROLS), errors="ignore").min() > clean.get("chance", 1.0))})
    return pd.DataFrame(rows)


def gallery_mosaic(image: torch.Tensor, corruptions: tuple[str, ...] = CORRUPTIONS,
                   severities: tuple[int, ...] = (1, 2, 3, 4, 5), seed: int = 0, gap: int = 2) -> np.ndarray:
    """One scene under every corruption: rows = corruptions, columns = clean then severities; uint8 (H, W, 3).

    >>> mosaic = gallery_mosaic(torch.rand(3, 16, 16), corruptions=("haze", "rotate"), severities=(1, 5))
    >>> mosaic.shape
    (34, 52, 3)
    """
    size_h, size_w = image.shape[1:]
    rows = []
    for name in corruptions:
        tiles = [image] + [corrupt(image[None], name, severity, generator=seed)[0] for severity in severities]
        rows.append(tiles)
    canvas = np.full((len(rows) * (size_h + gap) - gap, (len(severities) + 1) * (size_w + gap) - gap, 3), 255,
                     dtype=np.uint8)
    for row, tiles in enumerate(rows):
        for column, tile in enumerate(tiles):
            top, left = row * (size_h + gap), column * (size_w + gap)
            canvas[top:top + size_h, left:left + size_w] = np.round(tile.permute(1, 2, 0).numpy() * 255)
    return canvas


__all__ += ["APPEARANCE", "GEOMETRIC"]

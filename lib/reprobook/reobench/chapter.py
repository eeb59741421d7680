"""The chapter's parameters (validated in one call), its experiment grids, and the numbers its ledger judges.

>>> params = validate_parameters(profile="smoke", backbones=["supervised"], epochs={"supervised": 1},
...                              n_train=90, n_test=18, severities=[1, 5], seeds=[0])
>>> [(config.backbones, config.suite.severities, config.suite.table) for config in params.replicate_configs()]
[((('supervised', 1),), (1, 5), 'reobench')]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from reprobook.devices import check_device
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
from reprobook.reobench.corrupt import APPEARANCE, CORRUPTIONS, GEOMETRIC, SEVERITY_TABLES, corrupt
from reprobook.reobench.experiments import ReplicateConfig, SuiteConfig, width_model
from reprobook.reobench.ledger import CONTROL_MODELS, REFERENCE_MODEL
from reprobook.reobench.models import BACKBONES

__all__ = ["Parameters", "validate_parameters", "DEFAULTS", "MAXIMA", "VHM_VQA", "vhm_table", "average_over_seeds",
           "gallery_mosaic", "REFERENCE_MODEL", "CONTROLS", "budget_note", "PLANNED_SEEDS"]

CONTROLS = CONTROL_MODELS
DEFAULTS: dict[str, Any] = {
    "profile": "book", "n_train": 2500, "n_val": 180, "n_test": 270, "image_size": 64, "seeds": [0, 1, 2, 3, 4],
    "backbones": ["supervised", "clip"], "epochs": {"supervised": 10, "mae": 12, "simclr": 6, "clip": 10},
    "corruptions": list(CORRUPTIONS), "severities": [1, 3, 5], "severity_table": "reobench",
    "probe_l2": [1e-3, 3e-4, 1e-4], "pixel_mlp_epochs": 30, "width": 0.5, "size_widths": [], "size_replicates": 3,
    "segmentation_images": 150, "segmentation_backbones": ["supervised"], "threads": 1, "jobs": 2, "device": "cpu",
    "oracle_check": True,
}
#: The largest value each size parameter accepts (an absurd value is refused before any compute).
MAXIMA: dict[str, int] = {
    "n_train": 200_000, "n_val": 50_000, "n_test": 50_000, "image_size": 512, "seeds": 64, "epochs": 1000,
    "pixel_mlp_epochs": 1000, "threads": 256, "jobs": 64, "probe_l2": 8, "width": 8, "size_widths": 4,
    "size_replicates": 64,
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
    n_val: int
    n_test: int
    image_size: int
    seeds: tuple[int, ...]
    backbones: tuple[str, ...]
    epochs: tuple[tuple[str, int], ...]
    corruptions: tuple[str, ...]
    severities: tuple[int, ...]
    severity_table: str
    probe_l2: tuple[float, ...]
    pixel_mlp_epochs: int
    width: float
    size_widths: tuple[float, ...]
    size_replicates: int
    segmentation_images: int
    segmentation_backbones: tuple[str, ...]
    threads: int
    jobs: int
    device: str
    oracle_check: bool

    def suite(self, seed: int) -> SuiteConfig:
        return SuiteConfig(n_train=self.n_train, n_test=self.n_test, size=self.image_size, seed=seed,
                           corruptions=self.corruptions, severities=self.severities, table=self.severity_table,
                           n_val=self.n_val)

    def widths(self) -> dict[str, float]:
        """The supervised CNN's result labels by width (the backbone-size comparison), when it runs.

        >>> validate_parameters(size_widths=[0.25]).widths()
        {'supervised': 0.5, 'supervised ×0.25': 0.25}
        """
        if "supervised" not in self.backbones:
            return {}
        return {"supervised": self.width} | {width_model(width): width for width in self.size_widths}

    def models(self) -> list[str]:
        """Every probed backbone's label: the backbones, then the supervised CNN's further widths."""
        return [*self.backbones, *(model for model in self.widths() if model not in self.backbones)]

    def size_seeds(self) -> tuple[int, ...]:
        """The seeds on which the supervised CNN also runs at ``size_widths``: the first ``size_replicates``.

        >>> validate_parameters(seeds=[4, 5, 6], size_widths=[0.25], size_replicates=2).size_seeds()
        (4, 5)
        """
        return self.seeds[: self.size_replicates] if self.size_widths else ()

    def replicate_configs(self) -> list[ReplicateConfig]:
        """One config per seed: every backbone and the controls on that seed's suite."""
        return [ReplicateConfig(suite=self.suite(seed), backbones=self.epochs, threads=self.threads,
                                l2=self.probe_l2, pixel_epochs=self.pixel_mlp_epochs, width=self.width,
                                device=self.device,
                                size_widths=self.size_widths if seed in self.size_seeds() else (),
                                segmentation_images=self.segmentation_images,
                                segmentation_backbones=self.segmentation_backbones)
                for seed in self.seeds]


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
    checked_epochs = tuple((backbone, check_int(f"epochs[{backbone!r}]", epochs[backbone], minimum=1,
                                                maximum=MAXIMA["epochs"]))
                           for backbone in backbones)
    image_size = check_int("image_size", values["image_size"], minimum=32, maximum=MAXIMA["image_size"])
    if image_size % 16:
        raise ParameterError(f"parameter 'image_size' must be a multiple of 16 (ViT patches, JPEG blocks), got {image_size}")
    severities = check_int_list("severities", values["severities"], minimum=1, maximum=5)
    if severities != sorted(severities):
        raise ParameterError(f"parameter 'severities' must be increasing, got {severities}")
    corruptions = tuple(check_subset("corruptions", values["corruptions"], CORRUPTIONS))
    corruptions = tuple(name for name in CORRUPTIONS if name in corruptions)  # the paper's order
    seeds = tuple(check_int_list("seeds", values["seeds"], minimum=0, maximum=10_000))
    if not seeds or len(seeds) > MAXIMA["seeds"] or len(set(seeds)) != len(seeds):
        raise ParameterError(f"parameter 'seeds' must list 1 to {MAXIMA['seeds']} distinct seeds in 0..10000, "
                             f"got {values['seeds']!r}")
    l2 = values["probe_l2"]
    candidates = [l2] if isinstance(l2, (int, float)) and not isinstance(l2, bool) else l2
    if not isinstance(candidates, (list, tuple)) or not 1 <= len(candidates) <= MAXIMA["probe_l2"]:
        raise ParameterError(f"parameter 'probe_l2' must be a number or a list of 1 to {MAXIMA['probe_l2']} "
                             f"numbers in [0, 10], got {l2!r}")
    candidates = tuple(check_float("probe_l2", value, minimum=0.0, maximum=10.0) for value in candidates)
    n_val = check_int("n_val", values["n_val"], minimum=0, maximum=MAXIMA["n_val"])
    width = check_float("width", values["width"], minimum=0.25, maximum=MAXIMA["width"])
    size_widths = _check_size_widths(values["size_widths"], width, backbones)
    if len(candidates) > 1 and n_val < 9:
        raise ParameterError(f"parameter 'n_val' must be >= 9 to choose among {len(candidates)} 'probe_l2' values, "
                             f"got {n_val}")
    return Parameters(
        profile=check_choice("profile", values["profile"], PROFILES),
        n_train=check_int("n_train", values["n_train"], minimum=18, maximum=MAXIMA["n_train"]),
        n_val=n_val,
        n_test=check_int("n_test", values["n_test"], minimum=9, maximum=MAXIMA["n_test"]),
        image_size=image_size, seeds=seeds,
        backbones=backbones, epochs=checked_epochs, corruptions=corruptions, severities=tuple(severities),
        severity_table=check_choice("severity_table", values["severity_table"], SEVERITY_TABLES),
        probe_l2=candidates,
        pixel_mlp_epochs=check_int("pixel_mlp_epochs", values["pixel_mlp_epochs"], minimum=1,
                                   maximum=MAXIMA["pixel_mlp_epochs"]),
        width=width, size_widths=size_widths,
        size_replicates=check_int("size_replicates", values["size_replicates"], minimum=1,
                                  maximum=MAXIMA["size_replicates"]),
        segmentation_images=check_int("segmentation_images", values["segmentation_images"], minimum=0,
                                      maximum=MAXIMA["n_train"]),
        segmentation_backbones=_check_segmentation_backbones(values["segmentation_backbones"], backbones),
        threads=check_int("threads", values["threads"], minimum=1, maximum=MAXIMA["threads"]),
        jobs=check_int("jobs", values["jobs"], minimum=1, maximum=MAXIMA["jobs"]),
        device=check_device(values["device"]),
        oracle_check=check_bool("oracle_check", values["oracle_check"]),
    )


def _check_size_widths(value: Any, width: float, backbones: tuple[str, ...]) -> tuple[float, ...]:
    """Further widths of the supervised CNN for the backbone-size claim: distinct numbers in [0.25, 8], not ``width``."""
    if not isinstance(value, (list, tuple)) or len(value) > MAXIMA["size_widths"]:
        raise ParameterError(f"parameter 'size_widths' must be a list of at most {MAXIMA['size_widths']} widths in "
                             f"[0.25, {MAXIMA['width']}], got {value!r}")
    widths = tuple(check_float("size_widths", item, minimum=0.25, maximum=MAXIMA["width"]) for item in value)
    if len(set(widths)) != len(widths) or width in widths:
        raise ParameterError(f"parameter 'size_widths' must list distinct widths other than 'width' ({width:g}), "
                             f"got {list(value)!r}")
    if widths and "supervised" not in backbones:
        raise ParameterError("parameter 'size_widths' needs 'supervised' among 'backbones' (it varies that CNN's width)")
    return widths


def _check_segmentation_backbones(value: Any, backbones: tuple[str, ...]) -> tuple[str, ...]:
    """Backbones that get the segmentation probe (those of them that run); must name the supervised CNN when it runs
    (the task claim compares that CNN's segmentation and classification drops)."""
    chosen = check_subset("segmentation_backbones", value, BACKBONES, min_size=0)
    if "supervised" in backbones and "supervised" not in chosen:
        raise ParameterError(f"parameter 'segmentation_backbones' must include 'supervised' (the task claim compares "
                             f"its segmentation and classification drops), got {value!r}")
    return tuple(name for name in backbones if name in chosen)


#: what the issue asks of the comparison claims; fewer seeds than this are a budget cut the ledger states
PLANNED_SEEDS = 5


def budget_note(params: Parameters) -> str:
    """The run's budget cuts (seeds, severities, corruptions) as a ledger note; empty when there are none.

    >>> budget_note(validate_parameters(seeds=[0, 1, 2], severities=[1, 3, 5]))
    'budget cut at this profile: 3 seeds (5 planned); severities 1, 3, 5 of 1-5'
    """
    cuts = []
    if len(params.seeds) < PLANNED_SEEDS:
        cuts.append(f"{len(params.seeds)} seeds ({PLANNED_SEEDS} planned)")
    if len(params.severities) < 5:
        cuts.append(f"severities {', '.join(map(str, params.severities))} of 1-5")
    if len(params.corruptions) < len(CORRUPTIONS):
        cuts.append(f"{len(params.corruptions)} of {len(CORRUPTIONS)} corruptions")
    if params.size_widths and len(params.size_seeds()) < len(params.seeds):
        cuts.append(f"the supervised CNN's further widths on {len(params.size_seeds())} of {len(params.seeds)} seeds")
    return f"budget cut at this profile: {'; '.join(cuts)}" if cuts else ""


def vhm_table() -> pd.DataFrame:
    """The published VHM VQA numbers as rows (corruption, severity, accuracy in %)."""
    rows = [{"corruption": "clean", "severity": 0, "accuracy": VHM_VQA["clean"][0]}]
    rows += [{"corruption": name, "severity": level + 1, "accuracy": value}
             for name, values in VHM_VQA.items() if name != "clean" for level, value in enumerate(values)]
    return pd.DataFrame(rows)


def average_over_seeds(table: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy per (model, corruption, severity) over the seeds, in first-seen order."""
    return table.groupby(["model", "corruption", "severity"], sort=False, as_index=False).accuracy.mean()


def gallery_mosaic(image: torch.Tensor, corruptions: tuple[str, ...] = CORRUPTIONS,
                   severities: tuple[int, ...] = (1, 2, 3, 4, 5), seed: int = 0, gap: int = 2,
                   table: str = "reobench") -> np.ndarray:
    """One scene under every corruption: rows = corruptions, columns = clean then severities; uint8 (H, W, 3).

    >>> mosaic = gallery_mosaic(torch.rand(3, 16, 16), corruptions=("haze", "rotate"), severities=(1, 5))
    >>> mosaic.shape
    (34, 52, 3)
    """
    size_h, size_w = image.shape[1:]
    rows = []
    for name in corruptions:
        tiles = [image] + [corrupt(image[None], name, severity, generator=seed, table=table)[0] for severity in severities]
        rows.append(tiles)
    canvas = np.full((len(rows) * (size_h + gap) - gap, (len(severities) + 1) * (size_w + gap) - gap, 3), 255,
                     dtype=np.uint8)
    for row, tiles in enumerate(rows):
        for column, tile in enumerate(tiles):
            top, left = row * (size_h + gap), column * (size_w + gap)
            canvas[top:top + size_h, left:left + size_w] = np.round(tile.permute(1, 2, 0).numpy() * 255)
    return canvas


__all__ += ["APPEARANCE", "GEOMETRIC"]

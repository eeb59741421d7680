"""The chapter's experiments: one frozen clean/corrupted test suite, backbones probed on it, and the controls.

``suite_data(suite)`` builds the training pool and the test set from disjoint seeds, corrupts the test set
once with every (corruption, severity) and keeps it as 8-bit images (as released corrupted data sets are),
so every backbone is scored on the same pixels. ``run_backbone`` and ``run_controls`` are the functions
the notebook maps with :func:`reprobook.sweep.sweep`.

>>> suite = SuiteConfig(n_train=18, n_test=9, size=32, corruptions=("haze",), severities=(1,))
>>> result = run_controls(ControlConfig(suite=suite, pixel_epochs=1))
>>> sorted(result["accuracy"].model.unique())
['chance', 'colour histogram', 'pixel MLP']
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from reprobook.devices import torch_device
from reprobook.reobench.corrupt import CORRUPTIONS, GEOMETRIC, corrupt
from reprobook.reobench.models import extract_features, train_backbone
from reprobook.reobench.probe import colour_histogram, fit_linear_probe, fit_pixel_mlp, pixel_features
from reprobook.reobench.segmentation import fit_segmentation_probe, iou_counts, mean_iou
from reprobook.reobench.synth import CLASSES, LAND_COVER, Scenes, generate_scenes

__all__ = ["SuiteConfig", "SuiteData", "BackboneConfig", "ControlConfig", "ReplicateConfig", "suite_data",
           "run_backbone", "run_controls", "run_replicate", "fit_probe", "validation_seed", "split_seeds", "corruption_seed", "to_uint8",
           "width_model", "SEGMENTATION_L2"]

#: the segmentation probe's L2 penalty (fixed before any result; no validation search at this size)
SEGMENTATION_L2 = 1e-3


@dataclass(frozen=True)
class SuiteConfig:
    """Sizes and seed of the clean training pool and of the (frozen) test set, and the corruption grid."""

    n_train: int
    n_test: int
    size: int = 64
    seed: int = 0
    corruptions: tuple[str, ...] = CORRUPTIONS
    severities: tuple[int, ...] = (1, 2, 3, 4, 5)
    table: str = "reobench"  # the severity settings: REOBench's published ones, or "imagenet_c"
    n_val: int = 0  # clean validation scenes (a third disjoint seed range) to choose the probes' L2 penalty


@dataclass(frozen=True)
class BackboneConfig:
    backbone: str
    suite: SuiteConfig
    epochs: int
    seed: int = 0
    threads: int = 1
    l2: float | tuple[float, ...] = 1e-3  # one penalty, or candidates chosen on clean validation accuracy
    width: float = 1.0  # CNN width multiplier (1 → 24, 48, 96, 192 channels)
    device: str = "cpu"  # where the backbone trains and extracts features ("cpu", "cuda" or "auto")
    segmentation_images: int = 0  # training scenes for the segmentation probe (0: no segmentation probe)
    model: str = ""  # the label in the result frames (default: the backbone's name)


@dataclass(frozen=True)
class ControlConfig:
    suite: SuiteConfig
    seed: int = 0
    threads: int = 1
    pixel_epochs: int = 60
    l2: float | tuple[float, ...] = 1e-3


@dataclass(frozen=True)
class SuiteData:
    train: Scenes
    test: Scenes
    validation: Scenes | None
    corrupted: dict  # (corruption, severity) -> uint8 (n, 3, H, W)
    corrupted_masks: dict  # (geometric corruption, severity) -> land-cover masks moved with the images (n, H, W)
    clean_test: torch.Tensor  # uint8
    timings: pd.DataFrame
    test_hash: str


def split_seeds(seed: int) -> tuple[int, int]:
    """Training and test generator seeds: disjoint ranges (even = training, odd = test).

    >>> split_seeds(0), split_seeds(1)
    ((0, 1), (2, 3))
    """
    return 2 * seed, 2 * seed + 1


def validation_seed(seed: int) -> int:
    """The clean validation set's generator seed, in a range disjoint from :func:`split_seeds`'.

    >>> validation_seed(3)
    1000000003
    """
    return 1_000_000_000 + seed


def fit_probe(train_features: torch.Tensor, train_labels: torch.Tensor, l2: float | tuple[float, ...],
              validation: tuple[torch.Tensor, torch.Tensor] | None = None):
    """A linear probe; with several ``l2`` candidates, the one with the best clean validation accuracy.

    Returns ``(probe, l2, validation accuracy or nan)``; ties go to the stronger penalty (listed first).
    """
    candidates = (l2,) if isinstance(l2, (int, float)) else tuple(l2)
    if len(candidates) == 1 or validation is None:
        return fit_linear_probe(train_features, train_labels, l2=candidates[0], n_classes=len(CLASSES)), \
            candidates[0], float("nan")
    best = None
    for penalty in candidates:
        probe = fit_linear_probe(train_features, train_labels, l2=penalty, n_classes=len(CLASSES))
        score = probe.accuracy(*validation)
        if best is None or score > best[2]:
            best = (probe, penalty, score)
    return best


def corruption_seed(seed: int, corruption: str, severity: int) -> int:
    """The generator seed of one (corruption, severity) cell of the suite."""
    return 10_000 * seed + 100 * CORRUPTIONS.index(corruption) + severity


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    return torch.round(images.clamp(0, 1) * 255).to(torch.uint8)


@functools.lru_cache(maxsize=2)
def suite_data(suite: SuiteConfig) -> SuiteData:
    """Generate, corrupt and freeze the suite (cached in the process: every backbone reuses it)."""
    train_seed, test_seed = split_seeds(suite.seed)
    train = generate_scenes(suite.n_train, seed=train_seed, size=suite.size)
    test = generate_scenes(suite.n_test, seed=test_seed, size=suite.size)
    validation = (generate_scenes(suite.n_val, seed=validation_seed(suite.seed), size=suite.size)
                  if suite.n_val else None)
    clean = to_uint8(test.images)
    images = clean.float() / 255  # corrupt the 8-bit test images, as one would corrupt saved files
    corrupted, corrupted_masks, rows = {}, {}, []
    for name in suite.corruptions:
        for severity in suite.severities:
            wall, cpu = time.perf_counter(), time.process_time()
            out = corrupt(images, name, severity, generator=corruption_seed(suite.seed, name, severity),
                          table=suite.table, masks=test.masks if name in GEOMETRIC else None)
            if name in GEOMETRIC:
                out, corrupted_masks[name, severity] = out
            rows.append({"corruption": name, "severity": severity, "seconds": time.perf_counter() - wall,
                         "cpu_seconds": time.process_time() - cpu, "images": len(images)})
            corrupted[name, severity] = to_uint8(out)
    digest = hashlib.sha256(clean.numpy().tobytes()).hexdigest()
    return SuiteData(train=train, test=test, validation=validation, corrupted=corrupted,
                     corrupted_masks=corrupted_masks, clean_test=clean, timings=pd.DataFrame(rows), test_hash=digest)


def _cells(data: SuiteData):
    """Every scored cell of the suite: (corruption, severity, uint8 images, masks), clean first."""
    yield "clean", 0, data.clean_test, data.test.masks
    for (name, severity), images in data.corrupted.items():
        yield name, severity, images, data.corrupted_masks.get((name, severity), data.test.masks)


def _score(model: str, evaluate, data: SuiteData) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """Accuracy per cell, the clean per-image correctness, and per cell the segmentation counts when
    ``evaluate(images, masks)`` returns them beside the class predictions."""
    labels = data.test.labels
    rows, counts, clean_correct = [], {}, None
    for name, severity, images, masks in _cells(data):
        predicted, cell_counts = evaluate(images, masks)
        correct = predicted == labels
        clean_correct = correct if clean_correct is None else clean_correct
        rows.append({"model": model, "corruption": name, "severity": severity,
                     "accuracy": float(correct.double().mean())})
        if cell_counts is not None:
            counts[name, severity] = cell_counts
    return pd.DataFrame(rows), clean_correct.numpy().astype(bool), counts


def _segmentation_frames(model: str, counts: dict, seed: int, majority_miou: float) -> dict:
    """mIoU per cell (beside the clean mIoU of painting every patch with the commonest land cover), and the clean
    per-image counts (columns intersection_k, union_k) for the no-effect null."""
    miou = pd.DataFrame([{"model": model, "corruption": name, "severity": severity, "miou": mean_iou(cell),
                          "majority_miou": majority_miou}
                         for (name, severity), cell in counts.items()])
    clean = counts["clean", 0]
    per_image = pd.DataFrame({"seed": seed, "model": model, "image": np.arange(len(clean))})
    for k in range(clean.shape[2]):
        per_image[f"intersection_{k}"] = clean[:, 0, k]
        per_image[f"union_{k}"] = clean[:, 1, k]
    return {"segmentation": miou, "segmentation_counts": per_image}


def _clean_correct(model: str, correct: np.ndarray, seed: int) -> pd.DataFrame:
    return pd.DataFrame({"seed": seed, "model": model, "image": np.arange(len(correct)), "correct": correct})


def run_backbone(config: BackboneConfig) -> dict:
    """Pre-train one backbone on the clean pool, fit a linear probe, score it on the whole suite.

    Returns ``accuracy`` (model, corruption, severity, accuracy), ``info`` (one row: parameters, times)
    and ``losses`` (per epoch).
    """
    torch.set_num_threads(config.threads)
    device = torch_device(config.device)
    data = suite_data(config.suite)
    model = config.model or config.backbone
    trained = train_backbone(config.backbone, data.train.images, data.train.labels, data.train.captions,
                             epochs=config.epochs, seed=config.seed, width=config.width, device=device)
    features = functools.partial(extract_features, trained.backbone, device=device)
    wall = time.perf_counter()
    validation = None if data.validation is None else (features(data.validation.images), data.validation.labels)
    probe, l2, validation_accuracy = fit_probe(features(data.train.images), data.train.labels, config.l2, validation)
    segmenter, majority_miou = None, float("nan")
    if config.segmentation_images:
        pool = slice(0, min(config.segmentation_images, len(data.train)))
        _, maps = features(data.train.images[pool], patches=True)
        segmenter = fit_segmentation_probe(maps, data.train.masks[pool], n_classes=len(LAND_COVER),
                                           l2=SEGMENTATION_L2)
        commonest = int(data.train.masks[pool].flatten().bincount(minlength=len(LAND_COVER)).argmax())
        majority_miou = mean_iou(iou_counts(torch.full((len(data.test), *maps.shape[2:]), commonest),
                                            data.test.masks, len(LAND_COVER)))
    probe_seconds = time.perf_counter() - wall

    def evaluate(images: torch.Tensor, masks: torch.Tensor):
        if segmenter is None:
            return probe.predict(features(images)), None
        pooled, maps = features(images, patches=True)
        return probe.predict(pooled), iou_counts(segmenter.predict(maps), masks, len(LAND_COVER))

    wall = time.perf_counter()
    accuracy, correct, counts = _score(model, evaluate, data)
    inference_seconds = time.perf_counter() - wall
    n_scored = len(data.clean_test) * (1 + len(data.corrupted))
    info = pd.DataFrame([{"model": model, "width": config.width, "parameters": trained.parameters, "epochs": config.epochs,
                          "train_seconds": trained.seconds, "train_cpu_seconds": trained.cpu_seconds,
                          "train_images_per_second": config.epochs * len(data.train) / trained.seconds,
                          "probe_l2": l2, "validation_accuracy": validation_accuracy,
                          "probe_seconds": probe_seconds, "inference_seconds": inference_seconds,
                          "inference_images_per_second": n_scored / inference_seconds,
                          "final_loss": trained.losses[-1] if trained.losses else np.nan}])
    losses = pd.DataFrame({"model": model, "epoch": np.arange(1, len(trained.losses) + 1),
                           "loss": trained.losses})
    result = {"accuracy": accuracy, "info": info, "losses": losses,
              "clean_correct": _clean_correct(model, correct, config.suite.seed)}
    return result | (_segmentation_frames(model, counts, config.suite.seed, majority_miou) if counts else {})


def run_controls(config: ControlConfig) -> dict:
    """The controls on the same suite: colour histogram + linear probe, pixel MLP, and chance (1 / classes)."""
    torch.set_num_threads(config.threads)
    data = suite_data(config.suite)
    validation = (None if data.validation is None else
                  (colour_histogram(data.validation.images), data.validation.labels))
    histogram_probe, _, _ = fit_probe(colour_histogram(data.train.images), data.train.labels, config.l2, validation)
    mlp = fit_pixel_mlp(pixel_features(data.train.images), data.train.labels, epochs=config.pixel_epochs,
                        seed=config.seed)
    scored = [
        _score("colour histogram", lambda images, _: (histogram_probe.predict(colour_histogram(images)), None), data),
        _score("pixel MLP", lambda images, _: (mlp(pixel_features(images)).argmax(dim=1), None), data),
    ]
    frames = [frame for frame, _, _ in scored]
    chance = frames[0].assign(model="chance", accuracy=1 / len(CLASSES))
    clean_correct = pd.concat([_clean_correct(frame.model.iloc[0], correct, config.suite.seed)
                               for frame, correct, _ in scored], ignore_index=True)
    return {"accuracy": pd.concat(frames + [chance], ignore_index=True), "clean_correct": clean_correct}


@dataclass(frozen=True)
class ReplicateConfig:
    """One replicate of the whole experiment: its own training pool and test set (seed), every backbone, the controls."""

    suite: SuiteConfig
    backbones: tuple[tuple[str, int], ...]  # (backbone, epochs)
    threads: int = 1
    l2: float | tuple[float, ...] = 1e-3
    pixel_epochs: int = 60
    width: float = 1.0
    device: str = "cpu"
    size_widths: tuple[float, ...] = ()  # further widths of the supervised CNN (the backbone-size comparison)
    segmentation_images: int = 0  # training scenes of the segmentation probe (0: none)
    segmentation_backbones: tuple[str, ...] = ("supervised",)  # backbones (at ``width``) that get the probe


def width_model(width: float) -> str:
    """The result frames' label of the supervised CNN at another width.

    >>> width_model(0.25)
    'supervised ×0.25'
    """
    return f"supervised ×{width:g}"


def run_replicate(config: ReplicateConfig) -> dict:
    """Every backbone and the controls on one seed's suite; frames carry a ``seed`` column.

    Returns ``accuracy`` (seed, model, corruption, severity, accuracy), ``clean_correct`` (seed, model, image,
    correct: per test image on clean data, for the no-effect null), ``info``, ``losses`` and ``timings``.
    """
    seed = config.suite.seed
    data = suite_data(config.suite)
    controls = run_controls(ControlConfig(suite=config.suite, seed=seed, threads=config.threads,
                                          pixel_epochs=config.pixel_epochs, l2=config.l2))
    runs = [BackboneConfig(backbone=name, suite=config.suite, epochs=epochs, seed=seed, threads=config.threads,
                           l2=config.l2, width=config.width, device=config.device,
                           segmentation_images=config.segmentation_images if name in config.segmentation_backbones
                           else 0)
            for name, epochs in config.backbones]
    epochs_of = dict(config.backbones)
    if "supervised" in epochs_of:  # the further widths carry the size claim only: no segmentation probe
        runs += [BackboneConfig(backbone="supervised", suite=config.suite, epochs=epochs_of["supervised"], seed=seed,
                                threads=config.threads, l2=config.l2, width=width, device=config.device,
                                model=width_model(width))
                 for width in config.size_widths]
    backbones = [run_backbone(run) for run in runs]
    accuracy = pd.concat([result["accuracy"] for result in backbones] + [controls["accuracy"]], ignore_index=True)
    segmentation = [result for result in backbones if "segmentation" in result]
    if segmentation:
        frames = {key: pd.concat([result[key] for result in segmentation], ignore_index=True)
                  for key in ("segmentation", "segmentation_counts")}
        frames["segmentation"] = frames["segmentation"].assign(seed=seed)
    else:
        frames = {"segmentation": pd.DataFrame(columns=["model", "corruption", "severity", "miou", "majority_miou",
                                                        "seed"]),
                  "segmentation_counts": pd.DataFrame(columns=["seed", "model", "image"])}
    return frames | {
        "accuracy": accuracy.assign(seed=seed)[["seed", "model", "corruption", "severity", "accuracy"]],
        "clean_correct": pd.concat([result["clean_correct"] for result in backbones] + [controls["clean_correct"]],
                                   ignore_index=True),
        "info": pd.concat([result["info"] for result in backbones], ignore_index=True).assign(seed=seed),
        "losses": pd.concat([result["losses"] for result in backbones], ignore_index=True).assign(seed=seed),
        "timings": data.timings.assign(seed=seed),
    }

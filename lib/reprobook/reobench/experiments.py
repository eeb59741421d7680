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

from reprobook.reobench.corrupt import CORRUPTIONS, corrupt
from reprobook.reobench.models import extract_features, train_backbone
from reprobook.reobench.probe import colour_histogram, fit_linear_probe, fit_pixel_mlp, pixel_features
from reprobook.reobench.synth import CLASSES, Scenes, generate_scenes

__all__ = ["SuiteConfig", "SuiteData", "BackboneConfig", "ControlConfig", "suite_data", "run_backbone",
           "run_controls", "split_seeds", "corruption_seed", "to_uint8"]


@dataclass(frozen=True)
class SuiteConfig:
    """Sizes and seed of the clean training pool and of the (frozen) test set, and the corruption grid."""

    n_train: int
    n_test: int
    size: int = 64
    seed: int = 0
    corruptions: tuple[str, ...] = CORRUPTIONS
    severities: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class BackboneConfig:
    backbone: str
    suite: SuiteConfig
    epochs: int
    seed: int = 0
    threads: int = 1
    l2: float = 1e-3


@dataclass(frozen=True)
class ControlConfig:
    suite: SuiteConfig
    seed: int = 0
    threads: int = 1
    pixel_epochs: int = 60
    l2: float = 1e-3


@dataclass(frozen=True)
class SuiteData:
    train: Scenes
    test: Scenes
    corrupted: dict  # (corruption, severity) -> uint8 (n, 3, H, W)
    clean_test: torch.Tensor  # uint8
    timings: pd.DataFrame
    test_hash: str


def split_seeds(seed: int) -> tuple[int, int]:
    """Training and test generator seeds: disjoint ranges (even = training, odd = test).

    >>> split_seeds(0), split_seeds(1)
    ((0, 1), (2, 3))
    """
    return 2 * seed, 2 * seed + 1


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
    clean = to_uint8(test.images)
    images = clean.float() / 255  # corrupt the 8-bit test images, as one would corrupt saved files
    corrupted, rows = {}, []
    for name in suite.corruptions:
        for severity in suite.severities:
            wall, cpu = time.perf_counter(), time.process_time()
            out = corrupt(images, name, severity, generator=corruption_seed(suite.seed, name, severity))
            rows.append({"corruption": name, "severity": severity, "seconds": time.perf_counter() - wall,
                         "cpu_seconds": time.process_time() - cpu, "images": len(images)})
            corrupted[name, severity] = to_uint8(out)
    digest = hashlib.sha256(clean.numpy().tobytes()).hexdigest()
    return SuiteData(train=train, test=test, corrupted=corrupted, clean_test=clean, timings=pd.DataFrame(rows),
                     test_hash=digest)


def _score(model: str, predict, data: SuiteData) -> pd.DataFrame:
    labels = data.test.labels
    rows = [{"model": model, "corruption": "clean", "severity": 0,
             "accuracy": float((predict(data.clean_test) == labels).double().mean())}]
    for (name, severity), images in data.corrupted.items():
        rows.append({"model": model, "corruption": name, "severity": severity,
                     "accuracy": float((predict(images) == labels).double().mean())})
    return pd.DataFrame(rows)


def run_backbone(config: BackboneConfig) -> dict:
    """Pre-train one backbone on the clean pool, fit a linear probe, score it on the whole suite.

    Returns ``accuracy`` (model, corruption, severity, accuracy), ``info`` (one row: parameters, times)
    and ``losses`` (per epoch).
    """
    torch.set_num_threads(config.threads)
    data = suite_data(config.suite)
    trained = train_backbone(config.backbone, data.train.images, data.train.labels, data.train.captions,
                             epochs=config.epochs, seed=config.seed)
    wall = time.perf_counter()
    probe = fit_linear_probe(extract_features(trained.backbone, data.train.images), data.train.labels,
                             l2=config.l2, n_classes=len(CLASSES))
    probe_seconds = time.perf_counter() - wall
    wall = time.perf_counter()
    accuracy = _score(config.backbone, lambda images: probe.predict(extract_features(trained.backbone, images)), data)
    inference_seconds = time.perf_counter() - wall
    n_scored = len(data.clean_test) * (1 + len(data.corrupted))
    info = pd.DataFrame([{"model": config.backbone, "parameters": trained.parameters, "epochs": config.epochs,
                          "train_seconds": trained.seconds, "train_cpu_seconds": trained.cpu_seconds,
                          "train_images_per_second": config.epochs * len(data.train) / trained.seconds,
                          "probe_seconds": probe_seconds, "inference_seconds": inference_seconds,
                          "inference_images_per_second": n_scored / inference_seconds,
                          "final_loss": trained.losses[-1] if trained.losses else np.nan}])
    losses = pd.DataFrame({"model": config.backbone, "epoch": np.arange(1, len(trained.losses) + 1),
                           "loss": trained.losses})
    return {"accuracy": accuracy, "info": info, "losses": losses}


def run_controls(config: ControlConfig) -> dict:
    """The controls on the same suite: colour histogram + linear probe, pixel MLP, and chance (1 / classes)."""
    torch.set_num_threads(config.threads)
    data = suite_data(config.suite)
    histogram_probe = fit_linear_probe(colour_histogram(data.train.images), data.train.labels, l2=config.l2,
                                       n_classes=len(CLASSES))
    mlp = fit_pixel_mlp(pixel_features(data.train.images), data.train.labels, epochs=config.pixel_epochs,
                        seed=config.seed)
    frames = [
        _score("colour histogram", lambda images: histogram_probe.predict(colour_histogram(images)), data),
        _score("pixel MLP", lambda images: mlp(pixel_features(images)).argmax(dim=1), data),
    ]
    chance = frames[0].assign(model="chance", accuracy=1 / len(CLASSES))
    return {"accuracy": pd.concat(frames + [chance], ignore_index=True)}

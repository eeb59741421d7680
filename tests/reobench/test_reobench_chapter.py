"""Parameter checks, the experiment functions end to end on tiny suites, and the ledger's numbers."""

import numpy as np
import pandas as pd
import pytest
import torch

from reprobook.params import ParameterError
from reprobook.reobench.chapter import (
    acceptance_checks,
    average_over_seeds,
    gallery_mosaic,
    headline_metrics,
    validate_parameters,
    vhm_table,
)
from reprobook.reobench.experiments import BackboneConfig, SuiteConfig, run_backbone, suite_data
from reprobook.reobench.models import BACKBONES, train_backbone
from reprobook.reobench.synth import generate_scenes


def test_parameters_are_checked_by_name():
    with pytest.raises(ParameterError, match="unknown parameter"):
        validate_parameters(n_trian=10)
    with pytest.raises(ParameterError, match="backbones"):
        validate_parameters(backbones=["resnet"])
    with pytest.raises(ParameterError, match="epochs"):
        validate_parameters(backbones=["mae"], epochs={"supervised": 2})
    with pytest.raises(ParameterError, match="image_size"):
        validate_parameters(image_size=40)
    with pytest.raises(ParameterError, match="severities"):
        validate_parameters(severities=[1, 6])
    with pytest.raises(ParameterError, match="corruptions"):
        validate_parameters(corruptions=["fog"])
    params = validate_parameters(corruptions=["rotate", "haze"], seeds=[0, 1])
    assert params.corruptions == ("haze", "rotate")  # the paper's order
    assert len(params.backbone_configs()) == 2 * len(BACKBONES)


def test_vhm_table_numbers():
    table = vhm_table()
    corrupted = table[table.corruption != "clean"].accuracy
    assert len(corrupted) == 45
    assert round(float(corrupted.mean()), 2) == 58.90  # the brief's recomputed mean; Δ = 1.31 points
    assert round(60.21 - float(corrupted.mean()), 2) == 1.31


def test_run_backbone_on_a_tiny_suite_is_deterministic():
    suite = SuiteConfig(n_train=36, n_test=18, size=32, corruptions=("gaussian_noise", "rotate"), severities=(1, 5))
    config = BackboneConfig(backbone="supervised", suite=suite, epochs=1)
    first, second = run_backbone(config), run_backbone(config)
    assert len(first["accuracy"]) == 1 + 2 * 2
    pd.testing.assert_frame_equal(first["accuracy"], second["accuracy"])
    assert suite_data(suite).corrupted["rotate", 5].dtype == torch.uint8
    assert len(suite_data(suite).test_hash) == 64


@pytest.mark.parametrize("kind", BACKBONES)
def test_every_backbone_trains_and_gives_features(kind):
    scenes = generate_scenes(18, seed=0, size=32)
    trained = train_backbone(kind, scenes.images, scenes.labels, scenes.captions, epochs=1, batch_size=9)
    assert len(trained.losses) == 1 and np.isfinite(trained.losses[0])
    with torch.no_grad():
        features = trained.backbone.features(scenes.images)
    assert features.shape[0] == 18 and torch.isfinite(features).all()


def test_headline_metrics_and_acceptance_on_a_made_up_table():
    rows = []
    for model, clean, slope in [("supervised", 0.9, 0.05), ("clip", 0.9, 0.02)]:
        rows.append((model, "clean", 0, clean))
        for name in ("haze", "rotate"):
            rows += [(model, name, s, clean - slope * s * (name == "haze")) for s in (1, 2, 3)]
    rows += [("colour histogram", "clean", 0, 0.3), ("chance", "clean", 0, 1 / 9)]
    table = pd.DataFrame(rows, columns=["model", "corruption", "severity", "accuracy"])
    metrics = headline_metrics(table, ("supervised", "clip"))
    assert metrics["min_drop"] == 0.0 and metrics["monotone_share"] == 1.0
    np.testing.assert_allclose(metrics["max_drop"], 0.1 / 0.9)
    np.testing.assert_allclose(metrics["clip_minus_supervised_mrr"], (0.88 - 0.85) / 0.9)  # mean accuracies 0.88, 0.85
    checks = acceptance_checks(table)
    assert checks.passed.tolist() == [True, True, True]
    averaged = average_over_seeds([table, table.assign(accuracy=table.accuracy - 0.1)])
    np.testing.assert_allclose(averaged.accuracy, table.accuracy - 0.05)


def test_gallery_mosaic_layout():
    image = torch.rand(3, 16, 16)
    mosaic = gallery_mosaic(image, corruptions=("haze",), severities=(1, 2, 3))
    assert mosaic.shape == (16, 4 * 18 - 2, 3)
    np.testing.assert_array_equal(mosaic[:, :16], np.round(image.permute(1, 2, 0).numpy() * 255))

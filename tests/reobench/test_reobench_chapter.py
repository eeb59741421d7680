"""Parameter checks, the experiment functions end to end on tiny suites, and the ledger's numbers."""

import numpy as np
import pandas as pd
import pytest
import torch

from reprobook.params import ParameterError
from reprobook.reobench.chapter import (
    MAXIMA,
    average_over_seeds,
    gallery_mosaic,
    validate_parameters,
    vhm_table,
)
from reprobook.reobench.experiments import (
    BackboneConfig,
    ReplicateConfig,
    SuiteConfig,
    run_backbone,
    run_replicate,
    suite_data,
)
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
    with pytest.raises(ParameterError, match="severity_table"):
        validate_parameters(severity_table="imagenet")
    with pytest.raises(ParameterError, match="size_widths.*distinct"):
        validate_parameters(size_widths=[0.5])  # the main width
    with pytest.raises(ParameterError, match="size_widths"):
        validate_parameters(size_widths=[0.1])
    with pytest.raises(ParameterError, match="size_widths"):
        validate_parameters(size_widths=0.25)
    with pytest.raises(ParameterError, match="size_widths.*supervised"):
        validate_parameters(backbones=["clip"], size_widths=[0.25])
    with pytest.raises(ParameterError, match="segmentation_images"):
        validate_parameters(segmentation_images=-1)
    with pytest.raises(ParameterError, match="segmentation_backbones.*unknown"):
        validate_parameters(segmentation_backbones=["vit"])
    with pytest.raises(ParameterError, match="segmentation_backbones.*supervised"):
        validate_parameters(segmentation_backbones=["clip"])
    with pytest.raises(ParameterError, match="segmentation_backbones"):
        validate_parameters(segmentation_backbones="supervised")
    assert validate_parameters(backbones=["clip"], size_widths=[],
                               segmentation_backbones=["supervised"]).segmentation_backbones == ()
    assert validate_parameters(segmentation_backbones=["clip", "supervised"]).segmentation_backbones == (
        "supervised", "clip")
    sized = validate_parameters(size_widths=[1.0, 0.25], segmentation_images=40)
    assert sized.replicate_configs()[0].size_widths == (1.0, 0.25)
    assert sized.replicate_configs()[0].segmentation_images == 40
    assert sized.replicate_configs()[0].segmentation_backbones == ("supervised",)
    assert sized.models() == ["supervised", "clip", "supervised ×1", "supervised ×0.25"]
    params = validate_parameters(corruptions=["rotate", "haze"], seeds=[0, 1])
    assert params.corruptions == ("haze", "rotate")  # the paper's order
    assert len(params.replicate_configs()) == 2
    assert params.severity_table == "reobench" and params.replicate_configs()[0].suite.table == "reobench"


@pytest.mark.parametrize("name, value", [("n_train", 10**9), ("n_test", 10**9), ("n_val", 10**9),
                                         ("image_size", 4096), ("pixel_mlp_epochs", 10**6), ("threads", 10**4),
                                         ("jobs", 10**4)])
def test_absurd_sizes_are_refused_with_the_allowed_range(name, value):
    with pytest.raises(ParameterError, match=rf"'{name}'.*<= {MAXIMA[name]}|'{name}'.*{MAXIMA[name]}"):
        validate_parameters(**{name: value})


def test_absurd_epochs_seeds_and_penalty_lists_are_refused():
    with pytest.raises(ParameterError, match=r"epochs\['supervised'\]"):
        validate_parameters(epochs={"supervised": 10**6, "clip": 6})
    with pytest.raises(ParameterError, match="'seeds' must list 1 to 64"):
        validate_parameters(seeds=list(range(100)))
    with pytest.raises(ParameterError, match="'probe_l2'"):
        validate_parameters(probe_l2=[1e-3] * 20)
    with pytest.raises(ParameterError, match="'n_val'"):
        validate_parameters(n_val=0, probe_l2=[1e-3, 1e-4])


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


def test_run_replicate_frames_carry_the_seed_and_per_image_predictions():
    suite = SuiteConfig(n_train=36, n_test=18, size=32, seed=3, corruptions=("haze",), severities=(1, 5), n_val=9)
    result = run_replicate(ReplicateConfig(suite=suite, backbones=(("supervised", 1),), l2=(1e-3, 1e-4),
                                           pixel_epochs=1))
    assert set(result["accuracy"].seed) == {3}
    assert set(result["accuracy"].model) == {"supervised", "colour histogram", "pixel MLP", "chance"}
    correct = result["clean_correct"]
    assert len(correct[correct.model == "supervised"]) == 18
    clean = result["accuracy"].query("model == 'supervised' and corruption == 'clean'").accuracy.iloc[0]
    assert correct[correct.model == "supervised"].correct.mean() == pytest.approx(clean)
    assert result["info"].probe_l2.iloc[0] in (1e-3, 1e-4)


def test_average_over_seeds():
    table = pd.DataFrame({"seed": [0, 1], "model": "m", "corruption": "clean", "severity": 0, "accuracy": [0.5, 0.7]})
    np.testing.assert_allclose(average_over_seeds(table).accuracy, [0.6])


def test_gallery_mosaic_layout():
    image = torch.rand(3, 16, 16)
    mosaic = gallery_mosaic(image, corruptions=("haze",), severities=(1, 2, 3))
    assert mosaic.shape == (16, 4 * 18 - 2, 3)
    np.testing.assert_array_equal(mosaic[:, :16], np.round(image.permute(1, 2, 0).numpy() * 255))


def test_book_profile_judges_the_comparisons_on_five_seeds_and_two_widths():
    from reprobook.reobench.chapter import PLANNED_SEEDS, budget_note
    from reprobook.run import resolve_parameters

    book = validate_parameters(**resolve_parameters("reobench", "book"))
    assert book == validate_parameters()  # the notebook's parameters cell holds the chapter's defaults
    assert len(book.seeds) >= PLANNED_SEEDS  # c3's paired differences over at least five seeds
    assert "seeds" not in budget_note(book)
    assert book.segmentation_images > 0 and "supervised" in book.segmentation_backbones  # c6


def test_further_widths_run_on_the_first_size_replicates_seeds():
    with pytest.raises(ParameterError, match="size_replicates"):
        validate_parameters(size_replicates=0)
    params = validate_parameters(seeds=[3, 1, 4, 5, 9], size_widths=[0.25], size_replicates=3)
    assert params.size_seeds() == (3, 1, 4)
    assert [config.size_widths for config in params.replicate_configs()] == [(0.25,)] * 3 + [()] * 2
    from reprobook.reobench.chapter import budget_note

    assert "further widths on 3 of 5 seeds" in budget_note(params)
    every = validate_parameters(seeds=[0, 1], size_widths=[0.25], size_replicates=5)
    assert every.size_seeds() == (0, 1) and "further widths" not in budget_note(every)
    assert validate_parameters(size_replicates=2).size_seeds() == ()  # no further widths, no size seeds

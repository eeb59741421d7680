"""The segmentation probe: patch labels, IoU counts and mIoU against direct computations, a probe that can and
one that cannot segment, masks that move with the geometric corruptions, and the replicate's segmentation frames."""

import numpy as np
import pytest
import torch

from reprobook.reobench.corrupt import corrupt
from reprobook.reobench.experiments import (
    ReplicateConfig,
    SuiteConfig,
    run_replicate,
    suite_data,
    width_model,
)
from reprobook.reobench.ledger import null_segmentation, segmentation_drop
from reprobook.reobench.segmentation import fit_segmentation_probe, iou_counts, mean_iou, patch_labels


def test_patch_labels_take_the_majority_and_refuse_a_grid_that_does_not_divide():
    masks = torch.zeros(1, 4, 4, dtype=torch.long)
    masks[0, :2, :2] = torch.tensor([[2, 2], [2, 1]])  # three of four pixels are class 2
    assert patch_labels(masks, (2, 2), n_classes=3).tolist() == [[[2, 0], [0, 0]]]
    with pytest.raises(ValueError, match="divide"):
        patch_labels(masks, (3, 3), n_classes=3)


def test_iou_counts_and_miou_match_a_direct_computation():
    rng = np.random.default_rng(0)
    masks = torch.from_numpy(rng.integers(0, 5, size=(6, 16, 16)))
    predicted = torch.from_numpy(rng.integers(0, 5, size=(6, 4, 4)))
    counts = iou_counts(predicted, masks, n_classes=5)
    upsampled = np.kron(predicted.numpy(), np.ones((1, 4, 4), dtype=np.int64))
    truth = masks.numpy()
    for k in range(5):
        intersection = ((upsampled == k) & (truth == k)).sum(axis=(1, 2))
        union = ((upsampled == k) | (truth == k)).sum(axis=(1, 2))
        np.testing.assert_array_equal(counts[:, 0, k], intersection)
        np.testing.assert_array_equal(counts[:, 1, k], union)
    expected = np.mean([((upsampled == k) & (truth == k)).sum() / ((upsampled == k) | (truth == k)).sum()
                        for k in range(5)])
    assert mean_iou(counts) == pytest.approx(expected)
    assert mean_iou(iou_counts(torch.zeros(2, 2, 2, dtype=torch.long), torch.zeros(2, 8, 8, dtype=torch.long), 5)) == 1.0


def test_the_probe_segments_informative_features_and_not_noise():
    rng = np.random.default_rng(1)
    masks = torch.from_numpy(rng.integers(0, 5, size=(40, 4, 4))).repeat_interleave(4, 1).repeat_interleave(4, 2)
    labels = patch_labels(masks, (4, 4), n_classes=5)
    informative = torch.nn.functional.one_hot(labels, 5).permute(0, 3, 1, 2).double() + 0.1 * torch.randn(40, 5, 4, 4,
                                                                                                        dtype=torch.float64)
    probe = fit_segmentation_probe(informative, masks, n_classes=5)
    assert mean_iou(iou_counts(probe.predict(informative), masks, 5)) == 1.0
    noise = torch.randn(40, 5, 4, 4, dtype=torch.float64)
    probe = fit_segmentation_probe(noise[:20], masks[:20], n_classes=5)
    assert mean_iou(iou_counts(probe.predict(noise[20:]), masks[20:], 5)) < 0.3  # chance is about 1/9 at 5 classes


def test_geometric_corruptions_move_the_suite_masks_with_the_images():
    suite = SuiteConfig(n_train=18, n_test=9, size=32, corruptions=("haze", "rotate", "scale"), severities=(3,))
    data = suite_data(suite)
    assert set(data.corrupted_masks) == {("rotate", 3), ("scale", 3)}
    images = data.clean_test.float() / 255
    for name in ("rotate", "scale"):
        _, moved = corrupt(images, name, 3, masks=data.test.masks)
        assert torch.equal(data.corrupted_masks[name, 3], moved)
        assert not torch.equal(moved, data.test.masks)


def test_replicate_segments_the_named_backbones_and_scores_every_width():
    suite = SuiteConfig(n_train=36, n_test=18, size=32, corruptions=("haze", "rotate"), severities=(1, 5))
    result = run_replicate(ReplicateConfig(suite=suite, backbones=(("supervised", 1), ("clip", 1)), pixel_epochs=1,
                                           size_widths=(0.25,), segmentation_images=12,
                                           segmentation_backbones=("supervised", "clip")))
    assert {"supervised", "clip", width_model(0.25)} <= set(result["accuracy"].model)
    segmentation = result["segmentation"]
    # the further widths carry only the size claim: classification is scored, the segmentation probe is not fitted
    assert set(segmentation.model) == {"supervised", "clip"} and len(segmentation) == 2 * (1 + 2 * 2)
    assert segmentation.miou.between(0, 1).all() and segmentation.majority_miou.between(0, 1).all()
    assert segmentation.majority_miou.nunique() == 1  # one pool, one commonest land cover, one test set
    counts = result["segmentation_counts"]
    assert len(counts[counts.model == "supervised"]) == 18
    clean = segmentation.query("model == 'supervised' and corruption == 'clean'").miou.iloc[0]
    per_image = counts[counts.model == "supervised"]
    intersections = per_image[[f"intersection_{k}" for k in range(5)]].to_numpy()
    unions = per_image[[f"union_{k}" for k in range(5)]].to_numpy()
    assert mean_iou(np.stack([intersections, unions], axis=1)) == pytest.approx(clean)
    assert result["info"].set_index("model").width[width_model(0.25)] == 0.25
    # the no-effect suite keeps the clean row and resamples the corrupted ones around it
    null = null_segmentation(segmentation.assign(seed=0), counts)
    assert null.query("corruption == 'clean'").miou.tolist() == segmentation.query("corruption == 'clean'").miou.tolist()
    assert np.isfinite(segmentation_drop(null[null.seed == 0], "supervised"))


def test_no_segmentation_probe_gives_empty_frames():
    suite = SuiteConfig(n_train=36, n_test=18, size=32, corruptions=("haze",), severities=(1,))
    result = run_replicate(ReplicateConfig(suite=suite, backbones=(("supervised", 1),), pixel_epochs=1))
    assert result["segmentation"].empty and result["segmentation_counts"].empty


def test_replicate_segments_only_the_supervised_cnn_by_default():
    suite = SuiteConfig(n_train=36, n_test=18, size=32, corruptions=("haze",), severities=(1,))
    result = run_replicate(ReplicateConfig(suite=suite, backbones=(("supervised", 1), ("clip", 1)), pixel_epochs=1,
                                           segmentation_images=12))
    assert set(result["segmentation"].model) == {"supervised"}
    assert set(result["segmentation_counts"].model) == {"supervised"}
    assert {"supervised", "clip"} <= set(result["accuracy"].model)

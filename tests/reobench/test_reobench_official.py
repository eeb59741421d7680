"""REOBench's published settings (the default table) against their description and independent references:
scipy's filters with OpenCV's border, closed forms, PIL's libjpeg, pixel counts; monotone in severity."""

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from reprobook.reobench.corrupt import APPEARANCE, CORRUPTIONS, corrupt, severity_table
from reprobook.reobench.official import (
    REOBENCH_TABLE,
    gap_mask,
    opencv_gaussian_kernel,
    opencv_gaussian_sigma,
)
from reprobook.reobench.synth import generate_scenes


@pytest.fixture(scope="module")
def scenes():
    return generate_scenes(18, seed=321, size=64)


def test_the_table_is_the_published_one():
    # as described in REOBench's generator (commit 0417584c): severities 1..5
    assert REOBENCH_TABLE["gaussian_noise"] == (0.04, 0.05, 0.06, 0.07, 0.08)
    assert REOBENCH_TABLE["salt_and_pepper_noise"] == (0.005, 0.01, 0.02, 0.03, 0.05)
    assert REOBENCH_TABLE["brightness_contrast"][0] == (1.0, 0.0) and REOBENCH_TABLE["brightness_contrast"][4] == (0.2, 0.4)
    assert REOBENCH_TABLE["compression_artifacts"] == (30, 25, 20, 15, 10)
    assert REOBENCH_TABLE["rotate"] == (30, 45, 60, 75, 90)
    assert REOBENCH_TABLE["translate"] == (15, 20, 25, 30, 35)
    assert [row["parameters"] for row in severity_table() if row["corruption"] == "haze"] == [0.2, 0.3, 0.4, 0.5, 0.6]


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_gaussian_blur_is_opencv_style_filtering(scenes, severity):
    size = REOBENCH_TABLE["gaussian_blur"][severity - 1]
    kernel = opencv_gaussian_kernel(size).numpy()
    images = scenes.images[:3].double()
    ours = corrupt(images, "gaussian_blur", severity).numpy()
    # scipy's "mirror" border is OpenCV's reflect-101 (… c b | a b c …)
    reference = ndimage.correlate1d(ndimage.correlate1d(images.numpy(), kernel, axis=2, mode="mirror"),
                                    kernel, axis=3, mode="mirror")
    np.testing.assert_allclose(ours, np.clip(reference, 0, 1), atol=1e-12)


def test_opencv_kernels():
    assert opencv_gaussian_kernel(5).tolist() == [0.0625, 0.25, 0.375, 0.25, 0.0625]
    assert opencv_gaussian_sigma(11) == pytest.approx(2.0)
    taps = opencv_gaussian_kernel(11).numpy()
    offsets = np.arange(11) - 5
    sampled = np.exp(-offsets ** 2 / (2 * 2.0 ** 2))
    np.testing.assert_allclose(taps, sampled / sampled.sum())


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_blurs_match_opencv(severity):
    """OpenCV itself (shipped with the imagecorruptions-imaug test oracle) as the reference of both blurs."""
    cv2 = pytest.importorskip("cv2", reason="the reobench extra's imagecorruptions-imaug brings OpenCV")
    image = np.random.default_rng(severity).random((20, 24, 3)).astype(np.float32)
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None].double()
    size = REOBENCH_TABLE["gaussian_blur"][severity - 1]
    reference = cv2.GaussianBlur(image, (size, size), 0)
    ours = corrupt(tensor, "gaussian_blur", severity)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, reference, atol=1e-6)  # float32 rounding in OpenCV
    length = REOBENCH_TABLE["motion_blur"][severity - 1]
    kernel = np.zeros((length, length), np.float32)
    kernel[(length - 1) // 2, :] = 1 / length  # the generator's horizontal kernel
    reference = cv2.filter2D(image, -1, kernel)
    ours = corrupt(tensor, "motion_blur", severity)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, reference, atol=1e-6)


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_motion_blur_is_a_horizontal_box_read_from_the_row_above(scenes, severity):
    length = REOBENCH_TABLE["motion_blur"][severity - 1]
    images = scenes.images[:2].double().numpy()
    ours = corrupt(torch.from_numpy(images), "motion_blur", severity).numpy()
    # taps at x − ⌊k/2⌋ … x + k − 1 − ⌊k/2⌋ of row y − 1 (even k), mirrored at the borders (reflect-101)
    padded = np.pad(images, ((0, 0), (0, 0), (1, 0), (length, length)), mode="reflect")
    expected = np.zeros_like(images)
    for tap in range(length):
        shift = tap - length // 2
        expected += padded[:, :, :-1, length + shift: length + shift + images.shape[3]] / length
    np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_brightness_contrast_has_no_mean_centring_and_severity_one_is_the_identity(scenes):
    images = scenes.images
    assert torch.equal(corrupt(images, "brightness_contrast", 1), images)
    for severity in (2, 3, 4, 5):
        contrast, brightness = REOBENCH_TABLE["brightness_contrast"][severity - 1]
        expected = (images * contrast + brightness).clamp(0, 1)
        assert torch.allclose(corrupt(images, "brightness_contrast", severity), expected)


def test_haze_is_a_uniform_white_veil(scenes):
    for severity, intensity in enumerate(REOBENCH_TABLE["haze"], start=1):
        out = corrupt(scenes.images, "haze", severity)
        assert torch.allclose(out, scenes.images * (1 - intensity) + intensity)


def test_noise_statistics():
    grey = torch.full((16, 3, 64, 64), 0.5, dtype=torch.float64)
    for severity, sigma in enumerate(REOBENCH_TABLE["gaussian_noise"], start=1):
        residual = (corrupt(grey, "gaussian_noise", severity, generator=severity) - grey).flatten()
        assert abs(float(residual.std()) - sigma) < 0.03 * sigma  # 196k draws: sd of the estimate ≈ 0.16 %
    for severity, amount in enumerate(REOBENCH_TABLE["salt_and_pepper_noise"], start=1):
        out = corrupt(grey, "salt_and_pepper_noise", severity, generator=severity)
        n = out.numel()
        for value in (0.0, 1.0):
            share = float((out == value).double().mean())
            assert abs(share - amount / 2) < 5 * math.sqrt(amount / 2 / n)  # five binomial standard errors


def test_data_gaps_lose_the_described_share():
    # n stripes of width w across ⌊diagonal⌋: the lost share is n·w / ⌊diagonal⌋ (at 800 px)
    angles = torch.rand(64, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * math.pi
    for stripes, width in REOBENCH_TABLE["data_gaps"]:
        lost = gap_mask(800, 800, stripes, width, angles).double().mean()
        assert abs(float(lost) - stripes * width / int(math.sqrt(2) * 800)) < 0.002
    scenes = generate_scenes(9, seed=1, size=64)
    out = corrupt(scenes.images, "data_gaps", 5, generator=3)
    assert ((out == 0).all(dim=1) & (scenes.images > 0).any(dim=1)).any()


def test_jpeg_matches_pil_at_the_published_qualities(scenes):
    images = torch.round(scenes.images[:4] * 255) / 255
    for severity, quality in enumerate(REOBENCH_TABLE["compression_artifacts"], start=1):
        ours = corrupt(images, "compression_artifacts", severity).numpy() * 255
        for image, mine in zip(images, ours, strict=True):
            buffer = io.BytesIO()
            Image.fromarray(np.round(image.permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(
                buffer, format="JPEG", quality=quality)
            theirs = np.asarray(Image.open(buffer), dtype=float).transpose(2, 0, 1)
            assert np.abs(mine - theirs).mean() < 1.5  # grey levels: different DCT/upsampling rounding only


def test_geometric_settings(scenes):
    images, masks = scenes.images[:4], scenes.masks[:4]
    rotated, rotated_masks = corrupt(images, "rotate", 5, masks=masks)  # +90° counter-clockwise
    np.testing.assert_allclose(rotated.numpy(), np.rot90(images.numpy(), k=1, axes=(2, 3)), atol=1e-5)
    assert torch.equal(rotated_masks, torch.from_numpy(np.rot90(masks.numpy(), k=1, axes=(1, 2)).copy()))
    shrunk, shrunk_masks = corrupt(images, "scale", 5, masks=masks)  # zoom 0.5 onto a black canvas
    assert float(shrunk[:, :, :8].abs().max()) == 0.0 and float(shrunk[:, :, :, -8:].abs().max()) == 0.0
    assert int(shrunk_masks[:, :8].max()) == 0
    moved = corrupt(images, "translate", 1, generator=0)
    assert moved.shape == images.shape and not torch.equal(moved, images)


@pytest.mark.parametrize("name", APPEARANCE)
def test_damage_grows_with_severity(scenes, name):
    """Each appearance corruption moves pixels further from the clean image as severity grows (monotone)."""
    distances = [float((corrupt(scenes.images, name, severity, generator=5) - scenes.images).abs().mean())
                 for severity in range(1, 6)]
    assert all(later >= earlier - 1e-9 for earlier, later in zip(distances, distances[1:], strict=False)), distances
    assert distances[-1] > distances[0]


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_range_shape_and_seeds(scenes, name):
    out = corrupt(scenes.images, name, 3, generator=1)
    assert out.shape == scenes.images.shape and out.dtype == scenes.images.dtype
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    assert torch.equal(out, corrupt(scenes.images, name, 3, generator=1))

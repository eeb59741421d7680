"""The ImageNet-C-style table (``table="imagenet_c"``) against independent references: scipy, PIL's libjpeg,
numpy brute force, closed forms. REOBench's own settings are tested in ``test_reobench_official.py``."""

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage, stats

from reprobook.reobench.corrupt import (
    ALIASES,
    CORRUPTIONS,
    GEOMETRIC,
    SEVERITY_TABLE,
    contrast_brightness,
    gap_mask,
    motion_blur_with,
    rotate_by,
    scale_by,
    translate_by,
)
from reprobook.reobench.corrupt import corrupt as corrupt_with_table
from reprobook.reobench.corrupt import corrupt_uint8 as corrupt_uint8_with_table
from reprobook.reobench.jpeg import quantisation_tables
from reprobook.reobench.synth import generate_scenes


def corrupt(*args, **kwargs):
    return corrupt_with_table(*args, table="imagenet_c", **kwargs)


def corrupt_uint8(*args, **kwargs):
    return corrupt_uint8_with_table(*args, table="imagenet_c", **kwargs)


@pytest.fixture(scope="module")
def scenes():
    return generate_scenes(12, seed=123, size=48)


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_gaussian_blur_matches_scipy(scenes, severity):
    sigma = SEVERITY_TABLE["gaussian_blur"][severity - 1]
    ours = corrupt(scenes.images[:3].double(), "gaussian_blur", severity).numpy()
    for image, blurred in zip(scenes.images[:3].double().numpy(), ours, strict=True):
        reference = np.stack([ndimage.gaussian_filter(channel, sigma, mode="nearest", truncate=4.0)
                              for channel in image])
        np.testing.assert_allclose(blurred, reference, atol=1e-10)  # same kernel, same padding: exact


def _motion_reference(image: np.ndarray, radius: int, sigma: float, angle: float) -> np.ndarray:
    """Brute force: for each tap, shift the edge-padded image by the rounded offset and accumulate."""
    steps = np.arange(2 * radius + 1)
    weights = np.exp(-steps ** 2 / (2 * sigma ** 2))
    weights /= weights.sum()
    reach = 2 * radius
    padded = np.pad(image, ((0, 0), (reach, reach), (reach, reach)), mode="edge")
    height, width = image.shape[1:]
    out = np.zeros_like(image)
    for step, weight in zip(steps, weights, strict=True):
        dx, dy = int(np.round(step * np.cos(angle))), int(np.round(step * np.sin(angle)))
        out += weight * padded[:, reach - dy:reach - dy + height, reach - dx:reach - dx + width]
    return out


@pytest.mark.parametrize(("radius", "sigma"), [(10, 3), (20, 15)])
def test_motion_blur_matches_brute_force_shifts(scenes, radius, sigma):
    angles = torch.tensor([-0.7, 0.0, 0.3, 0.785])
    images = scenes.images[:4]
    ours = motion_blur_with(images, radius, sigma, angles).numpy()
    for image, blurred, angle in zip(images.double().numpy(), ours, angles.tolist(), strict=True):
        np.testing.assert_allclose(blurred, np.clip(_motion_reference(image, radius, sigma, angle), 0, 1), atol=2e-5)


def test_motion_blur_of_a_constant_image_is_the_same_constant():
    images = torch.full((2, 3, 32, 32), 0.3)
    np.testing.assert_allclose(corrupt(images, "motion_blur", 5, generator=3).numpy(), 0.3, atol=1e-6)


def test_jpeg_tables_equal_libjpeg_tables():
    image = Image.fromarray(np.zeros((16, 16, 3), dtype=np.uint8))
    for quality in SEVERITY_TABLE["compression_artifacts"] + (50, 90):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        buffer.seek(0)
        tables = Image.open(buffer).quantization
        luminance, chrominance = quantisation_tables(quality)
        assert luminance.flatten().int().tolist() == list(tables[0])
        assert chrominance.flatten().int().tolist() == list(tables[1])


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_jpeg_matches_pil_at_the_same_quality(scenes, severity):
    """Tolerance: mean |ours − PIL| ≤ 1.5 grey levels, and the two errors vs the input within 5 % of each other.

    libjpeg's integer DCT and its chroma rounding differ from our float DCT by a level here and there; a
    coefficient that lands on the other side of a quantisation boundary explains the rare large pixel gaps.
    """
    quality = SEVERITY_TABLE["compression_artifacts"][severity - 1]
    images = torch.round(scenes.images * 255) / 255
    ours = corrupt(images, "compression", severity)
    decoded = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(np.round(image.permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(
            buffer, "JPEG", quality=quality)
        buffer.seek(0)
        decoded.append(np.asarray(Image.open(buffer), dtype=np.float64).transpose(2, 0, 1) / 255)
    pil = torch.from_numpy(np.stack(decoded)).float()
    assert float((ours - pil).abs().mean()) * 255 <= 1.5
    ours_error, pil_error = float((ours - images).abs().mean()), float((pil - images).abs().mean())
    assert abs(ours_error - pil_error) <= 0.05 * pil_error


def test_gaussian_noise_sigma_and_clipping_rate():
    grey = torch.full((64, 3, 32, 32), 0.5)
    for severity in (1, 2):
        sigma = SEVERITY_TABLE["gaussian_noise"][severity - 1]
        residual = (corrupt(grey, "gaussian_noise", severity, generator=severity) - grey).flatten().double()
        assert abs(float(residual.std()) / sigma - 1) < 0.02  # 196k draws: s.e. of the ratio ≈ 0.0016
        assert abs(float(residual.mean())) < 0.002
    sigma = SEVERITY_TABLE["gaussian_noise"][4]
    out = corrupt(grey, "gaussian_noise", 5, generator=9)
    clipped = float(((out == 0) | (out == 1)).double().mean())
    assert abs(clipped - 2 * stats.norm.sf(0.5 / sigma)) < 0.005


@pytest.mark.parametrize("severity", [1, 5])
def test_salt_and_pepper_rates(severity):
    amount = SEVERITY_TABLE["salt_and_pepper_noise"][severity - 1]
    grey = torch.full((64, 3, 32, 32), 0.5)
    out = corrupt(grey, "salt_and_pepper", severity, generator=4)
    n = out.numel()
    tolerance = 5 * math.sqrt(amount / 2 * (1 - amount / 2) / n)
    assert abs(float((out == 0).double().mean()) - amount / 2) < tolerance
    assert abs(float((out == 1).double().mean()) - amount / 2) < tolerance
    assert bool(((out == 0) | (out == 1) | (out == 0.5)).all())


def test_contrast_with_zero_brightness_is_imagenet_c_contrast(scenes):
    for contrast in (0.4, 0.3, 0.2, 0.1, 0.05):
        ours = contrast_brightness(scenes.images.double(), contrast, 0.0).numpy()
        for image, out in zip(scenes.images.double().numpy(), ours, strict=True):
            x = image.transpose(1, 2, 0)  # ImageNet-C works on HWC arrays
            means = np.mean(x, axis=(0, 1), keepdims=True)
            reference = np.clip((x - means) * contrast + means, 0, 1)
            np.testing.assert_allclose(out.transpose(1, 2, 0), reference, atol=1e-12)


def test_brightness_contrast_by_hand():
    image = torch.tensor([0.2, 0.4, 0.6, 0.8]).view(1, 1, 2, 2).expand(1, 3, 2, 2)
    out = corrupt(image, "brightness_contrast", 4)  # c = 0.5, b = 0.2, mean 0.5
    np.testing.assert_allclose(out[0, 0].flatten().numpy(), [0.55, 0.65, 0.75, 0.85], atol=1e-6)


def test_gap_fraction_equals_f():
    for fraction in SEVERITY_TABLE["data_gaps"]:
        period = 192 / 6
        single = gap_mask(192, 192, fraction, torch.tensor([7.3]))
        assert abs(float(single.double().mean()) - fraction) <= 1 / period  # one stripe's discretisation
        phases = torch.linspace(0, period, 65)[:-1]
        averaged = float(gap_mask(192, 192, fraction, phases).double().mean())
        assert abs(averaged - fraction) < 0.002


def test_gaps_blacken_all_channels_and_keep_the_rest(scenes):
    out = corrupt(scenes.images, "data_gaps", 5, generator=2)
    changed = (out != scenes.images).any(dim=1)
    assert bool((out.sum(dim=1)[changed] == 0).all())
    lost = (out == 0).all(dim=1)
    assert 0.08 < float(lost.double().mean()) < 0.12


def test_clouds_cover_about_k_and_haze_brightens(scenes):
    out = corrupt(scenes.images, "clouds", 5, generator=1)  # k = 0.5, opacity 1
    covered = float((out > 0.96).all(dim=1).double().mean())
    assert 0.3 < covered < 0.55
    hazy = corrupt(scenes.images, "haze", 5, generator=1)
    assert float(hazy.std()) < 0.5 * float(scenes.images.std())


def test_integer_translation_is_a_mirror_padded_shift():
    image = torch.rand(1, 3, 20, 24, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mask = torch.randint(5, (1, 20, 24), generator=torch.Generator().manual_seed(1))
    for dx, dy in [(3, -2), (-5, 4), (0, 7)]:
        out, moved = translate_by(image, torch.tensor([dx]), torch.tensor([dy]), masks=mask)
        padded = np.pad(image[0].numpy(), ((0, 0), (10, 10), (10, 10)), mode="symmetric")
        reference = padded[:, 10 - dy:10 - dy + 20, 10 - dx:10 - dx + 24]
        np.testing.assert_allclose(out[0].numpy(), reference, atol=1e-9)
        padded_mask = np.pad(mask[0].numpy(), 10, mode="symmetric")
        np.testing.assert_array_equal(moved[0].numpy(), padded_mask[10 - dy:10 - dy + 20, 10 - dx:10 - dx + 24])


def test_zoom_out_by_half_is_a_two_by_two_mean_in_the_middle():
    image = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    out = scale_by(image, 0.5).numpy()
    blocks = image.numpy().reshape(2, 3, 16, 2, 16, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(out[:, :, 8:24, 8:24], blocks, atol=1e-9)


def test_rotation_round_trip_recovers_the_interior():
    axis = torch.linspace(0, 1, 48, dtype=torch.float64)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    smooth = torch.stack([torch.sin(3 * x + y), torch.cos(2 * y - x), x * y]).mul(0.4).add(0.5)[None]
    inside = ((x - 0.5) ** 2 + (y - 0.5) ** 2) < 0.3 ** 2
    for degrees in SEVERITY_TABLE["rotate"]:
        back = rotate_by(rotate_by(smooth, torch.tensor([degrees])), torch.tensor([-degrees]))
        error = (back - smooth)[0][:, inside].abs().max()
        assert float(error) < 0.01, degrees  # two bilinear resamplings of a smooth image
    quarter = rotate_by(smooth, torch.tensor([90.0]))
    np.testing.assert_allclose(quarter[0].numpy(), np.rot90(smooth[0].numpy(), k=1, axes=(1, 2)), atol=1e-9)


def _nearest_reference(mask: np.ndarray, matrix: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Nearest-neighbour warp in numpy: output pixel p reads input matrix·p + shift (centred pixel units),
    mirror-reflected at the borders."""
    height, width = mask.shape
    ys, xs = np.meshgrid(np.arange(height) + 0.5 - height / 2, np.arange(width) + 0.5 - width / 2, indexing="ij")
    source_x = matrix[0, 0] * xs + matrix[0, 1] * ys + shift[0] + width / 2 - 0.5
    source_y = matrix[1, 0] * xs + matrix[1, 1] * ys + shift[1] + height / 2 - 0.5

    def reflect(index, size):
        index = np.mod(index, 2 * size)
        return np.where(index >= size, 2 * size - 1 - index, index)

    return mask[reflect(np.rint(source_y).astype(int), height), reflect(np.rint(source_x).astype(int), width)]


def test_masks_follow_the_geometry_by_nearest_neighbour(scenes):
    masks = scenes.masks[:4]
    images = scenes.images[:4]
    cases = []
    for degrees in (15.0, 45.0):
        radians = math.radians(degrees)
        matrix = np.array([[math.cos(radians), -math.sin(radians)], [math.sin(radians), math.cos(radians)]])
        cases.append((rotate_by(images, torch.full((4,), degrees), masks)[1], matrix, np.zeros(2)))
    for zoom in (0.9, 0.7):
        cases.append((scale_by(images, zoom, masks)[1], np.eye(2) / zoom, np.zeros(2)))
    cases.append((translate_by(images, torch.full((4,), 5.3), torch.full((4,), -7.6), masks)[1], np.eye(2),
                  np.array([-5.3, 7.6])))
    for moved, matrix, shift in cases:
        assert moved.dtype == masks.dtype and moved.shape == masks.shape
        for mask, out in zip(masks.numpy(), moved.numpy(), strict=True):
            reference = _nearest_reference(mask, matrix, shift)
            assert (out == reference).mean() > 0.995  # only exact rounding ties may differ
            assert set(np.unique(out)) <= set(np.unique(mask))


@pytest.mark.parametrize("name", GEOMETRIC)
def test_corrupt_returns_masks_for_geometric_and_passes_them_through_otherwise(scenes, name):
    out, moved = corrupt(scenes.images, name, 5, generator=11, masks=scenes.masks)
    assert moved.shape == scenes.masks.shape and out.shape == scenes.images.shape
    same, kept = corrupt(scenes.images, "haze", 5, generator=11, masks=scenes.masks)
    assert kept is scenes.masks


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_shape_dtype_range_and_determinism(scenes, name):
    images = scenes.images[:6]
    for severity in (1, 3, 5):
        first = corrupt(images, name, severity, generator=torch.Generator().manual_seed(7))
        second = corrupt(images, name, severity, generator=7)
        assert first.shape == images.shape and first.dtype == images.dtype
        assert float(first.min()) >= 0 and float(first.max()) <= 1
        assert torch.equal(first, second)
        assert not torch.equal(first, images)
    random_parts = {"gaussian_noise", "salt_and_pepper_noise", "motion_blur", "clouds", "haze", "data_gaps",
                    "rotate", "translate"}
    if name in random_parts:
        assert not torch.equal(corrupt(images, name, 3, generator=1), corrupt(images, name, 3, generator=2))


def test_aliases_errors_and_uint8_adapter(scenes):
    for alias, name in ALIASES.items():
        assert torch.equal(corrupt(scenes.images, alias, 2, generator=0), corrupt(scenes.images, name, 2, generator=0))
    with pytest.raises(ValueError, match="severity"):
        corrupt(scenes.images, "haze", 6)
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt(scenes.images, "fog", 1)
    with pytest.raises(ValueError, match="B, 3, H, W"):
        corrupt(scenes.images[0], "haze", 1)
    image = np.round(scenes.images[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    out = corrupt_uint8(image, "compression", 5)
    assert out.dtype == np.uint8 and out.shape == image.shape


# ---- the ImageNet-C package itself as the oracle (imagecorruptions-imaug, in the reobench extra) ----------------


def test_motion_blur_is_imagenet_c_reversed():
    """Ours at θ + 180° equals ImageNet-C's kernel at θ (away from the borders, where the two pad differently)."""
    corruptions = pytest.importorskip("imagecorruptions.corruptions")
    image = np.random.default_rng(0).random((48, 48, 3)).astype(np.float32)
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None].double()
    for angle in (20.0, -35.0):
        theirs = corruptions._motion_blur(image * 255, radius=10, sigma=3, angle=angle) / 255
        ours = motion_blur_with(tensor, 10, 3, torch.tensor([math.radians(angle) + math.pi]))[0].permute(1, 2, 0)
        inner = slice(12, 36)
        np.testing.assert_allclose(ours.numpy()[inner, inner], theirs[inner, inner], atol=1e-6)
        same_angle = motion_blur_with(tensor, 10, 3, torch.tensor([math.radians(angle)]))[0].permute(1, 2, 0)
        assert np.abs(same_angle.numpy()[inner, inner] - theirs[inner, inner]).max() > 0.1  # the reversal is real


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_gaussian_blur_and_contrast_match_the_imagenet_c_package(severity):
    corruptions = pytest.importorskip("imagecorruptions.corruptions")
    image = np.random.default_rng(severity).integers(0, 256, (40, 40, 3)).astype(np.uint8)
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None].double() / 255
    theirs = corruptions.gaussian_blur(image, severity) / 255
    ours = corrupt(tensor, "gaussian_blur", severity)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-9)  # skimage's Gaussian: same σ, truncation and border
    factor = [0.4, 0.3, 0.2, 0.1, 0.05][severity - 1]  # ImageNet-C's contrast constants
    theirs = corruptions.contrast(image, severity) / 255
    ours = contrast_brightness(tensor, factor, 0.0)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_noise_rates_match_the_imagenet_c_package():
    corruptions = pytest.importorskip("imagecorruptions.corruptions")
    grey = np.full((64, 64, 3), 128, dtype=np.uint8)
    np.random.seed(0)
    theirs = corruptions.gaussian_noise(grey, 2) / 255 - 128 / 255
    ours = (corrupt(torch.full((1, 3, 64, 64), 128 / 255, dtype=torch.float64), "gaussian_noise", 2, generator=0)
            - 128 / 255).numpy()
    assert abs(theirs.std() - ours.std()) < 0.01  # both σ = 0.12, 12k draws each
    theirs = corruptions.impulse_noise(grey, 4, seed=0)
    ours = corrupt(torch.full((4, 3, 64, 64), 128 / 255, dtype=torch.float64), "salt_and_pepper_noise", 4,
                   generator=0).numpy()
    share_theirs, share_ours = float(np.mean(theirs != 128)), float(np.mean(ours != 128 / 255))
    assert abs(share_theirs - 0.17) < 0.02 and abs(share_ours - 0.17) < 0.01


@pytest.mark.parametrize("padding", ["reflection", "zeros"])
def test_sparse_warp_equals_grid_sample(padding):
    """The cached sparse-matrix warp (batches sharing a few transforms) against torch's grid_sample."""
    import math

    import torch.nn.functional as F

    from reprobook.reobench.corrupt import _sparse_warp

    images = torch.rand(32, 3, 24, 40, generator=torch.Generator().manual_seed(5))
    angle = math.radians(50)
    thetas = [[[math.cos(angle), -math.sin(angle) * 24 / 40, 0.1], [math.sin(angle) * 40 / 24, math.cos(angle), -0.2]],
              [[1 / 0.6, 0, 0], [0, 1 / 0.6, 0]], [[1, 0, 0.13], [0, 1, -0.09]]]
    theta = torch.tensor([thetas[i % 2] for i in range(32)])  # two transforms, 16 images each
    reference = F.grid_sample(images, F.affine_grid(theta, list(images.shape), align_corners=False), mode="bilinear",
                              padding_mode=padding, align_corners=False)
    torch.testing.assert_close(_sparse_warp(images, theta, padding), reference, atol=1e-5, rtol=0)  # float32 coordinate rounding; 1/255 is 4e-3
    one = torch.tensor([thetas[2]]).expand(32, 2, 3)
    reference = F.grid_sample(images, F.affine_grid(one, list(images.shape), align_corners=False), mode="bilinear",
                              padding_mode=padding, align_corners=False)
    torch.testing.assert_close(_sparse_warp(images, one, padding), reference, atol=1e-5, rtol=0)  # float32 coordinate rounding; 1/255 is 4e-3
    varied = torch.rand(32, 2, 3, generator=torch.Generator().manual_seed(1))
    assert _sparse_warp(images, varied, padding) is None  # too many transforms: grid_sample does it

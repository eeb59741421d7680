"""The 12 REOBench corruptions at five severities, as batched torch functions ``(images, severity) -> images``.

Images are (B, 3, H, W) float tensors in [0, 1]; every function returns a new tensor of the same shape
and dtype in [0, 1]. Random parts (noise, blur angles, cloud shapes, stripe phases, rotation signs, shift
directions) come from an explicit ``torch.Generator`` (or an int seed), so the same seed gives the same
output bit for bit. Geometric corruptions take ``masks`` (B, H, W) and transform them with the same
sampling grid, nearest neighbour, returning ``(images, masks)``.

Names and severities follow REOBench. :func:`corrupt` uses REOBench's published settings by default
(``table="reobench"``, :mod:`~reprobook.reobench.official`); the functions in this module are the
ImageNet-C-style settings (``table="imagenet_c"``, :data:`SEVERITY_TABLE`), ours, with ImageNet-C's
definitions and constants where the two overlap. Our motion blur sums taps at +i·(cos θ, sin θ), the
opposite direction of ImageNet-C's kernel: it equals ImageNet-C's at θ + 180°.

>>> import torch
>>> images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
>>> out = corrupt(images, "gaps", 3, generator=1, table="imagenet_c")
>>> tuple(out.shape), float(out.min()) >= 0, float(out.max()) <= 1
((4, 3, 32, 32), True, True)
>>> bool(torch.equal(out, corrupt(images, "data_gaps", 3, generator=1, table="imagenet_c")))
True
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from reprobook.reobench.jpeg import jpeg_compress
from reprobook.reobench.kernels import gaussian_taps, kernel_matrix, separable_filter
from reprobook.reobench.noise import fbm

__all__ = [
    "CORRUPTIONS", "APPEARANCE", "GEOMETRIC", "ALIASES", "SEVERITY_TABLE", "corrupt", "corrupt_uint8",
    "resolve_name", "severity_table", "SEVERITY_TABLES", "IMAGENET_C_FUNCTIONS",
    "gaussian_noise", "salt_and_pepper_noise", "gaussian_blur", "motion_blur", "brightness_contrast", "clouds",
    "haze", "data_gaps", "compression_artifacts", "rotate", "scale", "translate",
    "blur_with_sigma", "blur_matrix", "motion_blur_with", "motion_offsets", "contrast_brightness", "rotate_by", "scale_by", "translate_by",
    "gap_mask",
]

APPEARANCE = ("gaussian_noise", "salt_and_pepper_noise", "gaussian_blur", "motion_blur", "brightness_contrast",
              "clouds", "haze", "data_gaps", "compression_artifacts")
GEOMETRIC = ("rotate", "scale", "translate")
CORRUPTIONS = APPEARANCE + GEOMETRIC
ALIASES = {"gaps": "data_gaps", "compression": "compression_artifacts", "salt_and_pepper": "salt_and_pepper_noise"}

#: Our parameters per severity 1..5 (see the chapter's severity table for the formulas).
SEVERITY_TABLE: dict[str, tuple] = {
    "gaussian_noise": (0.08, 0.12, 0.18, 0.26, 0.38),  # σ
    "salt_and_pepper_noise": (0.03, 0.06, 0.09, 0.17, 0.27),  # amount a
    "gaussian_blur": (1, 2, 3, 4, 6),  # σ in pixels
    "motion_blur": ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15)),  # (radius r, ς)
    "brightness_contrast": ((0.9, 0.05), (0.8, 0.10), (0.65, 0.15), (0.5, 0.2), (0.35, 0.25)),  # (c, b)
    "clouds": ((0.1, 0.8), (0.2, 0.85), (0.3, 0.9), (0.4, 0.95), (0.5, 1.0)),  # (coverage k, opacity o)
    "haze": (0.85, 0.70, 0.55, 0.40, 0.25),  # transmission t₀
    "data_gaps": (0.02, 0.04, 0.06, 0.08, 0.10),  # gap fraction f
    "compression_artifacts": (25, 18, 15, 10, 7),  # JPEG quality
    "rotate": (15, 30, 45, 60, 90),  # degrees, sign random
    "scale": (0.9, 0.8, 0.7, 0.6, 0.5),  # zoom-out factor
    "translate": (0.05, 0.10, 0.15, 0.20, 0.25),  # shift as a share of the image size
}
HAZE_AIRLIGHT = (0.85, 0.88, 0.92)
CLOUD_BRIGHTNESS = 0.97
CLOUD_EDGE = 0.08
GAP_ANGLE_DEG = 35.0
_MOTION_CHUNK = 16

GeneratorLike = torch.Generator | int | None


def _generator(generator: GeneratorLike) -> torch.Generator:
    if isinstance(generator, torch.Generator):
        return generator
    return torch.Generator().manual_seed(0 if generator is None else int(generator))


def _check(images: torch.Tensor, severity: int) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be a (B, 3, H, W) tensor, got {getattr(images, 'shape', type(images))}")
    if not images.is_floating_point():
        raise ValueError(f"images must be floating point in [0, 1], got {images.dtype}")
    if isinstance(severity, bool) or not isinstance(severity, int) or not 1 <= severity <= 5:
        raise ValueError(f"severity must be an integer in 1..5, got {severity!r}")


def resolve_name(name: str) -> str:
    """The canonical corruption name (accepts REOBench's short aliases ``gaps`` and ``compression``)."""
    canonical = ALIASES.get(name, name)
    if canonical not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r}; allowed: {', '.join(CORRUPTIONS)} "
                         f"(aliases: {', '.join(ALIASES)})")
    return canonical


def severity_table(table: str = "reobench") -> list[dict]:
    """A severity table as rows (corruption, severity, parameters) for printing."""
    if table == "reobench":
        from reprobook.reobench.official import REOBENCH_TABLE as values
    elif table == "imagenet_c":
        values = SEVERITY_TABLE
    else:
        raise ValueError(f"unknown severity table {table!r}; allowed: {', '.join(SEVERITY_TABLES)}")
    return [{"corruption": name, "severity": level + 1, "parameters": values[name][level]}
            for name in CORRUPTIONS for level in range(5)]


# ----- noise -------------------------------------------------------------------------------------------------

def gaussian_noise(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """clip(x + σ·N(0, 1)), ImageNet-C's ``gaussian_noise`` constants (σ = .08 … .38)."""
    _check(images, severity)
    sigma = SEVERITY_TABLE["gaussian_noise"][severity - 1]
    noise = torch.randn(images.shape, generator=_generator(generator), dtype=images.dtype)
    return (images + sigma * noise).clamp(0, 1)


def salt_and_pepper_noise(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Each element independently: 0 with probability a/2, 1 with probability a/2 (ImageNet-C ``impulse_noise``)."""
    _check(images, severity)
    amount = SEVERITY_TABLE["salt_and_pepper_noise"][severity - 1]
    draw = torch.rand(images.shape, generator=_generator(generator), dtype=images.dtype)
    out = torch.where(draw < amount / 2, torch.zeros_like(images), images)
    return torch.where(draw > 1 - amount / 2, torch.ones_like(images), out)


# ----- blur --------------------------------------------------------------------------------------------------

def _gaussian_radius(sigma: float) -> int:
    return int(4 * sigma + 0.5)


def blur_matrix(size: int, sigma: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The (size, size) matrix of a 1-D Gaussian blur (radius ⌊4σ + 0.5⌋) with edge-replicate padding folded in.

    >>> blur_matrix(5, 1.0).sum(dim=1).allclose(torch.ones(5))
    True
    """
    taps, offsets = gaussian_taps(sigma, _gaussian_radius(sigma))
    return kernel_matrix(size, taps, offsets, dtype, border="replicate")


def blur_with_sigma(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur, radius ⌊4σ + 0.5⌋, edge-replicate padding (scipy's ``mode='nearest'``).

    Applied as two small matrix products, rows then columns, with the padding folded into the matrices.
    """
    taps, offsets = gaussian_taps(sigma, _gaussian_radius(sigma))
    return separable_filter(images, taps, offsets, border="replicate").clamp(0, 1)


def gaussian_blur(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Gaussian blur with σ = 1, 2, 3, 4, 6 px (ImageNet-C ``gaussian_blur``); deterministic."""
    _check(images, severity)
    return blur_with_sigma(images, SEVERITY_TABLE["gaussian_blur"][severity - 1])


def motion_offsets(radius: int, sigma: float, angles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Taps i = 0..2r: weights w_i ∝ exp(−i²/2ς²) and integer offsets round(i·(cos θ, sin θ)) per angle."""
    steps = torch.arange(2 * radius + 1, dtype=torch.float64)
    weights = torch.exp(-steps ** 2 / (2 * sigma ** 2))
    weights = weights / weights.sum()
    angles = angles.to(torch.float64)[:, None]
    dx = torch.round(steps[None] * torch.cos(angles)).long()
    dy = torch.round(steps[None] * torch.sin(angles)).long()
    return weights, dx, dy


def _smooth_size(size: int) -> int:
    """The smallest integer >= size whose prime factors are 2, 3 and 5 (fast FFT lengths)."""
    candidate = size
    while True:
        rest = candidate
        for prime in (2, 3, 5):
            while rest % prime == 0:
                rest //= prime
        if rest == 1:
            return candidate
        candidate += 1


def motion_blur_with(images: torch.Tensor, radius: int, sigma: float, angles: torch.Tensor) -> torch.Tensor:
    """y(p) = Σ_i w_i · x(clamp(p − o_i)), o_i = round(i·(cos θ, sin θ)), one angle θ (radians) per image.

    Computed as one FFT convolution per image with its rasterised line kernel on an edge-replicated canvas
    (equal to the sum of shifted copies with border clamping, without 2r + 1 passes over the batch).
    """
    angles = torch.as_tensor(angles)
    if len(images) > _MOTION_CHUNK:  # small batches keep the FFT buffers in cache
        return torch.cat([motion_blur_with(images[start:start + _MOTION_CHUNK], radius, sigma,
                                           angles[start:start + _MOTION_CHUNK])
                          for start in range(0, len(images), _MOTION_CHUNK)])
    upward = torch.sin(angles) >= 0
    if upward.any() and not upward.all():  # two canvases, each padded on one side only, beat one padded on both
        out = torch.empty_like(images)
        for group in (upward, ~upward):
            out[group] = motion_blur_with(images[group], radius, sigma, angles[group])
        return out
    batch, channels, height, width = images.shape
    weights, dx, dy = motion_offsets(radius, sigma, angles)
    # pad only where the taps reach: y(p) reads x(p − o), so positive offsets need room before the image
    left, right = max(int(dx.max()), 0), max(-int(dx.min()), 0)
    top, bottom = max(int(dy.max()), 0), max(-int(dy.min()), 0)
    # extra room after the image (harmless: no interior pixel reads it) makes the FFT sizes 5-smooth
    right += _smooth_size(width + left + right) - (width + left + right)
    bottom += _smooth_size(height + top + bottom) - (height + top + bottom)
    canvas = F.pad(images.to(torch.float32), (left, right, top, bottom), mode="replicate")
    canvas_h, canvas_w = canvas.shape[-2:]
    kernel = torch.zeros(batch, canvas_h, canvas_w, dtype=torch.float32)
    rows = torch.arange(batch)[:, None].expand_as(dx)
    kernel.index_put_((rows, dy % canvas_h, dx % canvas_w), weights.to(torch.float32).expand_as(dx).clone(),
                      accumulate=True)
    spectrum = torch.fft.rfft2(canvas) * torch.fft.rfft2(kernel)[:, None]
    out = torch.fft.irfft2(spectrum, s=(canvas_h, canvas_w))[..., top:top + height, left:left + width]
    return out.to(images.dtype).clamp(0, 1)


def motion_blur(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Motion blur along a random direction θ ~ U(−45°, 45°) per image, (r, ς) from ImageNet-C."""
    _check(images, severity)
    radius, sigma = SEVERITY_TABLE["motion_blur"][severity - 1]
    angles = (torch.rand(len(images), generator=_generator(generator), dtype=torch.float64) - 0.5) * (math.pi / 2)
    return motion_blur_with(images, radius, sigma, angles)


# ----- photometric and atmospheric ---------------------------------------------------------------------------

def contrast_brightness(images: torch.Tensor, contrast: float, brightness: float) -> torch.Tensor:
    """clip((x − μ)·c + μ + b) with μ the per-image, per-channel mean (ImageNet-C ``contrast`` when b = 0)."""
    mean = images.mean(dim=(2, 3), keepdim=True)
    return ((images - mean) * contrast + mean + brightness).clamp(0, 1)


def brightness_contrast(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Contrast down and brightness up: (c, b) = (.9, .05) … (.35, .25); deterministic."""
    _check(images, severity)
    return contrast_brightness(images, *SEVERITY_TABLE["brightness_contrast"][severity - 1])


def _quantile_per_image(values: torch.Tensor, q: float) -> torch.Tensor:
    ordered = values.flatten(1).sort(dim=1).values
    index = round(q * (ordered.shape[1] - 1))
    return ordered[:, index].view(-1, 1, 1, 1)


def clouds(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Opaque white clouds over a share k of the image: y = (1 − α)x + 0.97α, α = clip((n − q₁₋ₖ)/0.08)·o."""
    _check(images, severity)
    coverage, opacity = SEVERITY_TABLE["clouds"][severity - 1]
    noise = fbm(len(images), *images.shape[2:], octaves=5, base=3, generator=_generator(generator))
    alpha = ((noise - _quantile_per_image(noise, 1 - coverage)) / CLOUD_EDGE).clamp(0, 1) * opacity
    return ((1 - alpha) * images + CLOUD_BRIGHTNESS * alpha).to(images.dtype).clamp(0, 1)


def haze(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Whitish veil: y = x·t + A(1 − t), t = t₀(1 + 0.2(n − ½)), airlight A = (.85, .88, .92)."""
    _check(images, severity)
    base = SEVERITY_TABLE["haze"][severity - 1]
    noise = fbm(len(images), *images.shape[2:], octaves=4, base=2, generator=_generator(generator))
    transmission = base * (1 + 0.2 * (noise - 0.5))
    airlight = torch.tensor(HAZE_AIRLIGHT, dtype=images.dtype).view(1, 3, 1, 1)
    return (images * transmission + airlight * (1 - transmission)).to(images.dtype).clamp(0, 1)


def gap_mask(height: int, width: int, fraction: float, phases: torch.Tensor) -> torch.Tensor:
    """Landsat-7 style scan-line gaps: (x sin φ + y cos φ + phase) mod P < f·P, φ = 35°, P = max(H, W)/6.

    Returns a bool (B, H, W) mask, True where the pixel is lost; ``phases`` (B,) in pixels.
    """
    period = max(height, width) / 6
    angle = math.radians(GAP_ANGLE_DEG)
    y, x = torch.meshgrid(torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64),
                          indexing="ij")
    position = x * math.sin(angle) + y * math.cos(angle)
    return torch.remainder(position[None] + phases.to(torch.float64)[:, None, None], period) < fraction * period


def data_gaps(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Thin black diagonal stripes covering a share f = .02 … .10 of the pixels, random phase per image."""
    _check(images, severity)
    height, width = images.shape[2:]
    period = max(height, width) / 6
    phases = torch.rand(len(images), generator=_generator(generator), dtype=torch.float64) * period
    lost = gap_mask(height, width, SEVERITY_TABLE["data_gaps"][severity - 1], phases)
    return images.masked_fill(lost[:, None], 0.0)


def compression_artifacts(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Baseline JPEG at quality 25, 18, 15, 10, 7 (ImageNet-C ``jpeg_compression``); deterministic."""
    _check(images, severity)
    return jpeg_compress(images, SEVERITY_TABLE["compression_artifacts"][severity - 1])


# ----- geometric ---------------------------------------------------------------------------------------------

#: a batch is warped by sparse matrices when it has at least this many images per distinct transform
_IMAGES_PER_TRANSFORM = 16


def _source_pixels(coordinates: torch.Tensor, size: int, padding: str) -> torch.Tensor:
    """``grid_sample``'s source pixel for normalised coordinates (align_corners=False), reflected when asked."""
    pixels = ((coordinates + 1) * size - 1) / 2
    if padding != "reflection":
        return pixels
    shifted = (pixels + 0.5).abs()
    inside = torch.fmod(shifted, size)
    even = torch.floor(shifted / size) % 2 == 0
    return torch.where(even, inside - 0.5, size - inside - 0.5).clamp(0, size - 1)


@functools.lru_cache(maxsize=64)
def warp_matrix(theta: tuple[float, ...], height: int, width: int, padding: str,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The bilinear warp of one affine ``theta`` (6 numbers, ``affine_grid``'s convention) as a sparse CSR matrix.

    Row p holds the (at most four) bilinear weights output pixel p reads, with ``grid_sample``'s border rules
    (``reflection`` or ``zeros``); ``M @ x`` on flattened (H·W) planes equals ``grid_sample`` up to rounding.
    """
    grid = F.affine_grid(torch.tensor(theta, dtype=dtype).view(1, 2, 3), [1, 1, height, width],
                         align_corners=False)[0]
    source_x = _source_pixels(grid[..., 0], width, padding).reshape(-1)
    source_y = _source_pixels(grid[..., 1], height, padding).reshape(-1)
    left, top = torch.floor(source_x), torch.floor(source_y)
    outputs = torch.arange(height * width)
    rows, columns, weights = [], [], []
    for corner_x, corner_y in ((left, top), (left + 1, top), (left, top + 1), (left + 1, top + 1)):
        weight = (1 - (source_x - corner_x).abs()) * (1 - (source_y - corner_y).abs())
        inside = (corner_x >= 0) & (corner_x <= width - 1) & (corner_y >= 0) & (corner_y <= height - 1)
        rows.append(outputs[inside])
        columns.append((corner_y * width + corner_x)[inside].long())
        weights.append(weight[inside])
    matrix = torch.sparse_coo_tensor(torch.stack([torch.cat(rows), torch.cat(columns)]), torch.cat(weights),
                                     (height * width, height * width), check_invariants=True).coalesce()
    with warnings.catch_warnings():  # torch calls its CSR layout "beta"; sparse.mm on it is what we use
        warnings.simplefilter("ignore", UserWarning)
        return matrix.to_sparse_csr()


def _sparse_warp(images: torch.Tensor, theta: torch.Tensor, padding: str) -> torch.Tensor | None:
    """Warp with one cached sparse matrix per distinct transform; ``None`` when the transforms are too varied.

    A batch that shares a few transforms (REOBench's fixed angles and zoom, four translation sign pairs) reads
    each output pixel's four weights from a precomputed matrix instead of recomputing the sampling grid and
    weights for every image (about three times faster than ``grid_sample`` on 64² batches).
    """
    batch, channels, height, width = images.shape
    distinct, inverse = torch.unique(theta.reshape(batch, 6), dim=0, return_inverse=True)
    if len(distinct) * _IMAGES_PER_TRANSFORM > batch:
        return None
    out = torch.empty_like(images)
    for index, row in enumerate(distinct):
        matrix = warp_matrix(tuple(row.tolist()), height, width, padding, images.dtype)
        chosen = slice(None) if len(distinct) == 1 else (inverse == index).nonzero()[:, 0]
        planes = images[chosen].reshape(-1, height * width)
        out[chosen] = torch.sparse.mm(matrix, planes.T).T.reshape(-1, channels, height, width)
    return out


def _warp(images: torch.Tensor, theta: torch.Tensor, masks: torch.Tensor | None, padding: str = "reflection"):
    out = _sparse_warp(images, theta.to(images.dtype), padding)
    if out is None or masks is not None:
        grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
    if out is None:
        out = F.grid_sample(images, grid, mode="bilinear", padding_mode=padding, align_corners=False)
    out = out.clamp_(0, 1)
    if masks is None:
        return out
    if masks.shape != (images.shape[0], *images.shape[2:]):
        raise ValueError(f"masks must be (B, H, W) = {(images.shape[0], *images.shape[2:])}, got {tuple(masks.shape)}")
    warped = F.grid_sample(masks[:, None].to(grid.dtype), grid, mode="nearest", padding_mode=padding,
                           align_corners=False)
    return out, warped[:, 0].round().to(masks.dtype)


def rotate_by(images: torch.Tensor, degrees: torch.Tensor, masks: torch.Tensor | None = None):
    """Rotate each image about its centre by ``degrees`` (B,), counter-clockwise as displayed, bilinear, mirror padding."""
    height, width = images.shape[2:]
    radians = torch.as_tensor(degrees, dtype=torch.float64) * math.pi / 180
    cos, sin = torch.cos(radians), torch.sin(radians)
    theta = torch.zeros(len(images), 2, 3, dtype=torch.float64)
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * height / width
    theta[:, 1, 0], theta[:, 1, 1] = sin * width / height, cos
    return _warp(images, theta, masks)


def scale_by(images: torch.Tensor, zoom: float, masks: torch.Tensor | None = None, padding: str = "reflection"):
    """Zoom out about the centre by ``zoom`` (< 1 shrinks the content), bilinear; ``padding`` as in ``grid_sample``.

    With ``padding="zeros"`` the border is black and masks get class 0 there (REOBench's setting).
    """
    theta = torch.zeros(len(images), 2, 3, dtype=torch.float64)
    theta[:, 0, 0] = theta[:, 1, 1] = 1 / zoom
    return _warp(images, theta, masks, padding)


def translate_by(images: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, masks: torch.Tensor | None = None):
    """Move each image's content by (dx, dy) pixels (B,) each, bilinear, mirror padding."""
    height, width = images.shape[2:]
    theta = torch.zeros(len(images), 2, 3, dtype=torch.float64)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2] = -2 * torch.as_tensor(dx, dtype=torch.float64) / width
    theta[:, 1, 2] = -2 * torch.as_tensor(dy, dtype=torch.float64) / height
    return _warp(images, theta, masks)


def rotate(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None,
           masks: torch.Tensor | None = None):
    """Rotation by ±α, α = 15, 30, 45, 60, 90°, the sign drawn per image."""
    _check(images, severity)
    signs = torch.randint(2, (len(images),), generator=_generator(generator)) * 2 - 1
    return rotate_by(images, signs * SEVERITY_TABLE["rotate"][severity - 1], masks)


def scale(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None,
          masks: torch.Tensor | None = None):
    """Zoom out by z = .9 … .5 with mirror padding; deterministic."""
    _check(images, severity)
    return scale_by(images, SEVERITY_TABLE["scale"][severity - 1], masks)


def translate(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None,
              masks: torch.Tensor | None = None):
    """Shift by d·size (d = .05 … .25) in a direction drawn per image, mirror padding."""
    _check(images, severity)
    height, width = images.shape[2:]
    share = SEVERITY_TABLE["translate"][severity - 1]
    direction = torch.rand(len(images), generator=_generator(generator), dtype=torch.float64) * 2 * math.pi
    return translate_by(images, share * width * torch.cos(direction), share * height * torch.sin(direction), masks)


_FUNCTIONS: dict[str, Callable] = {
    "gaussian_noise": gaussian_noise, "salt_and_pepper_noise": salt_and_pepper_noise, "gaussian_blur": gaussian_blur,
    "motion_blur": motion_blur, "brightness_contrast": brightness_contrast, "clouds": clouds, "haze": haze,
    "data_gaps": data_gaps, "compression_artifacts": compression_artifacts, "rotate": rotate, "scale": scale,
    "translate": translate,
}


#: The ImageNet-C-style settings (ours, the chapter's first version): ``severity_table="imagenet_c"``.
IMAGENET_C_FUNCTIONS = _FUNCTIONS
SEVERITY_TABLES = ("reobench", "imagenet_c")


def _functions(table: str) -> dict[str, Callable]:
    if table == "imagenet_c":
        return IMAGENET_C_FUNCTIONS
    if table == "reobench":
        from reprobook.reobench.official import OFFICIAL_FUNCTIONS

        return OFFICIAL_FUNCTIONS
    raise ValueError(f"unknown severity table {table!r}; allowed: {', '.join(SEVERITY_TABLES)}")


def corrupt(images: torch.Tensor, name: str, severity: int, *, generator: GeneratorLike = None,
            masks: torch.Tensor | None = None, table: str = "reobench"):
    """Apply corruption ``name`` at ``severity`` (1..5); with ``masks``, geometric ones return (images, masks).

    ``table`` chooses the settings: ``"reobench"`` (the benchmark's published generator, the default, see
    :mod:`~reprobook.reobench.official`) or ``"imagenet_c"`` (ImageNet-C's definitions and constants,
    :data:`SEVERITY_TABLE`). Appearance corruptions leave masks unchanged and return them as given.
    """
    canonical = resolve_name(name)
    function = _functions(table)[canonical]
    if canonical in GEOMETRIC:
        return function(images, severity, generator=generator, masks=masks)
    out = function(images, severity, generator=generator)
    return out if masks is None else (out, masks)


def corrupt_uint8(image: np.ndarray, corruption_name: str, severity: int, seed: int = 0,
                  table: str = "reobench") -> np.ndarray:
    """ImageNet-C style adapter: one uint8 (H, W, 3) image in, uint8 (H, W, 3) out.

    >>> image = np.full((16, 16, 3), 128, dtype=np.uint8)
    >>> corrupt_uint8(image, "brightness_contrast", 1, table="imagenet_c")[0, 0].tolist()
    [141, 141, 141]
    >>> corrupt_uint8(image, "brightness_contrast", 2)[0, 0].tolist()  # 0.8·x + 0.1
    [128, 128, 128]
    """
    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].to(torch.float64) / 255
    out = corrupt(tensor, corruption_name, severity, generator=seed, table=table)
    return np.round(out[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)

"""REOBench's published corruption settings, re-implemented as batched torch functions (the default table).

The benchmark's generator is public (repository ``lx709/REOBench``, folder "Corrupt Image Generation",
``image_generation_without_annotations.py`` for the nine appearance corruptions and
``image_feneration_with_annotations.py`` for rotate, scale and translate; read at commit
``0417584c68b2abad198f105502c5f90e7d247e46``). The functions below follow the settings and formulas
described there; the code is ours. Per severity 1..5:

=========================  =====================================================================
corruption                 setting
=========================  =====================================================================
gaussian_noise             clip(x + σ·N(0, 1)), σ = .04 .05 .06 .07 .08
salt_and_pepper_noise      a share a of the values replaced, half by 0, half by 1; a = .005 .01 .02 .03 .05
gaussian_blur              OpenCV Gaussian, kernel k = 3 5 7 9 11 px (σ = 0; OpenCV's fixed taps up to 9, else
                           σ = 0.3((k − 1)/2 − 1) + 0.8), reflect-101 border
motion_blur                horizontal box of k = 2 4 6 8 10 px, taps at offsets −⌊k/2⌋ … k − 1 − ⌊k/2⌋, read from
                           the row above (the generator's kernel row sits one above filter2D's anchor), reflect-101
brightness_contrast        clip(c·x + b), (c, b) = (1, 0) (.8, .1) (.6, .2) (.4, .3) (.2, .4); no mean-centring
clouds                     fractal noise (6 octaves) thresholded at 1 − d, the mask blurred, blended with grey 0.9;
                           density d = .10 .15 .20 .25 .30
haze                       x(1 − i) + i, i = .2 .3 .4 .5 .6 (a uniform white veil)
data_gaps                  n = 2 3 4 5 6 black stripes of width w = 3 4 5 6 7 px (at 800 px) at a random angle
compression_artifacts      JPEG quality 30 25 20 15 10
rotate                     +α counter-clockwise, α = 30 45 60 75 90°, bilinear, mirror border (one sign)
scale                      zoom out by z = .9 .8 .7 .6 .5 about the centre, black (zero) border
translate                  ±s px in x and ±s px in y (signs random), s = 15 20 25 30 35 px at 800 px, mirror border
=========================  =====================================================================

Resolution [ours]: REOBench applies these settings to 512–800 px images. Pixel-level kernels (noise, blur,
motion blur) are kept in pixels, as the generator does at every resolution; layout sizes (stripe width,
translation, the clouds' noise scale and blur) are scaled by ``size / 800`` (DIOR's 800 px tiles), so a
stripe or a shift covers the same share of the scene. Differences from the released generator [ours]: the
clouds' noise is our value-noise fBm drawn per image (the generator draws Perlin noise once per batch);
results are rounded to 8 bits by the chapter's suite (the generator truncates).

>>> import torch
>>> images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
>>> bool(torch.equal(brightness_contrast(images, 1), images))  # severity 1 is the identity
True
>>> round(float(brightness_contrast(torch.full((1, 3, 4, 4), 0.5), 5)[0, 0, 0, 0]), 6)  # 0.2·0.5 + 0.4
0.5
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from reprobook.reobench.corrupt import (
    GeneratorLike,
    _check,
    _generator,
    rotate_by,
    scale_by,
    translate_by,
)
from reprobook.reobench.jpeg import jpeg_compress
from reprobook.reobench.kernels import gaussian_taps, kernel_matrix, separable_filter
from reprobook.reobench.noise import fbm

__all__ = ["REOBENCH_TABLE", "OFFICIAL_FUNCTIONS", "REFERENCE_SIZE", "opencv_gaussian_sigma", "opencv_gaussian_kernel",
           "kernel_matrix",
           "gaussian_noise", "salt_and_pepper_noise", "gaussian_blur", "motion_blur", "brightness_contrast",
           "clouds", "haze", "data_gaps", "compression_artifacts", "rotate", "scale", "translate"]

#: REOBench's settings per severity 1..5 (see the module docstring for the formulas).
REOBENCH_TABLE: dict[str, tuple] = {
    "gaussian_noise": (0.04, 0.05, 0.06, 0.07, 0.08),  # σ
    "salt_and_pepper_noise": (0.005, 0.01, 0.02, 0.03, 0.05),  # amount a
    "gaussian_blur": (3, 5, 7, 9, 11),  # kernel size (px)
    "motion_blur": (2, 4, 6, 8, 10),  # horizontal box length (px)
    "brightness_contrast": ((1.0, 0.0), (0.8, 0.1), (0.6, 0.2), (0.4, 0.3), (0.2, 0.4)),  # (c, b)
    "clouds": (0.10, 0.15, 0.20, 0.25, 0.30),  # density d
    "haze": (0.2, 0.3, 0.4, 0.5, 0.6),  # intensity i
    "data_gaps": ((2, 3), (3, 4), (4, 5), (5, 6), (6, 7)),  # (stripes n, width w px at 800 px)
    "compression_artifacts": (30, 25, 20, 15, 10),  # JPEG quality
    "rotate": (30, 45, 60, 75, 90),  # degrees, counter-clockwise
    "scale": (0.9, 0.8, 0.7, 0.6, 0.5),  # zoom-out factor
    "translate": (15, 20, 25, 30, 35),  # shift per axis (px at 800 px)
}
REFERENCE_SIZE = 800
CLOUD_GREY = 0.9
CLOUD_NOISE_CELLS = 4  # the generator's noise spans width / 200 = 4 units across an 800 px tile
CLOUD_BLUR_SIGMA = 5.0  # px at 800 px (kernel 11, σ 5)


def opencv_gaussian_sigma(kernel_size: int) -> float:
    """OpenCV's σ for ``GaussianBlur(ksize, sigma=0)``: 0.3·((k − 1)/2 − 1) + 0.8.

    >>> [round(opencv_gaussian_sigma(k), 2) for k in (3, 5, 7, 9, 11)]
    [0.8, 1.1, 1.4, 1.7, 2.0]
    """
    return 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8


#: OpenCV's fixed kernels for ``GaussianBlur(ksize, sigma=0)`` with ksize ≤ 9 (in 256ths; it samples larger
#: ones from σ); the 9-tap table is OpenCV 4+'s, checked against ``cv2.getGaussianKernel`` in the tests
_OPENCV_SMALL_KERNELS = {
    1: (1.0,), 3: (0.25, 0.5, 0.25), 5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
    7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125),
    9: tuple(value / 256 for value in (4, 13, 30, 51, 60, 51, 30, 13, 4)),
}


def opencv_gaussian_kernel(kernel_size: int) -> torch.Tensor:
    """The 1-D kernel OpenCV's ``GaussianBlur`` uses with ``sigma=0``: fixed taps up to 9, else sampled.

    >>> opencv_gaussian_kernel(3).tolist()
    [0.25, 0.5, 0.25]
    >>> round(float(opencv_gaussian_kernel(11).sum()), 12)
    1.0
    """
    if kernel_size in _OPENCV_SMALL_KERNELS:
        return torch.tensor(_OPENCV_SMALL_KERNELS[kernel_size], dtype=torch.float64)
    if kernel_size % 2 == 0:
        raise ValueError(f"OpenCV's Gaussian kernel size must be odd, got {kernel_size}")
    return gaussian_taps(opencv_gaussian_sigma(kernel_size), (kernel_size - 1) // 2)[0]


def _layout_scale(images: torch.Tensor) -> float:
    return max(images.shape[2:]) / REFERENCE_SIZE


def gaussian_noise(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """clip(x + σ·N(0, 1)), σ = .04 … .08."""
    _check(images, severity)
    sigma = REOBENCH_TABLE["gaussian_noise"][severity - 1]
    noise = torch.randn(images.shape, generator=_generator(generator), dtype=images.dtype)
    return (images + sigma * noise).clamp(0, 1)


def salt_and_pepper_noise(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Each value independently: 0 with probability a/2, 1 with probability a/2 (a = .005 … .05)."""
    _check(images, severity)
    amount = REOBENCH_TABLE["salt_and_pepper_noise"][severity - 1]
    draw = torch.rand(images.shape, generator=_generator(generator), dtype=images.dtype)
    out = torch.where(draw < amount / 2, torch.zeros_like(images), images)
    return torch.where(draw > 1 - amount / 2, torch.ones_like(images), out)


def gaussian_blur(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """OpenCV-style Gaussian blur (``sigma=0``): kernel 3 … 11 px, reflect-101 border; deterministic."""
    _check(images, severity)
    size = REOBENCH_TABLE["gaussian_blur"][severity - 1]
    return separable_filter(images, opencv_gaussian_kernel(size), torch.arange(size) - size // 2).clamp(0, 1)


def motion_blur(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Horizontal box blur of 2 … 10 px (OpenCV ``filter2D`` anchor at the centre), reflect-101; deterministic."""
    _check(images, severity)
    size = REOBENCH_TABLE["motion_blur"][severity - 1]
    # the generator's k × k kernel puts its row of ones at ⌊(k − 1)/2⌋ while filter2D anchors at ⌊k/2⌋: for even k
    # each output row reads the row above it
    row_offset = (size - 1) // 2 - size // 2
    return separable_filter(images, torch.ones(1, dtype=torch.float64), torch.tensor([row_offset]),
                            torch.full((size,), 1 / size, dtype=torch.float64),
                            torch.arange(size) - size // 2).clamp(0, 1)


def brightness_contrast(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """clip(c·x + b), (c, b) = (1, 0) … (.2, .4): contrast down, brightness up, no mean-centring."""
    _check(images, severity)
    contrast, brightness = REOBENCH_TABLE["brightness_contrast"][severity - 1]
    return images.mul(contrast).add_(brightness).clamp_(0, 1)  # one buffer for the batch, same arithmetic


def _blur_sigma(images: torch.Tensor, sigma: float) -> torch.Tensor:
    return separable_filter(images, *gaussian_taps(sigma, max(1, int(math.ceil(2 * sigma)))))


def clouds(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Grey clouds over the share d of the scene where fractal noise exceeds 1 − d, edges blurred, d = .10 … .30."""
    _check(images, severity)
    density = REOBENCH_TABLE["clouds"][severity - 1]
    height, width = images.shape[2:]
    noise = fbm(len(images), height, width, octaves=6, base=CLOUD_NOISE_CELLS, generator=_generator(generator))
    mask = (noise > 1 - density).to(images.dtype)
    sigma = CLOUD_BLUR_SIGMA * _layout_scale(images)
    if sigma >= 0.3:  # below a third of a pixel the blur is the identity to 8 bits
        mask = _blur_sigma(mask, sigma)
    return (images * (1 - mask) + CLOUD_GREY * mask).clamp(0, 1)


def haze(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """A uniform white veil: x(1 − i) + i, i = .2 … .6; deterministic."""
    _check(images, severity)
    intensity = REOBENCH_TABLE["haze"][severity - 1]
    return images.mul(1 - intensity).add_(intensity).clamp_(0, 1)  # one buffer for the batch, same arithmetic


def gap_mask(height: int, width: int, stripes: int, stripe_width: float, angles: torch.Tensor) -> torch.Tensor:
    """True where (x cos θ + y sin θ) mod (⌊diagonal⌋ / n) < w: n parallel stripes of width w at angle θ per image."""
    spacing = int(math.sqrt(width ** 2 + height ** 2)) / stripes
    y, x = torch.meshgrid(torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64),
                          indexing="ij")
    angles = angles.to(torch.float64)[:, None, None]
    coordinate = x[None] * torch.cos(angles) + y[None] * torch.sin(angles)
    return torch.remainder(coordinate, spacing) < stripe_width


def data_gaps(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """n = 2 … 6 black stripes of width 3 … 7 px (at 800 px, scaled to the image) at a random angle in [0°, 180°)."""
    _check(images, severity)
    stripes, stripe_width = REOBENCH_TABLE["data_gaps"][severity - 1]
    height, width = images.shape[2:]
    angles = torch.rand(len(images), generator=_generator(generator), dtype=torch.float64) * math.pi
    lost = gap_mask(height, width, stripes, stripe_width * _layout_scale(images), angles)
    return images.masked_fill(lost[:, None], 0.0)


def compression_artifacts(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None) -> torch.Tensor:
    """Baseline JPEG at quality 30, 25, 20, 15, 10; deterministic."""
    _check(images, severity)
    return jpeg_compress(images, REOBENCH_TABLE["compression_artifacts"][severity - 1])


def rotate(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None,
           masks: torch.Tensor | None = None):
    """Rotation by +α (counter-clockwise), α = 30 … 90°, bilinear, mirror border; deterministic."""
    _check(images, severity)
    degrees = torch.full((len(images),), float(REOBENCH_TABLE["rotate"][severity - 1]), dtype=torch.float64)
    return rotate_by(images, degrees, masks)


def scale(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None,
          masks: torch.Tensor | None = None):
    """Zoom out by z = .9 … .5 about the centre onto a black canvas; deterministic."""
    _check(images, severity)
    return scale_by(images, REOBENCH_TABLE["scale"][severity - 1], masks, padding="zeros")


def translate(images: torch.Tensor, severity: int, *, generator: GeneratorLike = None,
              masks: torch.Tensor | None = None):
    """Shift by ±s in x and ±s in y (independent random signs), s = 15 … 35 px at 800 px, mirror border."""
    _check(images, severity)
    shift = REOBENCH_TABLE["translate"][severity - 1] * _layout_scale(images)
    signs = torch.randint(2, (2, len(images)), generator=_generator(generator)).to(torch.float64) * 2 - 1
    return translate_by(images, shift * signs[0], shift * signs[1], masks)


OFFICIAL_FUNCTIONS: dict[str, Callable] = {
    "gaussian_noise": gaussian_noise, "salt_and_pepper_noise": salt_and_pepper_noise, "gaussian_blur": gaussian_blur,
    "motion_blur": motion_blur, "brightness_contrast": brightness_contrast, "clouds": clouds, "haze": haze,
    "data_gaps": data_gaps, "compression_artifacts": compression_artifacts, "rotate": rotate, "scale": scale,
    "translate": translate,
}

__all__ += ["gap_mask"]

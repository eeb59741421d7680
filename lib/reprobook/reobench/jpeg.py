"""Baseline JPEG (JFIF YCbCr, 4:2:0 chroma, 8 × 8 DCT, IJG quantisation tables) in batched torch.

The ``compression_artifacts`` corruption encodes and decodes whole batches at once, without a codec
library; the tests compare it with PIL's libjpeg at the same quality.

>>> import torch
>>> images = torch.rand(2, 3, 20, 24, generator=torch.Generator().manual_seed(0))
>>> out = jpeg_compress(images, quality=50)
>>> tuple(out.shape), bool((out * 255 - (out * 255).round()).abs().max() < 1e-4)
((2, 3, 20, 24), True)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["jpeg_compress", "quantisation_tables", "LUMINANCE_TABLE", "CHROMINANCE_TABLE"]

# ITU-T T.81 Annex K, natural (row-major) order
LUMINANCE_TABLE = torch.tensor([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55], [14, 13, 16, 24, 40, 57, 69, 56],
    [14, 17, 22, 29, 51, 87, 80, 62], [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], dtype=torch.float64)
CHROMINANCE_TABLE = torch.tensor([
    [17, 18, 24, 47, 99, 99, 99, 99], [18, 21, 26, 66, 99, 99, 99, 99], [24, 26, 56, 99, 99, 99, 99, 99],
    [47, 66, 99, 99, 99, 99, 99, 99]] + [[99] * 8] * 4, dtype=torch.float64)


def quantisation_tables(quality: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The IJG tables scaled for ``quality`` in 1..100 (libjpeg's ``jpeg_set_quality``, baseline clamp).

    >>> luminance, _ = quantisation_tables(50)
    >>> int(luminance[0, 0]), int(quantisation_tables(25)[0][0, 0])
    (16, 32)
    """
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return tuple(torch.clamp(torch.floor((table * scale + 50) / 100), 1, 255)
                 for table in (LUMINANCE_TABLE, CHROMINANCE_TABLE))


def _dct_matrix() -> torch.Tensor:
    index = torch.arange(8, dtype=torch.float64)
    matrix = torch.cos((2 * index[None, :] + 1) * index[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    matrix[0] /= math.sqrt(2)
    return matrix


_DCT = _dct_matrix().to(torch.float32)


def _blocks(plane: torch.Tensor) -> torch.Tensor:
    n, height, width = plane.shape
    return plane.reshape(n, height // 8, 8, width // 8, 8).permute(0, 1, 3, 2, 4)


def _unblocks(blocks: torch.Tensor) -> torch.Tensor:
    n, rows, cols = blocks.shape[:3]
    return blocks.permute(0, 1, 3, 2, 4).reshape(n, rows * 8, cols * 8)


def _code_plane(plane: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Level shift, DCT, quantise, dequantise, inverse DCT; plane (n, H, W) in 0..255, H and W multiples of 8."""
    blocks = _blocks(plane - 128)
    coefficients = _DCT @ blocks @ _DCT.T
    coefficients = torch.round(coefficients / table) * table
    return _unblocks(_DCT.T @ coefficients @ _DCT) + 128


def jpeg_compress(images: torch.Tensor, quality: int) -> torch.Tensor:
    """Encode and decode (B, 3, H, W) images in [0, 1] as baseline JPEG at ``quality``; same shape, in [0, 1].

    Pixels are first rounded to 8 bits, as an encoder sees them; the output lies on the 1/255 grid.
    """
    luminance, chrominance = (table.to(torch.float32) for table in quantisation_tables(quality))
    batch, _, height, width = images.shape
    pad_h, pad_w = (-height) % 16, (-width) % 16
    pixels = torch.round(images.clamp(0, 1).to(torch.float32) * 255)
    pixels = F.pad(pixels, (0, pad_w, 0, pad_h), mode="replicate")
    red, green, blue = pixels.unbind(1)
    y = torch.round(0.299 * red + 0.587 * green + 0.114 * blue)
    cb = torch.round(-0.168736 * red - 0.331264 * green + 0.5 * blue + 128)
    cr = torch.round(0.5 * red - 0.418688 * green - 0.081312 * blue + 128)
    chroma = torch.round(F.avg_pool2d(torch.stack([cb, cr], 1), 2)).flatten(0, 1)
    y = _code_plane(y, luminance).clamp(0, 255).round()
    chroma = _code_plane(chroma, chrominance).clamp(0, 255).round()
    chroma = F.interpolate(chroma.reshape(batch, 2, *chroma.shape[1:]), scale_factor=2, mode="bilinear",
                           align_corners=False)
    cb, cr = chroma[:, 0] - 128, chroma[:, 1] - 128
    rgb = torch.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], 1)
    rgb = rgb.round().clamp(0, 255)[:, :, :height, :width] / 255
    return rgb.to(images.dtype)

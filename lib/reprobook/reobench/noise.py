"""Fractal (fBm) value noise on batches, shared by the scene generator and the cloud and haze corruptions.

Each octave is a coarse grid of uniform values upsampled bilinearly; summing a few octaves gives
cloud-like noise at the cost of a handful of small interpolations (no per-pixel hashing).

>>> import torch
>>> noise = fbm(2, 32, 32, generator=torch.Generator().manual_seed(0))
>>> tuple(noise.shape), float(noise.amin()), float(noise.amax())
((2, 1, 32, 32), 0.0, 1.0)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["fbm"]


def fbm(n: int, height: int, width: int, *, octaves: int = 5, base: int = 3, persistence: float = 0.5,
        generator: torch.Generator | None = None, normalise: bool = True) -> torch.Tensor:
    """``(n, 1, height, width)`` fractal noise; with ``normalise`` each image is rescaled to [0, 1].

    Octave ``o`` has ``base · 2**o`` cells per side (capped at the image size) and weight ``persistence**o``.
    """
    total = torch.zeros(n, 1, height, width)
    amplitude, weight = 1.0, 0.0
    for octave in range(octaves):
        cells_h = min(height, base * 2 ** octave)
        cells_w = min(width, base * 2 ** octave)
        grid = torch.rand(n, 1, cells_h + 1, cells_w + 1, generator=generator)
        total += amplitude * F.interpolate(grid, size=(height, width), mode="bilinear", align_corners=False)
        weight += amplitude
        amplitude *= persistence
    total /= weight
    if normalise:
        low = total.amin(dim=(2, 3), keepdim=True)
        high = total.amax(dim=(2, 3), keepdim=True)
        total = (total - low) / (high - low).clamp_min(1e-8)
    return total

"""1-D filter kernels as matrices: one parametrised builder for every blur of the chapter.

A separable filter along one axis of length ``size`` is the product with a (size, size) matrix whose row
``p`` holds the taps at the columns ``border(p + offset)``: the border rule (edge-replicate, as scipy's
``mode='nearest'``; or OpenCV's default reflect-101) is folded into the matrix, so a 2-D separable blur of a
(B, C, H, W) batch is two small matrix products, ``rows @ images @ columns.T``. Both severity tables use it:
ImageNet-C's Gaussian blur (replicate) and REOBench's OpenCV Gaussian, box motion blur and cloud-edge
blur (reflect-101).

>>> taps, offsets = gaussian_taps(1.0, radius=4)
>>> kernel_matrix(5, taps, offsets, border="replicate").sum(dim=1).allclose(torch.ones(5, dtype=torch.float32))
True
>>> m = kernel_matrix(4, torch.tensor([0.5, 0.5]), torch.tensor([-1, 0]), border="reflect101")
>>> m[0].tolist(), m[3].tolist()
([0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5])
"""

from __future__ import annotations

import torch

__all__ = ["BORDERS", "gaussian_taps", "kernel_matrix", "separable_filter"]

BORDERS = ("replicate", "reflect101")


def gaussian_taps(sigma: float, radius: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised Gaussian taps exp(−i²/2σ²) at offsets i = −radius … radius (float64), and the offsets."""
    offsets = torch.arange(-radius, radius + 1)
    taps = torch.exp(-offsets.to(torch.float64) ** 2 / (2 * sigma ** 2))
    return taps / taps.sum(), offsets


def _border_index(index: torch.Tensor, size: int, border: str) -> torch.Tensor:
    if border == "replicate":
        return index.clamp(0, size - 1)
    if border != "reflect101":
        raise ValueError(f"border must be one of {', '.join(BORDERS)}, got {border!r}")
    if size == 1:  # OpenCV's reflect-101 (``gfedcb|abcdefgh|gfedcba``), within one period
        return torch.zeros_like(index)
    period = 2 * (size - 1)
    index = torch.remainder(index, period)
    return torch.where(index >= size, period - index, index)


def kernel_matrix(size: int, taps: torch.Tensor, offsets: torch.Tensor, dtype: torch.dtype = torch.float32, *,
                  border: str = "reflect101") -> torch.Tensor:
    """(size, size) matrix M with (M v)[p] = Σ_j taps[j] · v[border(p + offsets[j])]: a 1-D filter as a product."""
    rows = torch.arange(size)[:, None].expand(size, len(taps))
    columns = _border_index(rows + torch.as_tensor(offsets)[None].long(), size, border)
    matrix = torch.zeros(size, size, dtype=torch.float64)
    matrix.index_put_((rows, columns), taps.to(torch.float64).expand(size, -1).clone(), accumulate=True)
    return matrix.to(dtype)


def separable_filter(images: torch.Tensor, row_taps: torch.Tensor, row_offsets: torch.Tensor,
                     column_taps: torch.Tensor | None = None, column_offsets: torch.Tensor | None = None, *,
                     border: str = "reflect101") -> torch.Tensor:
    """Filter (B, C, H, W) images down the rows (vertical taps) and along the columns (horizontal taps).

    Without column taps the same kernel filters both axes.
    """
    if column_taps is None:
        column_taps, column_offsets = row_taps, row_offsets
    height, width = images.shape[-2:]
    rows = kernel_matrix(height, row_taps, row_offsets, images.dtype, border=border).to(images.device)
    columns = kernel_matrix(width, column_taps, column_offsets, images.dtype, border=border).to(images.device)
    return rows @ images @ columns.T

"""The one kernel-matrix builder that every blur of the chapter uses, against scipy's 1-D correlation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from reprobook.reobench import official
from reprobook.reobench.corrupt import blur_with_sigma
from reprobook.reobench.kernels import gaussian_taps, kernel_matrix, separable_filter


@pytest.mark.parametrize(("border", "mode"), [("replicate", "nearest"), ("reflect101", "mirror")])
@pytest.mark.parametrize("size", [1, 5, 17])
def test_kernel_matrix_is_scipy_correlation(border: str, mode: str, size: int) -> None:
    taps, offsets = gaussian_taps(1.3, radius=3)
    signal = torch.rand(size, generator=torch.Generator().manual_seed(size), dtype=torch.float64)
    ours = kernel_matrix(size, taps, offsets, torch.float64, border=border) @ signal
    reference = ndimage.correlate1d(signal.numpy(), taps.numpy(), mode=mode)  # taps centred at offset 0
    assert np.abs(ours.numpy() - reference).max() < 1e-12


def test_unknown_border_is_refused() -> None:
    with pytest.raises(ValueError, match="border must be one of"):
        kernel_matrix(4, torch.ones(1), torch.zeros(1), border="wrap")


def test_both_tables_blur_through_the_one_builder() -> None:
    images = torch.rand(2, 3, 20, 24, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    taps, offsets = gaussian_taps(2.0, radius=8)
    assert torch.equal(blur_with_sigma(images, 2.0),
                       separable_filter(images, taps, offsets, border="replicate").clamp(0, 1))
    kernel = official.opencv_gaussian_kernel(11)
    assert torch.equal(official.gaussian_blur(images, 5),
                       separable_filter(images, kernel, torch.arange(11) - 5).clamp(0, 1))
    assert not hasattr(official, "_reflect101")  # the border rules live in one place

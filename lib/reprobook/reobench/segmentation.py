"""A segmentation probe: a 1 × 1 convolution on frozen patch features, scored by mIoU over the land covers.

REOBench fine-tunes UperNet on Potsdam (mIoU). Our miniature keeps the backbone frozen, as its classification
protocol does, and fits one linear map from each patch's feature vector to the land cover that covers most of
the patch (a 1 × 1 convolution, fitted as a linear probe on the rows of the feature maps) [ours]. Predictions
are upsampled (nearest) to the pixel grid and compared with the pixel masks, which the geometric corruptions
move with the image. mIoU is computed over the whole test set: per class, the summed intersections over the
summed unions, then the mean over the classes that occur.

>>> masks = torch.tensor([[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1], [2, 2, 1, 1]]])
>>> patch_labels(masks, (2, 2), n_classes=3).tolist()
[[[0, 1], [2, 1]]]
>>> counts = iou_counts(torch.tensor([[[0, 1], [1, 1]]]), masks, n_classes=3)
>>> counts[0].tolist()  # intersections, then unions, per class
[[4.0, 8.0, 0.0], [4.0, 12.0, 4.0]]
>>> round(mean_iou(counts), 4)  # (1 + 2/3 + 0) / 3
0.5556
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from reprobook.reobench.probe import LinearProbe, fit_linear_probe

__all__ = ["SegmentationProbe", "patch_labels", "fit_segmentation_probe", "iou_counts", "mean_iou"]


def patch_labels(masks: torch.Tensor, grid: tuple[int, int], n_classes: int) -> torch.Tensor:
    """The majority class of each patch: pixel masks (N, H, W) -> (N, h, w) on a ``grid`` = (h, w) that divides (H, W)."""
    height, width = masks.shape[1:]
    if height % grid[0] or width % grid[1]:
        raise ValueError(f"the patch grid {grid} must divide the mask size {(height, width)}")
    shares = F.avg_pool2d(F.one_hot(masks.long(), n_classes).permute(0, 3, 1, 2).float(),
                          (height // grid[0], width // grid[1]))
    return shares.argmax(dim=1)


def _rows(patches: torch.Tensor) -> torch.Tensor:
    """(N, C, h, w) feature maps -> (N·h·w, C) rows, one per patch."""
    return patches.permute(0, 2, 3, 1).reshape(-1, patches.shape[1])


@dataclass
class SegmentationProbe:
    """The fitted 1 × 1 convolution (a linear probe on patch rows) and the number of classes."""

    probe: LinearProbe
    n_classes: int

    def predict(self, patches: torch.Tensor) -> torch.Tensor:
        """Per-patch classes (N, h, w) from feature maps (N, C, h, w)."""
        batch, _, height, width = patches.shape
        return self.probe.predict(_rows(patches)).reshape(batch, height, width)


def fit_segmentation_probe(patches: torch.Tensor, masks: torch.Tensor, *, n_classes: int, l2: float = 1e-3,
                           max_iter: int = 100) -> SegmentationProbe:
    """Fit the 1 × 1 convolution on feature maps (N, C, h, w) against the patches' majority classes of ``masks``."""
    labels = patch_labels(masks, tuple(patches.shape[2:]), n_classes)
    probe = fit_linear_probe(_rows(patches), labels.reshape(-1), l2=l2, max_iter=max_iter, n_classes=n_classes)
    return SegmentationProbe(probe=probe, n_classes=n_classes)


def iou_counts(predicted: torch.Tensor, masks: torch.Tensor, n_classes: int) -> np.ndarray:
    """Per image and class, the intersection and union (in pixels) of the upsampled prediction with the mask.

    ``predicted`` (N, h, w) patch classes, ``masks`` (N, H, W); returns (N, 2, n_classes): [:, 0] intersections,
    [:, 1] unions.
    """
    height, width = masks.shape[1:]
    pixels = predicted.repeat_interleave(height // predicted.shape[1], dim=1)
    pixels = pixels.repeat_interleave(width // predicted.shape[2], dim=2)
    pred_onehot = F.one_hot(pixels.long(), n_classes).flatten(1, 2).float()
    true_onehot = F.one_hot(masks.long(), n_classes).flatten(1, 2).float()
    intersection = (pred_onehot * true_onehot).sum(dim=1)
    union = pred_onehot.sum(dim=1) + true_onehot.sum(dim=1) - intersection
    return torch.stack([intersection, union], dim=1).numpy()


def mean_iou(counts: np.ndarray) -> float:
    """mIoU from per-image counts (N, 2, classes): Σ intersections / Σ unions per class, mean over occurring classes."""
    totals = np.asarray(counts, dtype=float).sum(axis=0)
    present = totals[1] > 0
    return float((totals[0][present] / totals[1][present]).mean()) if present.any() else float("nan")

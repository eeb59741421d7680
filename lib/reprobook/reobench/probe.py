"""Linear probes on frozen features, and the controls every table carries (colour histogram, pixels, chance).

The probe is multinomial logistic regression on standardised features, fitted full-batch by L-BFGS:
minimise mean cross-entropy + ``l2``·‖W‖² (bias not penalised), the objective of scikit-learn's
``LogisticRegression(C = 1 / (2·n·l2))``.

>>> import torch
>>> features = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
>>> probe = fit_linear_probe(features, torch.tensor([0, 0, 1, 1]), l2=1e-4)
>>> probe.predict(features).tolist(), probe.accuracy(features, torch.tensor([0, 0, 1, 1]))
([0, 0, 1, 1], 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LinearProbe", "fit_linear_probe", "colour_histogram", "pixel_features", "PixelMLP", "fit_pixel_mlp"]


@dataclass
class LinearProbe:
    """Standardisation (mean, std) and the linear classifier (weight, bias) fitted on training features."""

    mean: torch.Tensor
    std: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        standard = (features.to(torch.float64) - self.mean) / self.std
        return standard @ self.weight.T + self.bias

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        return self.logits(features).argmax(dim=1)

    def accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        return float((self.predict(features) == labels).double().mean())


def fit_linear_probe(features: torch.Tensor, labels: torch.Tensor, *, l2: float = 1e-3, max_iter: int = 300,
                     n_classes: int | None = None, standardise: bool = True) -> LinearProbe:
    """Fit the probe (float64, L-BFGS with strong-Wolfe line search, from zero weights: deterministic)."""
    data = features.to(torch.float64)
    mean = data.mean(dim=0) if standardise else torch.zeros(data.shape[1], dtype=torch.float64)
    std = data.std(dim=0).clamp_min(1e-8) if standardise else torch.ones(data.shape[1], dtype=torch.float64)
    data = (data - mean) / std
    n_classes = n_classes or int(labels.max()) + 1
    weight = torch.zeros(n_classes, data.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=max_iter, tolerance_grad=1e-9,
                                  tolerance_change=1e-12, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(data @ weight.T + bias, labels) + l2 * (weight ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return LinearProbe(mean=mean, std=std, weight=weight.detach(), bias=bias.detach())


def colour_histogram(images: torch.Tensor, bins: int = 6) -> torch.Tensor:
    """Joint RGB histogram with ``bins`` levels per channel (216 bins by default), normalised per image.

    >>> colour_histogram(torch.zeros(1, 3, 4, 4))[0, 0].item()
    1.0
    """
    if images.dtype == torch.uint8:
        images = images.float() / 255
    levels = (images * bins).long().clamp(0, bins - 1)
    index = (levels[:, 0] * bins + levels[:, 1]) * bins + levels[:, 2]
    flat = index.flatten(1)
    counts = torch.zeros(len(images), bins ** 3).scatter_add_(1, flat, torch.ones(flat.shape))
    return counts / flat.shape[1]


def pixel_features(images: torch.Tensor, size: int = 16) -> torch.Tensor:
    """Raw pixels, average-pooled to ``size`` × ``size`` and flattened (the pixel-MLP control's input)."""
    if images.dtype == torch.uint8:
        images = images.float() / 255
    return F.adaptive_avg_pool2d(images, size).flatten(1)


class PixelMLP(nn.Module):
    """One hidden layer on standardised pooled pixels."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, hidden: int, n_classes: int):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.net = nn.Sequential(nn.Linear(len(mean), hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net((features - self.mean) / self.std)

    @torch.no_grad()
    def accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        return float((self(features).argmax(dim=1) == labels).double().mean())


def fit_pixel_mlp(features: torch.Tensor, labels: torch.Tensor, *, hidden: int = 256, epochs: int = 60,
                  seed: int = 0) -> PixelMLP:
    """Train the pixel-MLP control with Adam, minibatches of 256, weight decay 1e-4."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = PixelMLP(features.mean(0), features.std(0).clamp_min(1e-6), hidden, int(labels.max()) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(epochs):
        order = torch.randperm(len(features), generator=generator)
        for start in range(0, len(features), 256):
            index = order[start:start + 256]
            loss = F.cross_entropy(model(features[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()

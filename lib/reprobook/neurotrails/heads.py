"""The 1-D ResNet and its multi-head split (NeuroTrails §2.1): a shared trunk, M heads in one pass.

A backbone of B residual blocks is cut after block B − b: the stem and the first B − b blocks form a
shared trunk, and each of the M heads owns a copy of the last b blocks and its own linear classifier.
The heads' weights are stacked into one grouped convolution per layer (M groups of C channels), so
each group is exactly an independent head, one BatchNorm call normalises all heads, and a forward
pass handles every head and sample together (the convolution itself loops over the M heads, which is
faster on CPU than PyTorch's grouped kernel). One pass is a convenience, not a speed-up: against M
separate networks it was measured up to ≈ 1.2× slower on a loaded 2-core machine (``bench/neurotrails.py``
measures it on yours). With
``share_stem=False`` and b = B the model is a full ensemble of M independent networks.

>>> model = MultiHeadResNet1d(width=32, blocks_in_head=3, n_heads=3)
>>> model(torch.zeros(2, 1, 40)).shape
torch.Size([2, 3, 10])
>>> sum(p.numel() for p in MultiHeadResNet1d(width=32, n_heads=1).parameters())
38186
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["HeadsConv1d", "ResidualBlock1d", "StackedLinear", "MultiHeadResNet1d", "build_model", "nnz_flops", "METHODS"]

#: the methods of the chapter: (dense?, multi-head?) are fixed by the name
METHODS = ("single", "sparse_single", "full_ensemble", "treenet", "neurotrails", "neurotrails_static")


class HeadsConv1d(nn.Conv1d):
    """A grouped convolution computed group by group: the same layer (weights, init, output) as
    ``nn.Conv1d(..., groups=M)``, but faster on CPU than PyTorch's grouped kernel, which is slower than M
    plain convolutions. The loop runs over the M heads, never over samples."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.groups == 1:
            return super().forward(x)
        inputs, outputs = self.in_channels // self.groups, self.out_channels // self.groups
        return torch.cat([
            nn.functional.conv1d(x[:, g * inputs:(g + 1) * inputs], self.weight[g * outputs:(g + 1) * outputs],
                                 None, self.stride, self.padding, self.dilation)
            for g in range(self.groups)], dim=1)


class ResidualBlock1d(nn.Module):
    """conv3–BN–ReLU–conv3–BN plus the identity, then ReLU; ``groups`` independent blocks side by side."""

    def __init__(self, width: int, groups: int = 1):
        super().__init__()
        channels = width * groups
        self.conv1 = HeadsConv1d(channels, channels, 3, padding=1, bias=False, groups=groups)
        self.bn1 = nn.BatchNorm1d(channels)
        self.conv2 = HeadsConv1d(channels, channels, 3, padding=1, bias=False, groups=groups)
        self.bn2 = nn.BatchNorm1d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(out)))


class StackedLinear(nn.Module):
    """M independent linear layers applied to (N, M, C) → (N, M, K), initialised like ``nn.Linear``."""

    def __init__(self, n_heads: int, in_features: int, out_features: int):
        super().__init__()
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(n_heads, out_features, in_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_heads, out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nmc,mkc->nmk", x, self.weight) + self.bias


class MultiHeadResNet1d(nn.Module):
    """Stem conv(1 → C, k = 5) + BN + ReLU, ``n_blocks`` residual blocks, global average pool, linear.

    ``blocks_in_head`` = b of the last blocks are copied into each of ``n_heads`` heads. The output is
    the per-head logits (N, M, K); average them over M for the ensemble's prediction.
    """

    def __init__(self, width: int = 48, n_blocks: int = 6, blocks_in_head: int = 0, n_heads: int = 1,
                 n_classes: int = 10, share_stem: bool = True):
        super().__init__()
        if not 0 <= blocks_in_head <= n_blocks:
            raise ValueError(f"blocks_in_head must be in [0, {n_blocks}], got {blocks_in_head}")
        if not share_stem and blocks_in_head != n_blocks:
            raise ValueError("an unshared stem needs every block in the heads (blocks_in_head = n_blocks)")
        self.width, self.n_blocks, self.blocks_in_head = width, n_blocks, blocks_in_head
        self.n_heads, self.n_classes, self.share_stem = n_heads, n_classes, share_stem
        stem_groups = 1 if share_stem else n_heads
        self.stem = HeadsConv1d(stem_groups, width * stem_groups, 5, padding=2, bias=False, groups=stem_groups)
        self.stem_bn = nn.BatchNorm1d(width * stem_groups)
        self.trunk = nn.Sequential(*[ResidualBlock1d(width) for _ in range(n_blocks - blocks_in_head)])
        self.heads = nn.Sequential(*[ResidualBlock1d(width, groups=n_heads) for _ in range(blocks_in_head)])
        self.classifier = StackedLinear(n_heads, width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.share_stem:
            x = x.expand(-1, self.n_heads, -1)
        out = self.trunk(torch.relu(self.stem_bn(self.stem(x))))
        if self.share_stem and self.n_heads > 1:
            out = out.repeat(1, self.n_heads, 1)
        out = self.heads(out).mean(dim=2)
        return self.classifier(out.view(len(x), self.n_heads, self.width))

    def sparse_groups(self) -> dict[str, int]:
        """Parameter name → number of stacked independent layers, for :class:`reprobook.sparse.DynamicSparsity`."""
        groups = {"classifier.weight": self.n_heads}
        if not self.share_stem:
            groups["stem.weight"] = self.n_heads
        for name, _ in self.heads.named_parameters():
            if name.endswith("conv1.weight") or name.endswith("conv2.weight"):
                groups[f"heads.{name}"] = self.n_heads
        return {name: count for name, count in groups.items() if count > 1}


def build_model(method: str, *, width: int, blocks_in_head: int, n_heads: int, n_blocks: int = 6,
                n_classes: int = 10) -> MultiHeadResNet1d:
    """The architecture of a method: one network, M independent networks, or M heads at split b."""
    if method in ("single", "sparse_single"):
        return MultiHeadResNet1d(width, n_blocks, 0, 1, n_classes)
    if method == "full_ensemble":
        return MultiHeadResNet1d(width, n_blocks, n_blocks, n_heads, n_classes, share_stem=False)
    if method in ("treenet", "neurotrails", "neurotrails_static"):
        return MultiHeadResNet1d(width, n_blocks, blocks_in_head, n_heads, n_classes)
    raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")


def nnz_flops(model: MultiHeadResNet1d, length: int = 40) -> int:
    """Multiply-adds × 2 of the nonzero conv and linear weights for one input of ``length`` samples.

    Every convolution keeps the length (same padding), so a conv weight entry costs ``length``
    multiply-adds; BN, ReLU, pooling and biases are not counted.
    """
    total = 0
    for module in model.modules():
        if isinstance(module, nn.Conv1d):
            total += int((module.weight != 0).sum()) * length
        elif isinstance(module, StackedLinear):
            total += int((module.weight != 0).sum())
    return 2 * total

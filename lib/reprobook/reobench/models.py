"""Backbones trained here on clean scenes only, then frozen for linear probes (REOBench's classification protocol).

Four ways to pre-train a small backbone on the same clean pool [ours: REOBench probes published foundation
models (SatMAE, ScaleMAE, RemoteCLIP, GeoRSCLIP, …), which need network downloads]:

* ``supervised``: a 4-stage CNN trained with labels (the mCE reference);
* ``mae``: a small ViT (patch 8) trained as a masked autoencoder (75 % of patches hidden, pixel decoder);
* ``simclr``: the CNN trained contrastively (two 48² crops with colour and blur augmentations, NT-Xent) [ours:
  the brief's ViT variant cost three times more per epoch at our budget];
* ``clip``: the CNN trunk trained against a bag-of-words text encoder on generated captions (class phrase plus
  each land cover's amount and position, so captions carry more than the label; InfoNCE),
  our stand-in for a vision-language model.

>>> model = TinyCNN()
>>> tuple(model.features(torch.zeros(2, 3, 64, 64)).shape)
(2, 192)
>>> tuple(TinyViT().features(torch.zeros(2, 3, 64, 64)).shape)
(2, 128)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from reprobook.reobench.corrupt import blur_with_sigma
from reprobook.reobench.synth import caption_vocabulary

__all__ = ["BACKBONES", "PARADIGMS", "Paradigm", "Batch", "LEARNING_RATES", "cnn_widths", "TinyCNN", "TinyViT", "TrainResult", "train_backbone", "extract_features",
           "dihedral", "simclr_views", "parameter_count"]

BACKBONES = ("supervised", "mae", "simclr", "clip")
#: Peak learning rates, chosen on clean accuracy of a pilot validation set (seed 123457, disjoint from the
#: chapter's training and test seeds) before any corrupted result: the ViT's MAE trained better at 5e-4.
LEARNING_RATES = {"supervised": 2e-3, "mae": 5e-4, "simclr": 2e-3, "clip": 2e-3}


def _conv(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class TinyCNN(nn.Module):
    """Stride-2 stem and four stages (24, 48, 96, 192 channels), global average pooling, a linear head.

    Weights and inputs are kept channels-last (NHWC): oneDNN's convolutions then train more images per
    CPU-second on one thread than in the default NCHW layout (1.46× in one micro-benchmark, about 1.2× per
    backbone in a whole book run, where data handling is unchanged); the chapter's book budget is bought with it.
    """

    def __init__(self, n_classes: int = 9, widths: tuple[int, ...] = (24, 48, 96, 192)):
        super().__init__()
        layers = [_conv(3, widths[0], 2), _conv(widths[0], widths[0])]
        for previous, width in zip(widths[:-1], widths[1:], strict=True):
            layers += [_conv(previous, width, 2), _conv(width, width)]
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1], n_classes)
        self.dim = widths[-1]
        self.trunk.to(memory_format=torch.channels_last)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.trunk(images.contiguous(memory_format=torch.channels_last)).mean(dim=(2, 3))

    def patches(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled features and patch features from one pass: the last two stages' maps at stride 8 (nearest
        upsampling of the coarser one), concatenated; ((N, dim), (N, C, H/8, W/8)), 8-pixel patches as the ViT's."""
        maps = []
        out = images.contiguous(memory_format=torch.channels_last)
        for index, layer in enumerate(self.trunk):
            out = layer(out)
            if index >= 5 and index % 2 == 1:  # the end of the third and fourth stages
                maps.append(out)
        size = maps[0].shape[2:]
        grid = torch.cat([maps[0]] + [F.interpolate(level, size=size, mode="nearest") for level in maps[1:]], dim=1)
        return out.mean(dim=(2, 3)), grid

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float = 2.0):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, int(dim * mlp_ratio)), nn.GELU(), nn.Linear(int(dim * mlp_ratio), dim))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        normed = self.norm1(tokens)
        tokens = tokens + self.attention(normed, normed, normed, need_weights=False)[0]
        return tokens + self.mlp(self.norm2(tokens))


def _sincos_positions(grid: int, dim: int) -> torch.Tensor:
    """Fixed 2-D sine-cosine position embeddings, (grid², dim)."""
    quarter = dim // 4
    frequencies = 1.0 / (10000 ** (torch.arange(quarter, dtype=torch.float32) / quarter))
    ys, xs = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32),
                            indexing="ij")
    parts = []
    for axis in (ys.flatten(), xs.flatten()):
        angles = axis[:, None] * frequencies[None]
        parts += [torch.sin(angles), torch.cos(angles)]
    return torch.cat(parts, dim=1)


class TinyViT(nn.Module):
    """Patch-8 ViT (dim 128, depth 4, 4 heads, MLP ratio 2, fixed sin-cos positions); features = mean token."""

    def __init__(self, image_size: int = 64, patch: int = 8, dim: int = 128, depth: int = 4, heads: int = 4):
        super().__init__()
        self.patch, self.dim, self.grid = patch, dim, image_size // patch
        self.embed = nn.Conv2d(3, dim, patch, patch)
        self.register_buffer("positions", _sincos_positions(self.grid, dim), persistent=False)
        self.blocks = nn.ModuleList(_Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def tokens(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed(images).flatten(2).transpose(1, 2) + self.positions

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.encode(self.tokens(images)).mean(dim=1)

    def patches(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled features and the encoded patch tokens as a map; ((N, dim), (N, dim, grid, grid))."""
        tokens = self.encode(self.tokens(images))
        grid = tokens.transpose(1, 2).reshape(len(images), self.dim, self.grid, self.grid)
        return tokens.mean(dim=1), grid


class _MAEDecoder(nn.Module):
    def __init__(self, encoder: TinyViT, dim: int = 64):
        super().__init__()
        self.project = nn.Linear(encoder.dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.register_buffer("positions", _sincos_positions(encoder.grid, dim), persistent=False)
        self.block = _Block(dim, 4)
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, encoder.patch ** 2 * 3)

    def forward(self, visible: torch.Tensor, keep: torch.Tensor, n_tokens: int) -> torch.Tensor:
        batch = visible.shape[0]
        tokens = self.mask_token.expand(batch, n_tokens, -1).clone()
        tokens.scatter_(1, keep[..., None].expand(-1, -1, tokens.shape[2]), self.project(visible))
        return self.out(self.norm(self.block(tokens + self.positions)))


def _patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    batch, channels, height, width = images.shape
    patches = images.reshape(batch, channels, height // patch, patch, width // patch, patch)
    return patches.permute(0, 2, 4, 3, 5, 1).reshape(batch, (height // patch) * (width // patch), -1)


class _TextEncoder(nn.Module):
    def __init__(self, vocabulary: tuple[str, ...], dim: int):
        super().__init__()
        self.index = {word: i for i, word in enumerate(vocabulary)}
        self.bag = nn.EmbeddingBag(len(vocabulary), dim, mode="mean")
        self.project = nn.Linear(dim, dim)

    def forward(self, captions: list[str]) -> torch.Tensor:
        ids = [torch.tensor([self.index[word] for word in caption.split()]) for caption in captions]
        offsets = torch.tensor([0] + [len(words) for words in ids[:-1]]).cumsum(0)
        device = self.project.weight.device
        ids, offsets = [words.to(device) for words in ids], offsets.to(device)
        return self.project(self.bag(torch.cat(ids), offsets))


def dihedral(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random element of the dihedral group (flips and 90° turns) per image; square images."""
    flips = (torch.rand(3, len(images), generator=generator) < 0.5).to(images.device)
    images = torch.where(flips[0, :, None, None, None], images.flip(-1), images)
    images = torch.where(flips[1, :, None, None, None], images.flip(-2), images)
    return torch.where(flips[2, :, None, None, None], images.transpose(-1, -2), images)


def simclr_views(images: torch.Tensor, generator: torch.Generator, size: int | None = None) -> torch.Tensor:
    """One SimCLR view per image: resized crop (area 35–100 %, output ``size``²), dihedral, colour jitter, grey, blur."""
    n = len(images)
    uniform = torch.rand(9, n, generator=generator).to(images.device)
    side = torch.sqrt(0.35 + 0.65 * uniform[0])
    theta = torch.zeros(n, 2, 3, device=images.device)
    theta[:, 0, 0] = theta[:, 1, 1] = side
    theta[:, 0, 2] = (1 - side) * (2 * uniform[1] - 1)
    theta[:, 1, 2] = (1 - side) * (2 * uniform[2] - 1)
    size = size or images.shape[-1]
    grid = F.affine_grid(theta, [n, images.shape[1], size, size], align_corners=False)
    views = dihedral(F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False),
                     generator)
    brightness = (0.6 + 0.8 * uniform[3])[:, None, None, None]
    contrast = (0.6 + 0.8 * uniform[4])[:, None, None, None]
    saturation = (0.6 + 0.8 * uniform[5])[:, None, None, None]
    views = views * brightness
    mean = views.mean(dim=(1, 2, 3), keepdim=True)
    views = (views - mean) * contrast + mean
    grey = views.mean(dim=1, keepdim=True)
    views = (views - grey) * saturation + grey
    views = torch.where((uniform[6] < 0.2)[:, None, None, None], views.mean(dim=1, keepdim=True).expand_as(views),
                        views).clamp(0, 1)
    return torch.where((uniform[7] < 0.5)[:, None, None, None], blur_with_sigma(views, 0.5 + 1.5 * float(uniform[8, 0])),
                       views)


def parameter_count(module: nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


@dataclass
class TrainResult:
    """A trained backbone (call ``backbone.features``), its losses per epoch and its training cost."""

    backbone: nn.Module
    losses: list[float]
    seconds: float
    cpu_seconds: float
    parameters: int


def _nt_xent(first: torch.Tensor, second: torch.Tensor, temperature: float) -> torch.Tensor:
    embeddings = F.normalize(torch.cat([first, second]), dim=1)
    similarity = embeddings @ embeddings.T / temperature
    similarity.fill_diagonal_(float("-inf"))
    n = len(first)
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(first.device)
    return F.cross_entropy(similarity, targets)


def cnn_widths(width: float) -> tuple[int, ...]:
    """The CNN's stage widths scaled by ``width`` (1 → 24, 48, 96, 192).

    >>> cnn_widths(0.5)
    (12, 24, 48, 96)
    """
    return tuple(max(4, int(round(base * width))) for base in (24, 48, 96, 192))


@dataclass
class Batch:
    """One training step's inputs: images, labels, captions and the run's random generator."""

    images: torch.Tensor
    labels: torch.Tensor
    captions: list[str]
    generator: torch.Generator


@dataclass(frozen=True)
class Paradigm:
    """A pre-training objective: which backbone, its extra (training-only) modules, and its loss on a batch."""

    backbone: Callable[[int, int, float], nn.Module]  # (image size, classes, width) -> backbone
    extra: Callable[[nn.Module], nn.ModuleDict]
    loss: Callable[[nn.Module, nn.ModuleDict, Batch], torch.Tensor]


def _cnn(size: int, n_classes: int, width: float) -> nn.Module:
    return TinyCNN(n_classes=n_classes, widths=cnn_widths(width))


def _vit(size: int, n_classes: int, width: float) -> nn.Module:
    return TinyViT(image_size=size)


def _no_extra(backbone: nn.Module) -> nn.ModuleDict:
    return nn.ModuleDict()


def _supervised_loss(backbone: nn.Module, extra: nn.ModuleDict, batch: Batch) -> torch.Tensor:
    return F.cross_entropy(backbone(dihedral(batch.images, batch.generator)), batch.labels)


def _mae_extra(backbone: nn.Module) -> nn.ModuleDict:
    return nn.ModuleDict({"decoder": _MAEDecoder(backbone)})


def _mae_loss(backbone: nn.Module, extra: nn.ModuleDict, batch: Batch) -> torch.Tensor:
    images = dihedral(batch.images, batch.generator)
    tokens = backbone.tokens(images)
    n_tokens = tokens.shape[1]
    keep = torch.rand(len(images), n_tokens, generator=batch.generator).argsort(dim=1)[:, : n_tokens // 4]
    keep = keep.to(images.device)
    visible = backbone.encode(tokens.gather(1, keep[..., None].expand(-1, -1, tokens.shape[2])))
    prediction = extra["decoder"](visible, keep, n_tokens)
    target = _patchify(images, backbone.patch)
    target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
    hidden = torch.ones(len(images), n_tokens, dtype=torch.bool, device=images.device)
    hidden.scatter_(1, keep, False)
    return ((prediction - target) ** 2).mean(-1)[hidden].mean()


def _simclr_extra(backbone: nn.Module) -> nn.ModuleDict:
    return nn.ModuleDict({"projector": nn.Sequential(nn.Linear(backbone.dim, 128), nn.ReLU(), nn.Linear(128, 64))})


def _simclr_loss(backbone: nn.Module, extra: nn.ModuleDict, batch: Batch) -> torch.Tensor:
    crop = 3 * batch.images.shape[-1] // 4  # smaller views: the CNN is size-agnostic and the pair costs one image
    first = extra["projector"](backbone.features(simclr_views(batch.images, batch.generator, crop)))
    second = extra["projector"](backbone.features(simclr_views(batch.images, batch.generator, crop)))
    return _nt_xent(first, second, temperature=0.2)


def _clip_extra(backbone: nn.Module) -> nn.ModuleDict:
    return nn.ModuleDict({"image_projection": nn.Linear(backbone.dim, 64),
                          "text": _TextEncoder(caption_vocabulary(), 64)})


def _clip_loss(backbone: nn.Module, extra: nn.ModuleDict, batch: Batch) -> torch.Tensor:
    image_embedding = F.normalize(extra["image_projection"](backbone.features(dihedral(batch.images,
                                                                                      batch.generator))), dim=1)
    unique = sorted(set(batch.captions))
    position = {caption: i for i, caption in enumerate(unique)}
    inverse = torch.tensor([position[caption] for caption in batch.captions], device=batch.images.device)
    text_embedding = F.normalize(extra["text"](unique), dim=1)
    logits = image_embedding @ text_embedding.T / 0.07
    # images sharing a caption are all positives for it: classify each image to its caption, and each caption
    # to the mean over its images
    image_loss = F.cross_entropy(logits, inverse)
    same = (inverse[None, :] == torch.arange(len(unique), device=inverse.device)[:, None]).float()
    text_loss = -(F.log_softmax(logits.T, dim=1) * same / same.sum(1, keepdim=True)).sum(1).mean()
    return (image_loss + text_loss) / 2


#: One strategy per pre-training paradigm; :func:`train_backbone` runs the same loop for each.
PARADIGMS: dict[str, Paradigm] = {
    "supervised": Paradigm(_cnn, _no_extra, _supervised_loss),
    "mae": Paradigm(_vit, _mae_extra, _mae_loss),
    "simclr": Paradigm(_cnn, _simclr_extra, _simclr_loss),
    "clip": Paradigm(_cnn, _clip_extra, _clip_loss),
}


def train_backbone(kind: str, images: torch.Tensor, labels: torch.Tensor, captions: tuple[str, ...], *,
                   epochs: int, seed: int = 0, batch_size: int = 128, lr: float | None = None,
                   width: float = 1.0, device: str = "cpu") -> TrainResult:
    """Pre-train one backbone of ``kind`` (see :data:`PARADIGMS`) on clean images; labels only for supervised.

    AdamW (weight decay 0.05), 5 % warm-up then cosine decay; ``lr`` defaults to :data:`LEARNING_RATES`.
    Initial weights come from ``seed`` without touching torch's global random state; the trained backbone
    is returned on the CPU.
    """
    if kind not in PARADIGMS:
        raise ValueError(f"unknown backbone {kind!r}; allowed: {', '.join(PARADIGMS)}")
    paradigm = PARADIGMS[kind]
    lr = LEARNING_RATES[kind] if lr is None else lr
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        backbone = paradigm.backbone(images.shape[-1], int(labels.max()) + 1, width)
        extra = paradigm.extra(backbone)
    generator = torch.Generator().manual_seed(seed)
    backbone.to(device)
    extra.to(device)
    parameters = list(backbone.parameters()) + list(extra.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.05)
    total = max(1, epochs * math.ceil(len(images) / batch_size))
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
    losses: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    backbone.train()
    extra.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        running, count = 0.0, 0
        for start in range(0, len(images), batch_size):
            index = order[start:start + batch_size]
            if len(index) < 2:
                continue
            batch = Batch(images=images[index].to(device), labels=labels[index].to(device),
                          captions=[captions[int(i)] for i in index], generator=generator)
            loss = paradigm.loss(backbone, extra, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            running += float(loss.detach()) * len(index)
            count += len(index)
        losses.append(running / max(count, 1))
    backbone.eval()
    backbone.to("cpu")
    return TrainResult(backbone=backbone, losses=losses, seconds=time.perf_counter() - wall,
                       cpu_seconds=time.process_time() - cpu, parameters=parameter_count(backbone))


@torch.no_grad()
def extract_features(backbone: nn.Module, images: torch.Tensor, batch_size: int = 256,
                     device: str = "cpu", patches: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Frozen features of float or uint8 images (uint8 are divided by 255), in batches on ``device``; (N, dim) on CPU.

    With ``patches`` the same pass also returns the backbone's patch-feature maps: ``(features, maps)``.
    """
    backbone.eval()
    backbone.to(device)
    chunks, maps = [], []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].to(device)
        if batch.dtype == torch.uint8:
            batch = batch.float() / 255
        if patches:
            pooled, grid = backbone.patches(batch)
            chunks.append(pooled.cpu())
            maps.append(grid.cpu())
        else:
            chunks.append(backbone.features(batch).cpu())
    backbone.to("cpu")
    return (torch.cat(chunks), torch.cat(maps)) if patches else torch.cat(chunks)

"""Procedural aerial scenes: nine scene classes told apart by spatial structure, not by colour.

Each scene is a land-cover map (water, forest, field, building, road) drawn from class-specific layouts
(rotated street grids, striped parcels, sinusoidal rivers, noisy lake blobs, crossing highways), painted
with a palette drawn per image so that no class owns a colour, then lit with nuisances (sun direction for
the one-pixel building shadows, global gain, an illumination gradient, channel tint, a light veil, sensor
noise). Everything is batched torch and deterministic per seed. [ours: REOBench uses real imagery (AID,
Potsdam, DIOR); these scenes only stand in for it offline.]

>>> scenes = generate_scenes(18, seed=0, size=32)
>>> tuple(scenes.images.shape), scenes.labels.bincount().tolist()
((18, 3, 32, 32), [2, 2, 2, 2, 2, 2, 2, 2, 2])
>>> bool(torch.equal(scenes.images, generate_scenes(18, seed=0, size=32).images))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from reprobook.reobench.corrupt import blur_with_sigma
from reprobook.reobench.noise import fbm

__all__ = ["CLASSES", "LAND_COVER", "Scenes", "SceneDataset", "generate_scenes", "caption_vocabulary"]

CLASSES = ("forest", "meadow", "farmland", "river", "lake", "dense_residential", "sparse_residential",
           "industrial", "highway")
LAND_COVER = ("water", "forest", "field", "building", "road")
WATER, FOREST, FIELD, BUILDING, ROAD = range(5)

# palette anchors (RGB in [0, 1]); every image draws one anchor per land cover and jitters it, and the
# anchors of different covers overlap (green water, brown fields, grey roofs and roads)
_ANCHORS = {
    WATER: [[.10, .22, .40], [.12, .30, .28], [.30, .28, .20], [.08, .11, .14], [.22, .36, .44], [.25, .35, .22]],
    FOREST: [[.10, .25, .08], [.16, .24, .11], [.24, .27, .13], [.12, .19, .16], [.30, .33, .18]],
    FIELD: [[.35, .46, .20], [.56, .50, .30], [.26, .40, .16], [.62, .57, .42], [.46, .36, .22], [.30, .30, .22]],
    BUILDING: [[.62, .30, .25], [.56, .56, .56], [.82, .80, .78], [.32, .36, .50], [.46, .36, .30], [.30, .42, .30]],
    ROAD: [[.34, .34, .35], [.48, .47, .46], [.60, .58, .55], [.42, .38, .33], [.26, .27, .28]],
}
_PHRASES = {
    "forest": "a dense forest", "meadow": "an open meadow", "farmland": "striped farmland fields",
    "river": "a river crossing the land", "lake": "a lake surrounded by land",
    "dense_residential": "a dense residential area", "sparse_residential": "a sparse residential area",
    "industrial": "an industrial area with large buildings", "highway": "a highway crossing the land",
}


@dataclass(frozen=True)
class Scenes:
    """A batch of scenes: ``images`` (n, 3, H, W) in [0, 1], land-cover ``masks`` (n, H, W), class ``labels``."""

    images: torch.Tensor
    masks: torch.Tensor
    labels: torch.Tensor
    captions: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


class SceneDataset(torch.utils.data.Dataset):
    """A torchgeo-like data set: ``dataset[i]`` is a dict with ``image``, ``mask``, ``label`` and ``caption``.

    >>> item = SceneDataset(9, seed=1, size=32)[0]
    >>> sorted(item), tuple(item["image"].shape), item["mask"].dtype
    (['caption', 'image', 'label', 'mask'], (3, 32, 32), torch.int64)
    """

    def __init__(self, n: int, seed: int, size: int = 64):
        self.scenes = generate_scenes(n, seed=seed, size=size)

    def __len__(self) -> int:
        return len(self.scenes)

    def __getitem__(self, index: int) -> dict:
        return {"image": self.scenes.images[index], "mask": self.scenes.masks[index],
                "label": int(self.scenes.labels[index]), "caption": self.scenes.captions[index]}


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def _coordinates(n: int, size: int, generator: torch.Generator, jitter: float = 0.5):
    """Rotated coordinates (u, v), in image widths, about a random centre near the middle; each (n, H, W)."""
    axis = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    angle = _uniform(n, 0.0, math.pi, generator)[:, None, None]
    cx = (0.5 + jitter * (torch.rand(n, generator=generator) - 0.5))[:, None, None]
    cy = (0.5 + jitter * (torch.rand(n, generator=generator) - 0.5))[:, None, None]
    dx, dy = x - cx, y - cy
    return dx * torch.cos(angle) + dy * torch.sin(angle), -dx * torch.sin(angle) + dy * torch.cos(angle)


def _cell_values(n: int, u: torch.Tensor, v: torch.Tensor, period: torch.Tensor, generator: torch.Generator,
                 channels: int = 1) -> torch.Tensor:
    """A random value per grid cell (cell index = floor(u / period), floor(v / period)); (n, channels, H, W)."""
    table = torch.rand(n, channels, 32 * 32, generator=generator)
    iu = torch.floor(u / period).long() % 32
    iv = torch.floor(v / period).long() % 32
    index = (iu * 32 + iv).flatten(1)[:, None, :].expand(n, channels, -1)
    return table.gather(2, index).reshape(n, channels, *u.shape[1:])


def _smooth_shade(n: int, size: int, generator: torch.Generator, amount: float = 0.3) -> torch.Tensor:
    return 1 - amount / 2 + amount * fbm(n, size, size, octaves=4, base=2, generator=generator)[:, 0]


def _crowns(n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """Tree-crown texture: noise with features about 3 % of the image wide, in [0, 1]; (n, H, W)."""
    return fbm(n, size, size, octaves=2, base=max(4, size // 3), generator=generator)[:, 0]


def _above_quantile(values: torch.Tensor, share: torch.Tensor) -> torch.Tensor:
    """Per image, the ``share`` of pixels with the largest values (n, H, W) -> bool."""
    threshold = _rowwise_quantile(values.flatten(1), 1 - share)
    return values > threshold[:, None, None]


def _rowwise_quantile(flat: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    ordered = flat.sort(dim=1).values
    index = (q.clamp(0, 1) * (flat.shape[1] - 1)).round().long()
    return ordered.gather(1, index[:, None])[:, 0]


def _thin_roads(n: int, size: int, generator: torch.Generator, probability: float = 0.4) -> torch.Tensor:
    """A dirt road (about 1.5 px at 64²) across some of the scenes; bool (n, H, W)."""
    u, v = _coordinates(n, size, generator)
    present = torch.rand(n, generator=generator) < probability
    return (v.abs() < 0.012 + 0.5 / size) & present[:, None, None]


def _layout_forest(n, size, g):
    mask = torch.full((n, size, size), FIELD)
    shade = _smooth_shade(n, size, g)
    cover = _above_quantile(fbm(n, size, size, octaves=3, base=2, generator=g)[:, 0], _uniform(n, 0.45, 0.85, g))
    crowns = _crowns(n, size, g)
    mask[cover] = FOREST
    shade = torch.where(cover, 0.55 + 0.9 * crowns, shade)
    mask[_thin_roads(n, size, g)] = ROAD
    return mask, shade


def _layout_meadow(n, size, g):
    mask = torch.full((n, size, size), FIELD)
    shade = _smooth_shade(n, size, g, amount=0.4)
    trees = _above_quantile(_crowns(n, size, g), _uniform(n, 0.03, 0.3, g))
    mask[trees] = FOREST
    mask[_thin_roads(n, size, g)] = ROAD
    return mask, shade


def _layout_farmland(n, size, g):
    mask = torch.full((n, size, size), FIELD)
    u, v = _coordinates(n, size, g)
    period = _uniform(n, 0.25, 0.4, g)[:, None, None]
    stripe = _uniform(n, 3.0, 5.0, g)[:, None, None] / size
    cells = _cell_values(n, u, v, period, g, channels=2)
    along = torch.where(cells[:, 0] < 0.5, u, v)
    stripes = torch.sin(2 * math.pi * along / stripe) > 0
    shade = (0.8 + 0.4 * cells[:, 1]) * torch.where(stripes, 1.12, 0.88)
    hedges = ((torch.remainder(u, period) < 0.015) | (torch.remainder(v, period) < 0.015))
    mask[hedges & (torch.rand(n, generator=g) < 0.5)[:, None, None]] = FOREST
    mask[_thin_roads(n, size, g)] = ROAD
    return mask, shade


def _banks(mask, distance, n, size, g):
    """Trees along a shore: pixels within ``distance`` of water-ish width, broken up by crowns."""
    crowns = _crowns(n, size, g)
    mask[(distance > 0) & (distance < 0.05) & (crowns > 0.55) & (mask == FIELD)] = FOREST


def _layout_river(n, size, g):
    mask = torch.full((n, size, size), FIELD)
    shade = _smooth_shade(n, size, g)
    u, v = _coordinates(n, size, g, jitter=0.3)
    amplitude = _uniform(n, 0.04, 0.18, g)[:, None, None]
    frequency = _uniform(n, 0.6, 1.6, g)[:, None, None]
    phase = _uniform(n, 0, 2 * math.pi, g)[:, None, None]
    width = _uniform(n, 0.09, 0.16, g)[:, None, None]
    distance = (v - amplitude * torch.sin(2 * math.pi * frequency * u + phase)).abs() - width / 2
    mask[_thin_roads(n, size, g)] = ROAD
    _banks(mask, distance, n, size, g)
    mask[distance < 0] = WATER
    shade = torch.where(distance < 0, 0.95 + 0.1 * fbm(n, size, size, octaves=3, base=4, generator=g)[:, 0], shade)
    return mask, shade


def _layout_lake(n, size, g):
    mask = torch.full((n, size, size), FIELD)
    shade = _smooth_shade(n, size, g)
    axis = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    cx = _uniform(n, 0.35, 0.65, g)[:, None, None]
    cy = _uniform(n, 0.35, 0.65, g)[:, None, None]
    radius = _uniform(n, 0.17, 0.25, g)[:, None, None]
    wobble = fbm(n, size, size, octaves=3, base=2, generator=g)[:, 0]
    distance = torch.sqrt((x - cx) ** 2 + (y - cy) ** 2) - radius * (1 + 0.5 * (wobble - 0.5))
    mask[_thin_roads(n, size, g)] = ROAD
    _banks(mask, distance, n, size, g)
    mask[distance < 0] = WATER
    shade = torch.where(distance < 0, 0.95 + 0.1 * fbm(n, size, size, octaves=3, base=4, generator=g)[:, 0], shade)
    return mask, shade


def _street_grid(n, size, g, period_range, road, inset, build_share=1.0, house_share=None):
    """Rotated street grid; buildings inset in each block (or one small house per block); (mask, shade)."""
    mask = torch.full((n, size, size), FIELD)
    shade = _smooth_shade(n, size, g)
    u, v = _coordinates(n, size, g)
    period = _uniform(n, *period_range, g)[:, None, None]
    a, b = torch.remainder(u, period), torch.remainder(v, period)
    roads = (a < road) | (b < road)
    cells = _cell_values(n, u, v, period, g, channels=3)
    if house_share is None:
        low, high = road + inset, period - inset
        roofs = (a >= low) & (a < high) & (b >= low) & (b < high)
    else:  # one house per block, at a random place inside it
        side = house_share * (period - road)
        room = period - road - side
        left = road + 0.1 * room + 0.8 * room * cells[:, 0]
        top = road + 0.1 * room + 0.8 * room * cells[:, 1]
        roofs = (a >= left) & (a < left + side) & (b >= top) & (b < top + side)
    roofs &= cells[:, 2] < build_share
    yard = ~roads & ~roofs
    if house_share is not None:
        mask[yard & (_crowns(n, size, g) > 0.6)] = FOREST
    mask[roads] = ROAD
    mask[roofs] = BUILDING
    ridge = 1 + 0.1 * torch.sign(torch.sin(2 * math.pi * a / (period / 6)))
    shade = torch.where(roofs, (0.85 + 0.3 * cells[:, 0]) * ridge, shade)
    return mask, shade


def _layout_dense(n, size, g):
    return _street_grid(n, size, g, (0.13, 0.21), road=0.026, inset=0.024)


def _layout_sparse(n, size, g):
    return _street_grid(n, size, g, (0.19, 0.30), road=0.032, inset=0.0, build_share=0.85,
                        house_share=_uniform(n, 0.4, 0.65, g)[:, None, None])


def _layout_industrial(n, size, g):
    return _street_grid(n, size, g, (0.32, 0.48), road=0.06, inset=0.06)


def _layout_highway(n, size, g):
    mask = torch.full((n, size, size), FIELD)
    shade = _smooth_shade(n, size, g, amount=0.4)
    trees = _above_quantile(_crowns(n, size, g), _uniform(n, 0.02, 0.06, g))
    mask[trees] = FOREST
    for _ in range(2):
        u, v = _coordinates(n, size, g, jitter=0.4)
        width = _uniform(n, 0.07, 0.10, g)[:, None, None]
        road = v.abs() < width / 2
        mask[road] = ROAD
        shade = torch.where(road, torch.where(v.abs() < 0.5 / size + 0.003, 1.6, 1.0), shade)
    return mask, shade


_LAYOUTS = (_layout_forest, _layout_meadow, _layout_farmland, _layout_river, _layout_lake, _layout_dense,
            _layout_sparse, _layout_industrial, _layout_highway)


def _palettes(n: int, generator: torch.Generator) -> torch.Tensor:
    """One colour per land cover per image, (n, 5, 3): a random anchor plus ±0.06 jitter."""
    colours = []
    for cover in range(len(LAND_COVER)):
        anchors = torch.tensor(_ANCHORS[cover])
        pick = torch.randint(len(anchors), (n,), generator=generator)
        colours.append(anchors[pick] + 0.12 * (torch.rand(n, 3, generator=generator) - 0.5))
    return torch.stack(colours, dim=1).clamp(0.02, 0.95)


def _shadows(mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Pixels one pixel down-sun of a roof that are not roofs themselves (sun direction per image)."""
    n = mask.shape[0]
    roofs = (mask == BUILDING).float()[:, None]
    padded = torch.nn.functional.pad(roofs, (1, 1, 1, 1))
    direction = torch.randint(8, (n,), generator=generator)
    offsets = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
    size_h, size_w = mask.shape[1:]
    shifted = torch.zeros_like(roofs)
    for code, (dy, dx) in enumerate(offsets):
        chosen = direction == code
        if chosen.any():
            shifted[chosen] = padded[chosen, :, 1 - dy:1 - dy + size_h, 1 - dx:1 - dx + size_w]
    return (shifted[:, 0] > 0) & (mask != BUILDING)


def _nuisances(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Illumination and atmosphere that vary in training too: gain, gradient, tint, veil, blur, sensor noise.

    Works in place on ``images`` (the generator's own buffer): every full-size step is one pass without a
    temporary of the batch's size, which is where the time went (page faults on fresh buffers).
    """
    n, _, size_h, size_w = images.shape
    gain = _uniform(n, 0.75, 1.25, generator)[:, None, None, None]
    tint = 1 + 0.16 * (torch.rand(n, 3, 1, 1, generator=generator) - 0.5)
    axis_y = torch.linspace(-0.5, 0.5, size_h)[:, None]
    axis_x = torch.linspace(-0.5, 0.5, size_w)[None, :]
    angle = _uniform(n, 0, 2 * math.pi, generator)[:, None, None]
    slope = _uniform(n, 0.0, 0.3, generator)[:, None, None]
    gradient = (1 + slope * (axis_x * torch.cos(angle) + axis_y * torch.sin(angle)))[:, None]
    images.mul_(gain).mul_(tint).mul_(gradient)
    veil = torch.where(torch.rand(n, generator=generator) < 0.3, _uniform(n, 0.8, 1.0, generator),
                       torch.ones(n))[:, None, None, None]
    images.mul_(veil).add_(0.8 * (1 - veil))
    softened = torch.rand(n, generator=generator) < 0.3
    if softened.any():  # a soft optical blur on some scenes (sensor point-spread), σ = 0.7 px
        images[softened] = blur_with_sigma(images[softened].clamp(0, 1), 0.7)
    noise = _uniform(n, 0.0, 0.04, generator)[:, None, None, None]
    images.add_(torch.randn(images.shape, generator=generator).mul_(noise))
    return images.clamp_(0, 1)


#: caption words for how much of the scene a land cover takes (share thresholds), and where its centre lies
_AMOUNTS = ((0.35, "much"), (0.15, "some"), (0.03, "little"))
_PLACES = ("north", "south")
_SIDES = ("west", "east")


def _captions(labels: torch.Tensor, masks: torch.Tensor) -> tuple[str, ...]:
    """A caption per scene: the class phrase, then each land cover's amount and position [ours].

    The amounts and positions vary within a class (``much-water water-northeast``), so image–text contrastive
    training sees information the class label does not carry.
    """
    size_h, size_w = masks.shape[1:]
    rows = torch.arange(size_h, dtype=torch.float32)[None, :, None]
    columns = torch.arange(size_w, dtype=torch.float32)[None, None, :]
    texts = []
    covers = []
    for cover in range(len(LAND_COVER)):
        present = (masks == cover).float()
        share = present.mean(dim=(1, 2))
        count = present.sum(dim=(1, 2)).clamp_min(1)
        centre_y = (present * rows).sum(dim=(1, 2)) / count / size_h
        centre_x = (present * columns).sum(dim=(1, 2)) / count / size_w
        covers.append((share.tolist(), centre_y.tolist(), centre_x.tolist()))
    for index, label in enumerate(labels.tolist()):
        words = [_PHRASES[CLASSES[label]]]
        for cover, (shares, ys, xs) in zip(LAND_COVER, covers, strict=True):
            amount = next((word for threshold, word in _AMOUNTS if shares[index] >= threshold), None)
            if amount is None:
                continue
            place = _PLACES[ys[index] >= 0.5] + _SIDES[xs[index] >= 0.5]
            words.append(f"{amount}-{cover} {cover}-{place}")
        texts.append(" ".join(words))
    return tuple(texts)


def caption_vocabulary() -> tuple[str, ...]:
    """Every word a caption can contain, sorted (the CLIP-style text encoder's vocabulary)."""
    words = {word for phrase in _PHRASES.values() for word in phrase.split()}
    words |= {f"{amount}-{cover}" for _, amount in _AMOUNTS for cover in LAND_COVER}
    words |= {f"{cover}-{place}{side}" for cover in LAND_COVER for place in _PLACES for side in _SIDES}
    return tuple(sorted(words))


def generate_scenes(n: int, seed: int, size: int = 64) -> Scenes:
    """``n`` scenes (classes balanced, order shuffled), identical for the same ``(n, seed, size)``."""
    if n < 1 or size < 16:
        raise ValueError(f"need n >= 1 and size >= 16, got n={n}, size={size}")
    generator = torch.Generator().manual_seed(int(seed))
    labels = (torch.arange(n) % len(CLASSES))[torch.randperm(n, generator=generator)]
    masks = torch.empty(n, size, size, dtype=torch.long)
    shades = torch.empty(n, size, size)
    for label, layout in enumerate(_LAYOUTS):
        index = (labels == label).nonzero()[:, 0]
        if len(index):
            masks[index], shades[index] = layout(len(index), size, generator)
    palettes = _palettes(n, generator).transpose(1, 2)  # (n, 3 channels, 5 land covers)
    images = palettes.gather(2, masks.view(n, 1, size * size).expand(-1, 3, -1)).view(n, 3, size, size)
    images.mul_(shades[:, None])
    images.mul_(torch.where(_shadows(masks, generator), 0.6, 1.0)[:, None])
    images = _nuisances(images, generator)
    return Scenes(images=images, masks=masks, labels=labels, captions=_captions(labels, masks))

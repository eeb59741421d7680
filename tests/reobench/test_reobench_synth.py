"""The scene generator: deterministic per seed, balanced, structured, and the data-set API."""

import torch

from reprobook.reobench.synth import CLASSES, LAND_COVER, SceneDataset, caption_vocabulary, generate_scenes


def test_same_seed_same_scenes_other_seed_other_scenes():
    first = generate_scenes(27, seed=4, size=32)
    again = generate_scenes(27, seed=4, size=32)
    other = generate_scenes(27, seed=5, size=32)
    assert torch.equal(first.images, again.images) and torch.equal(first.masks, again.masks)
    assert first.captions == again.captions
    assert not torch.equal(first.images, other.images)


def test_shapes_ranges_and_balance():
    scenes = generate_scenes(45, seed=0, size=48)
    assert scenes.images.shape == (45, 3, 48, 48) and scenes.images.dtype == torch.float32
    assert float(scenes.images.min()) >= 0 and float(scenes.images.max()) <= 1
    assert scenes.masks.shape == (45, 48, 48) and int(scenes.masks.max()) < len(LAND_COVER)
    assert scenes.labels.bincount(minlength=len(CLASSES)).tolist() == [5] * len(CLASSES)


def test_land_cover_matches_the_class_layouts():
    scenes = generate_scenes(90, seed=2, size=64)
    shares = torch.stack([(scenes.masks == cover).float().mean(dim=(1, 2)) for cover in range(5)], 1)
    water, forest, _, building, road = shares.T
    name = [CLASSES[label] for label in scenes.labels.tolist()]
    for index, label in enumerate(name):
        if label in ("river", "lake"):
            assert 0.03 < water[index] < 0.45, (label, float(water[index]))
        else:
            assert water[index] == 0
        if label == "forest":
            assert forest[index] > 0.4
        if label in ("dense_residential", "sparse_residential", "industrial"):
            assert building[index] > 0.02 and road[index] > 0.1
        if label == "highway":
            assert road[index] > 0.08
    # river and lake have comparable water area (classes differ by shape, not by water share)
    river = water[[n == "river" for n in name]].mean()
    lake = water[[n == "lake" for n in name]].mean()
    assert 0.5 < float(river / lake) < 2


def test_palettes_vary_within_a_class():
    scenes = generate_scenes(90, seed=3, size=32)
    forest = scenes.images[scenes.labels == CLASSES.index("forest")].mean(dim=(2, 3))
    assert float(forest.std(dim=0).mean()) > 0.03


def test_dataset_items_and_captions():
    dataset = SceneDataset(18, seed=1, size=32)
    item = dataset[3]
    assert set(item) == {"image", "mask", "label", "caption"} and len(dataset) == 18
    vocabulary = set(caption_vocabulary())
    for caption in dataset.scenes.captions:
        assert set(caption.split()) <= vocabulary


def test_colour_histogram_cannot_solve_the_scenes():
    """Acceptance of the generator: a 216-bin colour histogram with a linear probe stays below 50 % (chance 11 %)."""
    from reprobook.reobench.probe import colour_histogram, fit_linear_probe

    train, test = generate_scenes(540, seed=40, size=64), generate_scenes(270, seed=41, size=64)
    probe = fit_linear_probe(colour_histogram(train.images), train.labels, l2=1e-4, n_classes=len(CLASSES))
    accuracy = probe.accuracy(colour_histogram(test.images), test.labels)
    assert 1 / len(CLASSES) < accuracy < 0.5, accuracy


def test_captions_carry_more_than_the_label():
    """CLIP-style captions vary within a class (land-cover amounts and positions) and never cross classes."""
    scenes = generate_scenes(180, seed=7, size=64)
    by_caption: dict[str, set[int]] = {}
    for caption, label in zip(scenes.captions, scenes.labels.tolist(), strict=True):
        by_caption.setdefault(caption, set()).add(label)
    assert len(by_caption) > 4 * len(CLASSES)  # the old templates gave at most 22 captions
    assert all(len(labels) == 1 for labels in by_caption.values())
    vocabulary = set(caption_vocabulary())
    assert all(word in vocabulary for caption in scenes.captions for word in caption.split())

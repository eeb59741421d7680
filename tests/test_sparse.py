"""reprobook.sparse against hand-computed ERK densities, brute-force top-k, exact sampling probabilities
and torch's own pruning utilities."""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.utils.prune
from torch.ao.pruning import WeightNormSparsifier

from reprobook.sparse import (
    DynamicSparsity,
    cosine_prune_rate,
    erk_densities,
    soft_topk_mask,
    topk_mask,
    uniform_densities,
)


def test_erk_matches_the_closed_form_by_hand():
    # (20, 20): Σ/Π = 40/400 = 0.1 ; (30, 30, 3): 63/2700 ; D = 0.2 over 3100 weights, no capping
    epsilon = 0.2 * 3100 / (0.1 * 400 + 63 / 2700 * 2700)
    expected = [epsilon * 0.1, epsilon * 63 / 2700]
    np.testing.assert_allclose(erk_densities([(20, 20), (30, 30, 3)], 0.2), expected, rtol=1e-12)
    # (10, 5) would get ε·0.3 > 1: it is made dense and ε re-solved on (100, 100) alone
    capped = erk_densities([(10, 5), (100, 100)], 0.1)
    assert capped[0] == 1.0
    assert capped[1] == pytest.approx((0.1 * 10050 - 50) / 10000)


def test_erk_power_zero_equals_uniform_densities():
    shapes = [(4, 4), (8, 8, 3), (16, 2)]
    np.testing.assert_allclose(erk_densities(shapes, 0.3, power=0.0), uniform_densities(shapes, 0.3))


@pytest.mark.parametrize("density", [0.05, 0.3, 0.7, 0.95])
def test_erk_invariants_on_random_shapes(density):
    rng = np.random.default_rng(1)
    shapes = [tuple(int(v) for v in rng.integers(1, 40, size=rng.integers(2, 4))) for _ in range(12)]
    sizes = np.array([math.prod(shape) for shape in shapes])
    densities = np.array(erk_densities(shapes, density))
    assert np.all(densities <= 1.0) and np.all(densities > 0)
    assert (densities * sizes).sum() == pytest.approx(density * sizes.sum(), rel=1e-9)
    raw = np.array([sum(shape) / math.prod(shape) for shape in shapes])
    sparse = densities < 1.0
    if sparse.sum() > 1:  # the uncapped layers share one ε
        np.testing.assert_allclose(densities[sparse] / raw[sparse], (densities[sparse] / raw[sparse])[0])
    # every capped layer would have exceeded 1 at the final ε
    if sparse.any() and (~sparse).any():
        epsilon = (densities[sparse] / raw[sparse])[0]
        assert np.all(epsilon * raw[~sparse] >= 1.0 - 1e-12)


def test_topk_matches_brute_force_sorting():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((5, 30))
    counts = np.array([0, 1, 7, 29, 30])
    mask = topk_mask(torch.from_numpy(scores), torch.from_numpy(counts)).numpy()
    for row in range(5):
        expected = np.zeros(30, bool)
        expected[sorted(range(30), key=lambda i: -scores[row, i])[:counts[row]]] = True
        assert np.array_equal(mask[row], expected)


def test_soft_magnitude_keeps_follow_sampling_without_replacement():
    weights = np.array([0.2, 0.5, 0.8, 1.0, 1.3])
    powered = weights ** 3
    keep = 2
    # exact inclusion probabilities of successive sampling ∝ w³ without replacement, by enumeration
    exact = np.zeros(len(weights))
    for order in itertools.permutations(range(len(weights)), keep):
        probability, remaining = 1.0, powered.sum()
        for index in order:
            probability *= powered[index] / remaining
            remaining -= powered[index]
        exact[list(order)] += probability
    draws = 40_000
    rows = torch.from_numpy(np.tile(powered, (draws, 1)))
    mask = soft_topk_mask(rows, keep, torch.Generator().manual_seed(0)).numpy()
    assert np.all(mask.sum(axis=1) == keep)
    frequency = mask.mean(axis=0)
    tolerance = 4 * np.sqrt(exact * (1 - exact) / draws)
    assert np.all(np.abs(frequency - exact) < tolerance), (frequency, exact)
    assert np.all(np.diff(frequency) > 0)  # keep frequency increases with |w|


def test_prune_rate_follows_the_cosine_closed_form():
    for step in [0, 10, 37, 50, 99, 100]:
        expected = 0.005 + 0.495 * 0.5 * (1 + math.cos(math.pi * step / 100))
        assert cosine_prune_rate(step, 100) == pytest.approx(expected)
    assert cosine_prune_rate(100, 100) == pytest.approx(0.005)


def _toy(groups=1, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Conv1d(2 * groups, 6 * groups, 3, groups=groups),
                                torch.nn.Flatten(), torch.nn.Linear(6 * groups * 6, 4))
    return model


def _train_steps(model, optimizer, sparsity, steps):
    rng = torch.Generator().manual_seed(3)
    channels = model[0].in_channels
    for _ in range(steps):
        model(torch.randn(16, channels, 8, generator=rng)).pow(2).mean().backward()
        optimizer.step()
        sparsity.step()
        optimizer.zero_grad()


def _spy_updates(sparsity, optimizer):
    """Record, for every topology update, the weights and gradients it saw and what it left."""
    records = []
    original = sparsity.update_topology

    def spy():
        seen = {layer.name: (layer.parameter.detach().clone(), layer.parameter.grad.clone())
                for layer in sparsity.layers}
        result = original()
        left = {layer.name: (layer.parameter.detach().clone(), sparsity.masks[layer.name].clone(),
                             optimizer.state[layer.parameter]["momentum_buffer"].clone())
                for layer in sparsity.layers}
        records.append((seen, left, {name: dict(update) for name, update in sparsity.last_update.items()}))
        return result

    sparsity.update_topology = spy
    return records


@pytest.mark.parametrize("regrow_dropped", [True, False])
def test_dst_update_invariants(regrow_dropped):
    model = _toy(groups=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sparsity = DynamicSparsity(model, optimizer, 0.4, total_steps=40, update_every=5, groups={"0.weight": 2},
                               regrow_dropped=regrow_dropped, prune_rate=0.5, seed=1)
    nnz_per_slice = {layer.name: layer.rows(sparsity.masks[layer.name]).sum(1).clone() for layer in sparsity.layers}
    records = _spy_updates(sparsity, optimizer)
    _train_steps(model, optimizer, sparsity, 40)
    assert len(records) == 8  # updates at steps 5, 10, ..., 40: never frozen
    regrown_dropped = 0
    for seen, left, updates in records:
        for layer in sparsity.layers:
            weight_seen, grad_seen = (layer.rows(t) for t in seen[layer.name])
            weight_left, mask_left, momentum_left = (layer.rows(t) for t in left[layer.name])
            old, kept, grown = (updates[layer.name][key] for key in ("old", "kept", "grown"))
            assert torch.equal(mask_left, kept | grown)
            assert torch.equal(mask_left.sum(1), nnz_per_slice[layer.name])  # nnz per stacked layer constant
            assert not (kept & grown).any() and not (kept & ~old).any()
            newly = grown & ~old
            assert torch.all(weight_left[newly] == 0) and torch.all(momentum_left[newly] == 0)
            again = grown & old  # dropped and regrown in the same update: keeps its value
            assert torch.equal(weight_left[again], weight_seen[again])
            regrown_dropped += int(again.sum())
            if not regrow_dropped:
                assert not again.any()
            rate = updates[layer.name]["rate"]
            for row in range(layer.groups):
                active = torch.nonzero(old[row]).flatten().tolist()
                n_kept = len(active) - math.ceil(rate * len(active))
                assert int(kept[row].sum()) == n_kept
                expected_kept = sorted(active, key=lambda i: -abs(float(weight_seen[row, i])))[:n_kept]
                assert set(torch.nonzero(kept[row]).flatten().tolist()) == set(expected_kept)
                candidates = [i for i in range(old.shape[1])
                              if not kept[row, i] and (regrow_dropped or not old[row, i])]
                expected_grown = sorted(candidates, key=lambda i: -abs(float(grad_seen[row, i])))
                assert set(torch.nonzero(grown[row]).flatten().tolist()) == set(
                    expected_grown[:len(active) - n_kept])
    if regrow_dropped:
        assert regrown_dropped > 0  # the reference behaviour happens in practice


def test_freeze_topology_stops_updates():
    model = _toy()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    sparsity = DynamicSparsity(model, optimizer, 0.5, total_steps=40, update_every=5, freeze_topology_at=0.75)
    _train_steps(model, optimizer, sparsity, 40)
    assert [record["step"] for record in sparsity.history] == [5, 10, 15, 20, 25]
    assert sparsity.history[-1]["prune_rate"] == pytest.approx(cosine_prune_rate(25, 40))


@pytest.mark.parametrize("optimizer_name", ["sgd", "adam"])
def test_pruned_positions_have_zero_weight_and_optimizer_state(optimizer_name):
    model = _toy()
    make = {"sgd": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
            "adam": lambda p: torch.optim.Adam(p, lr=0.01)}[optimizer_name]
    optimizer = make(model.parameters())
    sparsity = DynamicSparsity(model, optimizer, 0.3, total_steps=20, update_every=3)
    _train_steps(model, optimizer, sparsity, 10)
    keys = ("momentum_buffer",) if optimizer_name == "sgd" else ("exp_avg", "exp_avg_sq")
    for layer in sparsity.layers:
        off = ~sparsity.masks[layer.name]
        assert torch.all(layer.parameter.detach()[off] == 0)
        for key in keys:
            assert torch.all(optimizer.state[layer.parameter][key][off] == 0)


def test_reference_lm_switch_leaves_adam_moments_unmasked():
    model = _toy()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    sparsity = DynamicSparsity(model, optimizer, 0.3, total_steps=20, update_every=3, mask_optimizer_state=False)
    _train_steps(model, optimizer, sparsity, 5)
    layer = sparsity.layers[0]
    off = ~sparsity.masks[layer.name]
    assert torch.any(optimizer.state[layer.parameter]["exp_avg_sq"][off] != 0)
    assert torch.all(layer.parameter.detach()[off] == 0)


def test_initial_masks_have_exact_per_layer_counts():
    model = _toy(groups=3)
    sparsity = DynamicSparsity(model, None, 0.25, total_steps=1, groups={"0.weight": 3})
    report = sparsity.report().set_index("layer")
    for layer in sparsity.layers:
        size = math.prod(layer.slice_shape)
        expected = min(size, max(1, round(sparsity.densities[layer.name] * size)))
        per_slice = sparsity.masks[layer.name].reshape(layer.groups, -1).sum(1)
        assert torch.all(per_slice == expected)
        assert report.loc[layer.name, "nnz"] == expected * layer.groups
    total = sum(layer.parameter.numel() for layer in sparsity.layers)
    assert sparsity.nnz() == pytest.approx(0.25 * total, abs=len(sparsity.layers) * 3)


def test_magnitude_prune_matches_torch_l1_unstructured_and_weight_norm_sparsifier():
    torch.manual_seed(4)
    linear = torch.nn.Linear(12, 9)
    original = linear.weight.detach().clone()
    n_prune = 40
    # our prune step on a fully dense layer, with ρ set so that ⌈ρ · 108⌉ = 40
    rate = (n_prune - 0.5) / linear.weight.numel()
    sparsity = DynamicSparsity(linear, None, 1.0, total_steps=10, prune_rate=rate, final_prune_rate=rate)
    linear(torch.randn(4, 12)).sum().backward()
    sparsity.update_topology()
    ours = sparsity.last_update["weight"]["kept"].reshape(9, 12)
    fresh = torch.nn.Linear(12, 9)
    with torch.no_grad():
        fresh.weight.copy_(original)
    l1_mask = torch.nn.utils.prune.l1_unstructured(fresh, "weight", amount=n_prune).weight_mask.bool()
    assert torch.equal(ours, l1_mask)
    # torch.ao's sparsifier with 1 × 1 blocks zeroes the smallest-norm entries at the same level
    model = torch.nn.Sequential(torch.nn.Linear(12, 9))
    with torch.no_grad():
        model[0].weight.copy_(original)
    sparsifier = WeightNormSparsifier(sparsity_level=n_prune / original.numel(), sparse_block_shape=(1, 1),
                                      zeros_per_block=1)
    sparsifier.prepare(model, [{"tensor_fqn": "0.weight"}])
    sparsifier.step()
    assert torch.equal(ours, model[0].parametrizations.weight[0].mask.bool())


@pytest.mark.parametrize(("prune", "grow"), [("soft_magnitude", "gradient"), ("magnitude", "random"),
                                             ("soft_magnitude", "random")])
def test_other_prune_and_grow_modes_keep_the_invariants(prune, grow):
    model = _toy(groups=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sparsity = DynamicSparsity(model, optimizer, 0.3, total_steps=20, update_every=4, groups={"0.weight": 2},
                               prune=prune, grow=grow)
    before = {layer.name: layer.rows(sparsity.masks[layer.name]).sum(1) for layer in sparsity.layers}
    records = _spy_updates(sparsity, optimizer)
    _train_steps(model, optimizer, sparsity, 20)
    assert len(records) == 5
    for layer in sparsity.layers:
        assert torch.equal(layer.rows(sparsity.masks[layer.name]).sum(1), before[layer.name])
        update = sparsity.last_update[layer.name]
        assert not (update["kept"] & ~update["old"]).any() and not (update["kept"] & update["grown"]).any()
        assert torch.all(layer.parameter.detach()[~sparsity.masks[layer.name]] == 0)

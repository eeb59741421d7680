import math

import pytest
import torch

from reprobook.seft.delta import SEFT, SEFTSettings, SparseDeltaLinear, drop_rate, random_support


def _layer(seed=0, rows=6, columns=10, density=0.5, k=8):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(rows, columns, generator=generator, dtype=torch.float64)
    mask = torch.rand(rows, columns, generator=generator) < density
    return SparseDeltaLinear(weight, mask, random_support(mask, k, generator))


def test_delta_gradient_is_masked_dense_gradient_at_eta():
    layer = _layer()
    x = torch.randn(5, 10, dtype=torch.float64)
    readout = torch.randn(5, 6, dtype=torch.float64)
    with torch.no_grad():
        layer.delta.normal_()
    (layer(x) * readout).sum().backward()
    dense = readout.T @ x  # ∂L/∂θ
    expected = (dense * layer.mask).flatten()[layer.index]
    assert torch.allclose(layer.delta.grad, expected)


def test_gradcheck_float64():
    layer = _layer(seed=1)
    x = torch.randn(3, 10, dtype=torch.float64)

    def f(delta):
        return torch.func.functional_call(layer, {"delta": delta}, (x,))
    assert torch.autograd.gradcheck(f, (torch.randn(layer.k, dtype=torch.float64, requires_grad=True),))


def test_drop_rate_closed_form():
    assert drop_rate(0, 5, 100, 0.2) == 1.0
    assert drop_rate(3, 25, 100, 0.2) == pytest.approx(0.15)
    assert drop_rate(3, 50, 100, 0.4, "cosine") == pytest.approx(0.2)
    assert drop_rate(3, 40, 100, 0.2, selection_duration=0.8) == pytest.approx(0.1)
    assert drop_rate(3, 90, 100, 0.2, selection_duration=0.8) == 0.0
    assert drop_rate(0, 5, 100, 0.2, first_full=False) == pytest.approx(0.19)


@pytest.mark.parametrize("resurrect", [True, False])
@pytest.mark.parametrize("adaptation", ["sensitivity", "magnitude"])
def test_topology_update_invariants(resurrect, adaptation):
    layer = _layer(seed=3, rows=8, columns=12, density=0.5, k=10)
    with torch.no_grad():
        layer.delta.copy_(torch.randn(layer.k, dtype=torch.float64))
    gradient = torch.randn(8, 12, dtype=torch.float64)
    layer.grad_sum = gradient.clone()
    layer.captured = 1
    old_mask, old_index, old_delta = layer.mask.clone(), layer.index.clone(), layer.delta.detach().clone()
    theta = layer.weight().detach().flatten()
    settings = SEFTSettings(update_every=1, window=1, zeta0=0.5, first_full=False, resurrect=resurrect,
                            adaptation=adaptation)
    controller = SEFT({"l": layer}, None, total_steps=100, settings=settings)
    record = controller.after_step(1)[0]
    n = math.ceil(drop_rate(0, 1, 100, 0.5, first_full=False) * 10)
    # dropped: the n smallest |δ|
    dropped = set(old_index[torch.argsort(old_delta.abs())[:n]].tolist())
    kept = set(old_index.tolist()) - dropped
    assert kept <= set(layer.index.tolist()) and len(layer.index) == 10
    grown = set(layer.index.tolist()) - kept
    # grown: top-|G| over eligible positions, by brute force
    eligible = [j for j in range(96) if j not in kept and (resurrect or old_mask.flatten()[j])]
    best = sorted(eligible, key=lambda j: -abs(float(gradient.flatten()[j])))[:n]
    assert grown == set(best)
    resurrected = [j for j in grown if not old_mask.flatten()[j]]
    assert record["resurrected"] == len(resurrected)
    if not resurrect:
        assert not resurrected
    # exact nnz; no current δ slot removed; no dead position; removed = the lowest criterion of θ after the drop
    assert int(layer.mask.sum()) == int(old_mask.sum())
    assert layer.mask.flatten()[layer.index].all()
    assert layer.dead_slots() == 0
    after_drop = layer.base.new_zeros(96)
    after_drop[old_mask.flatten()] = theta[old_mask.flatten()]
    for j in dropped:
        after_drop[j] -= float(old_delta[old_index.tolist().index(j)])
    removed = set(torch.nonzero(old_mask.flatten() & ~layer.mask.flatten()).flatten().tolist())
    slots = set(layer.index.tolist())
    removable = [j for j in range(96) if old_mask.flatten()[j] and j not in slots]
    score = (after_drop * gradient.flatten()).abs() if adaptation == "sensitivity" else after_drop.abs()
    dead = {j for j in removable if after_drop[j] == 0}
    by_score = [j for j in sorted(removable, key=lambda j: float(score[j])) if j not in dead]
    assert removed == dead | set(by_score[:len(resurrected) - len(dead)])
    assert (layer.delta.detach()[-len(grown):] == 0).all()


def _train_with_resurrection(drop_mode, seed=0):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(24, 40, generator=generator, dtype=torch.float64)
    mask = torch.rand(24, 40, generator=generator) < 0.3
    layer = SparseDeltaLinear(weight, mask, random_support(mask, 60, generator))
    optimizer = torch.optim.Adam([layer.delta], lr=0.05)
    controller = SEFT({"l": layer}, optimizer, 60, SEFTSettings(update_every=5, window=3, zeta0=0.5,
                                                                 drop_mode=drop_mode))
    data = torch.Generator().manual_seed(seed + 1)
    records = []
    for step in range(1, 61):
        controller.before_step(step)
        x = torch.randn(32, 40, generator=data, dtype=torch.float64)
        loss = (layer(x) - torch.tanh(2 * x[:, :24])).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        controller.after_backward()
        optimizer.step()
        update = controller.after_step(step)
        if update:
            records.append((layer.dead_slots(), int(layer.mask.sum()), update[0]))
    return layer, int(mask.sum()), records


@pytest.mark.parametrize("drop_mode", ["discard", "merge"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_dead_slot_after_any_update(drop_mode, seed):
    """mask ∧ (θ = 0) outside the δ slots is empty after every update, and nnz stays exact (#17 item 2)."""
    layer, target, records = _train_with_resurrection(drop_mode, seed)
    assert sum(record[2]["resurrected"] for record in records) > 0  # the case that made dead slots
    for dead, nnz, record in records:
        assert dead == 0 and record["dead_slots"] == 0
        assert nnz == target and record["nnz_exact"]
    assert layer.grad_sum is None  # no dense gradient kept outside the update windows


def test_merge_mode_counts_the_dropped_delta_once():
    """In merge mode θ after the drop is base + kept δ, with the merged δ counted once."""
    layer = _layer(seed=9, rows=6, columns=10, density=0.6, k=8)
    with torch.no_grad():
        layer.delta.copy_(torch.linspace(0.1, 0.8, 8, dtype=torch.float64))
    before = layer.weight().detach().clone()
    layer.grad_sum = torch.zeros(6, 10, dtype=torch.float64)
    layer.captured = 1
    settings = SEFTSettings(update_every=1, window=1, zeta0=0.5, first_full=False, resurrect=False,
                            drop_mode="merge")
    SEFT({"l": layer}, None, total_steps=100, settings=settings).after_step(1)
    # no growth at pruned positions: the merged weights equal the weights before the update
    assert torch.allclose(layer.weight().detach(), before)


def _train(layer, steps, controller=None, lr=0.05):
    optimizer = torch.optim.Adam([p for p in layer.parameters() if p.requires_grad], lr=lr)
    generator = torch.Generator().manual_seed(5)
    for step in range(1, steps + 1):
        if controller:
            controller.before_step(step)
        x = torch.randn(16, 10, generator=generator, dtype=torch.float64)
        loss = (layer(x) - x[:, :6]).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        if controller:
            controller.after_backward()
        optimizer.step()
        if controller:
            controller.after_step(step)


def test_zero_drop_rate_equals_static_delta():
    a, b = _layer(seed=4), _layer(seed=4)
    settings = SEFTSettings(update_every=2, window=2, zeta0=0.0, first_full=False)
    _train(a, 6, SEFT({"a": a}, None, 6, settings))
    _train(b, 6)
    assert torch.allclose(a.weight(), b.weight())


def test_full_support_equals_static_mask_full_finetuning():
    generator = torch.Generator().manual_seed(6)
    weight = torch.randn(6, 10, generator=generator, dtype=torch.float64)
    mask = torch.rand(6, 10, generator=generator) < 0.4
    delta_layer = SparseDeltaLinear(weight, mask, torch.nonzero(mask.flatten()).flatten())
    plain = torch.nn.Linear(10, 6, bias=False).double()
    with torch.no_grad():
        plain.weight.copy_(weight * mask)
    optimizer = torch.optim.Adam(plain.parameters(), lr=0.05)
    data = torch.Generator().manual_seed(5)
    for _ in range(6):
        x = torch.randn(16, 10, generator=data, dtype=torch.float64)
        loss = (plain(x) - x[:, :6]).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        plain.weight.grad.mul_(mask)
        optimizer.step()
        with torch.no_grad():
            plain.weight.mul_(mask)
    _train(delta_layer, 6)
    assert torch.allclose(delta_layer.weight(), plain.weight)


def test_merge_save_reload_keeps_sparsity(tmp_path):
    layer = _layer(seed=7)
    with torch.no_grad():
        layer.delta.normal_()
    torch.save({"weight": layer.merged()}, tmp_path / "w.pt")
    loaded = torch.load(tmp_path / "w.pt", weights_only=True)["weight"]
    assert int((loaded != 0).sum()) <= int(layer.mask.sum())
    assert (loaded[~layer.mask] == 0).all()

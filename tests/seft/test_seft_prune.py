import copy
import math

import numpy as np
import pytest
import torch
from torch.nn.utils import prune as torch_prune

from reprobook.seft.model import GPTConfig, ShakeGPT, block_linears
from reprobook.seft.prune import kept_per_row, magnitude_mask, nm_mask, prune_model, sparsegpt, wanda_mask


def test_wanda_with_equal_norms_is_per_row_l1_unstructured():
    weight = torch.randn(12, 40, generator=torch.Generator().manual_seed(0))
    ours = wanda_mask(weight, torch.full((40,), 3.0), 0.6)
    for row in range(12):
        linear = torch.nn.Linear(40, 1, bias=False)
        with torch.no_grad():
            linear.weight.copy_(weight[row:row + 1])
        torch_prune.l1_unstructured(linear, "weight", amount=math.floor(0.6 * 40))
        assert torch.equal(linear.weight_mask[0].bool(), ours[row])
    assert torch.equal(ours, magnitude_mask(weight, 0.6))


@pytest.mark.parametrize("sparsity", [0.3, 0.5, 0.75, 0.9])
def test_per_row_counts(sparsity):
    weight = torch.randn(7, 33)
    mask = wanda_mask(weight, torch.rand(33) + 0.1, sparsity)
    assert (mask.sum(1) == 33 - math.floor(sparsity * 33)).all()
    assert kept_per_row(33, sparsity) == 33 - math.floor(sparsity * 33)


def test_nm_mask_has_n_zeros_per_group():
    mask = nm_mask(torch.randn(5, 16), 2, 4)
    assert ((~mask).reshape(5, 4, 4).sum(-1) == 2).all()


def _data(columns=6, tokens=200, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(columns, tokens, generator=generator, dtype=torch.float64)
    return X, 2.0 * X @ X.T / tokens


def test_obs_first_column_matches_closed_form_and_least_squares():
    X, H = _data()
    w = torch.tensor([[0.01, 1.0, -0.8, 0.6, 1.2, -0.9]], dtype=torch.float64)
    new, keep = sparsegpt(w, H, 1 / 6, block=6, damping=0.0)
    assert keep.sum() == 5 and not keep[0, 0]
    error = float(((w - new.double()) @ X).pow(2).mean())
    hinv = torch.linalg.inv(H)
    assert error == pytest.approx(float(w[0, 0] ** 2 / (2 * hinv[0, 0])), rel=1e-3)
    # restricted least squares with w_0 = 0, solved independently with numpy
    target = (w @ X).numpy().ravel()
    rest, *_ = np.linalg.lstsq(X[1:].numpy().T, target, rcond=None)
    best = float(np.mean((target - rest @ X[1:].numpy()) ** 2))
    assert error == pytest.approx(best, rel=1e-3)


def test_sparsegpt_layer_error_beats_zeroing_with_its_own_mask():
    X, H = _data(columns=32, tokens=400, seed=1)
    weight = torch.randn(16, 32, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    new, keep = sparsegpt(weight, H, 0.5, block=8)
    err_obs = float(((weight - new.double()) @ X).pow(2).sum())
    err_zero = float(((weight - weight * keep) @ X).pow(2).sum())
    assert err_obs <= err_zero
    # exactly floor(s·R·B) pruned inside every R × B column block
    assert ((~keep).reshape(16, 4, 8).sum(dim=(0, 2)) == math.floor(0.5 * 16 * 8)).all()


def test_sparsegpt_dead_inputs_get_zero_weight():
    X, _ = _data(columns=8)
    X[3] = 0
    H = 2.0 * X @ X.T / X.shape[1]
    new, _ = sparsegpt(torch.randn(4, 8, dtype=torch.float64), H, 0.25, block=4)
    assert (new[:, 3] == 0).all()


def test_sequential_calibration_sees_pruned_earlier_blocks():
    torch.manual_seed(0)
    model = ShakeGPT(GPTConfig(vocab=11, layers=2, d=16, heads=2, context=8))
    reference = copy.deepcopy(model)
    ids = torch.randint(0, 11, (6, 8), generator=torch.Generator().manual_seed(1))
    masks = prune_model(model, "wanda", 0.5, ids)
    # independent: prune block 0 of the copy from hook-captured inputs, then capture block 1's inputs
    for index in range(2):
        captured = {}
        handles = [module.register_forward_hook(
            lambda m, inp, out, name=name, captured=captured: captured.__setitem__(name, inp[0].reshape(-1, inp[0].shape[-1])))
            for name, module in block_linears(reference) if name.startswith(f"blocks.{index}.")]
        with torch.no_grad():
            reference(ids)
        for handle in handles:
            handle.remove()
        for name, module in block_linears(reference):
            if name in captured:
                norms = captured[name].double().pow(2).sum(0)
                mask = wanda_mask(module.weight.detach(), norms.float(), 0.5)
                assert torch.equal(mask, masks[name]), name
                with torch.no_grad():
                    module.weight.mul_(mask)

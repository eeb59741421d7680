"""E1 on MiniLM's real weights: the per-layer magnitude pruner, the error metric, the data and the pruner ordering."""

import math

import pytest
import torch
from torch.nn.utils import prune as torch_prune

from reprobook.params import ParameterError
from reprobook.seft.chapter import validate_parameters
from reprobook.seft.minilm import (
    E1Config,
    layer_inputs,
    load_minilm,
    minilm_block_linears,
    reconstruction_error,
    run_real_weights,
    shakespeare_lines,
)
from reprobook.seft.model import GPTConfig, ShakeGPT, block_linears
from reprobook.seft.prune import kept_per_row, layer_magnitude_mask, prune_model


@pytest.mark.parametrize("sparsity", [0.3, 0.5, 0.7])
def test_layer_magnitude_matches_torch_l1_unstructured(sparsity):
    layer = torch.nn.Linear(24, 16, bias=False)
    torch.nn.init.normal_(layer.weight, generator=torch.Generator().manual_seed(3))
    ours = layer_magnitude_mask(layer.weight.detach(), sparsity)
    torch_prune.l1_unstructured(layer, "weight", amount=math.floor(sparsity * layer.weight.numel()))
    assert torch.equal(ours, layer.weight_mask.bool())
    assert int(ours.sum()) == 24 * 16 - math.floor(sparsity * 24 * 16)


def test_reconstruction_error_closed_forms():
    generator = torch.Generator().manual_seed(0)
    weight, x = torch.randn(5, 7, generator=generator), torch.randn(40, 7, generator=generator)
    assert reconstruction_error(weight, weight, x) == 0.0
    assert reconstruction_error(weight, torch.zeros_like(weight), x) == pytest.approx(1.0)
    assert reconstruction_error(weight, 0.5 * weight, x) == pytest.approx(0.25)
    # the error of a row pruned alone is that row's share of the output energy
    pruned = weight.clone()
    pruned[2] = 0
    share = float((x @ weight[2]).square().sum() / (x @ weight.T).square().sum())
    assert reconstruction_error(weight, pruned, x) == pytest.approx(share)


def test_shakespeare_lines_are_fixed_and_disjoint():
    calibration = shakespeare_lines(40, seed=0)
    heldout = shakespeare_lines(40, seed=1000, split="val")
    assert calibration == shakespeare_lines(40, seed=0)
    assert len(set(calibration)) == len(calibration) == 40
    assert all(len(line) >= 30 for line in calibration + heldout)
    assert not set(calibration) & set(heldout)


def test_e1_parameters_are_validated():
    assert validate_parameters(profile="smoke", minilm_blocks=[]).e1 is None
    e1 = validate_parameters(profile="smoke", minilm_blocks=[1], minilm_sparsities=[0.5]).e1
    assert e1.layers == minilm_block_linears([1]) and len(e1.layers) == 6
    with pytest.raises(ParameterError, match="minilm_blocks"):
        validate_parameters(minilm_blocks=[6])
    with pytest.raises(ParameterError, match="minilm_sparsities"):
        validate_parameters(minilm_sparsities=[1.0])
    with pytest.raises(ParameterError, match="minilm_heldout"):
        validate_parameters(minilm_heldout=0)
    with pytest.raises(ValueError, match="sparsities"):
        E1Config(layers=("encoder.layer.0.output.dense",), sparsities=(0.0,))


def test_layer_inputs_skip_padding():
    model, tokenizer = load_minilm()
    lines = ["To be, or not to be: that is the question.", "Ay."]
    names = ("encoder.layer.0.attention.self.query", "encoder.layer.0.output.dense")
    inputs = layer_inputs(model, tokenizer, lines, names)
    tokens = sum(len(tokenizer(line)["input_ids"]) for line in lines)
    assert inputs[names[0]].shape == (tokens, 384)
    assert inputs[names[1]].shape == (tokens, 1536)
    with pytest.raises(ValueError, match="not linears"):
        layer_inputs(model, tokenizer, lines, ["encoder.layer.9.output.dense"])


def test_pruner_ordering_on_real_weights():
    """Brief §7.1: held-out error SparseGPT < Wanda < magnitude on real MiniLM layers (s = 0.5)."""
    layers = ("encoder.layer.0.attention.self.query", "encoder.layer.2.intermediate.dense")
    rows = run_real_weights(E1Config(layers=layers, sparsities=(0.5,), n_calibration=64, n_heldout=128))
    errors = rows.pivot_table(index="layer", columns="pruner", values="error")
    assert (errors.sparsegpt < errors.wanda).all()
    assert (errors.wanda < errors.magnitude).all()
    assert (errors.sparsegpt < errors.magnitude_layer).all()
    # the control keeps Wanda's score distribution but not its knowledge of the large inputs: a different mask
    assert not errors.wanda.equals(errors.wanda_permuted)
    for _, at in rows.groupby("layer"):
        out, d_in = int(at["out"].iloc[0]), int(at["in"].iloc[0])
        nnz = at.set_index("pruner").nnz
        assert nnz["magnitude"] == nnz["wanda"] == nnz["wanda_permuted"] == out * kept_per_row(d_in, 0.5)
        assert nnz["magnitude_layer"] == out * d_in - math.floor(0.5 * out * d_in)
        assert nnz["sparsegpt"] <= out * d_in // 2 + out  # ⌊s·R·B⌋ pruned per column block


def test_prune_model_offers_per_layer_magnitude():
    model = ShakeGPT(GPTConfig(vocab=12, layers=2, d=16, heads=2, context=8))
    before = {name: module.weight.detach().clone() for name, module in block_linears(model)}
    masks = prune_model(model, "magnitude_layer", 0.7)
    for name, module in block_linears(model):
        expected = layer_magnitude_mask(before[name], 0.7)
        assert torch.equal(masks[name], expected)
        assert torch.equal(module.weight, before[name] * expected)
        assert int(masks[name].sum()) == module.weight.numel() - math.floor(0.7 * module.weight.numel())
    with pytest.raises(ValueError, match="N:M"):
        prune_model(model, "magnitude_layer", 0.5, nm=(2, 4))

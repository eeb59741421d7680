"""The kit's DynamicSparsity on the network's device: masks follow the weights, draws come from the
weights' device, and on the CPU the stream is the CPU generator's (results as before devices existed)."""

from dataclasses import replace

import pytest
import torch

from reprobook.neurotrails.experiments import RunConfig, run_method
from reprobook.sparse import DynamicSparsity, random_mask, soft_topk_mask

MODES = [("magnitude", "gradient"), ("magnitude", "random"), ("soft_magnitude", "gradient"),
         ("soft_magnitude", "random")]
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _train(prune: str, grow: str, device: str = "cpu", steps: int = 12):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sparsity = DynamicSparsity(model, optimizer, 0.4, total_steps=steps, prune=prune, grow=grow, update_every=3,
                               seed=5)
    data = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randn(32, 16, generator=data).to(device)
        y = torch.randint(0, 4, (32,), generator=data).to(device)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sparsity.step()
    return model, sparsity


def test_cpu_initial_masks_come_from_the_cpu_generator_stream():
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.Linear(32, 4))
    sparsity = DynamicSparsity(model, None, 0.4, total_steps=10, distribution="uniform", seed=5)
    stream = torch.Generator().manual_seed(sparsity.generator_seed)
    for layer in sparsity.layers:
        size = layer.parameter.numel()
        expected = random_mask(1, size, torch.tensor([round(0.4 * size)]), stream).reshape(layer.parameter.shape)
        assert torch.equal(sparsity.masks[layer.name], expected)
    assert list(sparsity.generators) == [torch.device("cpu")]
    assert sparsity.generator_for(model[0].weight) is sparsity.generator


@pytest.mark.parametrize("prune", ["magnitude", "soft_magnitude"])
def test_cpu_topology_update_draws_continue_the_cpu_stream(prune):
    """A SET update (random growth) on fixed weights uses exactly the next draws of the CPU stream."""
    torch.manual_seed(3)
    layer = torch.nn.Linear(12, 6, bias=False)
    sparsity = DynamicSparsity(layer, None, 0.5, total_steps=10, distribution="uniform", prune=prune,
                               grow="random", update_every=1, seed=2)
    stream = torch.Generator().manual_seed(sparsity.generator_seed)
    old = random_mask(1, 72, torch.tensor([36]), stream)
    assert torch.equal(sparsity.masks["weight"].reshape(1, -1), old)
    weight = layer.weight.detach().reshape(1, -1).clone()
    n_prune = torch.ceil(sparsity.current_prune_rate() * old.sum(dim=1).double()).long()
    if prune == "magnitude":
        kept_scores = torch.where(old, weight.abs().double(), torch.full_like(weight, -1.0, dtype=torch.float64))
        ranked = torch.argsort(kept_scores, dim=1, descending=True, stable=True)[:, :int(36 - n_prune)]
        kept = torch.zeros_like(old).scatter_(1, ranked, True) & old
    else:
        magnitude = torch.where(old, weight.abs().double() ** sparsity.temperature,
                                torch.zeros_like(weight, dtype=torch.float64))
        kept = soft_topk_mask(magnitude, 36 - n_prune, stream) & old
    grow_scores = torch.where(~kept, torch.rand((1, 72), generator=stream, dtype=torch.float64),
                              torch.full((1, 72), -1.0, dtype=torch.float64))
    grown = torch.zeros_like(old).scatter_(1, torch.argsort(grow_scores, dim=1, descending=True,
                                                            stable=True)[:, :int(n_prune)], True) & ~kept
    sparsity.step()
    assert torch.equal(sparsity.masks["weight"].reshape(1, -1), kept | grown)


@pytest.mark.parametrize("prune, grow", MODES)
def test_training_keeps_the_density_on_the_cpu(prune, grow):
    model, sparsity = _train(prune, grow)
    fresh = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    initial = DynamicSparsity(fresh, None, 0.4, total_steps=12, seed=5).nnz()
    assert len(sparsity.history) == 4 and sparsity.nnz() == initial
    for name, parameter in model.named_parameters():
        if name in sparsity.masks:
            assert not bool(((parameter != 0) & ~sparsity.masks[name]).any())


@needs_cuda
@pytest.mark.parametrize("prune, grow", MODES)
def test_cuda_masks_and_draws_live_on_the_weights_device(prune, grow):
    _, cpu = _train(prune, grow)
    model, cuda = _train(prune, grow, device="cuda")
    assert len(cuda.history) == 4
    assert all(p.device.type == "cuda" for p in model.parameters())
    for name, mask in cuda.masks.items():
        assert mask.device.type == "cuda"
        assert int(mask.sum()) == int(cpu.masks[name].sum())  # per-layer counts are device independent
    assert {device.type for device in cuda.generators} == {"cpu", "cuda"}
    _, repeat = _train(prune, grow, device="cuda")
    for name in cuda.masks:  # a given seed draws the same masks on the same device
        assert torch.equal(repeat.masks[name], cuda.masks[name])


@needs_cuda
def test_masks_follow_a_module_moved_to_cuda_after_masking():
    model = torch.nn.Linear(8, 8)
    sparsity = DynamicSparsity(model, None, 0.5, total_steps=4, grow="random")
    model.cuda()
    sparsity.apply_masks()
    assert sparsity.masks["weight"].device.type == "cuda"
    assert int((model.weight != 0).sum()) <= sparsity.nnz()


@needs_cuda
@pytest.mark.parametrize("method", ["neurotrails", "sparse_single"])
def test_cuda_run_finishes_with_the_cpu_nonzeros(method):
    config = RunConfig(method=method, width=8, blocks_in_head=2, epochs=1, n_train=256, n_val=200, n_test=200,
                       n_shift=200, update_every=1, grow="random")
    on_cpu = run_method(config)
    on_cuda = run_method(replace(config, device="cuda"))
    assert not on_cuda.summary["stopped_early"]
    assert on_cuda.summary["nnz"] == on_cpu.summary["nnz"]

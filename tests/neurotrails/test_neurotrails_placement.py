"""DeviceSparsity: the kit's DynamicSparsity with masks on the weights' device (CPU results unchanged)."""

from dataclasses import replace

import pytest
import torch

from reprobook.neurotrails.experiments import RunConfig, run_method
from reprobook.neurotrails.placement import DeviceSparsity
from reprobook.sparse import DynamicSparsity

MODES = [("magnitude", "gradient"), ("magnitude", "random"), ("soft_magnitude", "gradient"),
         ("soft_magnitude", "random")]


def _train(cls, prune: str, grow: str, device: str = "cpu", steps: int = 12):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sparsity = cls(model, optimizer, 0.4, total_steps=steps, prune=prune, grow=grow, update_every=3, seed=5)
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


@pytest.mark.parametrize("prune, grow", MODES)
def test_cpu_results_are_those_of_the_kit_class(prune, grow):
    base_model, base = _train(DynamicSparsity, prune, grow)
    model, placed = _train(DeviceSparsity, prune, grow)
    assert len(placed.history) == len(base.history) == 4
    assert placed.history == base.history
    for name in base.masks:
        assert torch.equal(placed.masks[name], base.masks[name])
    for ours, theirs in zip(model.parameters(), base_model.parameters(), strict=True):
        assert torch.equal(ours, theirs)


def test_on_host_moves_nothing_on_the_cpu():
    model, sparsity = _train(DeviceSparsity, "magnitude", "random", steps=3)
    masks = {name: mask for name, mask in sparsity.masks.items()}
    storage = [p.data_ptr() for p in model.parameters()]
    with sparsity.on_host():
        assert all(sparsity.masks[name] is masks[name] for name in masks)
    assert [p.data_ptr() for p in model.parameters()] == storage


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("prune, grow", MODES)
def test_cuda_masks_follow_the_weights_and_match_the_cpu_draws(prune, grow):
    _, cpu = _train(DeviceSparsity, prune, grow, steps=2)  # before the first topology update
    model, cuda = _train(DeviceSparsity, prune, grow, device="cuda", steps=2)
    for name, mask in cuda.masks.items():
        assert mask.device.type == "cuda"
        assert torch.equal(mask.cpu(), cpu.masks[name])
    model, cuda = _train(DeviceSparsity, prune, grow, device="cuda")
    assert len(cuda.history) == 4
    assert all(p.device.type == "cuda" for p in model.parameters())
    assert cuda.nnz() == cpu.nnz()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("method", ["neurotrails", "sparse_single"])
def test_cuda_run_finishes_with_the_cpu_nonzeros(method):
    config = RunConfig(method=method, width=8, blocks_in_head=2, epochs=1, n_train=256, n_val=200, n_test=200,
                       n_shift=200, update_every=1, grow="random")
    on_cpu = run_method(config)
    on_cuda = run_method(replace(config, device="cuda"))
    assert not on_cuda.summary["stopped_early"]
    assert on_cuda.summary["nnz"] == on_cpu.summary["nnz"]

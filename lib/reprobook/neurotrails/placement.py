"""Dynamic sparsity for a network on any torch device, with the same masks as on the CPU.

:class:`reprobook.sparse.DynamicSparsity` draws its random masks (the initial masks, SET's random
growth, the soft-magnitude sample) from a CPU ``torch.Generator`` and keeps its masks on the CPU, so
a network on a GPU fails at the first masking (a CPU mask times a CUDA weight).
:class:`DeviceSparsity` keeps each mask on its weight's device and runs every topology update on
the CPU, where the generator lives: the weights, their gradients, optimizer state and masks move to
the CPU for the update and back afterwards. A given seed and given weights thus draw the same masks
on every device; on the CPU nothing moves and the class behaves exactly as its base.

The update moves a few MB every ΔT steps, which is negligible for this chapter's networks; a kit
version that draws on a generator of the weight's device would avoid the copies (at the price of
device-dependent random streams).

>>> model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 2))
>>> sparsity = DeviceSparsity(model, None, 0.5, total_steps=10, grow="random", seed=1)
>>> sparsity.nnz() == DynamicSparsity(model, None, 0.5, total_steps=10, grow="random", seed=1).nnz()
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from reprobook.sparse import DynamicSparsity

__all__ = ["DeviceSparsity"]

_HOST = torch.device("cpu")


class DeviceSparsity(DynamicSparsity):
    """:class:`reprobook.sparse.DynamicSparsity` whose masks follow their weights' device (see the module)."""

    @torch.no_grad()
    def apply_masks(self) -> None:
        for layer in self.layers:
            self.masks[layer.name] = self.masks[layer.name].to(layer.parameter.device)
        super().apply_masks()

    def update_topology(self) -> dict[str, float]:
        with self.on_host():
            record = super().update_topology()
        self.apply_masks()
        return record

    def _off_host(self) -> list[torch.nn.Parameter]:
        return [layer.parameter for layer in self.layers if layer.parameter.device != _HOST]

    @contextmanager
    def on_host(self) -> Iterator[None]:
        """Weights, gradients, optimizer state and masks on the CPU inside the block, back on exit."""
        moved = self._off_host()
        devices = {id(parameter): parameter.device for parameter in moved}
        self._move(moved, lambda parameter: _HOST)
        try:
            yield
        finally:
            self._move(moved, lambda parameter: devices[id(parameter)])

    @torch.no_grad()
    def _move(self, parameters: list[torch.nn.Parameter], target) -> None:
        names = {id(layer.parameter): layer.name for layer in self.layers}
        for parameter in parameters:
            device = target(parameter)
            parameter.data = parameter.data.to(device)
            if parameter.grad is not None:
                parameter.grad = parameter.grad.to(device)
            if self.optimizer is not None:
                state = self.optimizer.state.get(parameter, {})
                for key, value in state.items():
                    if isinstance(value, torch.Tensor) and value.shape == parameter.shape:
                        state[key] = value.to(device)
            name = names[id(parameter)]
            self.masks[name] = self.masks[name].to(device)

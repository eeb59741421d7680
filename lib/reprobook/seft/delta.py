"""The sparse delta (SpIEL-style) and the SEFT topology update [reconstructed].

A :class:`SparseDeltaLinear` holds a frozen sparse base θ_p, a keep mask M, an index set η of k
flat positions and trainable values δ ∈ ℝᵏ; its weight is θ = (θ_p + scatter(η, δ)) ⊙ M, so
∂L/∂δ_i = [(∂L/∂θ) ⊙ M]_{η_i} and the optimizer state is O(k). :class:`SEFT` drives the topology:
every ΔT steps it drops the ⌈ζ_t·k⌉ smallest |δ|, grows as many at the largest |mean gradient|
(previously pruned positions included when ``resurrect``), then adapts the mask back to the pruner's
count (:func:`adapt_to_budget`): active non-δ positions left at θ = 0 by a discarded δ leave the mask,
and the rest of the excess goes by the smallest sensitivity |θ·G| (or |θ|, or at random), θ taken
after the drop; so nnz(M) stays fixed and no active weight outside the δ slots is zero. The dense
gradient exists only inside the ``window`` steps before each update.

>>> base = torch.tensor([[1., 0.], [0., 2.]])
>>> layer = SparseDeltaLinear(base, base != 0, torch.tensor([0, 1]))
>>> with torch.no_grad():
...     _ = layer.delta.copy_(torch.tensor([0.5, 7.0]))
>>> layer.weight().tolist()  # position 1 is pruned (M = 0), so its delta has no effect
[[1.5, 0.0], [0.0, 2.0]]
>>> drop_rate(0, 10, 100, 0.2), drop_rate(1, 50, 100, 0.2), drop_rate(2, 100, 100, 0.2)
(1.0, 0.1, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SparseDeltaLinear", "SEFTSettings", "SEFT", "drop_rate", "random_support", "drop_smallest",
           "grow_largest", "adapt_to_budget", "reseat_optimizer_state", "BudgetChange", "ADAPTATION_SCORES",
           "ADAPTATIONS",
           "SCHEDULES", "DROP_MODES"]

ADAPTATIONS = ("sensitivity", "magnitude", "random")
#: the random adaptation criterion draws from its own stream, apart from torch.manual_seed(seed)
TOPOLOGY_SEED_OFFSET = 0x5EF7
TOPOLOGY_SEED_STRIDE = 7919
SCHEDULES = ("linear", "cosine")
DROP_MODES = ("discard", "merge")


def random_support(mask: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k distinct flat positions drawn uniformly inside the mask (the initial η).

    >>> random_support(torch.tensor([[True, False], [True, True]]), 3, torch.Generator()).sort().values.tolist()
    [0, 2, 3]
    """
    active = torch.nonzero(mask.flatten()).flatten()
    if k > len(active):
        raise ValueError(f"k = {k} exceeds the {len(active)} active weights")
    return active[torch.randperm(len(active), generator=generator)[:k].to(active.device)].sort().values


class SparseDeltaLinear(nn.Module):
    """y = x θᵀ with θ = (θ_p + scatter(η, δ)) ⊙ M; only δ is a parameter."""

    def __init__(self, base: torch.Tensor, mask: torch.Tensor, index: torch.Tensor):
        super().__init__()
        self.register_buffer("base", (base.detach() * mask).clone())
        self.register_buffer("mask", mask.detach().clone().bool())
        self.register_buffer("index", index.detach().clone().long())
        self.delta = nn.Parameter(torch.zeros(len(index), dtype=base.dtype, device=base.device))
        # the dense gradient accumulator exists only inside an update window (memory: O(k) outside it)
        self.grad_sum: torch.Tensor | None = None
        self.capture = False
        self.captured = 0
        self._weight: torch.Tensor | None = None

    @property
    def k(self) -> int:
        return len(self.index)

    def weight(self) -> torch.Tensor:
        flat = self.base.flatten().index_add(0, self.index, self.delta)
        return flat.view_as(self.base) * self.mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight()
        if self.capture and torch.is_grad_enabled():
            weight.retain_grad()
            self._weight = weight
        return F.linear(x, weight)

    def collect(self) -> None:
        """After backward inside a window: add the dense gradient ∂L/∂θ to the accumulator."""
        if self._weight is not None and self._weight.grad is not None:
            if self.grad_sum is None:
                self.grad_sum = torch.zeros_like(self.base)
            self.grad_sum += self._weight.grad
            self.captured += 1
        self._weight = None

    def window_gradient(self) -> torch.Tensor:
        """Mean dense gradient ∂L/∂θ over the captured window (zeros if nothing was captured)."""
        if self.grad_sum is None:
            return torch.zeros_like(self.base)
        return self.grad_sum / max(self.captured, 1)

    @torch.no_grad()
    def dead_slots(self) -> int:
        """Active positions (M = 1) whose weight is exactly 0 and that are not δ slots: wasted budget."""
        is_slot = torch.zeros(self.base.numel(), dtype=torch.bool, device=self.base.device)
        is_slot[self.index] = True
        return int((self.mask.flatten() & (self.weight().flatten() == 0) & ~is_slot).sum())

    def reset_window(self) -> None:
        self.grad_sum = None
        self.captured = 0
        self.capture = False
        self._weight = None

    @torch.no_grad()
    def merged(self) -> torch.Tensor:
        return self.weight().detach().clone()


def drop_rate(update: int, step: int, total_steps: int, zeta0: float, schedule: str = "linear",
              selection_duration: float = 1.0, first_full: bool = True) -> float:
    """ζ at topology update number ``update`` (0-based) taken after optimizer step ``step``.

    The first update replaces the whole random η (rate 1) when ``first_full``; afterwards ζ0 decays
    linearly (or along a half cosine) to 0 at ``selection_duration``·``total_steps``.
    """
    if update == 0 and first_full:
        return 1.0
    end = selection_duration * total_steps
    fraction = min(max(step / end, 0.0), 1.0) if end > 0 else 1.0
    if schedule == "linear":
        return zeta0 * (1.0 - fraction)
    if schedule == "cosine":
        return zeta0 * (1.0 + math.cos(math.pi * fraction)) / 2.0
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")


@dataclass(frozen=True)
class SEFTSettings:
    """Every reconstructed knob of the topology update (see the chapter's §2)."""

    update_every: int = 20
    window: int = 5
    zeta0: float = 0.2
    schedule: str = "linear"
    selection_duration: float = 1.0
    first_full: bool = True
    resurrect: bool = True
    adaptation: str = "sensitivity"
    drop_mode: str = "discard"

    def __post_init__(self) -> None:
        if self.adaptation not in ADAPTATIONS:
            raise ValueError(f"adaptation must be one of {ADAPTATIONS}, got {self.adaptation!r}")
        if self.drop_mode not in DROP_MODES:
            raise ValueError(f"drop_mode must be one of {DROP_MODES}, got {self.drop_mode!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not 1 <= self.window <= self.update_every:
            raise ValueError("window must be in [1, update_every]")


class SEFT:
    """Drives the sparse-delta layers: gradient windows, and drop / grow / adapt every ΔT steps.

    Use: ``before_step(t)`` before the forward pass of optimizer step t (1-based), ``after_backward()``
    after ``loss.backward()``, ``after_step(t)`` after ``optimizer.step()``.
    """

    def __init__(self, layers: dict[str, SparseDeltaLinear], optimizer: torch.optim.Optimizer | None,
                 total_steps: int, settings: SEFTSettings, seed: int = 0):
        self.layers = layers
        self.optimizer = optimizer
        self.total_steps = total_steps
        self.settings = settings
        self.generator = torch.Generator().manual_seed(TOPOLOGY_SEED_OFFSET + TOPOLOGY_SEED_STRIDE * seed)
        self.updates = 0
        self.initial_masks = {name: layer.mask.clone() for name, layer in layers.items()}
        self.initial_bases = {name: layer.base.flatten().clone() for name, layer in layers.items()}
        self.target_nnz = {name: int(layer.mask.sum()) for name, layer in layers.items()}
        self.history: list[dict[str, float]] = []

    def is_update_step(self, step: int) -> bool:
        settings = self.settings
        return step % settings.update_every == 0 and step <= settings.selection_duration * self.total_steps

    def before_step(self, step: int) -> None:
        settings = self.settings
        window_start = (step - 1) % settings.update_every >= settings.update_every - settings.window
        next_update = step + (-step) % settings.update_every
        capture = window_start and next_update <= settings.selection_duration * self.total_steps
        for layer in self.layers.values():
            layer.capture = capture

    def after_backward(self) -> None:
        for layer in self.layers.values():
            if layer.capture:
                layer.collect()

    def after_step(self, step: int) -> list[dict[str, float]] | None:
        if not self.is_update_step(step):
            return None
        rate = drop_rate(self.updates, step, self.total_steps, self.settings.zeta0, self.settings.schedule,
                         self.settings.selection_duration, self.settings.first_full)
        records = [self._update_layer(name, layer, rate, step) for name, layer in self.layers.items()]
        for layer in self.layers.values():
            layer.reset_window()
        self.updates += 1
        self.history.extend(records)
        return records

    def _state(self, layer: SparseDeltaLinear) -> list[torch.Tensor]:
        if self.optimizer is None:
            return []
        state = self.optimizer.state.get(layer.delta, {})
        return [value for key, value in state.items() if key in ("exp_avg", "exp_avg_sq")
                and isinstance(value, torch.Tensor) and value.shape == layer.delta.shape]

    @torch.no_grad()
    def _update_layer(self, name: str, layer: SparseDeltaLinear, rate: float, step: int) -> dict[str, float]:
        settings = self.settings
        n = min(layer.k, math.ceil(rate * layer.k - 1e-9))
        gradient = layer.window_gradient().flatten()
        record = {"layer": name, "step": step, "update": self.updates, "rate": rate, "dropped": n, "grown": 0,
                  "resurrected": 0, "removed": 0, "dead_removed": 0, "restored": 0,
                  "removed_sensitivity": float("nan"), "kept_sensitivity": float("nan")}
        if n > 0:
            mask, base = layer.mask.flatten(), layer.base.flatten()
            keep, drop = drop_smallest(layer.delta, n)
            if settings.drop_mode == "merge":
                base.index_add_(0, layer.index[drop], layer.delta[drop])
            kept_index = layer.index[keep]
            grown = grow_largest(gradient, mask, kept_index, n, settings.resurrect)
            if len(grown) < n:
                raise RuntimeError(f"{name}: only {len(grown)} eligible positions for {n} growths")
            # θ after the drop: the dropped δ is gone (discard) or already in the base (merge), never both
            theta = base.index_add(0, kept_index, layer.delta[keep])
            resurrected = grown[~mask[grown]]
            mask[grown] = True
            base[resurrected] = 0.0
            new_index = torch.cat([kept_index, grown])
            criterion = self._criterion(theta, gradient)
            change = adapt_to_budget(mask, theta, gradient, new_index, self.target_nnz[name], criterion,
                                     self.initial_bases[name])
            base[change.restored] = self.initial_bases[name][change.restored]
            base.mul_(mask)
            if len(change.removed):
                still = mask.clone()
                still[new_index] = False
                record["removed_sensitivity"] = float((theta * gradient)[change.removed].abs().mean())
                record["kept_sensitivity"] = float((theta * gradient)[still].abs().mean())
            reseat_optimizer_state(self._state(layer), keep, len(grown))
            layer.index.copy_(new_index)
            layer.delta.copy_(torch.cat([layer.delta[keep], layer.delta.new_zeros(len(grown))]))
            record.update(grown=len(grown), resurrected=len(resurrected), removed=len(change.removed),
                          dead_removed=change.dead, restored=len(change.restored))
        nnz = int(layer.mask.sum())
        record["nnz"] = nnz
        record["nnz_exact"] = nnz == self.target_nnz[name]
        record["dead_slots"] = layer.dead_slots()
        record["changed_vs_initial"] = float((layer.mask != self.initial_masks[name]).sum()) / max(nnz, 1) / 2
        return record

    def _criterion(self, theta: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
        """Lower = removed first: |θ·G| (sensitivity), |θ| (magnitude) or a random score."""
        return ADAPTATION_SCORES[self.settings.adaptation](theta, gradient, self.generator)


def _sensitivity(theta: torch.Tensor, gradient: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return (theta * gradient).abs().double()


def _magnitude(theta: torch.Tensor, gradient: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return theta.abs().double()


def _random(theta: torch.Tensor, gradient: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(theta.shape, generator=generator, dtype=torch.float64).to(theta.device)


#: the adaptation criteria, one small function each (lower scores are removed first)
ADAPTATION_SCORES = {"sensitivity": _sensitivity, "magnitude": _magnitude, "random": _random}


def drop_smallest(delta: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions in δ to keep (sorted) and to drop: the ``n`` smallest |δ| (stable ties).

    >>> keep, drop = drop_smallest(torch.tensor([0.5, -0.1, 2.0, 0.0]), 2)
    >>> keep.tolist(), sorted(drop.tolist())
    ([0, 2], [1, 3])
    """
    order = torch.argsort(delta.detach().abs(), stable=True)
    return order[n:].sort().values, order[:n]


def grow_largest(gradient: torch.Tensor, mask: torch.Tensor, kept_index: torch.Tensor, n: int,
                 resurrect: bool) -> torch.Tensor:
    """The ``n`` flat positions outside the kept δ slots with the largest |G|; pruned ones only if ``resurrect``.

    >>> grow_largest(torch.tensor([3., -5., 1., 4.]), torch.tensor([True, True, False, False]),
    ...              torch.tensor([1]), 2, resurrect=True).tolist()
    [3, 0]
    """
    eligible = torch.ones_like(mask)
    eligible[kept_index] = False
    if not resurrect:
        eligible &= mask
    scores = torch.where(eligible, gradient.abs().double(), torch.full_like(gradient, -1.0, dtype=torch.float64))
    grown = torch.argsort(scores, descending=True, stable=True)[:n]
    return grown[eligible[grown]]


@dataclass(frozen=True)
class BudgetChange:
    """What :func:`adapt_to_budget` did: positions removed by the criterion, dead ones, restored ones."""

    removed: torch.Tensor
    dead: int
    restored: torch.Tensor


def adapt_to_budget(mask: torch.Tensor, theta: torch.Tensor, gradient: torch.Tensor, slots: torch.Tensor,
                    target: int, criterion: torch.Tensor, original: torch.Tensor) -> BudgetChange:
    """Sparsity adaptation, in place on the flat ``mask``: end with exactly ``target`` active positions.

    1. Active positions that are not δ slots and hold θ = 0 (a discarded δ at a resurrected
       position) are dead: they leave the mask whatever the criterion says.
    2. If the mask is still over budget, the active non-slot positions with the lowest
       ``criterion`` leave it (the current δ slots are never removed).
    3. If it is under budget (more dead positions than resurrections), the removed original
       weights (``original`` ≠ 0, outside the mask) with the largest |original·G| come back.

    >>> mask = torch.tensor([True, True, True, True, False])
    >>> theta = torch.tensor([0.0, 2.0, 1.0, 0.5, 0.0])
    >>> change = adapt_to_budget(mask, theta, torch.ones(5), torch.tensor([3]), 2, theta.abs(),
    ...                          torch.tensor([0.0, 2.0, 1.0, 0.0, 3.0]))
    >>> mask.tolist(), change.dead, change.removed.tolist()
    ([False, True, False, True, False], 1, [2])
    """
    is_slot = torch.zeros_like(mask)
    is_slot[slots] = True
    dead = mask & (theta == 0) & ~is_slot
    mask &= ~dead
    excess = int(mask.sum()) - target
    removed = torch.empty(0, dtype=torch.long, device=mask.device)
    restored = torch.empty(0, dtype=torch.long, device=mask.device)
    if excess > 0:
        removable = mask & ~is_slot
        scores = torch.where(removable, criterion.double(), torch.full_like(criterion, math.inf, dtype=torch.float64))
        removed = torch.argsort(scores, stable=True)[:excess]
        mask[removed] = False
    elif excess < 0:
        candidates = ~mask & (original != 0) & ~is_slot
        scores = torch.where(candidates, (original * gradient).abs().double(),
                             torch.full_like(original, -1.0, dtype=torch.float64))
        restored = torch.argsort(scores, descending=True, stable=True)[:-excess]
        restored = restored[candidates[restored]]
        mask[restored] = True
    return BudgetChange(removed, int(dead.sum()), restored)


def reseat_optimizer_state(states: list[torch.Tensor], keep: torch.Tensor, grown: int) -> None:
    """Adam's moments follow the kept δ entries; the grown entries start at zero (no seeding)."""
    for tensor in states:
        tensor.copy_(torch.cat([tensor[keep], tensor.new_zeros(grown)]))

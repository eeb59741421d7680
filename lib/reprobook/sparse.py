"""Sparse training machinery: layer densities (ERK, uniform), masks, and dynamic prune-and-regrow.

Used by the sparse-network chapters. :func:`erk_densities` allocates a global density over layers
(Erdős–Rényi–Kernel with iterative capping of layers that would exceed density 1);
:class:`DynamicSparsity` keeps a boolean mask per weight tensor of a ``torch.nn.Module``, applies it
to the weights and to the optimizer state after every optimizer step, and every ``update_every``
steps prunes a cosine-annealed fraction of each layer's active weights (smallest magnitude, or
sampled ∝ |w|^T) and regrows as many (largest dense gradient, or at random): RigL and SET.

A parameter may hold several independent layers stacked along its first dimension (``groups``):
for example M ensemble heads stored as one grouped convolution. Densities, top-k and the
prune/regrow counts are then per slice, exactly as if the slices were separate layers.

>>> import torch
>>> layer = torch.nn.Linear(20, 10)
>>> optimizer = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
>>> sparsity = DynamicSparsity(layer, optimizer, density=0.3, total_steps=100, seed=0)
>>> int(sparsity.masks["weight"].sum()), int((layer.weight != 0).sum())
(60, 60)
>>> layer(torch.randn(4, 20)).sum().backward(); optimizer.step(); sparsity.step()
>>> int((layer.weight != 0).sum()) <= 60
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import torch

__all__ = [
    "erk_densities",
    "uniform_densities",
    "cosine_prune_rate",
    "topk_mask",
    "soft_topk_mask",
    "random_mask",
    "DynamicSparsity",
    "PRUNE_MODES",
    "GROW_MODES",
    "OPTIMIZER_STATE_KEYS",
]

PRUNE_MODES = ("magnitude", "soft_magnitude")
GROW_MODES = ("gradient", "random")
#: optimizer state tensors shaped like the parameter that are masked with it (SGD momentum, Adam m/v)
OPTIMIZER_STATE_KEYS = ("momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")


def erk_densities(shapes: Sequence[Sequence[int]], density: float, power: float = 1.0) -> list[float]:
    """Per-layer densities p_l = min(1, ε·(Σ dims_l / Π dims_l)^power) with Σ_l p_l n_l = D Σ_l n_l.

    Layers whose density would exceed 1 are made dense and ε is solved again on the rest, until no
    layer exceeds 1 (the iterative capping of the RigL reference). ``power=1`` is the NeuroTrails
    ``Multi_Output`` allocation; ``power=0`` gives uniform densities.

    >>> [round(p, 4) for p in erk_densities([(10, 5), (100, 100)], 0.1)]
    [1.0, 0.0955]
    >>> erk_densities([(2, 2), (100, 100)], 0.5)[0]
    1.0
    """
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1], got {density}")
    sizes = [math.prod(shape) for shape in shapes]
    raw = [(sum(shape) / math.prod(shape)) ** power for shape in shapes]
    dense: set[int] = set()
    total = sum(sizes)
    while True:
        sparse = [i for i in range(len(shapes)) if i not in dense]
        if not sparse:
            return [1.0] * len(shapes)
        budget = density * total - sum(sizes[i] for i in dense)
        epsilon = budget / sum(raw[i] * sizes[i] for i in sparse)
        over = [i for i in sparse if epsilon * raw[i] > 1.0]
        if not over:
            return [1.0 if i in dense else epsilon * raw[i] for i in range(len(shapes))]
        dense.update(over)


def uniform_densities(shapes: Sequence[Sequence[int]], density: float) -> list[float]:
    """Every layer at the global density.

    >>> uniform_densities([(3, 3), (4, 4, 4)], 0.25)
    [0.25, 0.25]
    """
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1], got {density}")
    return [float(density)] * len(shapes)


def cosine_prune_rate(step: int, total_steps: int, initial: float = 0.5, final: float = 0.005) -> float:
    """ρ_t annealed from ``initial`` to ``final`` along a half cosine over ``total_steps``.

    >>> cosine_prune_rate(0, 100), round(cosine_prune_rate(50, 100), 4), cosine_prune_rate(100, 100)
    (0.5, 0.2525, 0.005)
    """
    fraction = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return final + (initial - final) * (1 + math.cos(math.pi * fraction)) / 2


def _rank_mask(scores: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Per row of ``scores`` (rows × n), True at the ``counts[row]`` highest entries."""
    order = torch.argsort(scores, dim=1, descending=True, stable=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(scores.shape[1], device=scores.device).expand_as(order))
    return ranks < counts.to(ranks.device).view(-1, 1)


def topk_mask(scores: torch.Tensor, counts: torch.Tensor | int) -> torch.Tensor:
    """Boolean mask of the ``counts[r]`` largest entries in each row of a 2-D ``scores``.

    >>> topk_mask(torch.tensor([[3., 1., 2.], [0., 5., 4.]]), torch.tensor([1, 2])).int().tolist()
    [[1, 0, 0], [0, 1, 1]]
    """
    if isinstance(counts, int):
        counts = torch.full((scores.shape[0],), counts)
    return _rank_mask(scores, counts)


def soft_topk_mask(weights: torch.Tensor, counts: torch.Tensor | int, generator: torch.Generator) -> torch.Tensor:
    """Per row, ``counts[r]`` entries drawn without replacement with probability ∝ ``weights``.

    Successive sampling without replacement equals the top-k of log w + Gumbel noise
    (Efraimidis–Spirakis), so all rows are drawn at once. Entries with weight 0 come last.
    """
    if isinstance(counts, int):
        counts = torch.full((weights.shape[0],), counts)
    uniform = torch.rand(weights.shape, generator=generator, dtype=torch.float64,
                         device=generator.device).clamp_min(1e-300)
    gumbel = -torch.log(-torch.log(uniform))
    keys = torch.where(weights > 0, torch.log(weights.double().clamp_min(1e-300)) + gumbel,
                       torch.full_like(gumbel, -1e300) + gumbel)
    return _rank_mask(keys, counts)


def random_mask(rows: int, columns: int, counts: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per row, exactly ``counts[r]`` True entries at uniformly random positions, on the generator's device."""
    return _rank_mask(torch.rand((rows, columns), generator=generator, device=generator.device), counts)


@dataclass(frozen=True)
class _Layer:
    name: str
    parameter: torch.nn.Parameter
    groups: int

    @property
    def slice_shape(self) -> tuple[int, ...]:
        shape = tuple(self.parameter.shape)
        return (shape[0] // self.groups, *shape[1:])

    def rows(self, tensor: torch.Tensor) -> torch.Tensor:
        """The tensor as (groups × slice size): one row per stacked layer."""
        return tensor.reshape(self.groups, -1)


def _default_include(name: str, parameter: torch.nn.Parameter) -> bool:
    """Weight tensors of ≥ 2 dims (conv, linear, embedding); never biases, even stacked ones."""
    return parameter.dim() >= 2 and not name.endswith("bias")


class DynamicSparsity:
    """An optimizer-like mask updater for the weight tensors of a module (RigL / SET / static).

    Call :meth:`step` right after ``optimizer.step()``: it multiplies the weights and their
    optimizer state by the masks, and every ``update_every`` steps updates the topology, using the
    gradients left in ``.grad`` by the last backward pass (the dense gradient of that minibatch).

    Masks live on their weights' device, and every random draw (initial masks, SET's growth, the
    soft-magnitude sample) is made there, from one generator per device seeded alike: a network on
    a GPU never round-trips through the host. On the CPU the stream is the CPU generator's, so CPU
    results do not depend on which other devices exist; a GPU draws its own (different) stream.

    Parameters
    ----------
    module: the model; its parameters chosen by ``include`` (default: weight tensors of ≥ 2 dims) are masked.
    optimizer: its per-parameter state (``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``) is masked too
        when ``mask_optimizer_state`` is True; None for mask-only use.
    density: the global density D over the masked tensors.
    distribution: ``"erk"`` (power ``erk_power``) or ``"uniform"``.
    groups: parameter name → number of layers stacked along its first dimension (default 1).
    prune: ``"magnitude"`` (drop the smallest |w|) or ``"soft_magnitude"`` (keep a sample ∝ |w|^temperature).
    grow: ``"gradient"`` (RigL: largest |∂L/∂w|) or ``"random"`` (SET).
    update_every: ΔT, optimizer steps between topology updates; ``static=True`` never updates.
    total_steps, prune_rate, final_prune_rate: the cosine schedule of ρ over training.
    freeze_topology_at: fraction of ``total_steps`` after which the topology stays fixed (None: never).
    regrow_dropped: whether a weight dropped in this update may be regrown (it keeps its value).
    """

    def __init__(
        self,
        module: torch.nn.Module,
        optimizer: torch.optim.Optimizer | None,
        density: float,
        *,
        total_steps: int,
        distribution: str = "erk",
        erk_power: float = 1.0,
        groups: Mapping[str, int] | None = None,
        include: Callable[[str, torch.nn.Parameter], bool] = _default_include,
        prune: str = "magnitude",
        grow: str = "gradient",
        update_every: int = 50,
        prune_rate: float = 0.5,
        final_prune_rate: float = 0.005,
        freeze_topology_at: float | None = None,
        regrow_dropped: bool = True,
        mask_optimizer_state: bool = True,
        temperature: float = 3.0,
        static: bool = False,
        seed: int = 0,
    ):
        if distribution not in ("erk", "uniform"):
            raise ValueError(f"distribution must be 'erk' or 'uniform', got {distribution!r}")
        if prune not in PRUNE_MODES:
            raise ValueError(f"prune must be one of {PRUNE_MODES}, got {prune!r}")
        if grow not in GROW_MODES:
            raise ValueError(f"grow must be one of {GROW_MODES}, got {grow!r}")
        if update_every < 1 or total_steps < 1:
            raise ValueError("update_every and total_steps must be positive")
        groups = dict(groups or {})
        self.layers = [_Layer(name, parameter, int(groups.get(name, 1)))
                       for name, parameter in module.named_parameters() if include(name, parameter)]
        for layer in self.layers:
            if layer.parameter.shape[0] % layer.groups:
                raise ValueError(f"{layer.name}: first dimension {layer.parameter.shape[0]} is not divisible "
                                 f"into {layer.groups} stacked layers")
        unknown = set(groups) - {layer.name for layer in self.layers}
        if unknown:
            raise ValueError(f"groups names parameters that are not masked: {sorted(unknown)}")
        self.optimizer = optimizer
        self.density = density
        self.prune, self.grow = prune, grow
        self.update_every, self.total_steps = update_every, total_steps
        self.prune_rate, self.final_prune_rate = prune_rate, final_prune_rate
        self.freeze_topology_at = freeze_topology_at
        self.regrow_dropped = regrow_dropped
        self.mask_optimizer_state = mask_optimizer_state
        self.temperature = temperature
        self.static = static
        # a stream apart from torch.manual_seed(seed): the same stream would make the masks select
        # the weights by their own initial values (the uniform draws of the default init)
        self.generator_seed = 0x5BA75E + 7919 * int(seed)
        self.generator = torch.Generator().manual_seed(self.generator_seed)
        self.generators: dict[torch.device, torch.Generator] = {self.generator.device: self.generator}
        self.steps = 0
        self.history: list[dict[str, float]] = []
        self.last_update: dict[str, dict[str, torch.Tensor]] = {}

        slice_shapes = [shape for layer in self.layers for shape in [layer.slice_shape] * layer.groups]
        if distribution == "erk":
            per_slice = erk_densities(slice_shapes, density, erk_power)
        else:
            per_slice = uniform_densities(slice_shapes, density)
        self.densities: dict[str, float] = {}
        self.masks: dict[str, torch.Tensor] = {}
        position = 0
        for layer in self.layers:
            layer_density = per_slice[position]
            position += layer.groups
            size = math.prod(layer.slice_shape)
            active = min(size, max(1, round(layer_density * size)))
            counts = torch.full((layer.groups,), active)
            mask = random_mask(layer.groups, size, counts, self.generator_for(layer.parameter))
            self.densities[layer.name] = layer_density
            self.masks[layer.name] = mask.reshape(layer.parameter.shape)
        self.apply_masks()

    def generator_for(self, parameter: torch.nn.Parameter) -> torch.Generator:
        """The random stream of ``parameter``'s device (made on first use, seeded like the CPU one)."""
        device = parameter.device
        if device not in self.generators:
            self.generators[device] = torch.Generator(device=device).manual_seed(self.generator_seed)
        return self.generators[device]

    # -- masks ---------------------------------------------------------------------------------
    @torch.no_grad()
    def apply_masks(self) -> None:
        """Zero the masked weights and (unless switched off) their optimizer state."""
        for layer in self.layers:
            mask = self.masks[layer.name]
            if mask.device != layer.parameter.device:  # the module was moved after the masks were made
                mask = self.masks[layer.name] = mask.to(layer.parameter.device)
            layer.parameter.mul_(mask)
            if self.mask_optimizer_state:
                for tensor in self._state_tensors(layer.parameter):
                    tensor.mul_(mask)

    def _state_tensors(self, parameter: torch.nn.Parameter) -> Iterable[torch.Tensor]:
        if self.optimizer is None:
            return []
        state = self.optimizer.state.get(parameter, {})
        return [value for key, value in state.items()
                if key in OPTIMIZER_STATE_KEYS and isinstance(value, torch.Tensor)
                and value.shape == parameter.shape]

    # -- schedule ------------------------------------------------------------------------------
    def current_prune_rate(self) -> float:
        return cosine_prune_rate(self.steps, self.total_steps, self.prune_rate, self.final_prune_rate)

    def topology_frozen(self) -> bool:
        if self.static:
            return True
        return self.freeze_topology_at is not None and self.steps >= self.freeze_topology_at * self.total_steps

    def step(self) -> dict[str, float] | None:
        """After ``optimizer.step()``: mask weights and state; update the topology every ΔT steps."""
        self.steps += 1
        self.apply_masks()
        if self.steps % self.update_every == 0 and not self.topology_frozen():
            return self.update_topology()
        return None

    # -- topology update -----------------------------------------------------------------------
    @torch.no_grad()
    def update_topology(self) -> dict[str, float]:
        """Prune ⌈ρ·nnz⌉ weights per layer and regrow as many; return the update's statistics."""
        rate = self.current_prune_rate()
        changed = active_total = 0
        self.last_update = {}
        for layer in self.layers:
            weight = layer.rows(layer.parameter)
            old = layer.rows(self.masks[layer.name])
            nnz = old.sum(dim=1)
            n_prune = torch.ceil(rate * nnz.double()).long()
            n_keep = nnz - n_prune
            if self.prune == "magnitude":
                scores = torch.where(old, weight.abs().double(), torch.full_like(weight, -1.0, dtype=torch.float64))
                kept = topk_mask(scores, n_keep) & old
            else:
                magnitude = torch.where(old, weight.abs().double() ** self.temperature, torch.zeros_like(weight,
                                        dtype=torch.float64))
                kept = soft_topk_mask(magnitude, n_keep, self.generator_for(layer.parameter)) & old
            candidates = ~kept if self.regrow_dropped else ~old
            if self.grow == "gradient":
                grad = layer.parameter.grad
                if grad is None:
                    raise RuntimeError(f"{layer.name} has no gradient: call step() after backward()")
                scores = torch.where(candidates, layer.rows(grad).abs().double(),
                                     torch.full_like(weight, -1.0, dtype=torch.float64))
            else:
                scores = torch.where(candidates, torch.rand(weight.shape, generator=self.generator_for(layer.parameter),
                                                             dtype=torch.float64, device=weight.device),
                                     torch.full_like(weight, -1.0, dtype=torch.float64))
            grown = topk_mask(scores, n_prune) & candidates
            new = kept | grown
            newly_connected = grown & ~old
            # a weight that was inactive starts at zero, with fresh optimizer state
            weight.masked_fill_(newly_connected, 0.0)
            for tensor in self._state_tensors(layer.parameter):
                layer.rows(tensor).masked_fill_(newly_connected, 0.0)
            self.masks[layer.name] = new.reshape(layer.parameter.shape)
            self.last_update[layer.name] = {"old": old.clone(), "kept": kept, "grown": grown,
                                            "newly_connected": newly_connected, "rate": rate}
            changed += int(newly_connected.sum())
            active_total += int(nnz.sum())
        self.apply_masks()
        record = {"step": self.steps, "prune_rate": rate,
                  "changed_fraction": changed / max(active_total, 1)}
        self.history.append(record)
        return record

    # -- reports -------------------------------------------------------------------------------
    def nnz(self) -> int:
        """Active entries over all masked tensors."""
        return int(sum(int(mask.sum()) for mask in self.masks.values()))

    def report(self) -> pd.DataFrame:
        """Per masked tensor: shape, stacked layers, size, target density, active entries, density."""
        rows = []
        for layer in self.layers:
            mask = self.masks[layer.name]
            rows.append({"layer": layer.name, "shape": tuple(layer.parameter.shape), "groups": layer.groups,
                         "numel": mask.numel(), "target_density": self.densities[layer.name],
                         "nnz": int(mask.sum()), "density": float(mask.float().mean())})
        return pd.DataFrame(rows)

"""``DelayLinear``: a dense layer whose synapses have learnable delays (DCLS-style Gaussian taps).

Each synapse ``(o, i)`` has ``slots`` delay slots; slot ``s`` has a weight ``w[o, i, s]`` and a
continuous position ``d[o, i, s]`` in steps, ``0 <= d <= max_delay``. During training a slot
spreads its weight over the integer taps ``k = 0..max_delay`` with a normalised Gaussian of width
``sigma`` steps (Hammouamri, Khalfaoui-Hassani & Masquelier 2023, "Learning delays in spiking neural
networks using dilated convolutions with learnable spacings"), so the position gets a gradient::

    K[o, i, k] = sum_s w[o, i, s] * g(k - d[o, i, s]) / sum_k' g(k' - d[o, i, s]),   g(u) = exp(-u^2 / (2 sigma^2))
    y[t, o]    = sum_{i, k} K[o, i, k] * x[t - k, i]          (one conv1d over time)

Anneal ``sigma`` towards 0 during training (:meth:`DelayLinear.set_sigma`); :meth:`harden` rounds
the positions to integers and sets ``sigma = 0``, after which the layer is exactly a sum of
integer-delayed synapses: the deployment semantics of the IR's per-synapse delays.
:meth:`prune` keeps the ``k`` strongest slots per synapse and reports the synapse memory saved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import graph as ir
from ..errors import GraphError


@dataclass(frozen=True)
class PruneReport:
    """What :meth:`DelayLinear.prune` removed.

    Attributes:
        slots_before, slots_after: active (weight, delay) slots in the layer.
        bits_per_slot: weight bits + delay bits (``ceil(log2(max_delay + 1))``) of one slot.
        bits_before, bits_after, bits_saved: synapse memory in bits.
    """

    slots_before: int
    slots_after: int
    bits_per_slot: int
    bits_before: int
    bits_after: int
    bits_saved: int


class DelayLinear(nn.Module):
    """Dense layer with learnable per-synapse delays: (batch, time, in) -> (batch, time, out).

    Args:
        in_features, out_features: sizes.
        max_delay: largest delay in steps (taps ``0..max_delay``).
        slots: delay slots per synapse (1: one weight and one delay per synapse, as a chip stores).
        sigma: initial Gaussian width in steps (default ``max_delay / 2``, at least 0.5).
        bias: add a learnable bias (exported as an ``Affine`` node).
        seed: seed of the initial weights and positions.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        max_delay: int,
        slots: int = 1,
        sigma: float | None = None,
        bias: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if int(max_delay) < 0 or int(slots) < 1:
            raise ValueError(f"max_delay must be >= 0 and slots >= 1, got max_delay={max_delay}, slots={slots}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.max_delay, self.slots = int(max_delay), int(slots)
        generator = torch.Generator().manual_seed(seed)
        bound = 1.0 / math.sqrt(in_features)
        shape = (out_features, in_features, slots)
        self.weight = nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) * bound)
        self.position = nn.Parameter(torch.rand(shape, generator=generator) * self.max_delay)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.mask: torch.Tensor
        self.register_buffer("mask", torch.ones(shape, dtype=torch.bool))
        self.sigma = 0.0
        self.set_sigma(max(self.max_delay / 2, 0.5) if sigma is None else sigma)

    # -- training controls ---------------------------------------------------------------------
    def set_sigma(self, sigma: float) -> None:
        """Set the Gaussian width in steps (0: hard integer delays, no gradient to the positions)."""
        if not (sigma >= 0 and math.isfinite(sigma)):
            raise ValueError(f"sigma must be a finite number of steps >= 0, got {sigma!r}")
        self.sigma = float(sigma)

    @torch.no_grad()
    def harden(self) -> None:
        """Round the positions to integer steps in [0, max_delay] and switch to hard delays (sigma 0)."""
        self.position.copy_(self.position.clamp(0, self.max_delay).round())
        self.sigma = 0.0

    @torch.no_grad()
    def prune(self, keep: int, weight_bits: int = 8) -> PruneReport:
        """Keep the ``keep`` strongest (largest |weight|) active slots of every synapse; mask the rest.

        Args:
            keep: slots kept per synapse, 1 <= keep <= slots.
            weight_bits: bits of one stored weight, for the memory report.
        """
        if not 1 <= keep <= self.slots:
            raise ValueError(f"keep must be in [1, {self.slots}] (slots per synapse), got {keep}")
        before = int(self.mask.sum())
        strength = self.weight.abs().masked_fill(~self.mask, -1.0)
        top = strength.topk(keep, dim=-1).indices
        new_mask = torch.zeros_like(self.mask).scatter_(-1, top, True) & self.mask
        self.mask.copy_(new_mask)
        after = int(self.mask.sum())
        per_slot = int(weight_bits) + max(1, math.ceil(math.log2(self.max_delay + 1)))
        return PruneReport(before, after, per_slot, before * per_slot, after * per_slot, (before - after) * per_slot)

    # -- the kernel ----------------------------------------------------------------------------
    def kernel(self, weight: torch.Tensor | None = None, position: torch.Tensor | None = None) -> torch.Tensor:
        """The tap weights ``K`` (..., out, in, max_delay + 1): weight per synapse and integer delay.

        ``weight`` and ``position`` default to the layer's own; given, they may carry leading batch
        dimensions (several parameter sets at once, as ``Network.forward_chips`` passes).
        """
        weight = (self.weight if weight is None else weight) * self.mask
        position = self.position if position is None else position
        taps = torch.arange(self.max_delay + 1, device=weight.device, dtype=weight.dtype)
        if self.sigma == 0.0:
            index = position.detach().clamp(0, self.max_delay).round().long()
            spread = nn.functional.one_hot(index, self.max_delay + 1).to(weight.dtype)
        else:
            position = position.clamp(0, self.max_delay)
            g = torch.exp(-0.5 * ((taps - position[..., None]) / self.sigma) ** 2)
            spread = g / g.sum(dim=-1, keepdim=True)
        return (weight[..., None] * spread).sum(dim=-2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, in) -> (batch, time, out); ``y[t] = sum_k K[:, :, k] x[t - k]`` (zero before t = 0)."""
        if x.ndim != 3 or x.shape[2] != self.in_features:
            raise ValueError(f"DelayLinear expects input (batch, time, {self.in_features}), got {tuple(x.shape)}")
        padded = nn.functional.pad(x.transpose(1, 2), (self.max_delay, 0))
        y = nn.functional.conv1d(padded, self.kernel().flip(-1), self.bias)  # conv1d correlates: flip taps
        return y.transpose(1, 2)

    # -- deployment ----------------------------------------------------------------------------
    def slot_delays(self) -> torch.Tensor:
        """Integer delays (out, in, slots) in steps: the rounded positions."""
        return self.position.detach().clamp(0, self.max_delay).round().long()

    def rounded_delays(self) -> torch.Tensor:
        """Integer delay (out, in) of each synapse's strongest active slot."""
        strongest = (self.weight.detach().abs() * self.mask).argmax(dim=-1, keepdim=True)
        return self.slot_delays().gather(-1, strongest).squeeze(-1)

    def active_slots(self) -> int:
        """Largest number of active slots of any synapse (= number of IR Linear nodes exported)."""
        return int(self.mask.sum(dim=-1).max())

    def graph_nodes(self) -> list[ir.Node]:
        """One IR ``Linear`` (``Affine`` for the first, with a bias) per slot rank, strongest first.

        Node ``r`` holds every synapse's ``r``-th strongest active slot (weight 0 where a synapse has
        fewer). Parallel nodes between the same two nodes sum, so the graph computes this layer
        exactly once it is hardened (sigma 0); with sigma > 0 the export rounds the delays.
        """
        order = (self.weight.detach().abs() * self.mask).argsort(dim=-1, descending=True)
        weights = (self.weight.detach() * self.mask).gather(-1, order)
        delays = self.slot_delays().gather(-1, order)
        nodes: list[ir.Node] = []
        for rank in range(self.active_slots()):
            w = weights[..., rank].to("cpu", torch.float64).numpy()
            d = delays[..., rank].cpu().numpy()
            if rank == 0 and self.bias is not None:
                nodes.append(ir.Affine(weight=w, delay=d, bias=self.bias.detach().to("cpu", torch.float64).numpy()))
            else:
                nodes.append(ir.Linear(weight=w, delay=d))
        return nodes

    @classmethod
    def from_nodes(cls, nodes: list[ir.Linear], dtype: torch.dtype = torch.float32) -> DelayLinear:
        """A hardened layer that computes the parallel IR Linear/Affine ``nodes`` (one slot per node)."""
        weight = np.stack([n.weight for n in nodes], axis=-1)
        delay = np.stack([np.zeros_like(n.weight) if n.delay is None else n.delay for n in nodes], axis=-1)
        bias_nodes = [n for n in nodes if isinstance(n, ir.Affine)]
        if len(bias_nodes) > 1 or (bias_nodes and nodes[0] is not bias_nodes[0]):
            raise GraphError("parallel delay slots may carry one bias, on the first node")
        out_features, in_features, slots = weight.shape
        layer = cls(in_features, out_features, int(delay.max(initial=0)), slots, bias=bool(bias_nodes)).to(dtype)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(np.array(weight)))
            layer.position.copy_(torch.from_numpy(np.array(delay, dtype=np.float64)))
            if layer.bias is not None:
                layer.bias.copy_(torch.from_numpy(np.array(bias_nodes[0].bias)))
        layer.sigma = 0.0
        return layer

    def extra_repr(self) -> str:
        sizes = f"{self.in_features}, {self.out_features}"
        return f"{sizes}, max_delay={self.max_delay}, slots={self.slots}, sigma={self.sigma}"


__all__ = ["DelayLinear", "PruneReport"]

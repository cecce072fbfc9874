"""``LoihiModel``: the differentiable model of Loihi's CUBA LIF with learnable per-synapse delays.

The model computes in the chip's own units: weights are the effective integer weights
``mantissa * 2**weight_exp`` that reach the dendritic accumulator, u and v are Lava's 24-bit states,
``vth``, ``du``, ``dv`` and the biases are the integers of the quantized graph. Each layer is

- a :class:`neuro_core.nn.DelayLinear` (learnable weights and delay positions per synapse slot,
  DCLS-style Gaussian taps while training, integer delays 0..62 once hardened, pruning of slots),
- the chip's one-step latency per connection stage,
- Lava's LIF update: ``u = trunc0(u (4096 - du - 1) / 4096) + 64 a``, wrap of u into 24 bits,
  ``v = trunc0(v (4096 - dv) / 4096) + u + bias``, saturation of v, spike if ``v > vth << 6``, ``v = 0``.

With ``quantization_aware = True`` the forward pass rounds weights to the 8-bit mantissa grid of a
shared exponent, truncates the decays toward zero, wraps u and saturates v exactly as the chip
does, all with straight-through gradients; it computes in float64, where every one of these
integers is exact. Once the delays are hardened (:meth:`LoihiModel.harden`) the forward pass is then
bit-exact to the deployed Program: the dendritic sums are floored per (connection, delay, step) as
Lava's ``a_accum >> -weight_exp`` does, so training and chip agree spike for spike.
:meth:`LoihiModel.to_graph` exports the integers themselves (``int_params``), which ``quantize``
keeps as they are.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import torch
from neuro_core.chipmodel import ChipModel
from neuro_core.errors import GraphError
from neuro_core.graph import IF, LI, Graph, Input, Linear, Node, Output
from neuro_core.nn import DelayLinear
from neuro_core.nn.surrogate import check_surrogate, spike
from neuro_core.target import Target
from torch import nn

from .program import network_of
from .quantize import input_gain, quantize_graph
from .target import ACT_SHIFT, DECAY_UNITY, MAX_DELAY, VTH_SHIFT

MODEL_OPTIONS = {"learn_delays", "max_delay", "delay_slots", "surrogate", "surrogate_scale", "seed", "headroom_bits"}
_MAX_U = float(1 << 23)
_MAX_V = float((1 << 23) - 1)


def _ste(x: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """``value`` forward, the identity's gradient backward (straight-through)."""
    return x + (value - x).detach()


def _trunc_decay(x: torch.Tensor, keep: float) -> torch.Tensor:
    """Lava's ``sign(p) * (|p| >> 12)`` with ``p = x * keep``: truncation toward zero, STE gradient."""
    scaled = x * (keep / DECAY_UNITY)
    return _ste(scaled, torch.trunc(x * keep / DECAY_UNITY))


def _wrap32(x: torch.Tensor) -> torch.Tensor:
    """Two's-complement int32 wrap-around (Lava's int32 arrays), exact in float64."""
    return torch.remainder(x + 2.0**31, 2.0**32) - 2.0**31


def _wrap_u(u: torch.Tensor) -> torch.Tensor:
    """Lava's int32 arithmetic then one conditional wrap into (-2**23, 2**23] (STE gradient)."""
    wrapped = _wrap32(u)
    wrapped = torch.where(wrapped > _MAX_U, wrapped - 2 * _MAX_U, wrapped)
    wrapped = torch.where(wrapped <= -_MAX_U, wrapped + 2 * _MAX_U, wrapped)
    return _ste(u, wrapped)


def quantize_weights(weight: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Round effective weights to ``mantissa * 2**e`` (even mantissas in [-254, 254], one ``e`` in -8..7).

    ``e`` is the smallest exponent whose grid holds the largest |weight| (as the quantizer picks it).
    Returns the rounded weights (straight-through gradient) and ``e``.
    """
    largest = float(weight.detach().abs().max()) if weight.numel() else 0.0
    e = 0 if largest == 0 else int(np.clip(math.ceil(math.log2(largest / 254.0)), -8, 7))
    step = 2.0 ** (e + 1)  # even mantissas: Lava drops the LSB of mixed-sign weights
    rounded = torch.clamp(torch.round(weight / step) * step, -254 * 2.0**e, 254 * 2.0**e)
    return _ste(weight, rounded), e


class LoihiLayer(nn.Module):
    """One connection stage (a DelayLinear) plus one population of Lava LIF compartments."""

    synapses: DelayLinear
    bias: torch.Tensor
    float_per_chip: torch.Tensor

    def __init__(
        self,
        synapses: DelayLinear,
        neuron: Node,
        name: str,
        syn_name: str,
        float_per_chip: np.ndarray,
        surrogate: tuple[str, float],
    ) -> None:
        super().__init__()
        self.synapses = synapses
        self.neuron = neuron  # the quantized IR node: its int_params are the population's registers
        self.name, self.syn_name = name, syn_name
        ip = neuron.int_params
        self.du, self.dv, self.vth = int(ip["du"][0]), int(ip["dv"][0]), int(ip["vth"][0])
        bias = np.where(ip["bias_exp"] >= 0, ip["bias_mant"] << np.maximum(ip["bias_exp"], 0), ip["bias_mant"])
        self.register_buffer("bias", torch.as_tensor(bias, dtype=torch.float64))
        self.register_buffer("float_per_chip", torch.as_tensor(float_per_chip, dtype=torch.float64))
        self.readout = isinstance(neuron, LI)
        self.surrogate = surrogate

    def dendritic_input(self, x: torch.Tensor, exact: bool, quantize: bool) -> tuple[torch.Tensor, int]:
        """a_in (batch, time, out): the synaptic input with the 1-step latency, and the weight exponent."""
        syn = self.synapses
        weight = syn.weight * syn.mask
        e = 0
        if quantize:
            weight, e = quantize_weights(weight)
        if not exact:
            params = {"weight": weight.to(x.dtype), "position": syn.position.to(x.dtype)}
            y = torch.func.functional_call(syn, params, (x,))
        else:
            # per slot rank (one chip connection each) and per integer delay: floor each sum, as Lava does
            order = (syn.weight.detach().abs() * syn.mask).argsort(dim=-1, descending=True)
            ranked = weight.gather(-1, order).to(x.dtype)
            delays = syn.slot_delays().gather(-1, order)
            y = torch.zeros(x.shape[0], x.shape[1], syn.out_features, dtype=x.dtype, device=x.device)
            for rank in range(syn.active_slots()):
                w_r, d_r = ranked[..., rank], delays[..., rank]
                for d in torch.unique(d_r).tolist():
                    w_rd = torch.where(d_r == d, w_r, torch.zeros_like(w_r))
                    if not torch.any(w_rd != 0):
                        continue
                    shifted = nn.functional.pad(x, (0, 0, int(d), 0))[:, : x.shape[1]]
                    part = shifted @ w_rd.T
                    y = y + (_ste(part, torch.floor(part)) if e < 0 else part)
        return nn.functional.pad(y, (0, 0, 1, 0))[:, : x.shape[1]], e  # the chip's 1-step latency

    def forward(self, x: torch.Tensor, quantize: bool) -> torch.Tensor:
        """(batch, time, in) spikes -> (batch, time, out) spikes, or v for an LI readout."""
        exact = quantize and self.synapses.sigma == 0.0
        # the chip's integers (u * decay reaches 2**43) are exact in float64; float training runs in float32
        dtype = torch.float64 if quantize else torch.float32
        a_in, _ = self.dendritic_input(x.to(dtype), exact, quantize)
        keep_u = float(DECAY_UNITY - (self.du + 1))
        keep_v = float(DECAY_UNITY - self.dv)
        vth = float(self.vth << VTH_SHIFT)
        bias = self.bias.to(dtype)
        u = torch.zeros(x.shape[0], a_in.shape[2], dtype=dtype, device=x.device)
        v = torch.zeros_like(u)
        out = []
        name, scale = self.surrogate
        for t in range(a_in.shape[1]):
            drive = a_in[:, t] * float(1 << ACT_SHIFT)
            if quantize:
                u = _wrap_u(_trunc_decay(u, keep_u) + drive)
                v = _trunc_decay(v, keep_v) + u + bias
                v = torch.clamp(_ste(v, _wrap32(v)), -_MAX_V, _MAX_V)
            else:
                u = u * (keep_u / DECAY_UNITY) + drive
                v = v * (keep_v / DECAY_UNITY) + u + bias
            if self.readout:
                out.append(v)
                continue
            z = spike((v - vth) / vth, name, scale)  # strict: spikes iff v > vth << 6
            v = v * (1.0 - z.detach())
            out.append(z)
        return torch.stack(out, dim=1).to(x.dtype)


class LoihiModel(ChipModel):
    """A feed-forward chain of Loihi layers: (batch, time, in) -> (batch, time, out). See the module docstring.

    Build it with :meth:`from_graph` (or ``neuro_core.device("loihi").chip_model(graph, **options)``).
    """

    def __init__(self, target: Target, layers: list[LoihiLayer], input_name: str, output_name: str, dt: float) -> None:
        super().__init__(target)
        self.layers = nn.ModuleList(layers)
        self.input_name, self.output_name, self.dt = input_name, output_name, dt

    @property
    def stages(self) -> list[LoihiLayer]:
        """The layers, typed (``self.layers`` is the torch ModuleList that registers them)."""
        return [cast(LoihiLayer, layer) for layer in self.layers]

    @classmethod
    def from_graph(cls, target: Target, graph: Graph, **options: Any) -> LoihiModel:
        """A model initialised from a float (or Loihi-quantized) feed-forward chain graph.

        Options: ``learn_delays`` (bool, default False: delays fixed as in the graph), ``max_delay``
        (steps, <= 62; default the graph's largest delay, or 62 with learn_delays), ``delay_slots``
        (slots per synapse, default 1), ``surrogate`` / ``surrogate_scale`` (the spike's surrogate
        gradient), ``seed`` (initial delay positions), ``headroom_bits`` (passed to the quantizer).

        Raises:
            ValueError: an unknown option. GraphError: not a feed-forward chain Loihi can hold.
        """
        unknown = set(options) - MODEL_OPTIONS
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)} for LoihiModel; allowed: {sorted(MODEL_OPTIONS)}")
        learn = bool(options.get("learn_delays", False))
        surrogate = check_surrogate(options.get("surrogate", "fast_sigmoid"), options.get("surrogate_scale"))
        q_options = {"headroom_bits": options["headroom_bits"]} if "headroom_bits" in options else {}
        quantized = quantize_graph(target.name, target, graph, q_options)
        net = network_of(quantized)
        if len(net.inputs) != 1 or len(net.outputs) != 1:
            raise GraphError("LoihiModel needs one Input and one Output node")
        layers: list[LoihiLayer] = []
        linear_names = [n for n, node in quantized.nodes.items() if isinstance(node, Linear)]
        for p, pop in enumerate(net.populations):
            conns = [c for c in net.connections if c.dst == p]
            expected = ("input", 0) if p == 0 else ("pop", p - 1)
            if not conns or any((c.src_kind, c.src) != expected for c in conns):
                raise GraphError(
                    f"LoihiModel supports feed-forward chains: population {pop.name!r} must be fed by the "
                    f"{'input' if p == 0 else 'previous population'} only"
                )
            graph_delay = max(int(c.delays.max(initial=0)) for c in conns)
            max_delay = int(options.get("max_delay", MAX_DELAY if learn else graph_delay))
            if not 0 <= max_delay <= MAX_DELAY or max_delay < graph_delay:
                raise ValueError(f"max_delay must be in {graph_delay}..{MAX_DELAY} steps, got {max_delay}")
            slots = max(len(conns), int(options.get("delay_slots", 1)))
            n_out, n_in = conns[0].weights.shape
            syn = DelayLinear(n_in, n_out, max_delay, slots, seed=int(options.get("seed", 0)) + p).double()
            with torch.no_grad():
                syn.weight.zero_()
                for k, c in enumerate(conns):
                    syn.weight[..., k] = torch.as_tensor(np.array(c.weights * 2.0**c.weight_exp))
                    if not learn or np.any(c.delays):
                        syn.position[..., k] = torch.as_tensor(np.array(c.delays), dtype=torch.float64)
                if learn and len(conns) == 1 and slots > 1 and graph_delay == 0:
                    # learning delays from scratch: share each weight among the slots at their random positions
                    syn.weight.copy_(syn.weight[..., :1].expand_as(syn.weight) / slots)
            if not learn:
                syn.position.requires_grad_(False)
                syn.sigma = 0.0
            node = quantized.nodes[pop.name]
            theta = np.ones(pop.n) if isinstance(node, LI) else np.asarray(cast(IF, node).v_threshold) * np.ones(pop.n)
            scale_v = pop.vth if not isinstance(node, LI) else 1.0 / ((1 << ACT_SHIFT) * node.scales["vth"])
            factor = theta / (input_gain(node, quantized.dt) * scale_v)
            syn_name = next(n for n in linear_names if quantized.successors(n) == [pop.name])
            layers.append(LoihiLayer(syn, node, pop.name, syn_name, factor, surrogate))
        return cls(target, layers, net.inputs[0][0], net.outputs[0][0], quantized.dt)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, in) input spikes -> (batch, time, out) output spikes (or readout v, chip units)."""
        if x.ndim != 3:
            raise ValueError(f"LoihiModel expects (batch, time, channels), got shape {tuple(x.shape)}")
        h = x
        for layer in self.stages:
            h = layer(h, self.quantization_aware)
        return h

    # -- delays ------------------------------------------------------------------------------
    def set_sigma(self, sigma: float) -> None:
        """Set the delay taps' Gaussian width (steps) of every layer; 0 means hard integer delays."""
        for layer in self.stages:
            layer.synapses.set_sigma(sigma)

    def harden(self) -> None:
        """Round every delay to an integer step (0..max_delay): the deployable, bit-exact state."""
        for layer in self.stages:
            layer.synapses.harden()

    def prune_delays(self, keep: int) -> dict[str, Any]:
        """Keep the ``keep`` strongest delay slots per synapse in every layer; report the memory saved.

        Returns ``{"layers": {name: PruneReport as dict}, "bits_before", "bits_after", "bits_saved"}``
        counting weight + delay bits of every active slot (the mapper's per-core figure adds headers).
        """
        reports = {}
        for layer in self.stages:
            delay_bits = max(1, math.ceil(math.log2(MAX_DELAY + 1)))
            report = layer.synapses.prune(min(keep, layer.synapses.slots))
            per_slot = 8 + delay_bits
            reports[layer.name] = {
                "slots_before": report.slots_before,
                "slots_after": report.slots_after,
                "bits_before": report.slots_before * per_slot,
                "bits_after": report.slots_after * per_slot,
            }
        before = sum(r["bits_before"] for r in reports.values())
        after = sum(r["bits_after"] for r in reports.values())
        return {"layers": reports, "bits_before": before, "bits_after": after, "bits_saved": before - after}

    # -- export ------------------------------------------------------------------------------
    def to_graph(self) -> Graph:
        """The deployable graph: float weights in the IR's units plus the exact Loihi ``int_params``.

        One Linear node per delay-slot rank (``fc``, ``fc.slot1``, ...), each holding that rank's
        integer mantissas, the shared exponent and the rounded delays; ``quantize`` keeps them.
        """
        nodes: dict[str, Node] = {self.input_name: Input((self.stages[0].synapses.in_features,))}
        edges: list[tuple[str, str]] = []
        source = self.input_name
        for layer in self.stages:
            syn = layer.synapses
            with torch.no_grad():
                weight, e = quantize_weights(syn.weight.double() * syn.mask)
            order = (syn.weight.detach().abs() * syn.mask).argsort(dim=-1, descending=True)
            ranked = weight.detach().gather(-1, order).cpu().numpy()
            delays = syn.slot_delays().gather(-1, order).cpu().numpy()
            factor = layer.float_per_chip.cpu().numpy()[:, None]
            for rank in range(syn.active_slots()):
                mant = np.round(ranked[..., rank] / 2.0**e).astype(np.int64)
                name = layer.syn_name if rank == 0 else f"{layer.syn_name}.slot{rank}"
                ints = {"weight": mant, "weight_exp": np.array([e]), "delay": delays[..., rank].astype(np.int64)}
                nodes[name] = Linear(ranked[..., rank] * factor, delays[..., rank], int_params=ints)
                edges += [(source, name), (name, layer.name)]
            nodes[layer.name] = layer.neuron
            source = layer.name
        nodes[self.output_name] = Output((self.stages[-1].synapses.out_features,))
        edges.append((source, self.output_name))
        return Graph(nodes, tuple(edges), self.dt, {"exported_by": "neuro_loihi.LoihiModel"})


__all__ = ["LoihiLayer", "LoihiModel", "quantize_weights"]

"""``XyloModel``: the differentiable torch model of a Xylo core, for (quantization-aware) training.

The model runs the chip's step (sim.py) on tensors: input events (capped at 15) and the previous
step's hidden spikes are added to the synaptic states, states decay by bit shifts, the membrane
integrates the summed synaptic states and the bias, and each neuron emits
``n = clamp(floor(v / threshold), 0, cap)`` spikes (31 hidden, 1 output) with subtractive reset
``v -= n * threshold``. Readout neurons receive the hidden spikes of the previous step.

Parameters are chip-unit floats (the canonical graph's weights, see quantize.py): ``w_in``
(n_in, n_hidden, n_syn), ``w_rec`` (n_hidden, n_hidden, n_syn), ``w_out`` (n_hidden, n_out),
``threshold``/``bias`` (n_hidden,), ``threshold_out``/``bias_out`` (n_out,). Dashes are fixed
integer buffers (time constants ``tau = dt * 2**dash``).

- ``quantization_aware=False``: float dynamics, decay ``x -= x * 2**-dash``, no saturation.
- ``quantization_aware=True``: the same integer quantizer as ``neuro_quantize`` (quantize.py's
  ``group_scales``, identical float64 arithmetic) maps weights, thresholds and biases to integers
  with straight-through gradients; states are integers with the chip's bit-shift decay (sign rule)
  and int16 saturation. Its output spikes equal the deployed Program's, provided no synaptic
  state saturates part-way through one step's deliveries (the chip saturates after every
  pre-synaptic neuron; the model once per step) and no membrane sits at exactly -32768 with
  dash 0 (a 16-bit negation wrap of the chip). Run the model in float64 for exactness on large nets.

Gradients of the spike count use a fast-sigmoid surrogate ``1 / (1 + k |v / threshold - 1|)**2``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from neuro_core.chipmodel import ChipModel
from neuro_core.errors import GraphError
from neuro_core.graph import CubaLIF, Graph, Input, Linear, Output
from neuro_core.target import Target

from .program import XyloImage
from .quantize import STATE_MAX, analyse, canonical_neuron, group_scales, neuron_factors, quantize_graph
from .sim import MAX_HIDDEN_SPIKES, MAX_INPUT_EVENTS, MAX_OUTPUT_SPIKES

OUTPUT_MODES = ("spikes", "vmem")


class _SpikeCount(torch.autograd.Function):
    """Forward: ``clamp(floor(v / th), 0, cap)``; backward: fast-sigmoid surrogate of the first spike."""

    @staticmethod
    def forward(ctx: Any, v: torch.Tensor, th: torch.Tensor, cap: float, slope: float) -> torch.Tensor:
        ctx.save_for_backward(v, th)
        ctx.slope = slope
        return torch.clamp(torch.floor(v / th), 0.0, cap)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None, None]:
        v, th = ctx.saved_tensors
        u = v / th - 1.0
        surrogate = grad / (1.0 + ctx.slope * u.abs()) ** 2
        grad_th = -(surrogate * v / th**2)
        while grad_th.dim() > th.dim():  # sum over the batch for the per-neuron threshold
            grad_th = grad_th.sum(0)
        return surrogate / th, grad_th, None, None


def _cuba(graph: Graph, name: str) -> CubaLIF:
    node = graph.nodes[name]
    assert isinstance(node, CubaLIF)  # quantize.analyse checked the node types
    return node


def _linear(graph: Graph, name: str) -> Linear:
    node = graph.nodes[name]
    assert isinstance(node, Linear)
    return node


def _ste_round(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


class XyloModel(ChipModel):
    """Differentiable Xylo core. Build with :meth:`from_graph` (or the ``neuro_chip_model`` hook).

    Args:
        target: the Xylo Target (sizes, synaptic states).
        dt: step in seconds.
        dash_mem, dash_syn: hidden decays (n_hidden,), (n_hidden, n_syn); dash_mem_out, dash_syn_out: (n_out,).
        w_in, w_rec, w_out, threshold, bias, threshold_out, bias_out: initial chip-unit floats.
        recurrent: train w_rec (False: no recurrent weights).
        per_channel: per-neuron quantization scales (as ``quantize(per_channel=True)``).
        output: ``"spikes"`` (output spike counts) or ``"vmem"`` (output membrane potentials).
        surrogate_slope: steepness k of the surrogate gradient.
    """

    dash_mem: torch.Tensor
    dash_syn: torch.Tensor
    dash_mem_out: torch.Tensor
    dash_syn_out: torch.Tensor
    w_rec: torch.nn.Parameter | None

    def __init__(
        self,
        target: Target,
        dt: float,
        dash_mem: np.ndarray,
        dash_syn: np.ndarray,
        dash_mem_out: np.ndarray,
        dash_syn_out: np.ndarray,
        w_in: np.ndarray,
        w_rec: np.ndarray,
        w_out: np.ndarray,
        threshold: np.ndarray,
        bias: np.ndarray,
        threshold_out: np.ndarray,
        bias_out: np.ndarray,
        recurrent: bool = True,
        per_channel: bool = False,
        output: str = "spikes",
        surrogate_slope: float = 5.0,
    ) -> None:
        super().__init__(target)
        if output not in OUTPUT_MODES:
            raise ValueError(f"output must be one of {OUTPUT_MODES}, got {output!r}")
        n_syn = int(np.shape(w_in)[2])
        if n_syn > target.extra["synapses_per_hidden_neuron"]:
            raise GraphError(
                f"{target.name} has {target.extra['synapses_per_hidden_neuron']} synaptic state(s) per hidden "
                f"neuron; the model asks for {n_syn}"
            )
        self.dt = float(dt)
        self.per_channel = bool(per_channel)
        self.output = output
        self.recurrent = bool(recurrent)
        self.surrogate_slope = float(surrogate_slope)

        def param(value: np.ndarray) -> torch.nn.Parameter:
            return torch.nn.Parameter(torch.as_tensor(np.asarray(value, np.float32)))

        self.w_in = param(w_in)
        self.w_rec = param(w_rec) if recurrent else None
        self.w_out = param(w_out)
        self.threshold = param(threshold)
        self.bias = param(bias)
        self.threshold_out = param(threshold_out)
        self.bias_out = param(bias_out)
        for name, value in (
            ("dash_mem", dash_mem),
            ("dash_syn", np.reshape(dash_syn, (-1, n_syn))),
            ("dash_mem_out", dash_mem_out),
            ("dash_syn_out", dash_syn_out),
        ):
            self.register_buffer(name, torch.as_tensor(np.asarray(value, np.int64)))

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def from_graph(cls, target: Target, graph: Graph, synapses: int = 1, **options: Any) -> XyloModel:
        """A model initialised from a float graph Xylo can run (see quantize.analyse).

        ``synapses=2`` gives every hidden neuron a second synaptic state (Audio 2), initialised as a
        copy of the first's decay with zero weights. Other options go to the constructor.
        """
        net = analyse(graph)
        n_in = graph.nodes[net.input].out_size
        n_hid, n_out = net.n_hidden, graph.nodes[net.readout].out_size
        factors = {n: neuron_factors(_cuba(graph, n), n, graph.dt) for n in [*net.hidden, net.readout]}
        w_in = np.zeros((n_in, n_hid, synapses))
        w_rec = np.zeros((n_hid, n_hid, synapses))
        w_out = np.zeros((n_hid, n_out))
        recurrent = False
        for lin, src, dst in net.linears:
            chip = _linear(graph, lin).weight * factors[dst]["gain"][:, None]
            if src == net.input and dst in net.offset:
                w_in[:, net.offset[dst] : net.offset[dst] + chip.shape[0], 0] = chip.T
            elif src in net.offset and dst in net.offset:
                recurrent = True
                w_rec[
                    net.offset[src] : net.offset[src] + chip.shape[1],
                    net.offset[dst] : net.offset[dst] + chip.shape[0],
                    0,
                ] = chip.T
            elif src in net.offset and dst == net.readout:
                w_out[net.offset[src] : net.offset[src] + chip.shape[1], :] = chip.T
            else:
                raise GraphError(f"Linear {lin!r} ({src!r} -> {dst!r}) has no place on Xylo")

        def cat(key: str) -> np.ndarray:
            return np.concatenate([factors[n][key] for n in net.hidden]) if net.hidden else np.zeros(0)

        dash_syn = np.repeat(cat("dash_syn")[:, None], synapses, axis=1)
        out = factors[net.readout]
        return cls(
            target,
            graph.dt,
            cat("dash_mem"),
            dash_syn,
            out["dash_mem"],
            out["dash_syn"],
            w_in,
            w_rec,
            w_out,
            cat("threshold"),
            cat("bias"),
            out["threshold"],
            out["bias"],
            recurrent=options.pop("recurrent", recurrent),
            **options,
        )

    # -- quantization -------------------------------------------------------------------------------
    def _scales(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-neuron scales of the hidden and output groups: quantize.group_scales on float64 copies."""

        def np64(t: torch.Tensor) -> np.ndarray:
            return t.detach().cpu().double().numpy()

        hidden = [np64(self.w_in[:, :, s]).T for s in range(self.w_in.shape[2])]
        if self.w_rec is not None:
            hidden += [np64(self.w_rec[:, :, s]).T for s in range(self.w_rec.shape[2])]
        s_hid = group_scales(hidden, np64(self.threshold), np64(self.bias), self.per_channel)
        s_out = group_scales([np64(self.w_out).T], np64(self.threshold_out), np64(self.bias_out), self.per_channel)
        return torch.as_tensor(s_hid), torch.as_tensor(s_out)

    def effective(self) -> dict[str, torch.Tensor]:
        """The parameters the forward pass uses: integers (straight-through) when quantization-aware."""
        dtype = self.w_in.dtype
        names = ("w_in", "w_rec", "w_out", "threshold", "bias", "threshold_out", "bias_out")
        values = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        if not self.quantization_aware:
            return values
        s_hid, s_out = (s.to(dtype) for s in self._scales())
        out = {
            "w_in": _ste_round(values["w_in"] / s_hid[None, :, None]),
            "w_out": _ste_round(values["w_out"] / s_out[None, :]),
            "threshold": torch.clamp(_ste_round(values["threshold"] / s_hid), min=1.0),
            "bias": _ste_round(values["bias"] / s_hid),
            "threshold_out": torch.clamp(_ste_round(values["threshold_out"] / s_out), min=1.0),
            "bias_out": _ste_round(values["bias_out"] / s_out),
        }
        if "w_rec" in values:
            out["w_rec"] = _ste_round(values["w_rec"] / s_hid[None, :, None])
        return out

    # -- dynamics -----------------------------------------------------------------------------------
    def _decay(self, x: torch.Tensor, dash: torch.Tensor) -> torch.Tensor:
        factor = torch.pow(2.0, -dash.to(x.dtype))
        approx = x * factor
        if not self.quantization_aware:
            return approx
        exact = torch.floor(x * factor)  # arithmetic shift of an integer
        exact = torch.where((exact == 0) & (x > 0), torch.ones_like(x), exact)  # sign rule: at least 1
        return approx + (exact - approx).detach()

    def _sat(self, x: torch.Tensor) -> torch.Tensor:
        if not self.quantization_aware:
            return x
        return torch.clamp(x, -STATE_MAX - 1, STATE_MAX)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, n_in) input event counts -> (batch, time, n_out) output spikes (or potentials)."""
        p = self.effective()
        dtype = self.w_in.dtype
        x = torch.clamp(torch.as_tensor(x, dtype=dtype), 0.0, float(MAX_INPUT_EVENTS))
        batch, steps, _ = x.shape
        n_hid, n_syn = (int(s) for s in self.dash_syn.shape)
        n_out = int(self.dash_mem_out.shape[0])
        isyn = x.new_zeros(batch, n_hid, n_syn)
        v = x.new_zeros(batch, n_hid)
        spikes = x.new_zeros(batch, n_hid)
        isyn_out = x.new_zeros(batch, n_out)
        v_out = x.new_zeros(batch, n_out)
        outputs = []
        for t in range(steps):
            drive = torch.einsum("bi,ihs->bhs", x[:, t], p["w_in"])
            if "w_rec" in p:
                drive = drive + torch.einsum("bj,jhs->bhs", spikes, p["w_rec"])
            isyn = self._sat(isyn + drive)
            isyn_out = self._sat(isyn_out + spikes @ p["w_out"])  # previous-step hidden spikes
            isyn = isyn - self._decay(isyn, self.dash_syn)
            dv = self._sat(-self._decay(v, self.dash_mem) + isyn.sum(-1))
            v = self._sat(v + self._sat(dv + p["bias"]))
            spikes = _SpikeCount.apply(v, p["threshold"], float(MAX_HIDDEN_SPIKES), self.surrogate_slope)
            v = v - spikes * p["threshold"]
            isyn_out = isyn_out - self._decay(isyn_out, self.dash_syn_out)
            dv_out = self._sat(-self._decay(v_out, self.dash_mem_out) + isyn_out)
            v_out = self._sat(v_out + self._sat(dv_out + p["bias_out"]))
            out_spikes = _SpikeCount.apply(v_out, p["threshold_out"], float(MAX_OUTPUT_SPIKES), self.surrogate_slope)
            v_out = v_out - out_spikes * p["threshold_out"]
            outputs.append(out_spikes if self.output == "spikes" else v_out)
        return torch.stack(outputs, dim=1)

    # -- export -------------------------------------------------------------------------------------
    def to_graph(self) -> Graph:
        """The trained network as a canonical float Graph (quantized, with int_params, when quantization-aware).

        Raises:
            GraphError: two synaptic states per hidden neuron (the IR has no such neuron: use :meth:`to_image`).
        """
        if self.w_in.shape[2] != 1:
            raise GraphError("the graph IR has no neuron with two synaptic states; deploy with XyloModel.to_image()")

        def np64(t: torch.Tensor | None) -> np.ndarray:
            return np.zeros(0) if t is None else t.detach().cpu().double().numpy()

        n_in, n_hid, _ = self.w_in.shape
        n_out = self.w_out.shape[1]
        layers: dict[str, Any] = {
            "input": Input(shape=(n_in,)),
            "w_in": Linear(np64(self.w_in)[:, :, 0].T),
            "hidden": canonical_neuron(
                np64(self.dash_mem), np64(self.dash_syn)[:, 0], np64(self.threshold), np64(self.bias), self.dt
            ),
            "w_out": Linear(np64(self.w_out).T),
            "readout": canonical_neuron(
                np64(self.dash_mem_out), np64(self.dash_syn_out), np64(self.threshold_out), np64(self.bias_out), self.dt
            ),
            "output": Output(shape=(n_out,)),
        }
        edges = [
            ("input", "w_in"),
            ("w_in", "hidden"),
            ("hidden", "w_out"),
            ("w_out", "readout"),
            ("readout", "output"),
        ]
        if self.w_rec is not None:
            layers["w_rec"] = Linear(np64(self.w_rec)[:, :, 0].T)
            edges += [("hidden", "w_rec"), ("w_rec", "hidden")]
        graph = Graph(layers, tuple(edges), self.dt, {"source": "neuro_xylo.XyloModel"})
        assert isinstance(layers["hidden"], CubaLIF) and n_hid == layers["hidden"].out_size
        if self.quantization_aware:
            return quantize_graph(graph, self.target, {"per_channel": self.per_channel})
        return graph

    def to_image(self) -> XyloImage:
        """The configuration image of the quantized model (any number of synaptic states)."""
        previous = self.quantization_aware
        self.quantization_aware = True
        try:
            with torch.no_grad():
                p = {k: v.detach().cpu().double().numpy() for k, v in self.effective().items()}
        finally:
            self.quantization_aware = previous
        n_hid = self.dash_mem.shape[0]
        n_syn = self.w_in.shape[2]
        return XyloImage.build(
            meta={"dt": self.dt, "variant": self.target.name},
            w_in=p["w_in"],
            w_rec=p.get("w_rec", np.zeros((n_hid, n_hid, n_syn))),
            w_out=p["w_out"],
            weight_shift=np.zeros(3),
            dash_mem=self.dash_mem.numpy(),
            dash_syn=self.dash_syn.numpy(),
            threshold=p["threshold"],
            bias=p["bias"],
            alias=np.full(n_hid, -1),
            dash_mem_out=self.dash_mem_out.numpy(),
            dash_syn_out=self.dash_syn_out.numpy(),
            threshold_out=p["threshold_out"],
            bias_out=p["bias_out"],
        )

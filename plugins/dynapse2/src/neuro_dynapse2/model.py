"""The differentiable DYNAP-SE2 model: DPI synapses and the DPI (AdExp-like) neuron, in torch.

One step of :func:`dpi_step` is the single definition of the chip's dynamics: the training model
(:class:`DynapseModel`, float32, surrogate gradients) and the faithful simulator (``sim.py``,
float64, no grad, hard threshold, mismatch and noise) both call it.

Dynamics per neuron (currents in nA, time in s; Chicca et al. 2014, Rockpool ``dynapsim.py``):

- Four DPI synapses s in (AMPA, NMDA, GABA, SHUNT), each a first-order low-pass current
  ``dI_s/dt = -I_s / tau_s`` with ``tau_s = Ut/kappa * C_s / Itau_s``; a presynaptic spike
  through a synapse of weight current ``Iw`` adds ``(Igain_s/Itau_s) * Iw * (1 - exp(-t_pulse/tau_s))``.
  Each synapse type keeps its own state, so an inhibitory input keeps inhibiting for as long
  as its current lasts (unlike Rockpool 3.1.0, which sums signed weights into one clipped
  current, so inhibition only cancels excitation arriving in the same step).
- Membrane (the DPI neuron in its above-threshold, linear regime):
  ``tau_m dI_mem/dt = -I_mem + (Igain_mem/g) * (I_ampa + G_nmda I_nmda - I_gaba - I_ahp + I_dc)``
  with leak ``g = Itau_mem + I_shunt`` and ``tau_m = Ut/kappa * C_mem / g``: the SHUNT synapse
  raises the leak conductance (shunting inhibition: it shortens tau_m and divides the gain),
  GABA subtracts. NMDA is voltage gated: ``G_nmda = I_mem / (I_mem + If_nmda)`` (the smooth
  current-mode gate of Rockpool: NMDA current passes once the membrane is above the gate).
- AHP (spike-frequency adaptation): a DPI with ``tau_ahp`` charged by the neuron's own spikes,
  subtracted from the input.
- Spike when ``I_mem > Ispkthr``; then ``I_mem = Io`` and the input is ignored for the refractory
  period ``t_ref = Vth C_ref / Iref``.

Discretisation: exact exponential for any ``dt``. Within a step the synaptic and AHP currents
decay exponentially and the membrane ODE is linear, so its exact solution is used:
``I(dt) = I0 e_m + A I_dc (1 - e_m) + A sum_s c_s I_s phi(tau_s, tau_m, dt)`` with
``phi(ts, tm, dt) = ts/(ts - tm) (e^{-dt/ts} - e^{-dt/tm})``. The leak (shunt) and the NMDA gate
are held at their start-of-step values and ``I_mem`` is floored at ``Io`` (the DPI current
cannot go below the dark current): these are the only approximations, and they vanish as
``dt`` shrinks. Input spikes arrive at the start of a step; output spikes are read at its end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from neuro_core import LIF, CubaLIF, Graph, GraphError, Input, Linear, Output, Target
from neuro_core.chipmodel import ChipModel
from neuro_core.nn import surrogate

from . import target as hw

NA = 1e-9  # the model's current unit: nA
SYN_INDEX = {name: i for i, name in enumerate(hw.SYNAPSE_TYPES)}
# per-neuron bias currents of a population (nA); the four synapse currents are (n, 4)
NEURON_CURRENTS = ("itau_mem", "igain_mem", "ispkthr", "iref", "itau_ahp", "igain_ahp", "iw_ahp", "if_nmda", "idc")
SYNAPSE_CURRENTS = ("itau_syn", "igain_syn")
METADATA_KEY = "dynapse2"


# ------------------------------------------------------------------------------------------------
# spike functions (the surrogate is neuro_core's)
# ------------------------------------------------------------------------------------------------
def surrogate_spike(x: torch.Tensor, slope: float = 10.0) -> torch.Tensor:
    """Spike (1.0) where ``x > 0``; fast-sigmoid surrogate gradient (``neuro_core.nn.surrogate``).

    ``x`` is dimensionless: ``(I_mem - Ispkthr) / Ispkthr``.
    """
    return surrogate.spike(x, "fast_sigmoid", slope)


def hard_spike(x: torch.Tensor) -> torch.Tensor:
    """Spike where ``x > 0`` (no gradient): the simulator's threshold."""
    return (x > 0).to(x.dtype)


def fake_quantize_weights(w: torch.Tensor) -> torch.Tensor:
    """Straight-through 4-bit quantization for quantization-aware training.

    A proxy of the chip's per-core code: magnitudes rounded to multiples of ``max|w| / 15`` (the
    binary code Iw_k = max * 2^k / 15 of one core), sign kept; the gradient passes straight through.
    """
    step = w.detach().abs().max().clamp(min=1e-12) / 15
    q = torch.round(w.detach() / step) * step
    return w + (q - w).detach()


# ------------------------------------------------------------------------------------------------
# the step
# ------------------------------------------------------------------------------------------------
@dataclass
class NeuronConstants:
    """Per-neuron constants of :func:`dpi_step`, derived from bias currents by :func:`neuron_constants`.

    Shapes: (n,) unless noted; currents in nA, times in s.
    """

    tau_syn: torch.Tensor  # (n, 4)
    jump_syn: torch.Tensor  # (n, 4): I_syn increase per nA of weight current per spike
    itau_mem: torch.Tensor
    igain_mem: torch.Tensor
    utc_k: torch.Tensor  # Ut * C_mem / kappa in nA*s, so tau_m = utc_k / g
    ispkthr: torch.Tensor
    t_ref: torch.Tensor
    tau_ahp: torch.Tensor
    jump_ahp: torch.Tensor  # nA added to I_ahp per output spike
    if_nmda: torch.Tensor
    idc: torch.Tensor
    io: float  # dark current in nA


def neuron_constants(currents: Mapping[str, torch.Tensor]) -> NeuronConstants:
    """Turn bias currents (nA; ``itau_syn``/``igain_syn`` (n, 4), the rest (n,)) into step constants."""
    like = currents["itau_mem"]
    c_syn = torch.tensor([hw.C_SYN[s] for s in hw.SYNAPSE_TYPES], dtype=like.dtype, device=like.device)
    ut_k = hw.UT / hw.KAPPA
    itau_syn = currents["itau_syn"].clamp(min=hw.IO / NA)
    tau_syn = ut_k * (c_syn / NA) / itau_syn
    jump_syn = currents["igain_syn"] / itau_syn * (1.0 - torch.exp(-hw.DEFAULTS["t_pulse"] / tau_syn))
    itau_ahp = currents["itau_ahp"].clamp(min=hw.IO / NA)
    tau_ahp = ut_k * (hw.C_AHP / NA) / itau_ahp
    jump_ahp = (
        currents["igain_ahp"] / itau_ahp * currents["iw_ahp"] * (1.0 - torch.exp(-hw.DEFAULTS["t_pulse_ahp"] / tau_ahp))
    )
    iref = currents["iref"].clamp(min=hw.IO / NA)
    return NeuronConstants(
        tau_syn=tau_syn,
        jump_syn=jump_syn,
        itau_mem=currents["itau_mem"].clamp(min=hw.IO / NA),
        igain_mem=currents["igain_mem"],
        utc_k=torch.full_like(like, ut_k * hw.C_MEM / NA),
        ispkthr=currents["ispkthr"],
        t_ref=hw.VTH * (hw.C_REF / NA) / iref,
        tau_ahp=tau_ahp,
        jump_ahp=jump_ahp,
        if_nmda=currents["if_nmda"],
        idc=currents["idc"],
        io=hw.IO / NA,
    )


def _phi(tau_s: torch.Tensor, tau_m: torch.Tensor, dt: float) -> torch.Tensor:
    """``ts/(ts - tm) (e^{-dt/ts} - e^{-dt/tm})``: membrane response over ``dt`` to a unit current decaying with ts."""
    close = (tau_s - tau_m).abs() < 1e-4 * tau_m
    tau_s = tau_s + close * (2e-4 * tau_m)  # move off the removable singularity (keeps gradients finite)
    return tau_s / (tau_s - tau_m) * (torch.exp(-dt / tau_s) - torch.exp(-dt / tau_m))


@dataclass
class DPIState:
    """State of a population: ``i_syn`` (B, n, 4), ``i_mem``, ``i_ahp``, ``refractory`` (B, n); nA and s."""

    i_syn: torch.Tensor
    i_mem: torch.Tensor
    i_ahp: torch.Tensor
    refractory: torch.Tensor

    @classmethod
    def zeros(cls, batch: int, n: int, io: float, like: torch.Tensor) -> DPIState:
        """The resting state: no synaptic current, membrane at the dark current."""
        z = like.new_zeros((batch, n))
        return cls(like.new_zeros((batch, n, 4)), z + io, z.clone(), z.clone())


def dpi_step(
    state: DPIState,
    weighted_input: torch.Tensor,
    c: NeuronConstants,
    dt: float,
    spike_fn: Callable[[torch.Tensor], torch.Tensor],
    noise: torch.Tensor | None = None,
) -> tuple[DPIState, torch.Tensor]:
    """Advance a population by ``dt`` seconds.

    Args:
        state: the population's state at the start of the step.
        weighted_input: (B, n, 4) sum of weight currents (nA) of the spikes arriving this step, per
            synapse type (AMPA, NMDA, GABA, SHUNT), each counted positive.
        c: the population's constants.
        dt: step in s (any size: the solution is exact in the linear regime).
        spike_fn: maps ``(I_mem - Ispkthr) / Ispkthr`` to spikes (surrogate or hard).
        noise: optional (B, n) relative multiplicative perturbation of the membrane current.

    Returns:
        The new state and the spikes (B, n) emitted at the end of the step.
    """
    i_syn = state.i_syn + c.jump_syn * weighted_input
    i_mem = state.i_mem
    gate_nmda = i_mem / (i_mem + c.if_nmda)
    ones = torch.ones_like(gate_nmda)
    sign = torch.stack([ones, gate_nmda, -ones, 0.0 * ones], dim=-1)  # SHUNT acts through the leak
    leak = c.itau_mem + i_syn[..., 3]
    tau_m = c.utc_k / leak
    e_m = torch.exp(-dt / tau_m)
    gain = c.igain_mem / leak
    drive = (sign * i_syn * _phi(c.tau_syn, tau_m.unsqueeze(-1), dt)).sum(-1)
    drive = drive - state.i_ahp * _phi(c.tau_ahp, tau_m, dt) + c.idc * (1.0 - e_m)
    i_new = i_mem * e_m + gain * drive
    if noise is not None:
        i_new = i_new * (1.0 + noise)
    i_new = i_new.clamp(min=c.io)
    refractory = state.refractory > 0
    i_new = torch.where(refractory, torch.full_like(i_new, c.io), i_new)
    z = spike_fn((i_new - c.ispkthr) / c.ispkthr)
    i_next = i_new * (1.0 - z) + c.io * z
    timer = (state.refractory - dt).clamp(min=0.0)
    timer = torch.where(z.detach() > 0, c.t_ref.expand_as(timer), timer)
    i_syn = i_syn * torch.exp(-dt / c.tau_syn)
    i_ahp = state.i_ahp * torch.exp(-dt / c.tau_ahp) + c.jump_ahp * z
    return DPIState(i_syn, i_next, i_ahp, timer), z


# ------------------------------------------------------------------------------------------------
# network structure shared by the model and the simulator
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Projection:
    """A weight matrix from ``source`` (an Input or a population) to population ``target``.

    ``delayed`` is True on a back edge (the source's spikes of the previous step arrive).
    ``types`` is (excitatory type, inhibitory type): positive weights use the first, negative
    weights the second.
    """

    name: str
    source: str
    target: str
    delayed: bool
    types: tuple[str, str] = ("ampa", "gaba")


@dataclass(frozen=True)
class Structure:
    """Populations in step order, projections, the input node and the output population."""

    input_name: str
    n_in: int
    populations: tuple[tuple[str, int], ...]
    projections: tuple[Projection, ...]
    output_population: str
    output_name: str


def structure_of(graph: Graph) -> Structure:
    """Read the network structure from a graph: Input -> Linear -> LIF/CubaLIF ... -> Output.

    Raises:
        GraphError: a node type or wiring the chip cannot express (naming the node).
    """
    order, back = graph.schedule()
    inputs, outputs = graph.inputs(), graph.outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        raise GraphError(f"dynapse2 needs exactly one Input and one Output node, got {inputs} and {outputs}")
    meta = dict(graph.metadata.get(METADATA_KEY, {}))
    syn_types = meta.get("synapse_types", {})
    populations: list[tuple[str, int]] = []
    projections: list[Projection] = []
    for name in order:
        node = graph.nodes[name]
        if isinstance(node, (LIF, CubaLIF)):
            populations.append((name, node.out_size))
        elif isinstance(node, Linear):
            preds, succs = graph.predecessors(name), graph.successors(name)
            if len(preds) != 1 or len(succs) != 1:
                raise GraphError(f"Linear node {name!r} must have one source and one destination")
            src, dst = preds[0], succs[0]
            if not isinstance(graph.nodes[dst], (LIF, CubaLIF)):
                raise GraphError(f"Linear node {name!r} must feed a LIF/CubaLIF population, not {dst!r}")
            if not (isinstance(graph.nodes[src], (LIF, CubaLIF)) or src == inputs[0]):
                raise GraphError(f"Linear node {name!r} must be fed by the Input or a population, not {src!r}")
            if node.delay is not None and np.any(node.delay):
                raise GraphError(f"Linear node {name!r} has synaptic delays; DYNAP-SE2 has no programmable delays")
            types = tuple(syn_types.get(name, ("ampa", "gaba")))
            if types[0] not in hw.EXCITATORY or types[1] not in hw.INHIBITORY:
                raise GraphError(
                    f"synapse types of {name!r} must be (one of {hw.EXCITATORY}, one of {hw.INHIBITORY}), got {types}"
                )
            delayed = (src, name) in back or (name, dst) in back
            projections.append(Projection(name, src, dst, delayed, (types[0], types[1])))
        elif not isinstance(node, Input):
            raise GraphError(f"node {name!r} of type {node.kind} has no DYNAP-SE2 equivalent")
    out_pred = graph.predecessors(outputs[0])
    if len(out_pred) != 1 or not isinstance(graph.nodes[out_pred[0]], (LIF, CubaLIF)):
        raise GraphError("the Output node must be fed directly by one LIF/CubaLIF population (the chip outputs spikes)")
    pop_order = [p for p, _ in populations]
    fixed = []
    for p in projections:  # a projection from a population later in the step order is a back edge
        late = p.source in pop_order and pop_order.index(p.source) >= pop_order.index(p.target)
        fixed.append(Projection(p.name, p.source, p.target, p.delayed or late, p.types))
    return Structure(
        inputs[0], graph.nodes[inputs[0]].out_size, tuple(populations), tuple(fixed), out_pred[0], outputs[0]
    )


# ------------------------------------------------------------------------------------------------
# parameters <-> graph
# ------------------------------------------------------------------------------------------------
def default_currents(n: int, **overrides: float) -> dict[str, np.ndarray]:
    """Bias currents in A for ``n`` neurons at the chip's default operating point.

    ``overrides`` take time constants in s (``tau_mem``, ``tau_ampa``, ``tau_nmda``, ``tau_gaba``,
    ``tau_shunt``, ``tau_ahp``, ``t_ref``), gains (``gain_mem``, ``gain_syn``, ``gain_ahp``) and
    currents in A (``ispkthr``, ``iw_ahp``, ``if_nmda``, ``idc``).
    """
    unknown = set(overrides) - set(hw.DEFAULTS)
    if unknown:
        raise ValueError(f"unknown DYNAP-SE2 parameter(s) {sorted(unknown)}; known: {sorted(hw.DEFAULTS)}")
    p = {**hw.DEFAULTS, **overrides}
    ones = np.ones(n)
    itau_mem = hw.current_from_tau(p["tau_mem"], hw.C_MEM)
    itau_syn = np.array([hw.current_from_tau(p[f"tau_{s}"], hw.C_SYN[s]) for s in hw.SYNAPSE_TYPES])
    itau_ahp = hw.current_from_tau(p["tau_ahp"], hw.C_AHP)
    return {
        "itau_mem": itau_mem * ones,
        "igain_mem": p["gain_mem"] * itau_mem * ones,
        "ispkthr": p["ispkthr"] * ones,
        "iref": hw.current_from_pulse(p["t_ref"], hw.C_REF) * ones,
        "itau_syn": np.tile(itau_syn, (n, 1)),
        "igain_syn": np.tile(p["gain_syn"] * itau_syn, (n, 1)),
        "itau_ahp": itau_ahp * ones,
        "igain_ahp": p["gain_ahp"] * itau_ahp * ones,
        "iw_ahp": p["iw_ahp"] * ones,
        "if_nmda": p["if_nmda"] * ones,
        "idc": p["idc"] * ones,
    }


def _constants_np(currents: Mapping[str, np.ndarray]) -> NeuronConstants:
    return neuron_constants({k: torch.as_tensor(np.asarray(v) / NA, dtype=torch.float64) for k, v in currents.items()})


def cuba_node(
    currents: Mapping[str, np.ndarray], dt: float, int_params: Mapping[str, np.ndarray] | None = None
) -> CubaLIF:
    """The IR's CubaLIF closest to DPI neurons with these bias currents (A) at step ``dt``.

    ``tau`` = the membrane time constant, ``tau_syn`` = the AMPA one, ``r`` = Igain_mem/Itau_mem,
    ``w_in`` such that a spike of weight ``W`` (A) raises the synaptic current as on the chip,
    threshold ``Ispkthr``; AHP, refractoriness, inhibitory synapse types and rectification are not
    expressible in CubaLIF and live in ``metadata["dynapse2"]`` (the reference simulator of the IR
    therefore only approximates the chip; the plugin's simulator is the faithful one).
    """
    c = _constants_np(currents)
    n = np.size(currents["ispkthr"])
    tau_syn = c.tau_syn[:, 0].numpy()
    return CubaLIF(
        tau=(c.utc_k / c.itau_mem).numpy(),
        tau_syn=tau_syn,
        r=np.asarray(currents["igain_mem"]) / np.asarray(currents["itau_mem"]),
        w_in=c.jump_syn[:, 0].numpy() * tau_syn / dt,
        v_threshold=np.asarray(currents["ispkthr"]),
        v_leak=np.zeros(n),
        v_reset=np.zeros(n),
        reset="zero",
        int_params=dict(int_params or {}),
    )


def linear_of(graph: Graph, name: str) -> Linear:
    """The Linear node ``name`` of ``graph`` (GraphError if it is another type)."""
    node = graph.nodes[name]
    if not isinstance(node, Linear):
        raise GraphError(f"node {name!r} must be a Linear node, got {node.kind}")
    return node


def _population_node(graph: Graph, name: str) -> LIF:
    node = graph.nodes[name]
    if not isinstance(node, LIF):  # CubaLIF is a LIF
        raise GraphError(f"node {name!r} must be a LIF or CubaLIF population, got {node.kind}")
    return node


def population_currents(graph: Graph, name: str) -> dict[str, np.ndarray]:
    """The bias currents (A) of population ``name``: from the graph's ``dynapse2`` metadata when
    present (written by :meth:`DynapseModel.to_graph`), otherwise derived from the IR node
    (LIF/CubaLIF time constants at the default gains and threshold)."""
    stored = graph.metadata.get(METADATA_KEY, {}).get("populations", {}).get(name)
    node = _population_node(graph, name)
    n = node.out_size
    if stored is not None:
        out = {k: np.asarray(v, dtype=np.float64) for k, v in stored.items()}
        missing = set(NEURON_CURRENTS + SYNAPSE_CURRENTS) - set(out)
        if missing:
            raise GraphError(f"dynapse2 metadata of population {name!r} lacks {sorted(missing)}")
        return out
    tau_syn = float(np.mean(node.tau_syn)) if isinstance(node, CubaLIF) else graph.dt
    currents = default_currents(n, tau_mem=1.0, tau_ampa=tau_syn, tau_nmda=tau_syn, tau_gaba=tau_syn, tau_shunt=tau_syn)
    currents["itau_mem"] = np.array([hw.current_from_tau(t, hw.C_MEM) for t in node.tau])
    currents["igain_mem"] = hw.DEFAULTS["gain_mem"] * currents["itau_mem"]
    if isinstance(node, CubaLIF):
        currents["itau_syn"] = np.stack(
            [np.array([hw.current_from_tau(t, hw.C_SYN[s]) for t in node.tau_syn]) for s in hw.SYNAPSE_TYPES], axis=1
        )
        currents["igain_syn"] = hw.DEFAULTS["gain_syn"] * currents["itau_syn"]
    currents["iref"] = np.full(n, hw.current_from_pulse(1e-5, hw.C_REF))  # the IR has no refractory period
    return currents


def weight_scale(graph: Graph, name: str, currents: Mapping[str, np.ndarray]) -> np.ndarray:
    """Factor (n,) that turns IR weights into weight currents in A for population ``name``.

    1 for graphs written by :meth:`DynapseModel.to_graph` (weights already are currents).
    Otherwise it maps the IR's CubaLIF/LIF semantics (threshold ``v_threshold``) onto the DPI
    neuron (threshold ``Ispkthr``): ``Iw = W k r w_in dt / (tau_syn A jump)``, with
    ``k = Ispkthr / v_threshold`` and ``A = Igain_mem / Itau_mem``.
    """
    node = _population_node(graph, name)
    if name in graph.metadata.get(METADATA_KEY, {}).get("populations", {}):
        return np.ones(node.out_size)
    c = _constants_np(currents)
    k = currents["ispkthr"] / np.maximum(np.abs(node.v_threshold), 1e-30)
    gain = currents["igain_mem"] / currents["itau_mem"]
    jump = c.jump_syn[:, 0].numpy()
    tau_syn = node.tau_syn if isinstance(node, CubaLIF) else np.full(node.out_size, graph.dt)
    w_in = node.w_in if isinstance(node, CubaLIF) else np.ones(node.out_size)
    return k * node.r * w_in * graph.dt / (tau_syn * gain * jump)


class DynapseModel(ChipModel):
    """Differentiable DYNAP-SE2 network: populations of DPI neurons joined by signed projections.

    ``forward(x)``: (B, T, n_in) input spike counts -> (B, T, n_out) output spikes (surrogate
    gradients). Parameters (``named_parameters``): ``weights.<projection>`` (out, in) signed weight
    currents in nA (trainable: positive uses the projection's excitatory synapse type, negative
    its inhibitory one); ``currents.<population>__<bias>`` per-neuron bias currents in nA (not
    trained by default; mismatch injection perturbs them like the chip's mismatch does).
    ``record`` (after a forward): the last run's output-population membrane currents (B, T, n).
    """

    def __init__(
        self,
        target: Target,
        structure: Structure,
        weights: Mapping[str, np.ndarray],
        currents: Mapping[str, Mapping[str, np.ndarray]],
        dt: float,
        surrogate_slope: float = 10.0,
        train_currents: bool = False,
        output: str = "spikes",
    ) -> None:
        """
        Args:
            target: the dynapse2 Target.
            structure: populations and projections (see :func:`structure_of`).
            weights: per projection, the signed weight currents (out, in) in A.
            currents: per population, bias currents in A (see :func:`default_currents`).
            dt: simulation step in s.
            surrogate_slope: slope of the fast-sigmoid surrogate.
            train_currents: also train the bias currents (per neuron; the chip shares them per core).
            output: ``"spikes"`` (what the chip sends out) or ``"membrane"``: the output neurons'
                ``I_mem / Ispkthr`` (smooth, for training with a potential readout; the deployed
                chip still reports spikes, which follow the same membrane).
        """
        if output not in ("spikes", "membrane"):
            raise ValueError(f"output must be 'spikes' or 'membrane', got {output!r}")
        self.output = output
        super().__init__(target)
        self.structure = structure
        self.dt = float(dt)
        self.surrogate_slope = surrogate_slope
        self.weights = torch.nn.ParameterDict(
            {
                p.name: torch.nn.Parameter(torch.as_tensor(np.asarray(weights[p.name]) / NA, dtype=torch.float32))
                for p in structure.projections
            }
        )
        self.currents = torch.nn.ParameterDict()
        for pop, _ in structure.populations:
            for key, value in currents[pop].items():
                tensor = torch.as_tensor(np.asarray(value) / NA, dtype=torch.float32)
                self.currents[f"{pop}__{key}"] = torch.nn.Parameter(tensor, requires_grad=train_currents)
        self.record: torch.Tensor | None = None

    # -- ChipModel ------------------------------------------------------------------------------
    def population_currents(self, pop: str) -> dict[str, torch.Tensor]:
        """The bias currents (nA) of one population, by bias name."""
        prefix = f"{pop}__"
        return {k[len(prefix) :]: v for k, v in self.currents.items() if k.startswith(prefix)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, n_in) input spikes -> (B, T, n_out) output spikes."""
        weights = {k: fake_quantize_weights(v) if self.quantization_aware else v for k, v in self.weights.items()}
        spikes = run_network(
            self.structure,
            weights,
            {pop: neuron_constants(self.population_currents(pop)) for pop, _ in self.structure.populations},
            x,
            self.dt,
            lambda v: surrogate_spike(v, self.surrogate_slope),
            recorder=self,
        )
        if self.output == "membrane" and self.record is not None:
            threshold = self.population_currents(self.structure.output_population)["ispkthr"]
            return self.record / threshold
        return spikes

    def mismatch_sigma(self) -> dict[str, float]:
        """Relative mismatch sigma per parameter name (the Target's figures)."""
        sigma: dict[str, float] = {}
        for name, _ in self.named_parameters():
            key = name.split(".", 1)[1].split("__")[-1] if name.startswith("currents.") else "weight"
            sigma[name] = float(self.target.mismatch.get(key, hw.MISMATCH_SIGMA))
        return sigma

    def mismatched(self, seed: int, sigma: Mapping[str, float] | None = None) -> DynapseModel:
        """A copy of this model as one mismatched chip: every parameter ``p -> p (1 + sigma N(0,1))``.

        The draw is frozen by ``seed`` (same seed, same chip); ``sigma`` per parameter name
        defaults to :meth:`mismatch_sigma`. Currents cannot change sign: factors are clipped at 0.05.
        """
        import copy

        sigma = dict(self.mismatch_sigma() if sigma is None else sigma)
        chip = copy.deepcopy(self, memo={id(self.target): self.target})  # the Target is frozen: share it
        gen = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for name, param in chip.named_parameters():  # named_parameters order is fixed: same seed, same chip
                eps = torch.randn(param.shape, generator=gen, dtype=torch.float64)
                factor = (1.0 + sigma.get(name, 0.0) * eps).to(param.dtype)
                param.mul_(factor.clamp(min=0.05) if name.startswith("currents.") else factor)
        return chip

    def to_graph(self) -> Graph:
        """The network as a float Graph (weights in A, neurons as CubaLIF) with the full DPI
        parameter set in ``metadata["dynapse2"]`` (what ``quantize`` reads)."""
        nodes: dict[str, Any] = {self.structure.input_name: Input((self.structure.n_in,))}
        edges: list[tuple[str, str]] = []
        meta_pops: dict[str, dict[str, list]] = {}
        for pop, _ in self.structure.populations:
            cur = {k: v.detach().double().numpy() * NA for k, v in self.population_currents(pop).items()}
            meta_pops[pop] = {k: v.tolist() for k, v in cur.items()}
            nodes[pop] = cuba_node(cur, self.dt)
        for p in self.structure.projections:
            nodes[p.name] = Linear(self.weights[p.name].detach().double().numpy() * NA)
            edges += [(p.source, p.name), (p.name, p.target)]
        nodes[self.structure.output_name] = Output(
            (dict(self.structure.populations)[self.structure.output_population],)
        )
        edges.append((self.structure.output_population, self.structure.output_name))
        meta = {
            METADATA_KEY: {
                "populations": meta_pops,
                "synapse_types": {p.name: list(p.types) for p in self.structure.projections},
            }
        }
        return Graph(nodes, tuple(edges), self.dt, meta)

    @classmethod
    def from_graph(cls, target: Target, graph: Graph, **options: Any) -> DynapseModel:
        """Build the model from a float Graph (see :func:`population_currents`, :func:`weight_scale`)."""
        structure = structure_of(graph)
        currents = {pop: population_currents(graph, pop) for pop, _ in structure.populations}
        weights = {
            p.name: linear_of(graph, p.name).weight * weight_scale(graph, p.target, currents[p.target])[:, None]
            for p in structure.projections
        }
        return cls(target, structure, weights, currents, graph.dt, **options)


def run_network(
    structure: Structure,
    weights: Mapping[str, torch.Tensor],
    constants: Mapping[str, NeuronConstants],
    x: torch.Tensor,
    dt: float,
    spike_fn: Callable[[torch.Tensor], torch.Tensor],
    noise: Callable[[str, tuple[int, int]], torch.Tensor] | None = None,
    recorder: Any = None,
    record_all: bool = False,
) -> torch.Tensor:
    """Run populations in step order over time; the one loop of both the model and the simulator.

    Args:
        structure: populations and projections.
        weights: per projection (out, in) signed weight currents in nA; positive entries drive the
            excitatory synapse type, negative ones the inhibitory type (with their magnitude).
        constants: per population step constants.
        x: (B, T, n_in) input spike counts.
        dt: step in s.
        spike_fn: the threshold function (surrogate or hard).
        noise: optional ``noise(population, (B, n))`` giving the membrane noise of one step.
        recorder: an object whose ``record`` attribute receives the output population's I_mem.
        record_all: also store every population's spikes and I_mem in ``recorder.trace``.

    Returns:
        (B, T, n_out) spikes of the output population.
    """
    batch, steps, _ = x.shape
    pops = dict(structure.populations)
    like = next(iter(constants.values())).itau_mem
    states = {p: DPIState.zeros(batch, n, constants[p].io, like.new_zeros(1)) for p, n in pops.items()}
    prev = {p: like.new_zeros((batch, n)) for p, n in pops.items()}
    split: dict[str, list[tuple[Projection, torch.Tensor, torch.Tensor]]] = {p: [] for p in pops}
    for proj in structure.projections:
        w = weights[proj.name]
        split[proj.target].append((proj, w.clamp(min=0), (-w).clamp(min=0)))
    outs, mems = [], []
    trace: dict[str, list[torch.Tensor]] = {}
    for t in range(steps):
        now: dict[str, torch.Tensor] = {structure.input_name: x[:, t].to(like.dtype)}
        for pop, n in structure.populations:
            syn = like.new_zeros((batch, n, 4))
            parts = [syn[..., i] for i in range(4)]
            for proj, w_exc, w_inh in split[pop]:
                spikes = prev[proj.source] if proj.delayed else now[proj.source]
                parts[SYN_INDEX[proj.types[0]]] = parts[SYN_INDEX[proj.types[0]]] + spikes @ w_exc.T
                parts[SYN_INDEX[proj.types[1]]] = parts[SYN_INDEX[proj.types[1]]] + spikes @ w_inh.T
            syn = torch.stack(parts, dim=-1)
            eta = noise(pop, (batch, n)) if noise is not None else None
            states[pop], z = dpi_step(states[pop], syn, constants[pop], dt, spike_fn, eta)
            now[pop] = z
            if record_all:
                trace.setdefault(f"{pop}.spikes", []).append(z)
                trace.setdefault(f"{pop}.i_mem", []).append(states[pop].i_mem)
        prev = {p: now[p] for p in pops}
        outs.append(now[structure.output_population])
        mems.append(states[structure.output_population].i_mem)
    if recorder is not None:
        recorder.record = torch.stack(mems, dim=1)
        if record_all:
            recorder.trace = {k: torch.stack(v, dim=1) for k, v in trace.items()}
    return torch.stack(outs, dim=1)


def build_model(target: Target, graph: Graph, options: Mapping[str, Any]) -> DynapseModel:
    """``neuro_chip_model``: a :class:`DynapseModel` from a float graph; options ``surrogate_slope``,
    ``train_currents``. Unknown options are an error."""
    allowed = {"surrogate_slope", "train_currents", "output"}
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} for dynapse2 chip_model; allowed: {sorted(allowed)}")
    return DynapseModel.from_graph(target, graph, **options)


def make_network(
    target: Target,
    n_in: int,
    n_hidden: int,
    n_out: int,
    dt: float = 1e-3,
    recurrent: bool = True,
    seed: int = 0,
    weight_scale_a: float = 4e-9,
    hidden_params: Mapping[str, float] | None = None,
    output_params: Mapping[str, float] | None = None,
) -> DynapseModel:
    """A fresh input -> hidden (optionally recurrent) -> output DYNAP-SE2 network.

    Weights are Gaussian with std ``3 weight_scale_a`` A / sqrt(fan-in) (``weight_scale_a`` for the
    recurrent ones; the input weights' magnitudes, so inputs excite) (seeded); neuron parameters
    are the chip defaults with ``hidden_params``/``output_params`` overrides (see :func:`default_currents`).
    """
    rng = np.random.default_rng(seed)
    pops = [("hidden", n_hidden), ("out", n_out)]
    projections = [Projection("w_in", "input", "hidden", False)]
    # excitatory input weights, so that every hidden neuron is driven (and gets gradients) from the start
    weights = {"w_in": np.abs(rng.normal(0, weight_scale_a * 3 / math.sqrt(n_in), (n_hidden, n_in)))}
    if recurrent:
        projections.append(Projection("w_rec", "hidden", "hidden", True))
        weights["w_rec"] = rng.normal(0, weight_scale_a / math.sqrt(n_hidden), (n_hidden, n_hidden))
    projections.append(Projection("w_out", "hidden", "out", False))
    weights["w_out"] = rng.normal(0, weight_scale_a * 3 / math.sqrt(n_hidden), (n_out, n_hidden))
    structure = Structure("input", n_in, tuple(pops), tuple(projections), "out", "output")
    currents = {
        "hidden": default_currents(n_hidden, **dict(hidden_params or {})),
        "out": default_currents(n_out, **dict(output_params or {})),
    }
    return DynapseModel(target, structure, weights, currents, dt)

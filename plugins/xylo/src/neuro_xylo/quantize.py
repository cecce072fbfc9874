"""Quantize a float graph to Xylo's integer formats, and recognise which graphs Xylo can run.

Graphs Xylo runs (``analyse``): one Input, one Output, CubaLIF neuron populations joined by Linear
nodes. The CubaLIF feeding the Output is the readout (the chip's output neurons); every other
CubaLIF is part of the hidden population (recurrent edges allowed). Linear nodes carry the input,
recurrent (hidden -> hidden, any population) and readout weights.

Float -> chip correspondence (derivation in docs/xylo.md). Per neuron, with ``a = 2**-dash_syn`` and
``b = 2**-dash_mem``: ``dash = round(log2(tau / dt))``; the chip weight of a synapse is
``W * w_in * r * b * a / (1 - a)`` in state units; ``bias = b * v_leak``; ``threshold = v_threshold``.
A quantized graph is canonical: ``tau = dt * 2**dash_mem``, ``tau_syn = dt * 2**dash_syn``,
``r = 2**dash_mem``, ``w_in = 2**dash_syn - 1``, ``v_leak = bias * 2**dash_mem``, so its Linear
weights are the chip weights themselves, and quantizing it again returns it unchanged.

Scales: one per group (global: all weights into the hidden population together, readout weights
apart) or one per post-synaptic neuron (``per_channel=True``), chosen as
``max(max|W| / 127, max|threshold| / 32767, max|bias| / 32767)``: weights fill int8, thresholds
and biases (scaled with their inputs) always fit int16, and nothing is ever wrapped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from neuro_core.errors import GraphError, QuantizationError
from neuro_core.graph import CubaLIF, Graph, Input, Linear, Node, Output
from neuro_core.target import Target

WEIGHT_MAX = 127
STATE_MAX = 2**15 - 1
DASH_MAX = 15
OPTIONS = {"per_channel"}


@dataclass
class XyloNetwork:
    """The roles of a graph's nodes on Xylo (what ``analyse`` finds).

    Attributes:
        input: the Input node. output: the Output node. readout: the CubaLIF feeding the Output.
        hidden: hidden CubaLIF populations in chip order (input-fed first, readout-feeding last).
        offset: first hidden index of each hidden population.
        linears: every Linear as (name, source node, destination node).
        recurrent_readout: Linear nodes that leave the readout (the chip cannot do that).
        sizes: neurons per hidden population.
    """

    input: str
    output: str
    readout: str
    hidden: list[str]
    offset: dict[str, int]
    linears: list[tuple[str, str, str]]
    recurrent_readout: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def n_hidden(self) -> int:
        """Hidden neurons used."""
        return sum(self.sizes.values())


def analyse(graph: Graph) -> XyloNetwork:
    """Find the Xylo roles of ``graph``'s nodes.

    Raises:
        GraphError: a node type Xylo has no equivalent for, or a wiring Xylo cannot express (naming it).
    """
    inputs = [n for n, node in graph.nodes.items() if type(node) is Input]
    outputs = graph.outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        raise GraphError(f"Xylo runs graphs with exactly one Input and one Output, got {inputs} and {outputs}")
    for name, node in graph.nodes.items():
        if type(node) not in (Input, Output, Linear, CubaLIF):
            raise GraphError(
                f"node {name!r} is a {node.kind}: Xylo implements Linear (int8 weights) and CubaLIF neurons only"
            )
    (output,) = outputs
    sources = graph.predecessors(output)
    if len(sources) != 1 or type(graph.nodes[sources[0]]) is not CubaLIF:
        raise GraphError(f"the Output {output!r} must be fed by one CubaLIF population (the readout), got {sources}")
    readout = sources[0]
    linears: list[tuple[str, str, str]] = []
    recurrent_readout = []
    for name, node in graph.nodes.items():
        if type(node) is not Linear:
            continue
        pre, post = graph.predecessors(name), graph.successors(name)
        if len(pre) != 1 or len(post) != 1:
            raise GraphError(f"Linear {name!r} must have one source and one destination, got {pre} -> {post}")
        if type(graph.nodes[post[0]]) is not CubaLIF:
            raise GraphError(f"Linear {name!r} must feed a CubaLIF population, feeds {post[0]!r}")
        if type(graph.nodes[pre[0]]) not in (Input, CubaLIF):
            raise GraphError(f"Linear {name!r} must be fed by the Input or a CubaLIF population, not {pre[0]!r}")
        if pre[0] == readout:
            recurrent_readout.append(name)
        linears.append((name, pre[0], post[0]))
    for name, node in graph.nodes.items():
        if type(node) is CubaLIF:
            for source in graph.predecessors(name):
                if type(graph.nodes[source]) is not Linear:
                    raise GraphError(f"population {name!r} must receive through Linear nodes, not from {source!r}")
    populations = [n for n, node in graph.nodes.items() if type(node) is CubaLIF and n != readout]
    input_fed = {dst for _, src, dst in linears if src == inputs[0]}
    readout_feeding = {src for _, src, dst in linears if dst == readout}
    # chip order: the input window is at the start of the hidden neurons, the output window at the end
    ordered = sorted(populations, key=lambda n: 0 if n in input_fed else 2 if n in readout_feeding else 1)
    offset, start = {}, 0
    sizes = {}
    for name in ordered:
        offset[name] = start
        sizes[name] = graph.nodes[name].out_size
        start += sizes[name]
    return XyloNetwork(inputs[0], output, readout, ordered, offset, linears, recurrent_readout, sizes)


def _weight(graph: Graph, name: str) -> np.ndarray:
    node = graph.nodes[name]
    assert isinstance(node, Linear)  # analyse() checked the roles
    return node.weight


def _dash(name: str, key: str, tau: np.ndarray, dt: float, minimum: int) -> np.ndarray:
    exact = np.log2(np.asarray(tau, float) / dt)
    dash = np.round(exact)
    bad = np.flatnonzero((dash < minimum) | (dash > DASH_MAX))
    if bad.size:
        i = int(bad[0])
        raise QuantizationError(
            f"node {name!r} parameter {key!r}: Xylo needs {key} = dt * 2**dash with dash in [{minimum}, {DASH_MAX}] "
            f"(dt = {dt} s); neuron {i} has {key} = {float(tau[i])} s (dash {float(exact[i]):.2f}); "
            f"{bad.size} neuron(s) out of range"
        )
    return dash.astype(np.int64)


def neuron_factors(node: Node, name: str, dt: float) -> dict[str, np.ndarray]:
    """Per-neuron chip quantities of a float CubaLIF: dashes, the weight gain, bias and threshold (floats).

    ``gain`` multiplies the float weights into the neuron to give chip weights in state units.

    Raises:
        QuantizationError: a time constant outside Xylo's dash range (naming node, parameter, limit, value).
        GraphError: a reset Xylo does not have.
    """
    assert isinstance(node, CubaLIF)  # analyse() admits CubaLIF populations only
    if node.reset != "subtract":
        raise GraphError(f"node {name!r} has reset {node.reset!r}: Xylo neurons reset by subtraction only")
    dash_mem = _dash(name, "tau", node.tau, dt, 0)
    # the chip decays the synaptic state after adding the step's input: dash_syn 0 would erase it
    dash_syn = _dash(name, "tau_syn", node.tau_syn, dt, 1)
    a = np.ldexp(1.0, -dash_syn)
    b = np.ldexp(1.0, -dash_mem)
    gain = (a * node.w_in / (1.0 - a)) * (b * node.r)
    return {
        "dash_mem": dash_mem,
        "dash_syn": dash_syn,
        "gain": gain,
        "bias": b * node.v_leak,
        "threshold": np.asarray(node.v_threshold, float),
    }


def group_scales(
    weights: Sequence[np.ndarray], thresholds: np.ndarray, biases: np.ndarray, per_channel: bool
) -> np.ndarray:
    """The float value of one integer unit for each post-synaptic neuron of a group, (n,).

    Args:
        weights: chip-unit float weight matrices into the group, each (n, fan_in) (post first).
        thresholds, biases: (n,) floats in the same units.
        per_channel: one scale per neuron (True) or one for the whole group (False).
    """
    n = thresholds.shape[0]
    w_max = np.zeros(n)
    for w in weights:
        if w.size:
            w_max = np.maximum(w_max, np.abs(w).max(axis=1))
    need = np.maximum(w_max / WEIGHT_MAX, np.maximum(np.abs(thresholds), np.abs(biases)) / STATE_MAX)
    if not per_channel:
        need = np.full(n, need.max(initial=0.0))
    return np.where(need > 0, need, 1.0)


def _to_int(name: str, key: str, values: np.ndarray, limit: int) -> np.ndarray:
    ints = np.round(values)
    if ints.size and np.abs(ints).max() > limit:
        i = np.unravel_index(int(np.argmax(np.abs(ints))), ints.shape)
        raise QuantizationError(
            f"node {name!r} parameter {key!r}: {float(ints[i])} at {tuple(int(j) for j in i)} exceeds the "
            f"format's limit +-{limit} (never wrapped)"
        )
    return ints.astype(np.int64)


def quantize_graph(graph: Graph, target: Target, options: Mapping[str, Any]) -> Graph:
    """``neuro_quantize`` for Xylo: a new canonical graph with int_params and scales (see module docstring).

    Raises:
        ValueError: an unknown option.
        QuantizationError: a value that no scale makes fit (naming node, parameter, limit, value).
        GraphError: a graph Xylo cannot express.
    """
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} for Xylo quantize; allowed: {sorted(OPTIONS)}")
    per_channel = bool(options.get("per_channel", False))
    net = analyse(graph)
    dt = graph.dt
    neurons = {n: neuron_factors(graph.nodes[n], n, dt) for n in [*net.hidden, net.readout]}
    new_nodes: dict[str, Node] = dict(graph.nodes)
    groups = [net.hidden, [net.readout]]
    for group in groups:
        if not group:
            continue
        thresholds = np.concatenate([neurons[n]["threshold"] for n in group])
        biases = np.concatenate([neurons[n]["bias"] for n in group])
        index = {}
        start = 0
        for n in group:
            index[n] = slice(start, start + graph.nodes[n].out_size)
            start += graph.nodes[n].out_size
        # chip-unit weights into each population, padded into the group's rows
        chip_weights = []
        for lin, _, dst in net.linears:
            if dst in index:
                full = np.zeros((start, graph.nodes[lin].in_size))
                full[index[dst]] = _weight(graph, lin) * neurons[dst]["gain"][:, None]
                chip_weights.append(full)
        scale = group_scales(chip_weights, thresholds, biases, per_channel)
        global_scale = {} if per_channel else {"threshold": float(scale[0]), "bias": float(scale[0])}
        for lin, _, dst in net.linears:
            if dst not in index:
                continue
            s = scale[index[dst]][:, None]
            chip = _weight(graph, lin) * neurons[dst]["gain"][:, None]
            ints = _to_int(lin, "weight", chip / s, WEIGHT_MAX)
            new_nodes[lin] = Linear(
                ints * s,
                int_params={"weight": ints, "weight_shift": np.zeros(1, np.int64)},
                scales={} if per_channel else {"weight": float(scale[0])},
            )
        for n in group:
            s = scale[index[n]]
            f = neurons[n]
            threshold = _to_int(n, "v_threshold", f["threshold"] / s, STATE_MAX)
            if threshold.size and threshold.min() < 1:
                i = int(np.argmin(threshold))
                raise QuantizationError(
                    f"node {n!r} parameter 'v_threshold': Xylo thresholds must be >= 1 integer unit after scaling "
                    f"(neuron {i}: {float(f['threshold'][i])} -> {int(threshold[i])})"
                )
            bias = _to_int(n, "v_leak", f["bias"] / s, STATE_MAX)
            new_nodes[n] = canonical_neuron(f["dash_mem"], f["dash_syn"], threshold * s, bias * s, dt).with_params(
                int_params={"threshold": threshold, "bias": bias, "dash_mem": f["dash_mem"], "dash_syn": f["dash_syn"]},
                scales=global_scale,
            )
    return Graph(
        new_nodes, graph.edges, dt, {**graph.metadata, "quantized_for": target.name, "per_channel": per_channel}
    )


def canonical_neuron(
    dash_mem: np.ndarray, dash_syn: np.ndarray, threshold: np.ndarray, bias: np.ndarray, dt: float
) -> CubaLIF:
    """The float CubaLIF whose Linear weights are chip weights (state units); arrays (n,), dt in s."""
    dash_mem = np.asarray(dash_mem, float)
    dash_syn = np.asarray(dash_syn, float)
    return CubaLIF(
        r=np.exp2(dash_mem),
        v_threshold=np.asarray(threshold, float),
        v_reset=np.zeros_like(dash_mem),
        reset="subtract",
        tau=dt * np.exp2(dash_mem),
        v_leak=np.asarray(bias, float) * np.exp2(dash_mem),
        tau_syn=dt * np.exp2(dash_syn),
        w_in=np.exp2(dash_syn) - 1.0,
    )

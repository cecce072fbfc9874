"""Float graph -> example-if8 number formats (int8 weights, int16 thresholds, power-of-two scales).

The chip computes ``v = sat16(v + W_int @ x)``; a neuron spikes when ``v > threshold_int`` and resets
to zero. A float IF layer ``v += r * (W @ x)`` with threshold ``th`` computes the same spikes when
``W_int ~ r * W / s`` and ``threshold_int ~ th / s`` for any scale ``s > 0``. The quantizer picks one
scale per layer, a power of two just large enough for both the weights (8 bits) and the thresholds
(16 bits). Because ``s`` is a power of two, the dequantized float graph (``W_int * s``,
``threshold_int * s``) reproduces the chip's integer arithmetic exactly, unless the membrane saturates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from neuro_core import IF, Graph, GraphError, Input, Linear, Output, QuantizationError, Target

OPTIONS = frozenset({"per_channel"})


def layers_of(graph: Graph) -> list[tuple[str, str]]:
    """The (Linear, IF) name pairs of a chain ``Input -> (Linear -> IF)+ -> Output``, in order.

    Raises:
        GraphError: the graph has another shape or a node type the chip lacks (naming the node).
    """
    for name, node in graph.nodes.items():
        if type(node) not in (Input, Output, Linear, IF):
            raise GraphError(
                f"node {name!r} is a {node.kind}; example-if8 implements only Input, Linear, IF and Output"
            )
    inputs, outputs = graph.inputs(), graph.outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        raise GraphError(f"example-if8 takes one Input and one Output node, got {len(inputs)} and {len(outputs)}")
    chain = [inputs[0]]
    while True:
        successors = graph.successors(chain[-1])
        if len(successors) > 1 or any(graph.predecessors(s) != [chain[-1]] for s in successors):
            raise GraphError(f"example-if8 runs plain chains: node {chain[-1]!r} branches or merges")
        if not successors:
            break
        if successors[0] in chain:
            raise GraphError(f"example-if8 has no recurrent connections: edge {chain[-1]!r} -> {successors[0]!r}")
        chain.append(successors[0])
    if len(chain) != len(graph.nodes) or chain[-1] != outputs[0]:
        raise GraphError("example-if8 runs one chain from the Input to the Output that uses every node")
    body = chain[1:-1]
    pairs = list(zip(body[::2], body[1::2], strict=False))
    if (
        len(body) < 2
        or len(body) % 2
        or not all(isinstance(graph.nodes[a], Linear) and isinstance(graph.nodes[b], IF) for a, b in pairs)
    ):
        kinds = " -> ".join(graph.nodes[n].kind for n in chain)
        raise GraphError(f"example-if8 needs Input -> (Linear -> IF)+ -> Output, got {kinds}")
    return pairs


def power_of_two_scale(largest_weight: float, largest_threshold: float, weight_max: int, threshold_max: int) -> float:
    """The smallest power of two ``s`` with ``largest_weight / s <= weight_max`` and the same for thresholds."""
    needed = max(largest_weight / weight_max, largest_threshold / threshold_max)
    if needed == 0.0:
        return 1.0
    return float(2.0 ** math.ceil(math.log2(needed)))


def quantize(target: Target, graph: Graph, options: Mapping[str, Any]) -> Graph:
    """The graph with int8 weights and int16 thresholds (``int_params``) and their scales.

    Args:
        target: the example-if8 Target (formats ``weight`` and ``threshold``).
        graph: a float graph of the shape :func:`layers_of` accepts; IF nodes reset to zero.
        options: ``per_channel`` (default False). True is refused: each core has one scale.

    Returns:
        A new Graph: Linear weights ``W_int * s``, IF ``r = 1``, thresholds ``threshold_int * s``,
        ``v_reset = 0``, with ``int_params`` and ``scales`` filled in.

    Raises:
        ValueError: an unknown option.
        QuantizationError: ``per_channel=True``.
        GraphError: a node type or shape the chip lacks, or a reset other than to zero.
    """
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(f"unknown quantize option(s) {sorted(unknown)} for example-if8; allowed: {sorted(OPTIONS)}")
    if options.get("per_channel", False):
        raise QuantizationError(
            "example-if8 stores one weight scale per layer (per core): per_channel=True is not supported"
        )
    weight_fmt, threshold_fmt = target.formats["weight"], target.formats["threshold"]
    nodes = dict(graph.nodes)
    for linear_name, neuron_name in layers_of(graph):
        linear, neuron = graph.nodes[linear_name], graph.nodes[neuron_name]
        assert isinstance(linear, Linear) and isinstance(neuron, IF)  # layers_of checked the kinds
        v_reset = np.asarray(neuron.v_reset)  # IF fills a missing v_reset with zeros
        if neuron.reset != "zero" or np.any(v_reset != 0):
            raise GraphError(
                f"node {neuron_name!r}: example-if8 resets the membrane to zero; got reset={neuron.reset!r}, "
                f"v_reset up to {float(np.max(np.abs(v_reset)))}"
            )
        effective = neuron.r[:, None] * linear.weight  # the chip has no separate r: fold it into W
        scale = power_of_two_scale(
            float(np.max(np.abs(effective), initial=0.0)),
            float(np.max(np.abs(neuron.v_threshold), initial=0.0)),
            weight_fmt.max,
            threshold_fmt.max,
        )
        weight_int = np.clip(np.round(effective / scale), weight_fmt.min, weight_fmt.max).astype(np.int64)
        threshold_int = np.clip(np.round(neuron.v_threshold / scale), threshold_fmt.min, threshold_fmt.max)
        threshold_int = threshold_int.astype(np.int64)
        nodes[linear_name] = Linear(weight_int * scale, int_params={"weight": weight_int}, scales={"weight": scale})
        nodes[neuron_name] = IF(
            r=np.ones(neuron.in_size),
            v_threshold=threshold_int * scale,
            v_reset=np.zeros(neuron.in_size),
            reset="zero",
            int_params={"threshold": threshold_int},
            scales={"threshold": scale},
        )
    return Graph(nodes, graph.edges, graph.dt, {**graph.metadata, "quantized_for": target.name})

"""Generic checks of a graph against a :class:`~neuro_core.target.Target` (``Target.check``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import Violation
from .graph import IF, Delay, Graph, Input, Linear, Output

if TYPE_CHECKING:
    from .target import Target


def check_graph_against_target(target: Target, graph: Graph) -> list[Violation]:
    """Every generic limit of ``target`` that ``graph`` violates, in a stable order."""
    found: list[Violation] = []
    if target.node_types:
        for name, node in graph.nodes.items():
            if node.kind not in target.node_types:
                found.append(Violation("node_types", f"node {name!r}", sorted(target.node_types), node.kind))
    for name, node in graph.nodes.items():
        if isinstance(node, IF) and node.reset not in target.reset_modes:
            found.append(Violation("reset_modes", f"node {name!r}", sorted(target.reset_modes), node.reset))
    neurons = sum(graph.nodes[n].out_size for n in graph.neuron_nodes())
    if neurons > target.max_neurons:
        found.append(Violation("neurons", "whole network", target.max_neurons, neurons))
    if target.input_channels is not None:
        n_in = sum(graph.nodes[n].out_size for n in graph.inputs())
        if n_in > target.input_channels:
            found.append(Violation("input_channels", "Input nodes", target.input_channels, n_in))
    if target.output_channels is not None:
        n_out = sum(graph.nodes[n].in_size for n in graph.outputs())
        if n_out > target.output_channels:
            found.append(Violation("output_channels", "Output nodes", target.output_channels, n_out))
    _, back = graph.schedule()
    if back and not target.recurrent:
        found.append(Violation("recurrent", f"edges {sorted(back)}", False, True))
    fan_in: dict[str, np.ndarray] = {}
    for name, node in graph.nodes.items():
        if not isinstance(node, Linear):
            if isinstance(node, Delay) and int(node.delay.max(initial=0)) > target.max_delay:
                found.append(Violation("max_delay", f"node {name!r}", target.max_delay, int(node.delay.max())))
            continue
        nonzero = node.weight != 0
        if target.max_fan_out is not None:
            fan_out = nonzero.sum(axis=0)
            for i in np.flatnonzero(fan_out > target.max_fan_out):
                found.append(Violation("max_fan_out", f"node {name!r}, input {i}", target.max_fan_out, int(fan_out[i])))
        for dst in graph.successors(name):
            fan_in[dst] = fan_in.get(dst, 0) + nonzero.sum(axis=1)
        if node.delay is not None:
            worst = int(node.delay.max(initial=0))
            if worst > target.max_delay:
                where = np.unravel_index(int(np.argmax(node.delay)), node.delay.shape)
                found.append(
                    Violation(
                        "max_delay", f"node {name!r}, synapse {tuple(int(i) for i in where)}", target.max_delay, worst
                    )
                )
    if target.max_fan_in is not None:
        for dst, counts in fan_in.items():
            if isinstance(graph.nodes[dst], (Input, Output)):
                continue
            for j in np.flatnonzero(np.asarray(counts) > target.max_fan_in):
                found.append(Violation("max_fan_in", f"node {dst!r}, neuron {j}", target.max_fan_in, int(counts[j])))
    for name, node in graph.nodes.items():
        for key, values in node.int_params.items():
            fmt = target.formats.get(key)
            if fmt is None or values.size == 0:
                continue
            lo, hi = int(values.min()), int(values.max())
            if lo < fmt.min:
                found.append(Violation(f"format:{key}", f"node {name!r}", fmt.min, lo))
            if hi > fmt.max:
                found.append(Violation(f"format:{key}", f"node {name!r}", fmt.max, hi))
    return found

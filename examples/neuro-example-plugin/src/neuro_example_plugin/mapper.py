"""Place a quantized graph on example-if8's cores, listing every violated limit.

Design rule of the chip (beyond the generic ``Target.check``): a core serves one layer only (it
has one input bus and one weight scale), so a layer of n neurons takes ``ceil(n / 64)`` whole cores,
filled in order. Each core stores its neurons' weights densely: neurons x layer inputs x 8 bits.
"""

from __future__ import annotations

import numpy as np
from neuro_core import Graph, GraphError, Linear, MappingError, Placement, Target, Violation

from .quantize import layers_of


def place(target: Target, graph: Graph) -> Placement:
    """A Placement of ``graph`` (the output of :func:`~neuro_example_plugin.quantize.quantize`).

    Raises:
        GraphError: the graph was not quantized for example-if8.
        MappingError: every violated limit: the generic ones of ``target.check`` plus ``cores``
            (one layer per core) and ``synapse_memory_bits_per_core``.
    """
    layers = layers_of(graph)
    for linear_name, neuron_name in layers:
        if (
            "weight" not in graph.nodes[linear_name].int_params
            or "threshold" not in graph.nodes[neuron_name].int_params
        ):
            raise GraphError(f"layer {linear_name!r}/{neuron_name!r} is not quantized for example-if8: quantize first")
    violations = target.check(graph)
    per_core = target.neurons_per_core
    cores: dict[str, np.ndarray] = {}
    next_core = 0
    memory_limit = target.synapse_memory_bits_per_core
    weight_bits = target.formats["weight"].bits
    for linear_name, neuron_name in layers:
        linear = graph.nodes[linear_name]
        assert isinstance(linear, Linear)
        n = linear.out_size
        cores[neuron_name] = next_core + np.arange(n, dtype=np.int64) // per_core
        for k in range((n + per_core - 1) // per_core):
            neurons_here = min(per_core, n - k * per_core)
            bits = neurons_here * linear.in_size * weight_bits
            if memory_limit is not None and bits > memory_limit:
                where = f"core {next_core + k} (layer {neuron_name!r})"
                violations.append(Violation("synapse_memory_bits_per_core", where, memory_limit, bits))
        next_core += (n + per_core - 1) // per_core
    if next_core > target.cores:
        violations.append(Violation("cores", "whole network (one layer per core)", target.cores, next_core))
    if violations:
        raise MappingError(target.name, violations)
    synapses = sum(int(np.count_nonzero(graph.nodes[a].int_params["weight"])) for a, _ in layers)
    return Placement(
        target.name,
        graph,
        cores,
        {"cores_used": next_core, "neurons": sum(len(c) for c in cores.values()), "synapses": synapses},
    )

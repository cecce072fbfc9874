"""Map a quantized graph onto a Xylo core: every design rule checked, every violation listed.

Rules (sources in target.py and docs/xylo.md):

- generic limits of the Target (``target.check``): node types, hidden neurons, input channels,
  output neurons, integer formats;
- inputs reach hidden neurons only, and only the first ``input_window`` of them (128 on IMU and
  Audio 3, all 1000 on Audio 2); the readout reads only the last ``output_window`` hidden neurons;
- output neurons are not recurrent (no Linear leaves the readout) and receive only from hidden neurons;
- recurrent fan-out per hidden neuron (64 on Audio 2);
- synaptic states per hidden neuron (2 on Audio 2, 1 on IMU and Audio 3);
- the graph must be quantized for Xylo (int_params present).

The Placement's ``tables`` are the configuration image arrays (program.py's layout).
"""

from __future__ import annotations

import numpy as np
from neuro_core.errors import MappingError, ProgrammingError, Violation
from neuro_core.graph import Graph
from neuro_core.results import Placement
from neuro_core.target import Target

from .program import XyloImage
from .quantize import XyloNetwork, analyse


def _int(graph: Graph, node: str, key: str, violations: list[Violation]) -> np.ndarray | None:
    values = graph.nodes[node].int_params.get(key)
    if values is None:
        violations.append(Violation("quantized", f"node {node!r}", f"int_params[{key!r}] (run quantize first)", None))
    return values


def build_image(graph: Graph, net: XyloNetwork, violations: list[Violation]) -> XyloImage | None:
    """The configuration image of a quantized graph, or None if int_params are missing (violations added)."""
    n_in = graph.nodes[net.input].out_size
    n_hid = net.n_hidden
    n_out = graph.nodes[net.readout].out_size
    input_fed = [dst for _, src, dst in net.linears if src == net.input and dst in net.offset]
    readout_feeding = [src for _, src, dst in net.linears if dst == net.readout and src in net.offset]
    n_ien = max((net.offset[p] + net.sizes[p] for p in input_fed), default=1)
    oen_start = min((net.offset[p] for p in readout_feeding), default=max(n_hid - 1, 0))
    n_oen = max(n_hid - oen_start, 1)
    w_in = np.zeros((n_in, n_ien, 1), np.int64)
    w_rec = np.zeros((n_hid, n_hid, 1), np.int64)
    w_out = np.zeros((n_oen, n_out), np.int64)
    shifts: dict[str, set[int]] = {"in": set(), "rec": set(), "out": set()}
    complete = True
    for lin, src, dst in net.linears:
        weight = _int(graph, lin, "weight", violations)
        shift = _int(graph, lin, "weight_shift", violations)
        if weight is None or shift is None:
            complete = False
            continue
        if src in net.offset and dst in net.offset:
            rows, cols = net.offset[src], net.offset[dst]
            w_rec[rows : rows + weight.shape[1], cols : cols + weight.shape[0], 0] = weight.T
            shifts["rec"].add(int(shift[0]))
        elif src == net.input and dst in net.offset:
            w_in[:, net.offset[dst] : net.offset[dst] + weight.shape[0], 0] = weight.T
            shifts["in"].add(int(shift[0]))
        elif src in net.offset and dst == net.readout:
            start = net.offset[src] - oen_start
            w_out[start : start + weight.shape[1], :] = weight.T
            shifts["out"].add(int(shift[0]))
    for matrix, used in shifts.items():
        if len(used) > 1:
            violations.append(Violation("weight_shift", f"{matrix} weights", "one shift per matrix", sorted(used)))
    params = {}
    for prefix, names in (("", net.hidden), ("_out", [net.readout])):
        for key in ("threshold", "bias", "dash_mem", "dash_syn"):
            parts = [_int(graph, n, key, violations) for n in names]
            if any(p is None for p in parts):
                complete = False
                continue
            params[key + prefix] = (
                np.concatenate([p for p in parts if p is not None]) if parts else np.zeros(0, np.int64)
            )
    if not complete:
        return None
    return XyloImage.build(
        meta={},
        w_in=w_in,
        w_rec=w_rec,
        w_out=w_out,
        weight_shift=[min(s, default=0) for s in shifts.values()],
        dash_mem=params["dash_mem"],
        dash_syn=params["dash_syn"][:, None],
        threshold=params["threshold"],
        bias=params["bias"],
        alias=np.full(n_hid, -1),
        dash_mem_out=params["dash_mem_out"],
        dash_syn_out=params["dash_syn_out"],
        threshold_out=params["threshold_out"],
        bias_out=params["bias_out"],
    )


def map_graph(device: str, target: Target, graph: Graph) -> Placement:
    """``neuro_map`` for Xylo.

    Raises:
        MappingError: listing every violated rule (generic and Xylo-specific), none left out.
        GraphError: a graph Xylo cannot express at all (see ``quantize.analyse``).
    """
    violations = list(target.check(graph))
    net = analyse(graph)
    extra = target.extra
    for lin, src, dst in net.linears:
        if src == net.input and dst == net.readout:
            violations.append(Violation("input_to_hidden_only", f"node {lin!r}", "inputs reach hidden neurons", dst))
    for lin in net.recurrent_readout:
        violations.append(Violation("output_not_recurrent", f"node {lin!r}", "no edge leaves the output neurons", lin))
    try:
        image = build_image(graph, net, violations)
    except ProgrammingError:  # an int_param out of its register type: target.check listed it already
        image = None
    if image is not None:
        if image.n_ien > extra["input_window"]:
            violations.append(
                Violation(
                    "input_window",
                    "hidden neurons fed by the Input",
                    f"neurons 0..{extra['input_window'] - 1}",
                    f"neurons 0..{image.n_ien - 1}",
                )
            )
        if image.n_oen > extra["output_window"]:
            violations.append(
                Violation(
                    "output_window",
                    "hidden neurons feeding the readout",
                    f"the last {extra['output_window']}",
                    f"the last {image.n_oen}",
                )
            )
        limit = extra.get("max_recurrent_fan_out")
        if limit is not None:
            fan_out = np.any(image.w_rec != 0, axis=2).sum(axis=1)
            for pre in np.flatnonzero(fan_out > limit):
                violations.append(
                    Violation(
                        "max_recurrent_fan_out",
                        f"hidden neuron {pre} ({_owner(net, int(pre))})",
                        limit,
                        int(fan_out[pre]),
                    )
                )
    if violations:
        raise MappingError(device, violations)
    if image is None:  # pragma: no cover - every path to None records a violation
        raise MappingError(device, [Violation("quantized", "graph", "a Xylo-quantized graph", "not quantized")])
    cores = {name: np.zeros(graph.nodes[name].out_size, np.int64) for name in graph.neuron_nodes()}
    resources = {
        "cores_used": 1,
        "hidden_neurons": image.n_hidden,
        "output_neurons": image.n_out,
        "input_channels": image.n_in,
        "input_expansion_neurons": image.n_ien,
        "output_expansion_neurons": image.n_oen,
        "synapses": int(np.count_nonzero(image.w_in) + np.count_nonzero(image.w_rec) + np.count_nonzero(image.w_out)),
        "hidden_offsets": dict(net.offset),
        "readout": net.readout,
    }
    return Placement(device, graph, cores, resources, image.arrays())


def _owner(net: XyloNetwork, index: int) -> str:
    for name, start in net.offset.items():
        if start <= index < start + net.sizes[name]:
            return f"node {name!r} neuron {index - start}"
    return "unassigned"

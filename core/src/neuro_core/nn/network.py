"""``Sequential``, ``Network`` and the conversions ``to_graph`` / ``from_graph``.

A model is a chain of layers; each layer exports one or more IR nodes:

==========================  ======================================================================
layer                       IR nodes (``name`` is the layer's name in the network)
==========================  ======================================================================
``Linear``                  ``name``: Linear (Affine with a bias), with its integer delays
``DelayLinear``             ``name`` (one slot) or ``name.slot0``, ``name.slot1``, ... in parallel
``LIF``/``IF``/``LI``/      ``name``: the node of the same type
``CubaLIF``
``RecurrentLIF``            ``name.in`` (Linear) -> ``name`` (LIF); ``name`` -> ``name.rec`` -> ``name``
                            (the back edge: the previous step's spikes)
==========================  ======================================================================

plus an ``Input`` node before the first layer and an ``Output`` node after the last.
:func:`from_graph` reads such chains back (node names, order and metadata kept, so
``to_graph(from_graph(g))`` equals ``g``) and raises :class:`~neuro_core.errors.GraphError`
naming the node for anything else (branches, Scale/Threshold/Delay nodes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import graph as ir
from ..chipmodel import ChipModel
from ..errors import GraphError
from ..target import Target
from .delay import DelayLinear
from .layers import IF, LI, LIF, CubaLIF, Linear, RecurrentLIF, _Neuron

_LAYER_TYPES = (Linear, DelayLinear, LIF, IF, LI, CubaLIF, RecurrentLIF)


class Sequential(nn.Sequential):
    """``torch.nn.Sequential`` of neuro layers with :meth:`to_graph`; (batch, time, in) -> (batch, time, out)."""

    def to_graph(self, dt: float | None = None) -> ir.Graph:
        """The IR graph of this chain (see :func:`to_graph`)."""
        return to_graph(self, dt)


class Network(ChipModel):
    """A chain of neuro layers as a :class:`~neuro_core.chipmodel.ChipModel` (the ideal device's model).

    Args:
        layers: the layers in order (or an ``nn.Sequential``).
        target: the device's Target (default: the ideal device's).
        names: IR node name of each layer (default ``<type><index>``, e.g. ``linear0``, ``lif1``).
        input_name, output_name: names of the Input and Output nodes.
        metadata: graph metadata carried by :meth:`to_graph`.
    """

    def __init__(
        self,
        layers: Iterable[nn.Module],
        target: Target | None = None,
        names: Sequence[str] | None = None,
        input_name: str = "input",
        output_name: str = "output",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if target is None:
            from ..ideal import ideal_target

            target = ideal_target()
        super().__init__(target)
        self.layers = nn.ModuleList(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, _LAYER_TYPES):
                raise TypeError(
                    f"layer {i} is a {type(layer).__name__}; Network takes {[t.__name__ for t in _LAYER_TYPES]}"
                )
        if not self.layers:
            raise ValueError("a Network needs at least one layer")
        self.names = list(names) if names is not None else _default_names(self.layers)
        if len(self.names) != len(self.layers) or len(set(self.names)) != len(self.names):
            raise ValueError(f"names must be {len(self.layers)} distinct strings, got {self.names}")
        self.input_name, self.output_name = input_name, output_name
        self.metadata = dict(metadata or {})
        self.node_order: list[str] | None = None  # a source graph's node order, kept by from_graph
        self.part_names: dict[str, list[str]] = {}  # layer name -> its IR node names, kept by from_graph

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, in) -> (batch, time, out): the layers in order."""
        for layer in self.layers:
            x = layer(x)
        return x

    def to_graph(self) -> ir.Graph:
        """The IR graph of this network (see :func:`to_graph`)."""
        return to_graph(self)

    def forward_chips(self, x: torch.Tensor, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Run several parameter sets ("chips") at once: (batch, time, in) -> (chips, batch, time, out).

        ``params`` maps names of :meth:`named_parameters`/:meth:`named_buffers` to tensors of shape
        ``(chips, *shape)``; tensors not given keep the network's own values on every chip. Weights
        run as batched matmuls; neuron populations of all chips run side by side in one scan
        (chips folded into the neuron axis), so there is no loop over chips. This is the entry
        point of ``neuro_core.training.robustness`` for these models (the fused scans have no vmap rule).
        """
        sizes = {int(v.shape[0]) for v in params.values()}
        if len(sizes) > 1:
            raise ValueError(
                f"every tensor in params needs the same leading chips dimension, got sizes {sorted(sizes)}"
            )
        chips = sizes.pop() if sizes else 1
        known = {name for name, _ in self.named_parameters()} | {name for name, _ in self.named_buffers()}
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"params has names this network does not have: {sorted(unknown)}")
        h = x
        for i, layer in enumerate(self.layers):
            prefix = f"layers.{i}."
            local = {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
            h = _layer_chips(layer, h, local, chips)
        return h if h.ndim == 4 else h.expand(chips, *h.shape)


def _chip_tensor(module: nn.Module, name: str, local: Mapping[str, torch.Tensor], chips: int) -> torch.Tensor | None:
    """``local[name]`` or the module's own tensor repeated for every chip: (chips, *shape), or None."""
    if name in local:
        return local[name]
    own = getattr(module, name)
    return None if own is None else own.expand(chips, *own.shape)


def _fold(h: torch.Tensor, chips: int) -> torch.Tensor:
    """(chips, batch, time, n) or a shared (batch, time, n) -> (batch, time, chips*n)."""
    if h.ndim == 3:
        h = h.expand(chips, *h.shape)
    return h.permute(1, 2, 0, 3).reshape(h.shape[1], h.shape[2], -1)


def _chip_matmul(h: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``h W^T`` per chip: h (batch, time, in) or (chips, batch, time, in), W (chips, out, in)."""
    return torch.einsum("bti,coi->cbto" if h.ndim == 3 else "cbti,coi->cbto", h, weight)


def _linear_chips(layer: Linear, h: torch.Tensor, local: Mapping[str, torch.Tensor], chips: int) -> torch.Tensor:
    weight = _chip_tensor(layer, "weight", local, chips)
    bias = _chip_tensor(layer, "bias", local, chips)
    assert weight is not None
    if layer.delay is None or not bool(layer.delay.any()):
        y = _chip_matmul(h, weight)
    else:  # as Linear.forward: one matmul per distinct delay on the input shifted by it
        steps = h.shape[-2]
        y = h.new_zeros(chips, *h.shape[-3:-1], layer.out_features)
        for d in torch.unique(layer.delay).tolist():
            if d < steps:
                shifted = nn.functional.pad(h, (0, 0, d, 0))[..., :steps, :] if d else h
                y = y + _chip_matmul(shifted, weight * (layer.delay == d).to(weight.dtype))
    return y if bias is None else y + bias[:, None, None, :]


def _delay_chips(layer: DelayLinear, h: torch.Tensor, local: Mapping[str, torch.Tensor], chips: int) -> torch.Tensor:
    weight, position = _chip_tensor(layer, "weight", local, chips), _chip_tensor(layer, "position", local, chips)
    kernel = layer.kernel(weight, position)  # (chips, out, in, taps)
    shared = h.ndim == 3
    batch, steps = h.shape[-3], h.shape[-2]
    # conv1d over time; a per-chip input becomes channel groups
    inputs = h.transpose(1, 2) if shared else h.permute(1, 0, 3, 2).reshape(batch, -1, steps)
    padded = nn.functional.pad(inputs, (layer.max_delay, 0))
    y = nn.functional.conv1d(padded, kernel.flip(-1).reshape(-1, *kernel.shape[-2:]), groups=1 if shared else chips)
    y = y.reshape(batch, chips, layer.out_features, steps).permute(1, 0, 3, 2)
    bias = _chip_tensor(layer, "bias", local, chips)
    return y if bias is None else y + bias[:, None, None, :]


def _neuron_params(layer: _Neuron, local: Mapping[str, torch.Tensor], chips: int) -> dict[str, torch.Tensor | None]:
    """The population's tensors for all chips side by side: each (chips*n,)."""
    out = {}
    for name in layer.PARAMS:
        value = _chip_tensor(layer, name, local, chips)
        out[name] = None if value is None else value.reshape(-1)
    return out


def _layer_chips(layer: nn.Module, h: torch.Tensor, local: Mapping[str, torch.Tensor], chips: int) -> torch.Tensor:
    """One layer for every chip: h (batch, time, in) shared or (chips, batch, time, in) -> (chips, batch, time, out)."""
    if isinstance(layer, Linear):
        return _linear_chips(layer, h, local, chips)
    if isinstance(layer, DelayLinear):
        return _delay_chips(layer, h, local, chips)
    if isinstance(layer, RecurrentLIF):
        nested: dict[str, dict[str, torch.Tensor]] = {"input": {}, "lif": {}, "recurrent": {}}
        for key, value in local.items():  # "input.weight", "lif.tau", "recurrent.weight", ...
            head, rest = key.split(".", 1)
            nested[head][rest] = value
        current = _linear_chips(layer.input, h, nested["input"], chips)
        w_rec = _chip_tensor(layer.recurrent, "weight", nested["recurrent"], chips)
        assert w_rec is not None
        y = layer.run(_fold(current, chips), _neuron_params(layer.lif, nested["lif"], chips), w_rec)
    else:
        assert isinstance(layer, _Neuron)
        y = layer.run(_fold(h, chips), _neuron_params(layer, local, chips))
    return y.reshape(y.shape[0], y.shape[1], chips, -1).permute(2, 0, 1, 3)


def _default_names(layers: Iterable[nn.Module]) -> list[str]:
    return [f"{type(layer).__name__.lower()}{i}" for i, layer in enumerate(layers)]


def _layers(model: nn.Module) -> tuple[list[nn.Module], list[str], Network | None]:
    if isinstance(model, Network):
        return list(model.layers), model.names, model
    layers = list(model) if isinstance(model, nn.Sequential) else [model]
    for i, layer in enumerate(layers):
        if not isinstance(layer, _LAYER_TYPES):
            raise GraphError(
                f"layer {i} ({type(layer).__name__}) has no IR form; supported: {[t.__name__ for t in _LAYER_TYPES]}"
            )
    return layers, _default_names(layers), None


def _in_size(layer: nn.Module) -> int:
    if isinstance(layer, _Neuron):
        return layer.n
    if isinstance(layer, RecurrentLIF):
        return layer.input.in_features
    assert isinstance(layer, (Linear, DelayLinear))
    return layer.in_features


def _common_dt(layers: list[nn.Module], dt: float | None) -> float:
    modules = [*layers, *(x.lif for x in layers if isinstance(x, RecurrentLIF))]
    found = {float(step) for step in (getattr(m, "dt", None) for m in modules) if step}
    if len(found) > 1:
        raise GraphError(f"all neuron layers must share one dt to form a graph; found {sorted(found)} s")
    if found:
        (layer_dt,) = found
        if dt is not None and not np.isclose(dt, layer_dt, rtol=1e-12, atol=0):
            raise GraphError(f"dt={dt} s was given but the layers use dt={layer_dt} s")
        return float(layer_dt)
    if dt is None:
        raise GraphError("the model has no neuron layer with a dt: pass dt (seconds) to to_graph")
    return float(dt)


def _parts(
    layer: nn.Module, name: str
) -> tuple[list[tuple[str, ir.Node]], list[tuple[str, str]], list[str], list[str]]:
    """A layer's (nodes, internal edges, entry nodes, exit nodes)."""
    if isinstance(layer, RecurrentLIF):
        inp, rec = f"{name}.in", f"{name}.rec"
        nodes = [(inp, layer.input.graph_node()), (name, layer.lif.graph_node()), (rec, layer.recurrent.graph_node())]
        return nodes, [(inp, name), (name, rec), (rec, name)], [inp], [name]
    if isinstance(layer, DelayLinear):
        slot_nodes = layer.graph_nodes()
        names = [name] if len(slot_nodes) == 1 else [f"{name}.slot{r}" for r in range(len(slot_nodes))]
        return list(zip(names, slot_nodes, strict=True)), [], names, names
    return [(name, layer.graph_node())], [], [name], [name]  # type: ignore[operator]


def to_graph(model: nn.Module, dt: float | None = None) -> ir.Graph:
    """The IR :class:`~neuro_core.graph.Graph` of a :class:`Network`, an ``nn.Sequential`` of neuro layers
    or a single layer, with exactly the model's parameters (float64).

    Args:
        model: the model.
        dt: step in seconds; needed only if no layer has one, else it must equal the layers' dt.

    Raises:
        GraphError: a layer without an IR form, or layers with different dt.
    """
    layers, names, network = _layers(model)
    graph_dt = _common_dt(layers, dt)
    input_name = network.input_name if network else "input"
    output_name = network.output_name if network else "output"
    nodes: list[tuple[str, ir.Node]] = [(input_name, ir.Input(shape=(_in_size(layers[0]),)))]
    edges: list[tuple[str, str]] = []
    exits = [input_name]
    for layer, name in zip(layers, names, strict=True):
        part_nodes, part_edges, entries, part_exits = _parts(layer, name)
        override = network.part_names.get(name) if network else None
        if override is not None and len(override) == len(part_nodes):
            rename = {old: new for (old, _), new in zip(part_nodes, override, strict=True)}
            part_nodes = [(rename[k], node) for k, node in part_nodes]
            part_edges = [(rename[a], rename[b]) for a, b in part_edges]
            entries, part_exits = [rename[k] for k in entries], [rename[k] for k in part_exits]
        nodes += part_nodes
        edges += [(a, b) for b in entries for a in exits] + part_edges
        exits = part_exits
    nodes.append((output_name, ir.Output(shape=(nodes[-1][1].out_size,))))
    edges += [(a, output_name) for a in exits]
    node_map = dict(nodes)
    if network is not None and network.node_order is not None and set(network.node_order) == set(node_map):
        node_map = {k: node_map[k] for k in network.node_order}
    metadata = network.metadata if network else {}
    return ir.Graph(node_map, tuple(edges), graph_dt, metadata)


_OPTIONS = {"dtype", "device", "target", "surrogate", "surrogate_scale", "detach_reset", "learn_tau"}


def from_graph(graph: ir.Graph, **options: Any) -> Network:
    """A :class:`Network` that computes ``graph`` (the inverse of :func:`to_graph`).

    Options: ``dtype`` (default float32; parameters are copied in this dtype, so use float64 for
    graphs whose weights are not float32 numbers), ``device``, ``target`` (the Network's Target),
    and for every spiking layer ``surrogate``, ``surrogate_scale``, ``detach_reset``, ``learn_tau``.

    Raises:
        GraphError: the graph is not a chain of supported layers (the node at fault is named).
        ValueError: an unknown option.
    """
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ValueError(f"unknown from_graph option(s) {sorted(unknown)}; allowed: {sorted(_OPTIONS)}")
    dtype = options.get("dtype", torch.float32)
    neuron_options: dict[str, Any] = {
        k: options[k] for k in ("surrogate", "surrogate_scale", "detach_reset", "learn_tau") if k in options
    }
    inputs, outputs = graph.inputs(), graph.outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        raise GraphError(f"from_graph needs one Input and one Output node, got inputs {inputs}, outputs {outputs}")
    _, back = graph.schedule()
    preds = {n: [p for p in graph.predecessors(n) if (p, n) not in back] for n in graph.nodes}
    succs = {n: [s for s in graph.successors(n) if (n, s) not in back] for n in graph.nodes}
    layers: list[nn.Module] = []
    names: list[str] = []
    part_names: dict[str, list[str]] = {}
    used = {inputs[0]}
    frontier = [inputs[0]]
    while True:
        after = {f: sorted(s for s in succs[f] if s not in used) for f in frontier}
        nexts = sorted({s for f in frontier for s in after[f]}, key=list(graph.nodes).index)
        if any(after[f] != sorted(nexts) for f in frontier) or any(sorted(preds[s]) != sorted(frontier) for s in nexts):
            raise GraphError(
                f"from_graph handles chains of layers; the edges after {frontier} branch or merge ({nexts})"
            )
        if nexts == outputs:
            break
        if not nexts:
            raise GraphError(f"node(s) {frontier} do not lead to the Output node {outputs[0]!r}")
        layer, name, consumed, frontier = _read_layer(graph, nexts, back, dtype, neuron_options)
        layers.append(layer)
        names.append(name)
        part_names[name] = consumed
        used.update(consumed)
    used.add(outputs[0])
    left = set(graph.nodes) - used
    if left:
        raise GraphError(f"from_graph cannot place node(s) {sorted(left)}: not part of the layer chain")
    network = Network(layers, options.get("target"), names, inputs[0], outputs[0], metadata=graph.metadata)
    network.node_order = list(graph.nodes)
    network.part_names = part_names
    return network.to(device=options.get("device"))


def _copy(parameter: torch.Tensor, value: np.ndarray) -> None:
    with torch.no_grad():
        parameter.copy_(torch.from_numpy(np.array(value, dtype=np.float64)))


def _read_layer(
    graph: ir.Graph, names: list[str], back: set[tuple[str, str]], dtype: torch.dtype, neuron_options: dict[str, Any]
) -> tuple[nn.Module, str, list[str], list[str]]:
    """The layer starting at ``names``: (module, layer name, nodes consumed, exit nodes)."""
    nodes = [graph.nodes[n] for n in names]
    if len(names) > 1:
        if not all(isinstance(n, ir.Linear) for n in nodes):
            raise GraphError(f"parallel nodes {names} must all be Linear/Affine (delay slots of one layer)")
        layer: nn.Module = DelayLinear.from_nodes(nodes, dtype)  # type: ignore[arg-type]
        return layer, names[0].rsplit(".slot", 1)[0], names, names
    name, node = names[0], nodes[0]
    if isinstance(node, ir.Linear):
        # a Linear feeding an LIF that has a back edge through a square Linear is a RecurrentLIF
        nxt = graph.successors(name)
        cycle = [a for a, b in back if len(nxt) == 1 and b == nxt[0]]
        if cycle and isinstance(graph.nodes[nxt[0]], ir.LIF) and not isinstance(graph.nodes[nxt[0]], ir.CubaLIF):
            return _read_recurrent(graph, name, nxt[0], cycle, dtype, neuron_options)
        return _linear(node, dtype), name, [name], [name]
    if isinstance(node, (ir.LI, ir.IF)):
        if any(b == name for _, b in back):
            raise GraphError(
                f"node {name!r} has a recurrent edge that is not the RecurrentLIF pattern (in -> lif <-> rec)"
            )
        return _neuron(node, graph.dt, neuron_options), name, [name], [name]
    raise GraphError(
        f"node {name!r} of type {node.kind} has no neuro_core.nn layer "
        "(from_graph supports Linear, Affine, LIF, IF, LI, CubaLIF)"
    )


def _linear(node: ir.Linear, dtype: torch.dtype) -> Linear:
    out_features, in_features = node.weight.shape
    layer = Linear(in_features, out_features, bias=isinstance(node, ir.Affine), delay=node.delay, dtype=dtype)
    _copy(layer.weight, node.weight)
    if isinstance(node, ir.Affine):
        assert layer.bias is not None
        _copy(layer.bias, node.bias)
    return layer


def _given(value: np.ndarray | None) -> np.ndarray:
    """A node field that the IR fills in on construction (never None after it)."""
    assert value is not None
    return value


def _neuron(node: ir.Node, dt: float, options: dict[str, Any]) -> nn.Module:
    spiking = {k: v for k, v in options.items() if k != "learn_tau"}
    learn = {"learn_tau": options["learn_tau"]} if "learn_tau" in options else {}
    if isinstance(node, ir.CubaLIF):
        return CubaLIF(
            node.out_size, node.tau, node.tau_syn, dt, node.v_threshold, node.reset, _given(node.v_reset),
            r=node.r, w_in=_given(node.w_in), v_leak=_given(node.v_leak), **spiking, **learn,
        )  # fmt: skip
    if isinstance(node, ir.LIF):
        return LIF(
            node.out_size, node.tau, dt, node.v_threshold, node.reset, _given(node.v_reset), node.r,
            _given(node.v_leak), **spiking, **learn,
        )  # fmt: skip
    if isinstance(node, ir.IF):
        return IF(node.out_size, node.v_threshold, node.reset, _given(node.v_reset), node.r, dt, **spiking)
    assert isinstance(node, ir.LI)
    return LI(node.out_size, node.tau, dt, node.r, node.v_leak, **learn)


def _read_recurrent(
    graph: ir.Graph, name_in: str, name: str, cycle: list[str], dtype: torch.dtype, options: dict[str, Any]
) -> tuple[nn.Module, str, list[str], list[str]]:
    (rec_name,) = cycle if len(cycle) == 1 else (None,)
    rec = graph.nodes.get(rec_name) if rec_name else None
    if (
        rec is None
        or type(rec) is not ir.Linear
        or (rec.delay is not None and rec.delay.any())
        or graph.predecessors(rec_name) != [name]  # type: ignore[arg-type]
        or graph.successors(rec_name) != [name]  # type: ignore[arg-type]
    ):
        raise GraphError(f"the recurrence into {name!r} must be one delay-free Linear {name!r} -> rec -> {name!r}")
    lif_node, in_node = graph.nodes[name], graph.nodes[name_in]
    assert isinstance(lif_node, ir.LIF) and isinstance(in_node, ir.Linear)
    layer = RecurrentLIF(in_node.in_size, lif_node.out_size, bias=isinstance(in_node, ir.Affine), dt=graph.dt)
    layer.input = _linear(in_node, dtype)
    layer.lif = _neuron(lif_node, graph.dt, options)  # type: ignore[assignment]
    layer.recurrent = _linear(rec, dtype)
    return layer.to(dtype), name, [name_in, name, rec_name], [name]  # type: ignore[list-item]


__all__ = ["Network", "Sequential", "from_graph", "to_graph"]

"""The graph IR: NIR-aligned nodes plus what deployment needs and NIR lacks.

A :class:`Graph` is a set of named nodes and directed edges. Node types follow NIR
(neuromorphs/NIR): Input, Output, Linear, Affine, Scale, Threshold, Delay, LIF, CubaLIF, LI, IF.
On top of NIR the IR records:

- an explicit step ``dt`` (seconds) for the whole graph;
- a reset mode per spiking population (``"zero"``: to ``v_reset``; ``"subtract"``: v -= threshold);
- per-synapse delays on Linear/Affine (integer steps, same shape as the weight);
- integer parameters in a chip's format with their scales (``int_params``, ``scales``), written
  by ``quantize``: the float value of an integer parameter is ``int_params[k] * scales[k]``.

Semantics (also the reference simulator's, ``neuro_core.reference``): see ``docs/graph.md``.
Shapes: weights are ``(out, in)``; neuron parameters are ``(n,)``.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import numpy as np

from .container import read_container, write_container
from .errors import GraphError

GRAPH_FORMAT_VERSION = 1
ResetMode = Literal["zero", "subtract"]
RESET_MODES = ("zero", "subtract")


def _array(value: Any, dtype: Any = np.float64) -> np.ndarray:
    array = np.array(value, dtype=dtype, copy=True)
    array.setflags(write=False)  # nodes are immutable: stages return new graphs, never edit
    return array


@dataclass(frozen=True, eq=False)
class Node:
    """Base of every node. Subclasses declare their array parameters as dataclass fields.

    Attributes:
        int_params: chip-format integer arrays written by a quantizer, keyed by parameter name.
        scales: float value of one integer unit, per key of ``int_params``.
    """

    kind: ClassVar[str] = "Node"
    spiking: ClassVar[bool] = False
    stateful: ClassVar[bool] = False
    int_params: Mapping[str, np.ndarray] = field(default_factory=dict, kw_only=True)
    scales: Mapping[str, float] = field(default_factory=dict, kw_only=True)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in ("int_params", "scales", "reset", "shape"):
                continue
            value = getattr(self, f.name)
            if value is not None:
                object.__setattr__(self, f.name, _array(value))
        object.__setattr__(
            self, "int_params", MappingProxyType({k: _array(v, np.int64) for k, v in self.int_params.items()})
        )
        object.__setattr__(self, "scales", MappingProxyType({k: float(v) for k, v in self.scales.items()}))

    def params(self) -> dict[str, np.ndarray]:
        """The float array parameters of this node, by name (``None`` entries left out)."""
        out = {}
        for f in fields(self):
            if f.name in ("int_params", "scales", "reset", "shape"):
                continue
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = value
        return out

    @property
    def in_size(self) -> int:
        """Number of input channels."""
        raise NotImplementedError

    @property
    def out_size(self) -> int:
        """Number of output channels."""
        raise NotImplementedError

    def with_params(self, **changes: Any) -> Node:
        """A copy of this node with some fields replaced (nodes are immutable)."""
        return replace(self, **changes)


@dataclass(frozen=True, eq=False)
class Input(Node):
    """Graph input; ``shape`` is ``(channels,)``."""

    kind: ClassVar[str] = "Input"
    shape: tuple[int, ...] = (1,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in np.atleast_1d(self.shape)))
        super().__post_init__()

    @property
    def in_size(self) -> int:
        return int(np.prod(self.shape))

    out_size = in_size


@dataclass(frozen=True, eq=False)
class Output(Input):
    """Graph output; ``shape`` is ``(channels,)``."""

    kind: ClassVar[str] = "Output"


@dataclass(frozen=True, eq=False)
class Linear(Node):
    """``y = W x``. ``weight`` (out, in); ``delay`` optional integer steps per synapse (out, in)."""

    kind: ClassVar[str] = "Linear"
    weight: np.ndarray
    delay: np.ndarray | None = None

    @property
    def in_size(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_size(self) -> int:
        return int(self.weight.shape[0])


@dataclass(frozen=True, eq=False)
class Affine(Linear):
    """``y = W x + b``. ``bias`` (out,)."""

    kind: ClassVar[str] = "Affine"
    bias: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True, eq=False)
class _Elementwise(Node):
    @property
    def in_size(self) -> int:
        return int(np.size(next(iter(self.params().values()))))

    @property
    def out_size(self) -> int:
        return self.in_size


@dataclass(frozen=True, eq=False)
class Scale(_Elementwise):
    """``y = scale * x``, elementwise. ``scale`` (n,)."""

    kind: ClassVar[str] = "Scale"
    scale: np.ndarray


@dataclass(frozen=True, eq=False)
class Threshold(_Elementwise):
    """``y = (x > threshold)``, elementwise. ``threshold`` (n,)."""

    kind: ClassVar[str] = "Threshold"
    spiking: ClassVar[bool] = True
    threshold: np.ndarray


@dataclass(frozen=True, eq=False)
class Delay(_Elementwise):
    """``y[t] = x[t - delay]``, elementwise; ``delay`` (n,) in integer steps of the graph's dt."""

    kind: ClassVar[str] = "Delay"
    stateful: ClassVar[bool] = True
    delay: np.ndarray


@dataclass(frozen=True, eq=False)
class LI(_Elementwise):
    """Leaky integrator: ``tau dv/dt = (v_leak - v) + r I``; output ``v``. Arrays (n,), tau in s."""

    kind: ClassVar[str] = "LI"
    stateful: ClassVar[bool] = True
    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray


@dataclass(frozen=True, eq=False)
class IF(_Elementwise):
    """Integrate-and-fire: ``dv/dt = r I``; spike when ``v > v_threshold``, then reset."""

    kind: ClassVar[str] = "IF"
    spiking: ClassVar[bool] = True
    stateful: ClassVar[bool] = True
    r: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray | None = None
    reset: ResetMode = "zero"

    def __post_init__(self) -> None:
        if self.v_reset is None:
            object.__setattr__(self, "v_reset", np.zeros_like(np.asarray(self.v_threshold, float)))
        if self.reset not in RESET_MODES:
            raise GraphError(f"{self.kind}.reset must be one of {RESET_MODES}, got {self.reset!r}")
        super().__post_init__()


@dataclass(frozen=True, eq=False)
class LIF(IF):
    """Leaky integrate-and-fire: ``tau dv/dt = (v_leak - v) + r I``; spike when ``v > v_threshold``."""

    kind: ClassVar[str] = "LIF"
    tau: np.ndarray = field(default_factory=lambda: np.zeros(0))
    v_leak: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.v_leak is None:
            object.__setattr__(self, "v_leak", np.zeros_like(np.asarray(self.v_threshold, float)))
        super().__post_init__()


@dataclass(frozen=True, eq=False)
class CubaLIF(LIF):
    """Current-based LIF: ``tau_syn di/dt = -i + w_in I``; ``tau_mem dv/dt = (v_leak - v) + r i``.

    ``tau`` is the membrane time constant (NIR's ``tau_mem``), ``tau_syn`` the synaptic one.
    """

    kind: ClassVar[str] = "CubaLIF"
    tau_syn: np.ndarray = field(default_factory=lambda: np.zeros(0))
    w_in: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.w_in is None:
            object.__setattr__(self, "w_in", np.ones_like(np.asarray(self.v_threshold, float)))
        super().__post_init__()


NODE_TYPES: Mapping[str, type[Node]] = MappingProxyType(
    {cls.kind: cls for cls in (Input, Output, Linear, Affine, Scale, Threshold, Delay, LI, IF, LIF, CubaLIF)}
)


@dataclass(frozen=True, eq=False)
class Graph:
    """A network: named nodes, directed edges (source, destination), a step ``dt`` in seconds.

    Several edges into one node are summed. Cycles express recurrence; a value that travels along
    an edge closing a cycle arrives one step later (see :meth:`schedule`).
    """

    nodes: Mapping[str, Node]
    edges: tuple[tuple[str, str], ...]
    dt: float
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", MappingProxyType(dict(self.nodes)))
        object.__setattr__(self, "edges", tuple((str(a), str(b)) for a, b in self.edges))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
        self.validate()

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def chain(cls, dt: float, layers: Iterable[tuple[str, Node]], **metadata: Any) -> Graph:
        """A feed-forward graph that connects ``layers`` in order."""
        layers = list(layers)
        edges = tuple((a, b) for (a, _), (b, _) in itertools.pairwise(layers))
        return cls(dict(layers), edges, dt, metadata)

    def replace_nodes(self, **nodes: Node) -> Graph:
        """A new graph with some nodes replaced; edges, dt and metadata kept."""
        return Graph({**self.nodes, **nodes}, self.edges, self.dt, self.metadata)

    # -- queries -------------------------------------------------------------------------------
    def inputs(self) -> list[str]:
        """Names of Input nodes, in insertion order."""
        return [n for n, node in self.nodes.items() if isinstance(node, Input) and not isinstance(node, Output)]

    def outputs(self) -> list[str]:
        """Names of Output nodes, in insertion order."""
        return [n for n, node in self.nodes.items() if isinstance(node, Output)]

    def predecessors(self, name: str) -> list[str]:
        """Sources of the edges into ``name``."""
        return [a for a, b in self.edges if b == name]

    def successors(self, name: str) -> list[str]:
        """Destinations of the edges out of ``name``."""
        return [b for a, b in self.edges if a == name]

    def neuron_nodes(self) -> list[str]:
        """Names of the neuron populations (LIF, CubaLIF, LI, IF), in insertion order."""
        return [n for n, node in self.nodes.items() if isinstance(node, (LI, IF))]

    def schedule(self) -> tuple[list[str], set[tuple[str, str]]]:
        """The evaluation order of one step and the set of back edges.

        A depth-first search from the inputs (then from any node not reached) orders the nodes;
        an edge to a node still on the search stack closes a cycle and is a *back edge*: it carries
        the source's output of the previous step. Every other edge carries this step's output.
        """
        state: dict[str, int] = {}
        order: list[str] = []
        back: set[tuple[str, str]] = set()
        succ: dict[str, list[str]] = {n: [] for n in self.nodes}
        for a, b in self.edges:
            succ[a].append(b)

        def visit(start: str) -> None:
            stack: list[tuple[str, Iterator[str]]] = [(start, iter(succ[start]))]
            state[start] = 1
            while stack:
                node, it = stack[-1]
                for nxt in it:
                    if state.get(nxt) == 1:
                        back.add((node, nxt))
                    elif nxt not in state:
                        state[nxt] = 1
                        stack.append((nxt, iter(succ[nxt])))
                        break
                else:
                    stack.pop()
                    state[node] = 2
                    order.append(node)

        for root in [*self.inputs(), *self.nodes]:
            if root not in state:
                visit(root)
        order.reverse()
        return order, back

    # -- validation ----------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise :class:`GraphError` naming the first problem found, if any.

        Checks: dt is positive and finite; node names are non-empty and free of ``/``; node types
        are known; every edge joins existing nodes; Inputs have no incoming and Outputs no outgoing
        edge; the source's output size equals the destination's input size on every edge; every
        parameter is finite; tau > 0; reset modes and delays (integers >= 0) are valid; Affine bias
        and per-synapse delay shapes match the weight.
        """
        if not (isinstance(self.dt, (int, float)) and math.isfinite(self.dt) and self.dt > 0):
            raise GraphError(f"graph dt must be a positive finite number of seconds, got {self.dt!r}")
        for name, node in self.nodes.items():
            if not name or "/" in name:
                raise GraphError(f"node name {name!r} must be non-empty and contain no '/'")
            if not isinstance(node, Node) or NODE_TYPES.get(node.kind) is not type(node):
                raise GraphError(f"node {name!r} has unknown type {type(node).__name__}; known: {sorted(NODE_TYPES)}")
            _validate_node(name, node)
        for a, b in self.edges:
            for end in (a, b):
                if end not in self.nodes:
                    raise GraphError(f"edge ({a!r} -> {b!r}) is dangling: no node named {end!r}")
            if isinstance(self.nodes[b], Input) and not isinstance(self.nodes[b], Output):
                raise GraphError(f"edge ({a!r} -> {b!r}) enters Input node {b!r}")
            if isinstance(self.nodes[a], Output):
                raise GraphError(f"edge ({a!r} -> {b!r}) leaves Output node {a!r}")
            out_size, in_size = self.nodes[a].out_size, self.nodes[b].in_size
            if out_size != in_size:
                raise GraphError(
                    f"shape mismatch on edge ({a!r} -> {b!r}): {a!r} gives {out_size} channels, {b!r} takes {in_size}"
                )

    # -- persistence ---------------------------------------------------------------------------
    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The graph as JSON metadata plus named arrays (the container payload)."""
        nodes_meta: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        for name, node in self.nodes.items():
            entry: dict[str, Any] = {"kind": node.kind, "scales": dict(node.scales)}
            if isinstance(node, Input):
                entry["shape"] = list(node.shape)
            if isinstance(node, IF):
                entry["reset"] = node.reset
            entry["params"] = sorted(node.params())
            entry["int_params"] = sorted(node.int_params)
            nodes_meta[name] = entry
            for key, value in node.params().items():
                arrays[f"{name}/{key}"] = value
            for key, value in node.int_params.items():
                arrays[f"{name}/int:{key}"] = value
        meta = {
            "dt": self.dt,
            "edges": [list(e) for e in self.edges],
            "nodes": nodes_meta,
            "metadata": dict(self.metadata),
        }
        return meta, arrays

    @classmethod
    def from_arrays(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Graph:
        """Inverse of :meth:`to_arrays`; raises :class:`GraphError` on a missing or unknown field."""
        try:
            nodes: dict[str, Node] = {}
            for name, entry in meta["nodes"].items():
                kind = entry["kind"]
                if kind not in NODE_TYPES:
                    raise GraphError(f"node {name!r} has unknown type {kind!r}; known: {sorted(NODE_TYPES)}")
                kwargs: dict[str, Any] = {k: arrays[f"{name}/{k}"] for k in entry["params"]}
                if "shape" in entry:
                    kwargs["shape"] = tuple(entry["shape"])
                if "reset" in entry:
                    kwargs["reset"] = entry["reset"]
                kwargs["int_params"] = {k: arrays[f"{name}/int:{k}"] for k in entry["int_params"]}
                kwargs["scales"] = entry["scales"]
                nodes[name] = NODE_TYPES[kind](**kwargs)
            return cls(nodes, tuple(tuple(e) for e in meta["edges"]), float(meta["dt"]), meta.get("metadata", {}))
        except KeyError as exc:
            raise GraphError(f"graph file is missing field {exc}") from exc
        except TypeError as exc:
            raise GraphError(f"graph file has a malformed node: {exc}") from exc

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the graph atomically as a neuro container; return its checksum."""
        meta, arrays = self.to_arrays()
        return write_container(path, "graph", GRAPH_FORMAT_VERSION, meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Graph:
        """Read and validate a graph written by :meth:`save` (never executes code)."""
        header, arrays = read_container(path, "graph", GRAPH_FORMAT_VERSION)
        return cls.from_arrays(header["meta"], arrays)

    def allclose(self, other: Graph, rtol: float = 0.0, atol: float = 0.0) -> bool:
        """True if both graphs have the same structure and (within tolerance) the same arrays."""
        meta_a, arr_a = self.to_arrays()
        meta_b, arr_b = other.to_arrays()
        if meta_a != meta_b or arr_a.keys() != arr_b.keys():
            return False
        return all(
            arr_a[k].shape == arr_b[k].shape and np.allclose(arr_a[k], arr_b[k], rtol=rtol, atol=atol) for k in arr_a
        )


def _validate_node(name: str, node: Node) -> None:
    for key, value in node.params().items():
        if not np.all(np.isfinite(value)):
            raise GraphError(f"node {name!r} parameter {key!r} contains NaN or inf")
    if isinstance(node, Input):
        if any(s < 1 for s in node.shape):
            raise GraphError(f"node {name!r} shape {node.shape} must be positive")
        return
    if isinstance(node, Linear):
        if node.weight.ndim != 2:
            raise GraphError(f"node {name!r} weight must be 2-D (out, in), got shape {node.weight.shape}")
        if isinstance(node, Affine) and node.bias.shape != (node.out_size,):
            raise GraphError(f"node {name!r} bias shape {node.bias.shape} != ({node.out_size},)")
        if node.delay is not None:
            _check_delay(name, node.delay, node.weight.shape)
        return
    sizes = {k: np.shape(v) for k, v in node.params().items()}
    n = node.in_size
    for key, shape in sizes.items():
        if shape != (n,):
            raise GraphError(f"node {name!r} parameter {key!r} has shape {shape}, expected ({n},)")
    if isinstance(node, Delay):
        _check_delay(name, node.delay, (n,))
    for key in ("tau", "tau_syn"):
        tau = getattr(node, key, None)
        if tau is not None and np.any(tau <= 0):
            raise GraphError(f"node {name!r} parameter {key!r} must be > 0 seconds, got min {tau.min()}")


def _check_delay(name: str, delay: np.ndarray, shape: tuple[int, ...]) -> None:
    if delay.shape != tuple(shape):
        raise GraphError(f"node {name!r} delay shape {delay.shape} != {tuple(shape)}")
    if np.any(delay < 0) or np.any(delay != np.round(delay)):
        raise GraphError(f"node {name!r} delays must be integers >= 0 (steps), got min {delay.min()}")

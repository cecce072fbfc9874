"""NIR (Neuromorphic Intermediate Representation) import and export.

NIR (PyPI ``nir``, github.com/neuromorphs/NIR) is how networks move between snnTorch, Norse, Rockpool,
Sinabs, Spyx, lava-dl and chips. Its node types are the IR's, but NIR has no time step, no reset by
subtraction, no per-synapse delays and no integer parameters, and each library writes the same LIF
layer in its own convention. This module converts both ways:

- :func:`to_nir` / :func:`save` write a :class:`~neuro_core.graph.Graph` as standard NIR, with what
  NIR lacks (dt, reset modes, per-synapse delays, integer parameters and scales, node order, graph
  metadata) kept in NIR ``metadata`` under the key ``"neuro"``, so neuro -> NIR -> neuro is exact.
- :func:`from_nir` / :func:`load` read any NIR graph: subgraphs are flattened, batch dimensions
  in Input/Output shapes are dropped, scalar parameters are broadcast, and the producer's
  convention (``"neuro"``, ``"snntorch"``, ``"norse"``, ``"rockpool"``, ``"sinabs"`` or plain
  ``"nir"``) is detected or given, and converted to the IR's physical values (forward Euler, time
  constants in seconds, see :mod:`neuro_core.reference`). Values that a file cannot tell (dt;
  snnTorch's and Sinabs' reset) must be passed by the caller; the error says which and why.

Every convention handled is documented in ``docs/nir.md``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .container import atomic_path
from .errors import FileFormatError, GraphError
from .graph import (
    IF,
    LI,
    LIF,
    RESET_MODES,
    Affine,
    CubaLIF,
    Delay,
    Graph,
    Input,
    Linear,
    Node,
    Output,
    Scale,
    Threshold,
)

#: Version of the ``"neuro"`` metadata layout written by :func:`to_nir`.
NIR_METADATA_VERSION = 1
#: Producers whose conventions :func:`from_nir` knows. ``"nir"`` is the plain NIR specification.
PRODUCERS = ("neuro", "nir", "snntorch", "norse", "rockpool", "sinabs")
#: snnTorch's exporter and importer fix dt at this value (snntorch/export_nir.py, import_nir.py).
SNNTORCH_DT = 1e-4

_NEURON_TYPES = ("LI", "LIF", "CubaLIF", "CubaLI", "IF")
_PASS_THROUGH = ("Identity", "Flatten")
_UNSUPPORTED = {
    "Conv1d": "convolution",
    "Conv2d": "convolution",
    "SumPool2d": "pooling",
    "AvgPool2d": "pooling",
    "I": "a pure integrator (NIR 'I': no threshold, no leak)",
}


def _nir() -> Any:
    """Import the optional ``nir`` package, or explain how to install it."""
    try:
        import nir
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "NIR support needs the 'nir' package: pip install neuro-core[nir]  (or: pip install nir)"
        ) from exc
    return nir


# ================================================================================================
# export
# ================================================================================================
def to_nir(graph: Graph, dt: float | None = None) -> Any:
    """Convert ``graph`` to a ``nir.NIRGraph``.

    Args:
        graph: the graph to write.
        dt: write the network for another time step (seconds). The IR's dynamics depend on tau
            only through dt/tau, so every ``tau``/``tau_syn`` is scaled by ``dt / graph.dt`` and the
            spikes per step are unchanged. snnTorch's importer assumes dt = 1e-4 s: pass
            ``dt=1e-4`` for it. Default: the graph's own dt.

    Values are written in NIR's units (seconds; NIR's ``IF`` integrates ``dv/dt = r I``, so its
    ``r`` is the IR's per-step ``r`` divided by dt; NIR's ``Delay`` is in seconds). What NIR lacks
    goes into ``metadata["neuro"]`` of the graph (dt, node order, graph metadata as JSON) and of
    each node (reset mode, per-synapse ``delay`` in steps, exact ``r`` of IF nodes, Delay steps,
    ``int_params`` and ``scales``). Libraries that ignore metadata see reset-to-``v_reset`` neurons
    without synaptic delays; docs/nir.md lists what each library can represent.
    """
    nir = _nir()
    if dt is not None and float(dt) != graph.dt:
        graph = rescale_time(graph, float(dt))
    dt = float(graph.dt)
    nodes: dict[str, Any] = {}
    for name, node in graph.nodes.items():
        extra: dict[str, Any] = {}
        if node.int_params:
            extra["int_params"] = {k: np.array(v) for k, v in node.int_params.items()}
            extra["scales"] = {k: float(v) for k, v in node.scales.items()}
        if isinstance(node, IF):
            extra["reset"] = node.reset
        nodes[name] = _export_node(nir, node, dt, extra)
        if extra:
            nodes[name].metadata = {"neuro": extra}
    meta = {
        "neuro": {
            "version": NIR_METADATA_VERSION,
            "dt": dt,
            # HDF5 groups come back sorted by name; node order decides the IR's schedule roots
            "node_order": json.dumps(list(graph.nodes)),
            "graph_metadata": json.dumps(dict(graph.metadata)),
        }
    }
    return nir.NIRGraph(nodes=nodes, edges=[tuple(e) for e in graph.edges], metadata=meta, type_check=False)


def rescale_time(graph: Graph, dt: float) -> Graph:
    """The same network at step ``dt`` (seconds): time constants scaled by ``dt / graph.dt``.

    Every update of the IR uses ``dt / tau`` (never dt or tau alone), integer delays count steps and
    IF adds ``r I`` per step, so the result emits the same spikes step for step.
    """
    if not (math.isfinite(dt) and dt > 0):
        raise GraphError(f"dt must be a positive number of seconds, got {dt!r}")
    factor = dt / graph.dt
    nodes: dict[str, Node] = {}
    for name, node in graph.nodes.items():
        changes = {k: getattr(node, k) * factor for k in ("tau", "tau_syn") if getattr(node, k, None) is not None}
        nodes[name] = node.with_params(**changes) if changes else node
    return Graph(nodes, graph.edges, dt, graph.metadata)


def _export_node(nir: Any, node: Node, dt: float, extra: dict[str, Any]) -> Any:
    """One IR node as a NIR node; fills ``extra`` with what NIR cannot hold."""
    a = np.array  # copies: NIR nodes are mutable, IR arrays must stay untouched
    if isinstance(node, Output):
        return nir.Output(output_type={"output": a(node.shape)})
    if isinstance(node, Input):
        return nir.Input(input_type={"input": a(node.shape)})
    if isinstance(node, Linear):
        if node.delay is not None:
            extra["delay"] = a(node.delay)
        if isinstance(node, Affine):
            return nir.Affine(weight=a(node.weight), bias=a(node.bias))
        return nir.Linear(weight=a(node.weight))
    if isinstance(node, Scale):
        return nir.Scale(scale=a(node.scale))
    if isinstance(node, Threshold):
        return nir.Threshold(threshold=a(node.threshold))
    if isinstance(node, Delay):
        extra["delay_steps"] = a(node.delay)
        return nir.Delay(delay=node.delay * dt)
    if isinstance(node, LI):
        return nir.LI(tau=a(node.tau), r=a(node.r), v_leak=a(node.v_leak))
    if isinstance(node, CubaLIF):
        return nir.CubaLIF(
            tau_syn=a(node.tau_syn),
            tau_mem=a(node.tau),
            r=a(node.r),
            v_leak=a(node.v_leak),
            v_threshold=a(node.v_threshold),
            v_reset=a(node.v_reset),
            w_in=a(node.w_in),
        )
    if isinstance(node, LIF):
        return nir.LIF(
            tau=a(node.tau),
            r=a(node.r),
            v_leak=a(node.v_leak),
            v_threshold=a(node.v_threshold),
            v_reset=a(node.v_reset),
        )
    if isinstance(node, IF):
        extra["r"] = a(node.r)  # r / dt * dt is not always r in floating point
        return nir.IF(r=node.r / dt, v_threshold=a(node.v_threshold), v_reset=a(node.v_reset))
    raise GraphError(f"node type {node.kind!r} has no NIR equivalent")  # pragma: no cover


def save(graph: Graph, path: str | os.PathLike[str]) -> None:
    """Write ``graph`` to ``path`` as a NIR (HDF5) file, atomically (temporary file, then rename)."""
    nir = _nir()
    nir_graph = to_nir(graph)
    with atomic_path(path) as tmp:
        nir.write(os.fspath(tmp), nir_graph)


# ================================================================================================
# reading files
# ================================================================================================
def load(
    path: str | os.PathLike[str],
    dt: float | None = None,
    reset: str | None = None,
    producer: str | None = None,
) -> Graph:
    """Read a NIR file and convert it with :func:`from_nir` (same arguments).

    Raises:
        FileFormatError: not a readable NIR (HDF5) file, or no ``node`` group in it.
        GraphError: an unknown or unsupported node, a missing or malformed parameter, a shape
            mismatch, NaN/inf, or a value the file cannot tell and the caller did not give.
    """
    nir = _nir()
    import h5py
    from nir.serialization import hdf2dict

    try:
        with h5py.File(os.fspath(path), "r") as f:
            if "node" not in f:
                raise FileFormatError(f"{os.fspath(path)!r} is an HDF5 file but not a NIR file: it has no 'node' group")
            data = hdf2dict(f["node"])
    except FileFormatError:
        raise
    except FileNotFoundError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise FileFormatError(f"{os.fspath(path)!r} is not a readable NIR (HDF5) file: {exc}") from exc
    return from_nir(_dict_to_nir(nir, data, "<root>"), dt=dt, reset=reset, producer=producer)


def _dict_to_nir(nir: Any, data: Mapping[str, Any], where: str) -> Any:
    """Build NIR nodes one at a time, so that an error names the node (``nir.read`` does not)."""
    kind = data.get("type")
    if kind is None:
        raise GraphError(f"NIR node {where!r} has no 'type' field")
    if kind == "NIRGraph":
        for key in ("nodes", "edges"):
            if key not in data:
                raise GraphError(f"NIR graph {where!r} has no {key!r} field")
        nodes = {k: _dict_to_nir(nir, v, k if where == "<root>" else f"{where}.{k}") for k, v in data["nodes"].items()}
        edges = [(_str(a), _str(b)) for a, b in np.asarray(data["edges"]).reshape(-1, 2)]
        return nir.NIRGraph(nodes=nodes, edges=edges, metadata=dict(data.get("metadata", {})), type_check=False)
    known = getattr(nir.ir, "__all_ir", None) or [n for n in dir(nir) if isinstance(getattr(nir, n), type)]
    if kind not in known or not hasattr(nir, kind):
        raise GraphError(f"NIR node {where!r} has unknown type {kind!r}; NIR {nir.version} knows {sorted(known)}")
    try:
        return nir.dict2NIRNode(dict(data))
    except TypeError as exc:
        raise GraphError(f"NIR node {where!r} ({kind}) is malformed (missing or extra parameter): {exc}") from exc
    except (AssertionError, KeyError, ValueError) as exc:
        raise GraphError(f"NIR node {where!r} ({kind}) is malformed: {exc!r}") from exc


def _str(value: Any) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


# ================================================================================================
# import
# ================================================================================================
@dataclass
class _Flat:
    """A NIR graph with subgraphs flattened: names joined by '.', only leaf nodes left."""

    nodes: dict[str, Any] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


def from_nir(
    nir_graph: Any,
    dt: float | None = None,
    reset: str | None = None,
    producer: str | None = None,
) -> Graph:
    """Convert a ``nir.NIRGraph`` to a :class:`~neuro_core.graph.Graph` with physical values.

    Args:
        nir_graph: the NIR graph (as ``nir.read`` returns it, or built in memory).
        dt: the time step in seconds. NIR files carry none, so it is required for every producer
            except ``"neuro"`` (stored in metadata) and ``"rockpool"`` (recoverable from ``r``);
            if given for those, it must agree with the file.
        reset: ``"zero"`` or ``"subtract"`` for every spiking population. Required for snnTorch
            and Sinabs files with spiking neurons (both default to reset by subtraction, both
            exporters write NIR's reset to ``v_reset``); defaults to ``"zero"`` (NIR, Norse) or
            ``"subtract"`` (Rockpool).
        producer: ``"neuro"``, ``"nir"`` (the plain specification), ``"snntorch"``, ``"norse"``,
            ``"rockpool"`` or ``"sinabs"``; detected from metadata and node patterns when ``None``.

    Returns:
        The graph; ``metadata["nir_producer"]`` names the convention used (except for neuro's own
        files, whose metadata round-trips unchanged).

    Raises:
        GraphError: unknown/unsupported node, missing parameter, shape mismatch, NaN/inf, or a
            missing ``dt``/``reset`` (the message says what is missing and why).
    """
    nir = _nir()
    if not isinstance(nir_graph, nir.NIRGraph):
        raise GraphError(f"from_nir expects a nir.NIRGraph, got {type(nir_graph).__name__}")
    if reset is not None and reset not in RESET_MODES:
        raise GraphError(f"reset must be one of {RESET_MODES}, got {reset!r}")
    if producer is not None and producer not in PRODUCERS:
        raise GraphError(f"producer must be one of {PRODUCERS}, got {producer!r}")
    if dt is not None and not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise GraphError(f"dt must be a positive number of seconds, got {dt!r}")
    flat = _flatten(nir, nir_graph)
    params = {name: _raw_params(name, node) for name, node in flat.nodes.items()}
    sizes, io_shapes, batch_dim = _infer_sizes(flat, params)
    producer = producer or _detect_producer(flat, params, batch_dim)
    convention = _CONVENTIONS[producer]
    dt = convention.resolve_dt(flat, params, dt)
    reset = convention.resolve_reset(flat, reset)
    ctx = _Context(dt=dt, reset=reset, producer=producer, io_shapes=io_shapes)
    nodes: dict[str, Node] = {}
    edges: list[tuple[str, str]] = []
    entry: dict[str, str] = {}
    exit_: dict[str, str] = {}
    for name, node in flat.nodes.items():
        kind = type(node).__name__
        p = {k: _broadcast(name, k, v, sizes.get(name)) for k, v in params[name].items()}
        expansion = convention.convert(name, kind, node, p, ctx)
        nodes.update(expansion.nodes)
        edges.extend(expansion.edges)
        entry[name], exit_[name] = expansion.entry, expansion.exit
    edges = [(exit_[a], entry[b]) for a, b in flat.edges] + edges
    metadata = convention.metadata(flat, producer)
    order = convention.node_order(flat, nodes)
    graph = Graph({n: nodes[n] for n in order}, tuple(edges), float(dt), metadata)
    return convention.finalize(graph)


@dataclass(frozen=True)
class _Context:
    """What every node conversion needs: the resolved dt (s), reset mode, producer, Input/Output shapes."""

    dt: float
    reset: str
    producer: str
    io_shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass
class _Expansion:
    """IR nodes for one NIR node: edges into the NIR node go to ``entry``, out of it from ``exit``."""

    nodes: dict[str, Node]
    entry: str
    exit: str
    edges: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def single(cls, name: str, node: Node) -> _Expansion:
        return cls({name: node}, name, name)


# ---- flattening ---------------------------------------------------------------------------------
def _flatten(nir: Any, graph: Any) -> _Flat:
    """Flatten nested NIRGraphs; drop inner Input/Output and pass-through (Identity, Flatten) nodes."""
    flat = _Flat(metadata=_plain(dict(graph.metadata or {})))
    through: set[str] = set()
    _flatten_into(nir, graph, "", flat, through)
    for name in [n for n in flat.nodes if n in through]:
        preds = [a for a, b in flat.edges if b == name and a != name]
        succs = [b for a, b in flat.edges if a == name and b != name]
        flat.edges = [e for e in flat.edges if name not in e] + [(a, b) for a in preds for b in succs]
        del flat.nodes[name]
    if not any(isinstance(n, nir.Input) for n in flat.nodes.values()):
        raise GraphError("the NIR graph has no Input node")
    return flat


def _flatten_into(nir: Any, graph: Any, prefix: str, flat: _Flat, through: set[str]) -> None:
    for name, node in graph.nodes.items():
        full = prefix + str(name)
        if isinstance(node, nir.NIRGraph):
            _flatten_into(nir, node, full + ".", flat, through)
            continue
        kind = type(node).__name__
        if not isinstance(node, nir.NIRNode):
            raise GraphError(
                f"NIR node {full!r} is {kind}, not a NIR node: the producer's exporter could not convert that layer "
                "(Norse's exporter writes None for LIFRecurrentCell, for example)"
            )
        if kind in _UNSUPPORTED:
            raise GraphError(
                f"NIR node {full!r} is a {kind} ({_UNSUPPORTED[kind]}), which the neuro IR does not support; "
                "see docs/nir.md (supported: Input, Output, Linear, Affine, Scale, Threshold, Delay, LI, IF, LIF, "
                "CubaLIF, CubaLI; Identity and Flatten are passed through)"
            )
        if kind not in _PARAM_NAMES:
            raise GraphError(f"NIR node {full!r} has type {kind!r}, which neuro does not know; see docs/nir.md")
        flat.nodes[full] = node
        if kind in _PASS_THROUGH or (prefix and isinstance(node, (nir.Input, nir.Output))):
            through.add(full)

    def resolve(end: Any, side: str) -> str:
        end = _str(end)
        node = graph.nodes.get(end)
        if node is not None and isinstance(node, nir.NIRGraph):
            ports = [k for k, n in node.nodes.items() if isinstance(n, nir.Input if side == "in" else nir.Output)]
            if len(ports) != 1:
                raise GraphError(
                    f"edge endpoint {prefix + end!r} is a subgraph with {len(ports)} "
                    f"{'Input' if side == 'in' else 'Output'} nodes; name one of them ({prefix}{end}.<node>)"
                )
            return f"{prefix}{end}.{ports[0]}"
        if prefix + end in flat.nodes:
            return prefix + end
        raise GraphError(f"edge endpoint {prefix + end!r} names no node of the NIR graph")

    for a, b in graph.edges:
        flat.edges.append((resolve(a, "out"), resolve(b, "in")))


# ---- parameters, sizes --------------------------------------------------------------------------
_PARAM_NAMES = {
    "Input": (),
    "Output": (),
    "Linear": ("weight",),
    "Affine": ("weight", "bias"),
    "Scale": ("scale",),
    "Threshold": ("threshold",),
    "Delay": ("delay",),
    "LI": ("tau", "r", "v_leak"),
    "IF": ("r", "v_threshold", "v_reset"),
    "LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"),
    "Identity": (),
    "Flatten": (),
}


def _raw_params(name: str, node: Any) -> dict[str, np.ndarray]:
    """The node's parameters as float64 arrays (torch tensors and scalars accepted, as Norse writes)."""
    kind = type(node).__name__
    out: dict[str, np.ndarray] = {}
    for key in _PARAM_NAMES.get(kind, ()):
        value = getattr(node, key, None)
        if value is None:
            raise GraphError(f"NIR node {name!r} ({kind}) is missing parameter {key!r}")
        if hasattr(value, "detach"):  # a torch tensor (Norse passes them unconverted)
            value = value.detach().cpu().numpy()
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise GraphError(f"NIR node {name!r} ({kind}) parameter {key!r} is not numeric: {exc}") from exc
        if not np.all(np.isfinite(array)):
            raise GraphError(f"NIR node {name!r} ({kind}) parameter {key!r} contains NaN or inf")
        out[key] = array
        # bytes per value as written (4: float32): snnTorch's decays are recovered at that precision
        out["_itemsize_" + key] = np.asarray(np.dtype(getattr(value, "dtype", np.float64)).itemsize)
    if kind in ("Linear", "Affine") and out["weight"].ndim != 2:
        raise GraphError(f"NIR node {name!r} ({kind}) weight must be 2-D (out, in), got shape {out['weight'].shape}")
    return out


def _shape(node: Any, key: str) -> tuple[int, ...]:
    types = node.input_type if key == "input" else node.output_type
    value = None if types is None else types.get(key)
    if value is None:
        return ()
    return tuple(int(s) for s in np.atleast_1d(np.asarray(value)).ravel())


def _infer_sizes(
    flat: _Flat, params: dict[str, dict[str, np.ndarray]]
) -> tuple[dict[str, int], dict[str, tuple[int, ...]], bool]:
    """Channels of every node (from weights, parameter sizes, or neighbours for scalar parameters).

    Returns the sizes, the Input/Output shapes without batch dimension, and whether some
    Input/Output shape had one (Norse, Rockpool and nirtorch write the sample batch's shape).
    """
    sizes: dict[str, int] = {}
    io_shapes: dict[str, tuple[int, ...]] = {}
    for name, node in flat.nodes.items():
        kind = type(node).__name__
        p = {k: v for k, v in params[name].items() if not k.startswith("_")}
        if kind in ("Input", "Output"):
            io_shapes[name] = _shape(node, "input" if kind == "Input" else "output")
        elif kind in ("Linear", "Affine"):
            continue
        elif p and max(v.size for v in p.values()) > 1:
            vector_sizes = {k: v.size for k, v in p.items() if v.size > 1}
            if len(set(vector_sizes.values())) > 1:
                raise GraphError(f"NIR node {name!r} ({kind}) parameters disagree in size: {vector_sizes}")
            sizes[name] = int(max(vector_sizes.values()))
    out_size = {n: int(params[n]["weight"].shape[0]) for n in flat.nodes if "weight" in params[n]}
    in_size = {n: int(params[n]["weight"].shape[1]) for n in flat.nodes if "weight" in params[n]}
    for _ in range(len(flat.nodes) + 1):  # propagate sizes of scalar-parameter nodes along edges
        changed = False
        for a, b in flat.edges:
            sa = sizes.get(a, out_size.get(a))
            sb = sizes.get(b, in_size.get(b))
            if sa is not None and sb is None and b not in in_size and b not in io_shapes:
                sizes[b], changed = sa, True
            elif sb is not None and sa is None and a not in out_size and a not in io_shapes:
                sizes[a], changed = sb, True
        if not changed:
            break
    batch_dim = False
    for name, shape in io_shapes.items():
        neighbours = [sizes.get(b, in_size.get(b)) for a, b in flat.edges if a == name] + [
            sizes.get(a, out_size.get(a)) for a, b in flat.edges if b == name
        ]
        wanted = next((s for s in neighbours if s is not None), None)
        full = int(np.prod(shape)) if shape else 0
        if (
            wanted is not None
            and len(shape) > 1
            and int(np.prod(shape[1:])) == wanted
            and (full != wanted or shape[0] == 1)
        ):
            shape, batch_dim = shape[1:], True  # the sample batch's dimension
        if not shape:
            if wanted is None:
                raise GraphError(f"NIR node {name!r} has no shape and no neighbour that tells its size")
            shape = (wanted,)
        io_shapes[name] = shape
        sizes[name] = int(np.prod(shape))
    for name in flat.nodes:
        if name not in sizes and name not in out_size:
            sizes[name] = 1  # an isolated scalar node: one channel
    return sizes, io_shapes, batch_dim


def _broadcast(name: str, key: str, value: np.ndarray, size: int | None) -> np.ndarray:
    """Elementwise parameters become (n,) float64 arrays; weights stay as they are."""
    if key.startswith("_") or key in ("weight", "bias") or size is None:
        return value
    if value.size == 1:
        return np.full(size, float(value.ravel()[0]))
    if value.size != size:
        raise GraphError(f"NIR node {name!r} parameter {key!r} has {value.size} values, its layer has {size} channels")
    return value.ravel().copy()


def _plain(value: Any) -> Any:
    """Metadata as plain Python (h5py hands back numpy scalars and bytes)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf8")
    if isinstance(value, np.ndarray) and value.dtype.kind in "SO":
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---- producer detection -------------------------------------------------------------------------
def _neuron_params(flat: _Flat, params: dict[str, dict[str, np.ndarray]]) -> list[tuple[str, dict[str, np.ndarray]]]:
    return [(type(n).__name__, params[k]) for k, n in flat.nodes.items() if type(n).__name__ in _NEURON_TYPES]


def _detect_producer(flat: _Flat, params: dict[str, dict[str, np.ndarray]], batch_dim: bool) -> str:
    """Guess the producer: neuro metadata, else snnTorch's/Sinabs'/Norse's/Rockpool's parameter patterns, else NIR.

    snnTorch: every leaky node has ``r == tau / 1e-4`` (and ``w_in == tau_syn / 1e-4``).
    Sinabs: only LI, LIF and IF neurons, all with ``r == 1`` and ``v_leak == v_reset == 0``, and at least one
    leaky node, every leaky ``tau >= 1`` (Sinabs writes tau in time steps; as seconds that would be a
    time constant slower than any SNN uses, and Norse's are below dt). An IF-only Sinabs file looks like
    Norse's (whose IF reading is the same, reset aside): pass ``producer="sinabs"`` for it.
    Norse: every neuron has ``r == 1`` and ``w_in == 1``, and some time constant is below 1 ms
    (its exporter writes ``dt * tau``, issue norse#411) or an Input shape has a batch dimension.
    Rockpool: every leaky node has ``w_in == 1``, ``v_leak == 0`` and ``r = tau exp(-dt/tau) / dt``
    with one ``dt`` for all, and an Input shape has a batch dimension.
    """
    if "neuro" in flat.metadata:
        return "neuro"
    neurons = _neuron_params(flat, params)
    leaky = [(k, p) for k, p in neurons if k != "IF"]
    if not neurons:
        return "nir"
    if leaky and all(_is_snntorch(k, p) for k, p in leaky):
        return "snntorch"
    if leaky and all(_is_sinabs(k, p) for k, p in neurons):
        return "sinabs"
    if all(np.all(p["r"] == 1.0) and np.all(p.get("w_in", 1.0) == 1.0) for _, p in neurons):
        taus = [p[t] for k, p in leaky for t in ("tau", "tau_mem", "tau_syn") if t in p]
        if batch_dim or any(np.any(t < 1e-3) for t in taus):
            return "norse"
    if leaky and batch_dim and _rockpool_dt(leaky) is not None:
        return "rockpool"
    return "nir"


def _is_snntorch(kind: str, p: dict[str, np.ndarray]) -> bool:
    tau = p["tau_mem"] if kind in ("CubaLIF", "CubaLI") else p["tau"]
    ok = bool(np.allclose(p["r"], tau / SNNTORCH_DT, rtol=1e-5, atol=0)) and bool(np.all(p["v_leak"] == 0))
    if "tau_syn" in p:
        ok = ok and bool(np.allclose(p["w_in"], p["tau_syn"] / SNNTORCH_DT, rtol=1e-5, atol=0))
    return ok


def _is_sinabs(kind: str, p: dict[str, np.ndarray]) -> bool:
    if kind not in ("LI", "LIF", "IF") or np.any(p["r"] != 1.0) or np.any(p.get("v_reset", 0.0) != 0.0):
        return False
    return kind == "IF" or bool(np.all(p["v_leak"] == 0.0) and np.all(p["tau"] >= 1.0))


def _rockpool_dt(leaky: list[tuple[str, dict[str, np.ndarray]]]) -> float | None:
    """The one dt hidden in Rockpool's ``r = tau exp(-dt/tau) / dt`` of every node, or None."""
    from scipy.special import lambertw

    estimates = []
    for kind, p in leaky:
        tau = p["tau_mem"] if kind in ("CubaLIF", "CubaLI") else p["tau"]
        if np.any(p["r"] <= 0) or np.any(p.get("w_in", 1.0) != 1.0) or np.any(p["v_leak"] != 0):
            return None
        # r dt / tau = exp(-dt / tau)  <=>  u e^u = 1 / r  with u = dt / tau: u = W(1 / r)
        estimates.append(tau * np.real(lambertw(1.0 / p["r"])))
    values = np.concatenate([np.ravel(e) for e in estimates])
    if values.size == 0 or not np.allclose(values, values[0], rtol=1e-4):
        return None
    return float(f"{float(np.median(values)):.6g}")  # float32 noise removed: Rockpool's dt is a round number


# ---- conventions --------------------------------------------------------------------------------
class _Convention:
    """The plain NIR specification: forward Euler, seconds, reset to v_reset, IF ``dv/dt = r I``."""

    name = "nir"
    default_reset = "zero"

    def resolve_dt(self, flat: _Flat, params: dict[str, dict[str, np.ndarray]], dt: float | None) -> float:
        if dt is None:
            raise GraphError(self.missing_dt())
        return float(dt)

    def missing_dt(self) -> str:
        return (
            "dt is missing: NIR files store no time step, and this file's producer "
            f"({self.name!r}) cannot be told it from the values; pass dt=<seconds per step> (neuro CLI: --dt) "
            "(the step the network was trained or simulated with)"
        )

    def resolve_reset(self, flat: _Flat, reset: str | None) -> str:
        return reset or self.default_reset

    def metadata(self, flat: _Flat, producer: str) -> dict[str, Any]:
        if not flat.metadata:
            return {"nir_producer": producer}
        return {"nir_producer": producer, "nir_metadata": json.dumps(flat.metadata, default=str)}

    def node_order(self, flat: _Flat, nodes: dict[str, Node]) -> list[str]:
        return list(nodes)

    def finalize(self, graph: Graph) -> Graph:
        return graph

    # -- per node ----------------------------------------------------------------------------
    def convert(self, name: str, kind: str, node: Any, p: dict[str, np.ndarray], ctx: _Context) -> _Expansion:
        if kind in ("Input", "Output"):
            cls = Input if kind == "Input" else Output
            return _Expansion.single(name, cls(shape=ctx.io_shapes[name]))
        if kind == "Linear":
            return _Expansion.single(name, Linear(weight=p["weight"]))
        if kind == "Affine":
            return _Expansion.single(name, Affine(weight=p["weight"], bias=np.ravel(p["bias"])))
        if kind == "Scale":
            return _Expansion.single(name, Scale(scale=p["scale"]))
        if kind == "Threshold":
            return _Expansion.single(name, Threshold(threshold=p["threshold"]))
        if kind == "Delay":
            steps = p["delay"] / ctx.dt
            rounded = np.round(steps)
            if np.any(np.abs(steps - rounded) > 1e-6 * np.maximum(1.0, rounded)):
                raise GraphError(
                    f"NIR node {name!r} (Delay) delays {p['delay'].tolist()} s are not whole multiples of dt={ctx.dt} s"
                )
            return _Expansion.single(name, Delay(delay=rounded))
        values = self.neuron(name, kind, p, ctx)
        if kind == "CubaLI":  # = two leaky integrators in a row (NIR's CubaLI equations)
            syn = LI(tau=values["tau_syn"], r=values["w_in"], v_leak=np.zeros_like(values["tau_syn"]))
            mem = LI(tau=values["tau"], r=values["r"], v_leak=values["v_leak"])
            return _Expansion({f"{name}.syn": syn, name: mem}, f"{name}.syn", name, [(f"{name}.syn", name)])
        return self.neuron_nodes(name, kind, values, ctx)

    def neuron(self, name: str, kind: str, p: dict[str, np.ndarray], ctx: _Context) -> dict[str, np.ndarray]:
        """Neuron parameters in the IR's units; the plain NIR reading (seconds, forward Euler)."""
        values = {k: v for k, v in p.items() if not k.startswith("_")}
        if "tau_mem" in values:
            values["tau"] = values.pop("tau_mem")
        if kind == "IF":
            values["r"] = values["r"] * ctx.dt  # NIR: dv/dt = r I; the IR's IF adds r I per step
        return values

    def neuron_nodes(self, name: str, kind: str, v: dict[str, np.ndarray], ctx: _Context) -> _Expansion:
        spiking: dict[str, Any] = {"v_threshold": v.get("v_threshold"), "v_reset": v.get("v_reset"), "reset": ctx.reset}
        if kind == "LI":
            return _Expansion.single(name, LI(tau=v["tau"], r=v["r"], v_leak=v["v_leak"]))
        if kind == "IF":
            return _Expansion.single(name, IF(r=v["r"], **spiking))
        if kind == "LIF":
            return _Expansion.single(name, LIF(r=v["r"], tau=v["tau"], v_leak=v["v_leak"], **spiking))
        return _Expansion.single(
            name, CubaLIF(r=v["r"], tau=v["tau"], v_leak=v["v_leak"], tau_syn=v["tau_syn"], w_in=v["w_in"], **spiking)
        )


class _Neuro(_Convention):
    """neuro's own files: exact values from ``metadata["neuro"]``."""

    name = "neuro"

    def _meta(self, flat: _Flat) -> dict[str, Any]:
        meta = flat.metadata.get("neuro")
        if not isinstance(meta, Mapping) or "dt" not in meta:
            raise GraphError("NIR metadata 'neuro' is malformed: no 'dt'")
        if int(meta.get("version", 0)) > NIR_METADATA_VERSION:
            raise FileFormatError(
                f"NIR metadata 'neuro' has version {meta.get('version')}, this neuro reads up to {NIR_METADATA_VERSION}"
            )
        return dict(meta)

    def resolve_dt(self, flat: _Flat, params: dict[str, dict[str, np.ndarray]], dt: float | None) -> float:
        stored = float(self._meta(flat)["dt"])
        if dt is not None and float(dt) != stored:
            raise GraphError(f"dt={dt} was given, but this neuro-written NIR file says dt={stored}")
        return stored

    def resolve_reset(self, flat: _Flat, reset: str | None) -> str:
        return reset or "zero"  # each node's own reset (metadata) wins, see neuron_nodes

    def metadata(self, flat: _Flat, producer: str) -> dict[str, Any]:
        return dict(json.loads(self._meta(flat).get("graph_metadata", "{}")))

    def node_order(self, flat: _Flat, nodes: dict[str, Node]) -> list[str]:
        stored = json.loads(self._meta(flat).get("node_order", "[]"))
        return [n for n in stored if n in nodes] + [n for n in nodes if n not in stored]

    def convert(self, name: str, kind: str, node: Any, p: dict[str, np.ndarray], ctx: _Context) -> _Expansion:
        extra = _plain_arrays(dict((node.metadata or {}).get("neuro", {})))
        if "reset" in extra:
            ctx = replace(ctx, reset=str(extra["reset"]))
        if kind == "Delay" and "delay_steps" in extra:
            expansion = _Expansion.single(name, Delay(delay=extra["delay_steps"]))
        elif kind == "IF" and "r" in extra:
            p = {**p, "r": np.asarray(extra["r"], float) / ctx.dt}
            expansion = super().convert(name, kind, node, p, ctx)
            expansion = _Expansion.single(name, expansion.nodes[name].with_params(r=extra["r"]))
        else:
            expansion = super().convert(name, kind, node, p, ctx)
        changes: dict[str, Any] = {}
        if "delay" in extra:
            changes["delay"] = extra["delay"]
        if "int_params" in extra:
            changes["int_params"] = {k: np.asarray(v, np.int64) for k, v in extra["int_params"].items()}
            changes["scales"] = {k: float(v) for k, v in extra.get("scales", {}).items()}
        if changes:
            expansion.nodes[name] = expansion.nodes[name].with_params(**changes)
        return expansion


def _plain_arrays(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain_arrays(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf8")
    if isinstance(value, (np.str_, str)):
        return str(value)
    return value


class _SnnTorch(_Convention):
    """snnTorch (snntorch/export_nir.py): tau = 1e-4/(1 - beta), r = tau/1e-4, w_in = tau_syn/1e-4.

    The decays ``beta = 1 - 1e-4/tau`` (``alpha`` likewise) and unit input gains are what
    snnTorch simulates; tau is rescaled to the caller's dt. snnTorch's subtractive reset
    (``v[t] = beta v[t-1] + I[t] - thr z[t-1]``) subtracts outside the decay, the IR's inside
    (``beta (v - thr)``), so reset="subtract" adds a self-connection that supplies the difference.
    """

    name = "snntorch"

    def missing_dt(self) -> str:
        return (
            "dt is missing: snnTorch's NIR exporter fixes dt = 1e-4 s whatever step the network used "
            "(tau = 1e-4/(1 - beta)), so the file cannot tell the real time step; "
            "pass dt=<seconds per step> (neuro CLI: --dt)"
        )

    def resolve_reset(self, flat: _Flat, reset: str | None) -> str:
        if reset is None:
            raise GraphError(
                "reset is missing: snnTorch's default reset_mechanism is 'subtract', but its NIR exporter writes "
                "NIR's reset-to-v_reset for every layer, so the file cannot tell which the network used; pass "
                "reset='subtract' (snnTorch's default) or reset='zero' (reset_mechanism='zero'); neuro CLI: --reset"
            )
        return reset

    def neuron(self, name: str, kind: str, p: dict[str, np.ndarray], ctx: _Context) -> dict[str, np.ndarray]:
        values = super().neuron(name, kind, p, ctx)
        if kind == "IF":
            return values
        file_tau = values["tau"]
        beta = _decay(file_tau, SNNTORCH_DT, p.get("_itemsize_tau_mem", p.get("_itemsize_tau")))
        gain = (
            1.0 if np.allclose(values["r"], file_tau / SNNTORCH_DT, rtol=1e-5) else values["r"] * SNNTORCH_DT / file_tau
        )
        values["tau"] = ctx.dt / (1.0 - beta)
        values["r"] = gain / (1.0 - beta) * np.ones_like(beta)
        values["_beta"] = beta
        if "tau_syn" in values:
            alpha = _decay(values["tau_syn"], SNNTORCH_DT, p.get("_itemsize_tau_syn"))
            gain_syn = (
                1.0
                if np.allclose(values["w_in"], values["tau_syn"] / SNNTORCH_DT, rtol=1e-5)
                else values["w_in"] * SNNTORCH_DT / values["tau_syn"]
            )
            values["tau_syn"] = ctx.dt / (1.0 - alpha)
            values["w_in"] = gain_syn / (1.0 - alpha) * np.ones_like(alpha)
            values["_alpha"] = alpha
        return values

    def neuron_nodes(self, name: str, kind: str, v: dict[str, np.ndarray], ctx: _Context) -> _Expansion:
        if ctx.reset == "zero" and kind == "CubaLIF":
            raise GraphError(_SNNTORCH_ZERO_RESET.format(name=name, module="Synaptic/RSynaptic"))
        expansion = super().neuron_nodes(name, kind, v, ctx)
        if ctx.reset != "subtract" or kind not in ("LIF", "CubaLIF"):
            return expansion
        # snnTorch: v[t] = beta v[t-1] + in[t] - thr z[t-1];  IR: v[t] = beta (v[t-1] - thr z[t-1]) + in[t].
        # The missing -(1 - beta) thr z[t-1] arrives through a self-connection (a back edge: one step).
        beta, thr = v["_beta"], v["v_threshold"]
        mem_gain = (1.0 - beta) * v["r"]  # what one unit of input adds to v (IR: dt/tau * r)
        k = -(1.0 - beta) * thr / mem_gain
        fix = f"{name}.snntorch_reset"
        if kind == "LIF":
            expansion.nodes[fix] = Linear(weight=np.diag(k))
            expansion.edges += [(name, fix), (fix, name)]
            return expansion
        # CubaLIF: the input is filtered by the synapse (i[t] = alpha i[t-1] + g in[t]); to add d[t] to v
        # inject (d[t] - alpha d[t-1]) / g, i.e. z[t-1] and z[t-2] (a delayed copy).
        alpha = v["_alpha"]
        syn_gain = (1.0 - alpha) * v["w_in"]
        k = k / syn_gain
        n = k.size
        fix2 = f"{name}.snntorch_reset_delayed"
        expansion.nodes[fix] = Linear(weight=np.diag(k))
        expansion.nodes[fix2] = Linear(weight=np.diag(-alpha * k), delay=np.eye(n))
        expansion.edges += [(name, fix), (fix, name), (name, fix2), (fix2, name)]
        return expansion

    def finalize(self, graph: Graph) -> Graph:
        _, back = graph.schedule()
        for _, dst in back:
            node = graph.nodes[dst]
            if isinstance(node, LIF) and not isinstance(node, CubaLIF) and node.reset == "zero":
                raise GraphError(_SNNTORCH_ZERO_RESET.format(name=dst, module="RLeaky"))
        return _fold_recurrent_bias(graph)


_SNNTORCH_ZERO_RESET = (
    "snnTorch node {name!r} ({module}) cannot be imported with reset='zero': snnTorch's {module} zero reset "
    "also discards the input of the step after a spike (v = 0 for that step), which neither NIR nor the IR "
    "can express; only Leaky's zero reset is exact (see docs/nir.md)"
)


def _decay(tau: np.ndarray, file_dt: float, itemsize: Any, exponential: bool = False) -> np.ndarray:
    """``1 - file_dt/tau`` (``exp(-file_dt/tau)`` if ``exponential``); rounded to float32 when the file is
    float32 (snnTorch's beta and Sinabs' alpha are)."""
    decay = np.exp(-file_dt / tau) if exponential else 1.0 - file_dt / tau
    if itemsize is not None and int(itemsize) == 4:
        decay = decay.astype(np.float32).astype(np.float64)
    if np.any(decay <= 0) or np.any(decay >= 1):
        raise GraphError(f"time constants {tau.tolist()} s give decays outside (0, 1) at dt={file_dt} s")
    return decay


def _fold_recurrent_bias(graph: Graph) -> Graph:
    """Move the bias of an Affine that reaches a neuron only along back edges to its forward input.

    snnTorch's RLeaky/RSynaptic apply ``recurrent(spk)`` with spk = 0 at the first step, so the
    bias arrives from step 0; in the IR a back edge carries zero at step 0. A constant bias can
    enter through the neuron's feed-forward Affine/Linear instead, which gives it from step 0.
    """
    _, back = graph.schedule()
    nodes = dict(graph.nodes)
    for src, dst in sorted(back):
        node = nodes[src]
        if not isinstance(node, Affine) or not np.any(node.bias) or graph.successors(src) != [dst]:
            continue
        forward = [
            p
            for p in graph.predecessors(dst)
            if (p, dst) not in back and isinstance(nodes[p], Linear) and graph.successors(p) == [dst]
        ]
        if not forward:
            raise GraphError(
                f"recurrent Affine {src!r} has a bias that snnTorch applies from the first step, but {dst!r} "
                "has no feed-forward Linear/Affine to carry it from step 0"
            )
        target = nodes[forward[0]]
        assert isinstance(target, Linear)  # selected above
        bias = getattr(target, "bias", np.zeros(target.out_size)) + node.bias
        nodes[forward[0]] = Affine(weight=target.weight, delay=target.delay, bias=bias)
        nodes[src] = Linear(weight=node.weight, delay=node.delay)
    return Graph(nodes, graph.edges, graph.dt, graph.metadata)


class _Norse(_Convention):
    """Norse (norse/torch/utils/export_nir.py): tau written as dt*tau (issue #411), r = 1, w_in = 1.

    Norse's LIFCell adds its input to the synaptic current as a jump (i += x), which in NIR's Euler
    form is ``w_in = tau_syn/dt``; its IAFCell adds the input to v (the IR's IF with r as written).
    """

    name = "norse"

    def missing_dt(self) -> str:
        return (
            "dt is missing: Norse's NIR exporter writes tau as dt*tau (its issue #411) and stores no dt, so the "
            "time constants cannot be recovered without it; pass dt=<seconds per step> (neuro CLI: --dt); "
            "Norse's default is 0.001"
        )

    def neuron(self, name: str, kind: str, p: dict[str, np.ndarray], ctx: _Context) -> dict[str, np.ndarray]:
        values = {k: v for k, v in p.items() if not k.startswith("_")}
        if "tau_mem" in values:
            values["tau"] = values.pop("tau_mem")
        for key in ("tau", "tau_syn"):
            if key in values and np.all(values[key] < ctx.dt):
                values[key] = values[key] / ctx.dt  # undo the bug: dt * tau -> tau
        if "tau_syn" in values:
            values["w_in"] = values["w_in"] * values["tau_syn"] / ctx.dt  # current jump
        return values  # IF: r stays per step (IAFCell: v += x)


class _Rockpool(_Convention):
    """Rockpool (rockpool/nn/modules/torch/nir.py): tau in s, r = tau exp(-dt/tau)/dt, exact exponential decay.

    Rockpool simulates ``i = b (i + x)``, ``v = a v + i + bias`` with ``a = exp(-dt/tau_mem)``,
    ``b = exp(-dt/tau_syn)``, and subtracts the threshold on a spike. In the IR's forward Euler the
    same decays need ``tau' = dt/(1 - a)``; gains follow. dt is recovered from r.
    """

    name = "rockpool"
    default_reset = "subtract"

    def resolve_dt(self, flat: _Flat, params: dict[str, dict[str, np.ndarray]], dt: float | None) -> float:
        leaky = [(k, p) for k, p in _neuron_params(flat, params) if k != "IF"]
        found = _rockpool_dt(leaky) if leaky else None
        if found is None:
            return super().resolve_dt(flat, params, dt)
        if dt is not None and not math.isclose(float(dt), found, rel_tol=1e-4):
            raise GraphError(f"dt={dt} was given, but Rockpool's r = tau exp(-dt/tau)/dt in this file says dt={found}")
        return float(dt) if dt is not None else found

    def missing_dt(self) -> str:
        return (
            "dt is missing: this Rockpool file has no leaky neuron to recover dt from r; "
            "pass dt=<seconds per step> (neuro CLI: --dt)"
        )

    def neuron(self, name: str, kind: str, p: dict[str, np.ndarray], ctx: _Context) -> dict[str, np.ndarray]:
        values = super().neuron(name, kind, p, ctx)
        if kind == "IF":
            return values
        a = np.exp(-ctx.dt / values["tau"])
        values["tau"] = ctx.dt / (1.0 - a)
        if kind == "LI":  # ExpSynTorch: i = b (i + x)
            values["r"] = a / (1.0 - a)
            return values
        values["r"] = 1.0 / (1.0 - a)
        values["v_leak"] = values["v_leak"] / (1.0 - a)  # Rockpool's bias is added per step
        if "tau_syn" in values:
            b = np.exp(-ctx.dt / values["tau_syn"])
            values["tau_syn"] = ctx.dt / (1.0 - b)
            values["w_in"] = values["w_in"] * b / (1.0 - b)
        return values


class _Sinabs(_Convention):
    """Sinabs (sinabs/nir.py): tau in time steps with the exact decay ``exp(-1/tau)``, r = 1, no dt, no reset mode.

    Sinabs simulates, per step, ``v = a v + g x`` with ``a = exp(-1/tau_mem)`` (tau counted in steps) and
    ``g = 1 - a`` for LIF (``norm_input=True``, its default) or ``g = 1`` for ExpLeak (``norm_input=False``,
    its default); IAF adds ``x`` to v. It spikes when ``v >= threshold`` and then, in the same step as the IR,
    subtracts the threshold (MembraneSubtract, its default) or sets v to 0 (MembraneReset). In the IR's
    forward Euler the same decay needs ``tau = dt/(1 - a)`` seconds; the gains follow. The exporter writes
    neither ``norm_input`` nor ``tau_syn`` (nor ``min_v_mem``, the spike function, dt or the reset), so each
    layer is read with Sinabs' defaults and without a synapse.
    """

    name = "sinabs"

    def missing_dt(self) -> str:
        return (
            "dt is missing: Sinabs' NIR exporter writes tau_mem in time steps and stores no dt, so the time "
            "constants cannot be given in seconds without it (the spikes do not depend on it); "
            "pass dt=<seconds per step> (neuro CLI: --dt)"
        )

    def resolve_reset(self, flat: _Flat, reset: str | None) -> str:
        if reset is None and any(type(n).__name__ in ("LIF", "IF") for n in flat.nodes.values()):
            raise GraphError(
                "reset is missing: Sinabs' default reset_fn is MembraneSubtract (reset='subtract'; MembraneReset() "
                "is reset='zero'), but its NIR exporter writes NIR's reset to v_reset = 0 for every layer, so the "
                "file cannot tell which the network used; pass reset='subtract' or reset='zero' (neuro CLI: --reset)"
            )
        return reset or self.default_reset

    def neuron(self, name: str, kind: str, p: dict[str, np.ndarray], ctx: _Context) -> dict[str, np.ndarray]:
        if kind not in ("LI", "LIF", "IF"):
            raise GraphError(f"NIR node {name!r} is a {kind}, but Sinabs' exporter writes only LI, LIF and IF neurons")
        values = {k: v for k, v in p.items() if not k.startswith("_")}
        if kind == "IF":
            return values  # IAF: v += x per step, the IR's IF with r as written
        if np.any(values["tau"] <= 0):
            raise GraphError(
                f"NIR node {name!r} ({kind}) tau {values['tau'].tolist()} (Sinabs: time steps) must be positive"
            )
        a = _decay(values["tau"], 1.0, p.get("_itemsize_tau"), exponential=True)  # one step: tau counts steps
        values["tau"] = ctx.dt / (1.0 - a)
        if kind == "LI":  # ExpLeak, norm_input=False: v = a v + x, so dt/tau r must be 1
            values["r"] = values["r"] / (1.0 - a)
        return values  # LIF, norm_input=True: v = a v + (1 - a) x, which dt/tau r gives with r as written


_CONVENTIONS: dict[str, _Convention] = {
    "nir": _Convention(),
    "neuro": _Neuro(),
    "snntorch": _SnnTorch(),
    "norse": _Norse(),
    "rockpool": _Rockpool(),
    "sinabs": _Sinabs(),
}

__all__ = ["NIR_METADATA_VERSION", "PRODUCERS", "from_nir", "load", "rescale_time", "save", "to_nir"]

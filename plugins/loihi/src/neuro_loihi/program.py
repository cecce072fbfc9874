"""The Loihi configuration image: populations (CUBA LIF compartments) and connections (dense, delayed).

A quantized graph is read as a network of *populations* (the neuron nodes: CubaLIF, LIF, IF, LI)
joined by *connections* (the Linear/Affine nodes): each connection has one source (an Input node
or a population) and one destination population, an integer weight matrix (n_dst, n_src), per-synapse
delays and one weight exponent, exactly Lava's ``Dense``/``DelayDense`` process. Output nodes read the
spikes of a population (or its voltage ``v`` for an LI readout).

Image layout (format :data:`IMAGE_FORMAT`), in ``Program.meta["image"]`` and ``Program.arrays``:

- ``inputs``: ``[{name, n}]``; input channels are the inputs' channels concatenated in this order.
- ``populations``: ``[{name, n, du, dv, vth, readout}]`` with arrays ``pop{p}.bias_mant``,
  ``pop{p}.bias_exp`` (n,) and ``pop{p}.core`` (n,) (core index of each neuron).
- ``connections``: ``[{name, src_kind ("input" | "pop"), src, dst, weight_exp, num_weight_bits,
  sign_mode}]`` with arrays ``conn{c}.weights`` and ``conn{c}.delays`` (n_dst, n_src) and routing
  tables ``conn{c}.route_local``, ``conn{c}.route_remote``, ``conn{c}.route_hops`` (n_src,): spike
  messages per source spike that stay on the source's tile, that leave it, and their tile hops.
- ``outputs``: ``[{name, pop, n, readout}]``; output channels are concatenated in this order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from neuro_core.errors import GraphError, ProgrammingError
from neuro_core.graph import IF, LI, Graph, Input, Linear, Output
from neuro_core.program import Program
from neuro_core.results import Placement

IMAGE_FORMAT = 1
SIGN_MODES = ("mixed", "excitatory", "inhibitory")


@dataclass(frozen=True)
class Connection:
    """One Dense / DelayDense process: ``src`` (input or population index) -> population ``dst``."""

    name: str
    src_kind: str
    src: int
    dst: int
    weights: np.ndarray
    delays: np.ndarray
    weight_exp: int
    num_weight_bits: int = 8
    sign_mode: str = "mixed"


@dataclass(frozen=True)
class Population:
    """One LIF process: ``n`` compartments sharing ``du``, ``dv``, ``vth``; per-neuron bias."""

    name: str
    n: int
    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    readout: str = "spikes"


@dataclass(frozen=True)
class Network:
    """The integer network a Program holds (what the simulator and the mapper read)."""

    inputs: list[tuple[str, int]]
    populations: list[Population]
    connections: list[Connection]
    outputs: list[tuple[str, int, str]]
    dt: float
    cores: dict[str, np.ndarray] = field(default_factory=dict)
    routes: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def input_channels(self) -> int:
        """Total input channels."""
        return sum(n for _, n in self.inputs)

    @property
    def output_channels(self) -> int:
        """Total output channels."""
        return sum(self.populations[p].n for _, p, _ in self.outputs)


def sign_mode_of(weights: np.ndarray) -> str:
    """Lava's ``determine_sign_mode``: excitatory if all >= 0, inhibitory if all <= 0, else mixed."""
    if weights.size == 0 or weights.min() >= 0:
        return "excitatory"
    if weights.max() <= 0:
        return "inhibitory"
    return "mixed"


def network_of(graph: Graph) -> Network:
    """Read a quantized graph as populations and connections.

    Raises:
        GraphError: a node or edge the chip cannot express (naming it), or a parameter that was
            not quantized for Loihi.
    """
    pops = graph.neuron_nodes()
    pop_index = {name: i for i, name in enumerate(pops)}
    inputs = graph.inputs()
    input_index = {name: i for i, name in enumerate(inputs)}
    populations = []
    for name in pops:
        node = graph.nodes[name]
        missing = [k for k in ("du", "dv", "vth", "bias_mant", "bias_exp") if k not in node.int_params]
        if missing:
            raise GraphError(f"node {name!r} has no Loihi int_params {missing}: quantize the graph for Loihi first")
        ip = node.int_params
        populations.append(
            Population(
                name,
                node.out_size,
                int(ip["du"].reshape(-1)[0]),
                int(ip["dv"].reshape(-1)[0]),
                int(ip["vth"].reshape(-1)[0]),
                ip["bias_mant"].reshape(-1),
                ip["bias_exp"].reshape(-1),
                "v" if isinstance(node, LI) else "spikes",
            )
        )
    connections = []
    for name, node in graph.nodes.items():
        if isinstance(node, Output):
            continue
        if isinstance(node, Linear):
            preds = graph.predecessors(name)
            if len(preds) != 1:
                raise GraphError(f"connection {name!r} must have exactly one source node, has {preds}")
            src = preds[0]
            if src in input_index:
                src_kind, src_idx = "input", input_index[src]
            elif src in pop_index and isinstance(graph.nodes[src], IF) and not isinstance(graph.nodes[src], LI):
                src_kind, src_idx = "pop", pop_index[src]
            else:
                raise GraphError(
                    f"connection {name!r} reads {src!r} ({graph.nodes[src].kind}); on Loihi a connection reads an "
                    "Input or the spikes of a LIF/CubaLIF/IF population"
                )
            if "weight" not in node.int_params or "weight_exp" not in node.int_params:
                raise GraphError(f"connection {name!r} has no Loihi int_params: quantize the graph for Loihi first")
            weights = node.int_params["weight"]
            delays = node.int_params.get("delay", np.zeros(weights.shape, np.int64))
            for dst in graph.successors(name):
                if dst not in pop_index:
                    raise GraphError(
                        f"connection {name!r} feeds {dst!r} ({graph.nodes[dst].kind}); on Loihi a connection feeds a "
                        "neuron population"
                    )
                connections.append(
                    Connection(
                        name if len(graph.successors(name)) == 1 else f"{name}->{dst}",
                        src_kind,
                        src_idx,
                        pop_index[dst],
                        weights,
                        delays,
                        int(node.int_params["weight_exp"].reshape(-1)[0]),
                        8,
                        sign_mode_of(weights),
                    )
                )
        elif name in pop_index:
            for pred in graph.predecessors(name):
                if not isinstance(graph.nodes[pred], Linear):
                    raise GraphError(
                        f"population {name!r} is fed by {pred!r} ({graph.nodes[pred].kind}); on Loihi neurons are fed "
                        "through a Linear/Affine connection"
                    )
        elif not isinstance(node, Input):
            raise GraphError(f"node {name!r} of type {node.kind} has no Loihi equivalent")
    outputs = []
    for name in graph.outputs():
        preds = graph.predecessors(name)
        if len(preds) != 1 or preds[0] not in pop_index:
            raise GraphError(f"output {name!r} must read exactly one neuron population, reads {preds}")
        p = pop_index[preds[0]]
        outputs.append((name, p, populations[p].readout))
    return Network([(n, graph.nodes[n].out_size) for n in inputs], populations, connections, outputs, float(graph.dt))


def build_program(device: str, placement: Placement) -> Program:
    """The Program of a placement made by :func:`neuro_loihi.mapper.map_graph`."""
    if placement.device != device:
        raise ProgrammingError(f"this Placement was made for {placement.device!r}, not {device!r}")
    net = network_of(placement.graph)
    arrays: dict[str, np.ndarray] = {}
    pops_meta = []
    for p, pop in enumerate(net.populations):
        pops_meta.append(
            {"name": pop.name, "n": pop.n, "du": pop.du, "dv": pop.dv, "vth": pop.vth, "readout": pop.readout}
        )
        arrays[f"pop{p}.bias_mant"] = pop.bias_mant.astype(np.int32)
        arrays[f"pop{p}.bias_exp"] = pop.bias_exp.astype(np.int32)
        arrays[f"pop{p}.core"] = np.asarray(placement.cores[pop.name], np.int32)
    conns_meta = []
    for c, conn in enumerate(net.connections):
        conns_meta.append(
            {
                "name": conn.name,
                "src_kind": conn.src_kind,
                "src": conn.src,
                "dst": conn.dst,
                "weight_exp": conn.weight_exp,
                "num_weight_bits": conn.num_weight_bits,
                "sign_mode": conn.sign_mode,
            }
        )
        arrays[f"conn{c}.weights"] = conn.weights.astype(np.int32)
        arrays[f"conn{c}.delays"] = conn.delays.astype(np.int32)
        for key in ("route_local", "route_remote", "route_hops"):
            arrays[f"conn{c}.{key}"] = np.asarray(placement.tables[f"conn{c}.{key}"], np.int64)
    image = {
        "inputs": [{"name": n, "n": k} for n, k in net.inputs],
        "populations": pops_meta,
        "connections": conns_meta,
        "outputs": [{"name": n, "pop": p, "n": net.populations[p].n, "readout": r} for n, p, r in net.outputs],
    }
    meta: dict[str, Any] = {
        "dt": net.dt,
        "variant": device,
        "image": image,
        "input_channels": net.input_channels,
        "output_channels": net.output_channels,
        "latency_per_stage_steps": 1,
        "resources": dict(placement.resources),
    }
    return Program(device, IMAGE_FORMAT, arrays, meta)


def read_program(program: Program, device: str) -> Network:
    """Parse and validate a Program for ``device``.

    Raises:
        ProgrammingError: another device's Program, an unknown image format, or a malformed image
            (naming the missing or inconsistent entry).
    """
    if program.device != device:
        raise ProgrammingError(f"this Program is for {program.device!r}, not {device!r}")
    if program.format_version != IMAGE_FORMAT:
        raise ProgrammingError(
            f"Loihi image format {program.format_version} is unknown to this plugin (it reads format {IMAGE_FORMAT})"
        )
    try:
        image = program.meta["image"]
        arrays = program.arrays
        pops = [
            Population(
                str(m["name"]),
                int(m["n"]),
                int(m["du"]),
                int(m["dv"]),
                int(m["vth"]),
                np.asarray(arrays[f"pop{p}.bias_mant"], np.int64),
                np.asarray(arrays[f"pop{p}.bias_exp"], np.int64),
                str(m["readout"]),
            )
            for p, m in enumerate(image["populations"])
        ]
        inputs = [(str(m["name"]), int(m["n"])) for m in image["inputs"]]
        conns = []
        routes: dict[str, np.ndarray] = {}
        for c, m in enumerate(image["connections"]):
            conns.append(
                Connection(
                    str(m["name"]),
                    str(m["src_kind"]),
                    int(m["src"]),
                    int(m["dst"]),
                    np.asarray(arrays[f"conn{c}.weights"], np.int64),
                    np.asarray(arrays[f"conn{c}.delays"], np.int64),
                    int(m["weight_exp"]),
                    int(m["num_weight_bits"]),
                    str(m["sign_mode"]),
                )
            )
            for key in ("route_local", "route_remote", "route_hops"):
                routes[f"conn{c}.{key}"] = np.asarray(arrays[f"conn{c}.{key}"], np.int64)
        outputs = [(str(m["name"]), int(m["pop"]), str(m["readout"])) for m in image["outputs"]]
        cores = {pop.name: np.asarray(arrays[f"pop{p}.core"], np.int64) for p, pop in enumerate(pops)}
        dt = float(program.meta["dt"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProgrammingError(f"malformed Loihi image: missing or invalid entry {exc}") from exc
    net = Network(inputs, pops, conns, outputs, dt, cores, routes)
    _check_network(net)
    return net


def _check_network(net: Network) -> None:
    for pop in net.populations:
        if pop.bias_mant.shape != (pop.n,) or pop.bias_exp.shape != (pop.n,):
            raise ProgrammingError(f"population {pop.name!r}: bias arrays must have shape ({pop.n},)")
        if pop.readout not in ("spikes", "v"):
            raise ProgrammingError(f"population {pop.name!r}: readout must be 'spikes' or 'v', got {pop.readout!r}")
    n_in = [n for _, n in net.inputs]
    for conn in net.connections:
        if conn.src_kind not in ("input", "pop"):
            raise ProgrammingError(f"connection {conn.name!r}: src_kind {conn.src_kind!r} is not 'input' or 'pop'")
        sizes = n_in if conn.src_kind == "input" else [p.n for p in net.populations]
        if not (0 <= conn.src < len(sizes)) or not (0 <= conn.dst < len(net.populations)):
            raise ProgrammingError(f"connection {conn.name!r}: source or destination index out of range")
        shape = (net.populations[conn.dst].n, sizes[conn.src])
        if conn.weights.shape != shape or conn.delays.shape != shape:
            raise ProgrammingError(f"connection {conn.name!r}: weights/delays must have shape {shape}")
        if conn.sign_mode not in SIGN_MODES:
            raise ProgrammingError(f"connection {conn.name!r}: sign_mode {conn.sign_mode!r} not in {SIGN_MODES}")
        if not 1 <= conn.num_weight_bits <= 8:
            raise ProgrammingError(f"connection {conn.name!r}: num_weight_bits {conn.num_weight_bits} not in 1..8")
        if conn.delays.size and (conn.delays.min() < 0 or conn.delays.max() > 62):
            raise ProgrammingError(
                f"connection {conn.name!r}: delays must be in 0..62 steps, got {conn.delays.min()}..{conn.delays.max()}"
            )

"""Place a quantized graph on Loihi cores and check every per-core limit.

Partitioning: each population is split into ``ceil(n / neurons_per_core)`` cores of (nearly) equal
size, populations in graph order, one population per core (as NxSDK/Nengo Loihi allocate blocks).
Per core the mapper counts, with Nengo Loihi's synapse encoding (``SynapseConfig.bits_per_axon``):

- input axons: distinct (connection, source neuron) pairs that reach a neuron of the core (<= 4,096);
- output axons: distinct (source neuron, destination core) routes leaving the core (<= 4,096);
- synaptic memory: for every input axon, its synapses into the core in groups of <= 64, each group
  ``n * (weight bits + delay bits [+ index bits]) + 4 + 6`` bits rounded up to 64-bit words; a group is
  stored dense (every neuron of the core, no index) or sparse (nonzero only, ``ceil(log2(n_core))``
  index bits), whichever is smaller; delay bits are 6 for a connection with any nonzero delay, else 0.

Routing tables for the energy model count, per source spike, the spike messages that stay in the
source's tile, those that leave it and their tile hops on the mesh (inputs enter at tile 0).
"""

from __future__ import annotations

import math

import numpy as np
from neuro_core.errors import MappingError, Violation
from neuro_core.graph import Graph
from neuro_core.results import Placement
from neuro_core.target import Target

from .program import Connection, network_of
from .sim import lava_weights
from .target import MAX_DELAY

SYNAPSE_FMT_IDX_BITS = 4
N_SYNAPSES_BITS = 6
DELAY_BITS = 6
WORD_BITS = 64


def group_bits(n_synapses: int, bits_per_synapse: int, group: int = 64) -> int:
    """Synaptic memory bits of one axon's ``n_synapses`` (Nengo Loihi's ``bits_per_axon``)."""
    bits = 0
    for start in range(0, n_synapses, group):
        n = min(n_synapses - start, group)
        raw = n * bits_per_synapse + SYNAPSE_FMT_IDX_BITS + N_SYNAPSES_BITS
        bits += -WORD_BITS * (-raw // WORD_BITS)
    return bits


def _memory_bits(conn: Connection, rows: np.ndarray) -> int:
    """Synaptic memory of connection ``conn`` into the destination neurons ``rows`` held by one core."""
    w = np.asarray(conn.weights)[rows]
    n_core = len(rows)
    if n_core == 0:
        return 0
    per_synapse = conn.num_weight_bits + (DELAY_BITS if np.any(conn.delays) else 0)
    idx_bits = max(1, math.ceil(math.log2(max(n_core, 2))))
    counts = (w != 0).sum(axis=0)
    dense = group_bits(n_core, per_synapse)
    total = 0
    for count in counts[counts > 0]:
        total += min(dense, group_bits(int(count), per_synapse + idx_bits))
    return total


def tile_xy(core: int | np.ndarray, target: Target) -> tuple[np.ndarray, np.ndarray]:
    """Mesh coordinates of a core's tile."""
    per_tile = int(target.extra.get("cores_per_tile", 4))
    width = int(target.extra.get("tile_mesh", [8, 4])[0])
    tile = np.asarray(core) // per_tile
    return tile % width, tile // width


def map_graph(device: str, target: Target, graph: Graph) -> Placement:
    """Placement of a quantized graph; raises MappingError listing every violated limit."""
    violations: list[Violation] = list(target.check(graph))
    net = network_of(graph)
    npc = target.neurons_per_core
    limit_bits = target.synapse_memory_bits_per_core
    cores: dict[str, np.ndarray] = {}
    next_core = 0
    core_sizes: list[int] = []
    for p, pop in enumerate(net.populations):
        incoming = [c for c in net.connections if c.dst == p]
        n_cores = max(1, math.ceil(pop.n / npc))
        while True:  # split further while a core's synaptic memory overflows (as NxSDK would)
            split = np.array_split(np.arange(pop.n), n_cores)
            worst = max((sum(_memory_bits(c, rows) for c in incoming) for rows in split), default=0)
            if limit_bits is None or worst <= limit_bits or n_cores >= pop.n:
                break
            n_cores = min(pop.n, max(n_cores + 1, math.ceil(n_cores * worst / limit_bits)))
        assign = np.zeros(pop.n, np.int64)
        for k, part in enumerate(split):
            assign[part] = next_core + k
            core_sizes.append(len(part))
        cores[pop.name] = assign
        next_core += n_cores
    cores_needed = next_core
    if cores_needed > target.cores:
        violations.append(Violation("cores", "whole network", target.cores, cores_needed))
    in_axons = np.zeros(cores_needed, np.int64)
    out_axons = np.zeros(cores_needed, np.int64)
    memory = np.zeros(cores_needed, np.int64)
    synapses = np.zeros(cores_needed, np.int64)
    tables: dict[str, np.ndarray] = {}
    fmt = target.formats.get("weight")
    for c, conn in enumerate(net.connections):
        w = np.asarray(conn.weights, np.int64)
        d = np.asarray(conn.delays, np.int64)
        where = f"connection {conn.name!r}"
        if (
            d.size
            and d.max() > MAX_DELAY
            and not any(v.constraint == "max_delay" and conn.name in v.where for v in violations)
        ):
            violations.append(Violation("max_delay", where, MAX_DELAY, int(d.max())))
        if conn.sign_mode == "mixed" and np.any(w % 2 != 0) and fmt is not None:
            odd = int(np.sum(w % 2 != 0))
            violations.append(
                Violation(
                    "format:weight", f"{where}: {odd} odd mixed-sign weight(s) would lose their LSB", "even", "odd"
                )
            )
        elif not np.array_equal(lava_weights(w, conn.sign_mode, conn.num_weight_bits), w):
            violations.append(
                Violation("format:weight", f"{where}: weights not representable", "8-bit mantissa", "beyond")
            )
        dst_cores = cores[net.populations[conn.dst].name]
        nonzero = w != 0
        n_src = w.shape[1]
        local = np.zeros(n_src, np.int64)
        remote = np.zeros(n_src, np.int64)
        hops = np.zeros(n_src, np.int64)
        src_cores = cores[net.populations[conn.src].name] if conn.src_kind == "pop" else None
        for core in np.unique(dst_cores):
            rows = dst_cores == core
            counts = nonzero[rows].sum(axis=0)  # synapses per source axon into this core
            reached = counts > 0
            in_axons[core] += int(reached.sum())
            synapses[core] += int(counts.sum())
            memory[core] += _memory_bits(conn, np.flatnonzero(rows))
            # routing: one message per (source neuron, destination core)
            dx, dy = tile_xy(core, target)
            if src_cores is None:
                sx, sy = tile_xy(0, target)
                same = np.full(n_src, bool(sx == dx and sy == dy))
                dist = np.full(n_src, int(abs(sx - dx) + abs(sy - dy)))
            else:
                sx, sy = tile_xy(src_cores, target)
                same = (sx == dx) & (sy == dy)
                dist = np.abs(sx - dx) + np.abs(sy - dy)
                np.add.at(out_axons, src_cores[reached], 1)
            local += reached & same
            remote += reached & ~same
            hops += np.where(reached, dist, 0)
        tables[f"conn{c}.route_local"] = local
        tables[f"conn{c}.route_remote"] = remote
        tables[f"conn{c}.route_hops"] = hops
    limit_in = int(target.extra.get("input_axons_per_core", 4096))
    limit_out = int(target.extra.get("output_axons_per_core", 4096))
    for core in range(cores_needed):
        if in_axons[core] > limit_in:
            violations.append(Violation("input_axons_per_core", f"core {core}", limit_in, int(in_axons[core])))
        if out_axons[core] > limit_out:
            violations.append(Violation("output_axons_per_core", f"core {core}", limit_out, int(out_axons[core])))
        if target.synapse_memory_bits_per_core is not None and memory[core] > target.synapse_memory_bits_per_core:
            violations.append(
                Violation(
                    "synapse_memory_bits_per_core",
                    f"core {core}",
                    target.synapse_memory_bits_per_core,
                    int(memory[core]),
                )
            )
    if violations:
        raise MappingError(device, violations)
    resources = {
        "cores_used": int(cores_needed),
        "neurons_per_core": [int(s) for s in core_sizes],
        "synapses_per_core": [int(s) for s in synapses],
        "synapse_memory_bits_per_core": [int(m) for m in memory],
        "synapse_memory_bits_total": int(memory.sum()),
        "input_axons_per_core": [int(a) for a in in_axons],
        "output_axons_per_core": [int(a) for a in out_axons],
        "synapse_memory_limit_bits": target.synapse_memory_bits_per_core,
    }
    return Placement(device, graph, cores, resources, tables)

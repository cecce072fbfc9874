"""Placing a quantized network on one DYNAP-SE2 chip.

- Cores: every bias current is shared by the 256 neurons of a core, so neurons that can share
  biases (same time constants, gains, thresholds) go together. :func:`assign_cores` groups
  neurons with equal bias vectors (to 1 % in log space; populations apart while cores last,
  so that each gets its own base weights), gives each group whole cores, and if
  that needs more than the chip's 4 cores merges the two closest groups (size-weighted distance
  of their log-bias centroids, Ward's criterion) until it fits. ``quantize`` calls it (weights
  are quantized per core, so cores must be known first); ``map`` checks the result.
- Synapses: each neuron has 64 CAM entries (tag, synapse type, 4-bit mask); every source that
  sends events (input channel, or a neuron with targets or routed to the host) needs one of the
  2048 tags; every neuron has 4 SRAM destination entries (one reaches any set of cores of this
  chip, one sends its events to the host).

:func:`map_graph` lists every violated limit in one :class:`MappingError`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from neuro_core import GraphError, MappingError, Placement, Target, Violation
from neuro_core.graph import Graph

from . import target as hw
from .model import METADATA_KEY, NEURON_CURRENTS, SYN_INDEX, linear_of, structure_of

N_BIASES = len(hw.BIAS_NAMES)


def core_features(currents: Mapping[str, np.ndarray]) -> np.ndarray:
    """(n, P) log bias currents of every neuron: what neurons sharing a core must agree on."""
    columns = [np.log(np.maximum(currents[k], 1e-30)) for k in NEURON_CURRENTS]
    columns += [np.log(np.maximum(currents[k], 1e-30)).T for k in ("itau_syn", "igain_syn")]
    return np.vstack([np.atleast_2d(c) for c in columns]).T


def assign_cores(
    features: np.ndarray, capacity: int, max_cores: int, population: np.ndarray | None = None
) -> np.ndarray:
    """Core index (n,) of every neuron, grouping equal bias vectors (see module docstring).

    With ``population`` (n,) given, neurons of different populations start in different groups
    even if their biases agree (they are merged first when cores run short): a population with
    its own core also gets its own four base weight currents, which quantizes better.

    Never fails: a network larger than the chip gets core indices >= ``max_cores``, which
    :func:`map_graph` reports.
    """
    n = features.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.round(features / np.log(1.01)).astype(np.int64)  # 1 % bins in log space
    if population is not None:
        keys = np.column_stack([keys, population])
    _, labels = np.unique(keys, axis=0, return_inverse=True)
    labels = labels.reshape(-1)
    groups = [np.flatnonzero(labels == g) for g in range(labels.max() + 1)]
    groups.sort(key=lambda members: int(members[0]))  # keep the network's order (deterministic)

    if len(groups) > _MAX_WARD_GROUPS:  # many distinct bias vectors (trained per neuron): pre-bin them
        groups = _prebin(features, groups, _MAX_WARD_GROUPS)

    def cores_needed(gs: list[np.ndarray]) -> int:
        return sum(-(-len(g) // capacity) for g in gs)

    while cores_needed(groups) > max_cores and len(groups) > 1:
        best, pair = np.inf, (0, 1)
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                na, nb = len(groups[a]), len(groups[b])
                gap = features[groups[a]].mean(0) - features[groups[b]].mean(0)
                cost = na * nb / (na + nb) * float(gap @ gap)
                if cost < best:
                    best, pair = cost, (a, b)
        a, b = pair
        merged = np.sort(np.concatenate([groups[a], groups[b]]))
        groups = [g for i, g in enumerate(groups) if i not in pair] + [merged]
        groups.sort(key=lambda members: int(members[0]))
    cores = np.empty(n, dtype=np.int64)
    core = 0
    for members in groups:
        for chunk in range(0, len(members), capacity):
            cores[members[chunk : chunk + capacity]] = core
            core += 1
    return cores


_MAX_WARD_GROUPS = 64  # Ward merging is cubic in the number of groups


def _prebin(features: np.ndarray, groups: list[np.ndarray], bins: int) -> list[np.ndarray]:
    """Reduce ``groups`` to ``bins`` groups: order them along the first principal axis of their
    centroids and cut that order into runs of about equal neuron count."""
    centroids = np.array([features[g].mean(0) for g in groups])
    centred = centroids - centroids.mean(0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0] if np.any(centred) else np.zeros(centroids.shape[1])
    order = np.argsort(centred @ axis, kind="stable")
    sizes = np.cumsum([len(groups[i]) for i in order])
    cut = np.minimum((sizes - 1) * bins // sizes[-1], bins - 1)
    merged = [np.sort(np.concatenate([groups[i] for i in order[cut == b]])) for b in range(bins) if np.any(cut == b)]
    merged.sort(key=lambda members: int(members[0]))
    return merged


def bias_arrays(table: Mapping[str, list[list[int]]], n_cores: int) -> tuple[np.ndarray, np.ndarray]:
    """(coarse, fine) arrays (n_cores, len(BIAS_NAMES)) from quantize's per-core bias table."""
    coarse = np.zeros((n_cores, N_BIASES), dtype=np.int64)
    fine = np.zeros((n_cores, N_BIASES), dtype=np.int64)
    for core in range(n_cores):
        for key, rows in table.items():
            pairs = rows[core]
            if key in ("itau_syn", "igain_syn"):
                prefix = key.split("_")[0]
                names = [f"{prefix}_{s}" for s in hw.SYNAPSE_TYPES]
            else:
                names = [key]
            for i, name in enumerate(names):
                j = hw.BIAS_NAMES.index(name)
                coarse[core, j], fine[core, j] = pairs[2 * i], pairs[2 * i + 1]
    return coarse, fine


def map_graph(target: Target, graph: Graph) -> Placement:
    """``neuro_map`` for dynapse2: check every limit, then allocate slots, tags, CAM and SRAM entries.

    Raises:
        GraphError: the graph was not quantized for dynapse2 (no cores or bias table).
        MappingError: every violation: node types, neurons per chip, CAMs per neuron (fan-in),
            neurons per core, cores, tags, destinations, bias coarse values.
    """
    meta = graph.metadata.get(METADATA_KEY, {})
    if "bias_coarse_fine" not in meta:
        raise GraphError("this graph is not quantized for dynapse2: call quantize (device.quantize) first")
    violations = list(target.check(graph))
    structure = structure_of(graph)
    pops = list(structure.populations)
    cores = {pop: np.asarray(graph.nodes[pop].int_params["core"]) for pop, _ in pops}
    all_cores = np.concatenate([cores[p] for p, _ in pops])
    n_cores = int(all_cores.max()) + 1 if all_cores.size else 0
    counts = np.bincount(all_cores, minlength=n_cores)
    for core in np.flatnonzero(counts > target.neurons_per_core):
        violations.append(Violation("neurons_per_core", f"core {core}", target.neurons_per_core, int(counts[core])))
    if n_cores > target.cores:
        violations.append(Violation("cores", "whole network", target.cores, n_cores))
    coarse, fine = bias_arrays(meta["bias_coarse_fine"], n_cores)
    for core, j in zip(*np.nonzero(coarse > hw.COARSE_MAX), strict=True):
        violations.append(
            Violation("bias_coarse", f"core {core} bias {hw.BIAS_NAMES[j]}", hw.COARSE_MAX, int(coarse[core, j]))
        )

    # -- sources needing tags: input channels, and neurons with targets or routed to the host ------
    sends = {pop: np.zeros(n, dtype=bool) for pop, n in pops}
    for p in structure.projections:
        if p.source in sends:
            sends[p.source] |= np.any(linear_of(graph, p.name).weight != 0, axis=0)
    sends[structure.output_population][:] = True
    tags_used = structure.n_in + sum(int(s.sum()) for s in sends.values())
    if tags_used > hw.TAGS:
        violations.append(Violation("tags", "input channels + sending neurons", hw.TAGS, tags_used))
    # -- destinations: one SRAM entry for this chip's cores, one for the host ----------------------
    for pop, _ in pops:
        needed = sends[pop].astype(int) + (pop == structure.output_population)
        for j in np.flatnonzero(needed > hw.DESTINATIONS_PER_NEURON):
            violations.append(
                Violation("destinations", f"node {pop!r}, neuron {j}", hw.DESTINATIONS_PER_NEURON, int(needed[j]))
            )
    if violations:
        raise MappingError(target.name, violations)

    # -- slots: core * 256 + position in the core ---------------------------------------------------
    n_slots = target.cores * target.neurons_per_core
    slot = {}
    fill = np.zeros(target.cores, dtype=np.int64)
    for pop, n in pops:
        s = np.empty(n, dtype=np.int64)
        for i in range(n):
            c = int(cores[pop][i])
            s[i] = c * target.neurons_per_core + fill[c]
            fill[c] += 1
        slot[pop] = s
    neuron_population = np.full(n_slots, -1, dtype=np.int64)
    for k, (pop, _) in enumerate(pops):
        neuron_population[slot[pop]] = k
    tag_of_input = np.arange(structure.n_in, dtype=np.int64)
    tag_of_slot = np.full(n_slots, -1, dtype=np.int64)
    next_tag = int(structure.n_in)
    for pop, _ in pops:
        for sender in np.flatnonzero(sends[pop]).tolist():
            tag_of_slot[slot[pop][sender]] = next_tag
            next_tag += 1
    cam_tag = np.full((n_slots, hw.CAMS_PER_NEURON), -1, dtype=np.int64)
    cam_type = np.zeros((n_slots, hw.CAMS_PER_NEURON), dtype=np.int64)
    cam_mask = np.zeros((n_slots, hw.CAMS_PER_NEURON), dtype=np.int64)
    used = np.zeros(n_slots, dtype=np.int64)
    targets_of_slot: dict[int, set[int]] = {}
    for p in structure.projections:
        node = linear_of(graph, p.name)
        mask = node.int_params["weight_mask"]
        rows, cols = np.nonzero(node.weight)
        for r, col in zip(rows.tolist(), cols.tolist(), strict=True):
            dst = int(slot[p.target][r])
            if p.source == structure.input_name:
                tag = int(tag_of_input[col])
            else:
                src = int(slot[p.source][col])
                tag = int(tag_of_slot[src])
                targets_of_slot.setdefault(src, set()).add(dst // target.neurons_per_core)
            k = int(used[dst])  # next free CAM entry of this neuron
            cam_tag[dst, k] = tag
            cam_type[dst, k] = SYN_INDEX[p.types[0] if node.weight[r, col] > 0 else p.types[1]]
            cam_mask[dst, k] = int(mask[r, col])
            used[dst] += 1
    sram_tag = np.full((n_slots, hw.DESTINATIONS_PER_NEURON), -1, dtype=np.int64)
    sram_cores = np.zeros((n_slots, hw.DESTINATIONS_PER_NEURON), dtype=np.int64)  # bit c: core c of this chip
    sram_host = np.zeros((n_slots, hw.DESTINATIONS_PER_NEURON), dtype=np.int64)
    for src, dst_cores in targets_of_slot.items():
        sram_tag[src, 0] = tag_of_slot[src]
        sram_cores[src, 0] = sum(1 << c for c in dst_cores)
    output_slots = slot[structure.output_population]
    for out_slot in output_slots.tolist():
        entry = 1 if sram_tag[out_slot, 0] >= 0 else 0
        sram_tag[out_slot, entry] = tag_of_slot[out_slot]
        sram_host[out_slot, entry] = 1
    tables = {
        "bias_coarse": np.pad(coarse, ((0, target.cores - n_cores), (0, 0))),
        "bias_fine": np.pad(fine, ((0, target.cores - n_cores), (0, 0))),
        "cam_tag": cam_tag,
        "cam_type": cam_type,
        "cam_mask": cam_mask,
        "sram_tag": sram_tag,
        "sram_cores": sram_cores,
        "sram_host": sram_host,
        "neuron_population": neuron_population,
        "input_tags": tag_of_input,
        "output_slots": output_slots.astype(np.int64),
    }
    resources = {
        "cores_used": n_cores,
        "neurons_per_core": counts.tolist(),
        "max_cams_per_neuron": int(used.max(initial=0)),
        "cams_used": int(used.sum()),
        "tags_used": tags_used,
        "max_destinations": int((sram_tag >= 0).sum(axis=1).max(initial=0)),
        "populations": [p for p, _ in pops],
        "quantization": meta.get("quantization", []),
    }
    return Placement(target.name, graph, {p: cores[p] for p, _ in pops}, resources, tables)

"""The faithful DYNAP-SE2 simulator: runs a configuration image (Program), not a float model.

The image is decoded as the chip would read it: bias (coarse, fine) pairs become currents
through the bias-generator model, every CAM entry whose tag is delivered to its neuron's core
(by an input channel or by a neuron's SRAM destinations) becomes a synapse of weight
``sum_k mask_k Iw_k`` of its core and of its type. The dynamics are the one definition in
:func:`neuro_dynapse2.model.dpi_step` (float64, hard threshold, no gradients).

Device mismatch: ``chip_id`` selects a frozen draw ``p -> p (1 + sigma N(0,1))`` for every bias
current of every one of the 1024 neuron circuits and for every one of the 65,536 CAM synapses,
from a generator seeded by ``chip_id`` alone, in a fixed order over the whole chip, so a
physical slot keeps its mismatch whatever network is written. ``chip_id=None`` is the nominal
chip. ``seed`` drives the temporal noise of the membrane currents only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from neuro_core import Program, SimResult, Target

from . import target as hw
from .model import NA, NEURON_CURRENTS, Projection, Structure, hard_spike, neuron_constants, run_network
from .program import validate_image

_MISMATCH_SALT = 0xD2A5E2  # separates the mismatch stream from any other use of chip_id
_SYNAPSE_BIAS = {
    "itau_syn": [f"itau_{s}" for s in hw.SYNAPSE_TYPES],
    "igain_syn": [f"igain_{s}" for s in hw.SYNAPSE_TYPES],
}
_MISMATCH_ORDER = (*NEURON_CURRENTS, "itau_syn", "igain_syn")


@dataclass(frozen=True)
class ChipMismatch:
    """The frozen mismatch of one chip: multiplicative factors for every neuron circuit and synapse.

    Attributes:
        neuron: per bias name, factors (1024,) or (1024, 4) for the synapse biases.
        synapse: factors (1024, 64), one per CAM entry.
    """

    neuron: dict[str, np.ndarray]
    synapse: np.ndarray

    @classmethod
    def draw(cls, target: Target, chip_id: int | None) -> ChipMismatch:
        """The mismatch of chip ``chip_id`` (all ones for ``None``)."""
        n = hw.CORES * hw.NEURONS_PER_CORE
        shapes = {k: (n, 4) if k in _SYNAPSE_BIAS else (n,) for k in _MISMATCH_ORDER}
        if chip_id is None:
            return cls({k: np.ones(s) for k, s in shapes.items()}, np.ones((n, hw.CAMS_PER_NEURON)))
        rng = np.random.default_rng([_MISMATCH_SALT, int(chip_id)])

        def factors(key: str, shape: tuple[int, ...]) -> np.ndarray:
            sigma = float(target.mismatch.get(key, 0.0))
            # a current cannot change sign: clip far tails (> 6 sigma at 15 %) at 5 % of nominal
            return np.clip(1.0 + sigma * rng.standard_normal(shape), 0.05, None)

        neuron = {k: factors(k, shapes[k]) for k in _MISMATCH_ORDER}
        return cls(neuron, factors("weight", (n, hw.CAMS_PER_NEURON)))


@dataclass(frozen=True)
class DecodedNetwork:
    """A Program decoded into the simulator's network: structure, weights (nA), neuron currents (nA)."""

    structure: Structure
    weights: dict[str, torch.Tensor]
    currents: dict[str, dict[str, torch.Tensor]]
    slots: dict[str, np.ndarray]  # per population, its slots in order
    fanout: np.ndarray  # (n_in + 1024, 4) synapses of each type reached by one event of a source
    core_fanout: np.ndarray  # (n_in + 1024,) cores one event of a source is broadcast to
    output_index: list[tuple[str, int]]  # per output channel, (population, position)


def decode(target: Target, program: Program, mismatch: ChipMismatch) -> DecodedNetwork:
    """Turn an image into the simulator's network, with ``mismatch`` applied."""
    validate_image(program)
    a = {k: np.asarray(v).astype(np.int64) for k, v in program.arrays.items()}
    populations = list(program.meta["populations"])
    n_slots, per_core = a["neuron_population"].size, hw.NEURONS_PER_CORE
    n_in = a["input_tags"].size
    currents_a = np.vectorize(lambda c, f: hw.COARSE_MAX_CURRENT[c] * f / hw.FINE_MAX)(a["bias_coarse"], a["bias_fine"])
    bias = {name: currents_a[:, j] for j, name in enumerate(hw.BIAS_NAMES)}  # (cores,) each
    core_of = np.arange(n_slots) // per_core
    slots = {p: np.flatnonzero(a["neuron_population"] == k) for k, p in enumerate(populations)}
    pop_of_slot = {int(s): (p, i) for p, ss in slots.items() for i, s in enumerate(ss)}
    # every source: inputs 0..n_in-1, then neuron slots n_in + slot; which cores receive its tag
    delivered = np.zeros((n_in + n_slots, hw.CORES), dtype=bool)
    tag_of_source = np.full(n_in + n_slots, -1, dtype=np.int64)
    tag_of_source[:n_in] = a["input_tags"]
    for s, k in zip(*np.nonzero(a["sram_tag"] >= 0), strict=True):
        tag_of_source[n_in + s] = a["sram_tag"][s, k]
        for c in range(hw.CORES):
            delivered[n_in + s, c] |= bool(a["sram_cores"][s, k] >> c & 1)
    sources_of_tag: dict[int, list[int]] = {}
    for src, tag in enumerate(tag_of_source):
        if tag >= 0:
            sources_of_tag.setdefault(int(tag), []).append(src)
    delivered[:n_in, :] = True  # the host injects input events into every core
    base = np.stack([bias[f"iw_{k}"] for k in range(4)], axis=1)  # (cores, 4) A
    bits = (np.arange(16)[:, None] >> np.arange(4)[None, :]) & 1
    names = [*populations]
    group_index = {"input": -1, **{p: i for i, p in enumerate(names)}}
    blocks: dict[tuple[str, str, int], np.ndarray] = {}
    fanout = np.zeros((n_in + n_slots, 4))
    for dst, k in zip(*np.nonzero(a["cam_tag"] >= 0), strict=True):
        if int(dst) not in pop_of_slot:
            continue
        dst_pop, dst_i = pop_of_slot[int(dst)]
        core = core_of[dst]
        weight = float(bits[a["cam_mask"][dst, k]] @ base[core]) * mismatch.synapse[dst, k]
        syn = int(a["cam_type"][dst, k])
        for src in sources_of_tag.get(int(a["cam_tag"][dst, k]), []):
            if not delivered[src, core]:
                continue
            if src < n_in:
                src_pop, src_i, width = "input", src, n_in
            else:
                if src - n_in not in pop_of_slot:
                    continue
                src_pop, src_i = pop_of_slot[src - n_in]
                width = slots[src_pop].size
            block = (src_pop, dst_pop, syn)
            if block not in blocks:
                blocks[block] = np.zeros((slots[dst_pop].size, width))
            blocks[block][dst_i, src_i] += weight
            fanout[src, syn] += 1
    projections, weights = [], {}
    for (src_pop, dst_pop, syn), w in sorted(blocks.items()):
        name = f"{src_pop}->{dst_pop}:{hw.SYNAPSE_TYPES[syn]}"
        delayed = src_pop != "input" and group_index[src_pop] >= group_index[dst_pop]
        syn_name = hw.SYNAPSE_TYPES[syn]
        if syn_name in hw.EXCITATORY:
            types, signed = (syn_name, "gaba"), w
        else:
            types, signed = ("ampa", syn_name), -w
        projections.append(Projection(name, "input" if src_pop == "input" else src_pop, dst_pop, delayed, types))
        weights[name] = torch.as_tensor(signed / NA, dtype=torch.float64)
    currents: dict[str, dict[str, torch.Tensor]] = {}
    for p, ss in slots.items():
        cores = core_of[ss]
        cur: dict[str, np.ndarray] = {}
        for key in NEURON_CURRENTS:
            cur[key] = bias[key][cores] * mismatch.neuron[key][ss]
        for key, cols in _SYNAPSE_BIAS.items():
            cur[key] = np.stack([bias[c][cores] for c in cols], axis=1) * mismatch.neuron[key][ss]
        currents[p] = {k: torch.as_tensor(v / NA, dtype=torch.float64) for k, v in cur.items()}
    output_index = [pop_of_slot[int(s)] for s in a["output_slots"]]
    out_pops = {p for p, _ in output_index}
    structure = Structure(
        "input",
        n_in,
        tuple((p, slots[p].size) for p in populations),
        tuple(projections),
        next(iter(out_pops)) if out_pops else populations[-1],
        "output",
    )
    core_fanout = delivered.sum(axis=1) * (tag_of_source >= 0)
    # an input event is broadcast to the cores that hold a CAM entry listening to its tag
    dst_slots, dst_entries = np.nonzero(a["cam_tag"] >= 0)
    pairs = np.unique(np.stack([a["cam_tag"][dst_slots, dst_entries], core_of[dst_slots]], axis=1), axis=0)
    cores_per_tag = np.bincount(pairs[:, 0], minlength=hw.TAGS) if pairs.size else np.zeros(hw.TAGS, dtype=np.int64)
    core_fanout[:n_in] = cores_per_tag[a["input_tags"]]
    return DecodedNetwork(structure, weights, currents, slots, fanout, core_fanout, output_index)


class _Trace:
    record: torch.Tensor | None = None
    trace: dict[str, torch.Tensor]


def simulate(
    target: Target,
    program: Program,
    inputs: np.ndarray,
    record: bool = False,
    chip_id: int | None = None,
    seed: int = 0,
    dt: float | None = None,
    mismatch: ChipMismatch | None = None,
) -> SimResult:
    """Run ``program`` on ``inputs`` (B, T, n_in) event counts per step.

    Args:
        target: the dynapse2 Target.
        program: the image.
        inputs: non-negative event counts, (batch, time, channels).
        record: also return every population's spikes and membrane current (A).
        chip_id: which chip's frozen mismatch (``None``: nominal).
        seed: seed of the membrane noise.
        dt: step in s (default: the image's ``meta["dt"]``); the dynamics are exact for any dt.
        mismatch: a pre-drawn :class:`ChipMismatch` (saves redrawing it for many runs).

    Returns:
        SimResult with outputs (B, T, n_out) output spikes and counters ``spikes``,
        ``input_events``, ``synaptic_events`` (and per type ``synaptic_events_ampa``, ...),
        ``core_broadcasts`` and ``host_events``, each (B,).

    Raises:
        ProgrammingError: not a valid dynapse2 image.
        ValueError: wrong channel count or negative / non-finite input.
    """
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"inputs must be (batch, time, channels), got shape {x.shape}")
    n_in = len(program.meta.get("input_channels", []))
    if x.shape[2] != n_in:
        raise ValueError(f"inputs have {x.shape[2]} channels, the program takes {n_in}")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError("inputs must be finite, non-negative event counts per step")
    step = float(program.meta["dt"] if dt is None else dt)
    if mismatch is None:
        mismatch = ChipMismatch.draw(target, chip_id)
    net = decode(target, program, mismatch)
    constants = {p: neuron_constants(c) for p, c in net.currents.items()}
    gen = torch.Generator().manual_seed(int(seed))
    noise_std = hw.MEMBRANE_NOISE * math.sqrt(step)

    def noise(pop: str, shape: tuple[int, int]) -> torch.Tensor:
        return noise_std * torch.randn(shape, generator=gen, dtype=torch.float64)

    trace = _Trace()
    with torch.no_grad():
        run_network(net.structure, net.weights, constants, torch.as_tensor(x), step, hard_spike, noise, trace, True)
    spikes = {p: trace.trace[f"{p}.spikes"].numpy() for p in net.slots}
    outputs = np.stack([spikes[p][:, :, i] for p, i in net.output_index], axis=-1)
    batch = x.shape[0]
    per_source = np.zeros((batch, n_in + hw.CORES * hw.NEURONS_PER_CORE))
    per_source[:, :n_in] = x.sum(axis=1)
    for p, ss in net.slots.items():
        per_source[:, n_in + ss] = spikes[p].sum(axis=1)
    by_type = per_source @ net.fanout  # (B, 4)
    counters = {
        "spikes": sum((s.sum(axis=(1, 2)) for s in spikes.values()), np.zeros(batch)),
        "input_events": x.sum(axis=(1, 2)),
        "synaptic_events": by_type.sum(axis=1),
        "core_broadcasts": per_source @ net.core_fanout.astype(np.float64),
        "host_events": outputs.sum(axis=(1, 2)),
    }
    for k, name in enumerate(hw.SYNAPSE_TYPES):
        counters[f"synaptic_events_{name}"] = by_type[:, k]
    states = {}
    if record:
        states = {f"{p}.i_mem": trace.trace[f"{p}.i_mem"].numpy() * NA for p in net.slots}
    return SimResult(target.name, step, outputs, spikes if record else {}, states, counters, chip_id)

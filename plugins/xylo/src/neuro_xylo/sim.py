"""The exact (bit-exact) batched integer simulator of a Xylo configuration image.

The semantics are those of SynSense's simulator xylosim (``xylosim.v2``, the back end of Rockpool's
``XyloSim`` for Xylo Audio 2, Xylo IMU and Xylo Audio 3); every convention and its source is in
docs/xylo.md. One time step, for each sample:

1. Input events: for channel ``c = 0..n_in-1``, ``n = min(x[c], 15)`` events; every synapse of the
   channel adds ``n * (w_in << shift_in)`` to its target's synaptic state, saturating to int16
   after each channel's contribution (n repeated saturating additions of one value equal one
   saturating addition of n times it).
2. Recurrent events: hidden spikes of the PREVIOUS step, pre-neuron by pre-neuron in index order,
   add ``r * (w_rec << shift_rec)`` to the hidden synaptic states (saturating after each pre).
3. Readout events: the same previous-step spikes of the last ``n_oen`` hidden neurons add
   ``r * (w_out << shift_out)`` to the output synaptic states.
4. Hidden neurons in index order: each synaptic state decays ``i -= decay(i, dash_syn)``; then
   ``dv = wrap16(-decay(v, dash_mem))``, ``dv = sat16(dv + sum(i))``, ``dv = sat16(dv + bias)``,
   ``v = sat16(v + dv)``; then while ``v >= threshold`` and the neuron has fewer than 31 spikes
   this step: one more spike and ``v = wrap16(v - threshold)``. The count starts from the spikes
   aliased onto this neuron earlier in the step; the neuron's total is then added to its alias
   target (capped at 31).
5. Output neurons: the same update with a cap of 1 spike per step and no alias.

``decay(x, dash) = x >> dash`` (arithmetic shift), or ``sign(x)`` where that shift gives 0.

Performance: the kernel keeps the previous step's spikes as a list of (neuron, count) and adds only
the weight rows of neurons that spiked (spike sparsity), in 32-bit lanes that vectorise. Step 4 runs
as two passes, decay-and-integrate over all neurons, then fire in index order; this equals the
chip's neuron-by-neuron order because neurons of one step interact only through aliased spike
counts, which only the firing pass touches. Compiled with numba when installed (extra ``fast``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
from neuro_core.accel import maybe_njit

from .program import XyloImage

MAX_INPUT_EVENTS = 15  # per channel per step (xylosim MAX_NUM_INP_SPIKES)
MAX_HIDDEN_SPIKES = 31  # per hidden neuron per step (xylosim MAX_NUM_SPIKES)
MAX_OUTPUT_SPIKES = 1  # per output neuron per step (xylosim MAX_NUM_OUT_SPIKES)
STATE_MIN = -(2**15)
STATE_MAX = 2**15 - 1

COUNTER_NAMES = (
    "input_events",
    "synaptic_ops_input",
    "synaptic_ops_recurrent",
    "synaptic_ops_output",
    "hidden_spikes",
    "output_spikes",
    "neuron_updates",
    "input_channels_active",
    "hidden_neurons_active",
    "recurrent_row_ops",
    "readout_neurons_active",
)


@maybe_njit
def _sat16(value: int) -> int:
    if value > STATE_MAX:
        return STATE_MAX
    if value < STATE_MIN:
        return STATE_MIN
    return value


@maybe_njit
def _wrap16(value: int) -> int:
    return ((value + 32768) & 0xFFFF) - 32768


@maybe_njit
def _decay(value: int, dash: int) -> int:
    """``value >> dash`` (arithmetic), or 1 where that is 0 for a positive value (never 0 for a negative one)."""
    delta = value >> dash
    return delta + ((delta == 0) & (value > 0))


@maybe_njit
def _integrate(
    v: np.ndarray, isyn: np.ndarray, n_syn: int, dash_syn: np.ndarray, dash_mem: np.ndarray, bias: np.ndarray
) -> None:
    """Decay every synaptic state, then integrate every membrane (int16 saturation); arrays are flat int32.

    ``isyn`` and ``dash_syn`` are (n * n_syn,) neuron-major; ``v``, ``dash_mem``, ``bias`` are (n,).
    Neurons do not interact here, so this pass runs over all neurons at once (and vectorises).
    """
    lo, hi = np.int32(STATE_MIN), np.int32(STATE_MAX)
    for m in range(isyn.shape[0]):
        isyn[m] = np.int32(isyn[m] - _decay(isyn[m], dash_syn[m]))
    for k in range(v.shape[0]):
        total = isyn[k * n_syn]
        for s in range(1, n_syn):
            total += isyn[k * n_syn + s]
        vm = v[k]
        dv = -_decay(vm, dash_mem[k])
        dv -= 65536 * (dv > STATE_MAX)  # int16 negation: -(-32768) wraps to -32768, as in the C++ reference
        dv = min(max(dv + total, lo), hi)
        dv = min(max(dv + bias[k], lo), hi)
        v[k] = np.int32(min(max(vm + dv, lo), hi))


@maybe_njit
def _fire(v: np.ndarray, threshold: np.ndarray, counts: np.ndarray, alias: np.ndarray, max_spikes: int) -> None:
    """Spikes of every neuron in index order, with subtractive reset and the spike cap.

    ``counts`` holds on entry the spikes aliased onto each neuron so far this step and on exit every
    neuron's total; a neuron's total is added to its alias target (capped). Sequential because of aliases.
    """
    for k in range(v.shape[0]):
        count = counts[k]
        vm = v[k]
        th = threshold[k]
        if vm >= th and count < max_spikes:
            if th > 0:  # the chip's loop "while v >= th and count < max: count++, v -= th", in one step
                fired = min(max_spikes - count, vm // th)
                count += fired
                vm -= fired * th
            else:  # threshold <= 0: literal loop, with the chip's 16-bit wrap of v - th
                while vm >= th and count < max_spikes:
                    count += 1
                    vm = _wrap16(vm - th)
            v[k] = vm
        counts[k] = count
        target = alias[k]
        if target >= 0:
            counts[target] = min(counts[target] + count, max_spikes)


@maybe_njit
def _run(
    x: np.ndarray,
    w_in: np.ndarray,
    w_rec: np.ndarray,
    w_out: np.ndarray,
    dash_mem: np.ndarray,
    dash_syn: np.ndarray,
    threshold: np.ndarray,
    bias: np.ndarray,
    alias: np.ndarray,
    dash_mem_out: np.ndarray,
    dash_syn_out: np.ndarray,
    threshold_out: np.ndarray,
    bias_out: np.ndarray,
    record: bool,
    hidden_spikes: np.ndarray,
    output_spikes: np.ndarray,
    rec_v: np.ndarray,
    rec_isyn: np.ndarray,
    rec_v_out: np.ndarray,
    rec_isyn_out: np.ndarray,
    counters: np.ndarray,
    nnz_in: np.ndarray,
    nnz_rec: np.ndarray,
    nnz_out: np.ndarray,
) -> None:
    """The kernel. Weights arrive already shifted (int16), with their nonzero synapses per pre-neuron
    (``nnz_*``: the synaptic operations one event costs); results are written into the out arrays."""
    batch, steps, n_in = x.shape
    n_ien = w_in.shape[1]
    n_hid, _, n_syn = w_rec.shape
    n_oen, n_out = w_out.shape
    oen_offset = n_hid - n_oen
    n_flat = n_hid * n_syn
    w_rec_flat = w_rec.reshape(n_hid, n_flat)
    isyn_flat = np.zeros(n_flat, np.int32)
    isyn = isyn_flat.reshape(n_hid, n_syn)  # a view: both names update the same states
    v = np.zeros(n_hid, np.int32)
    isyn_out = np.zeros(n_out, np.int32)
    v_out = np.zeros(n_out, np.int32)
    dash_syn_flat = dash_syn.reshape(n_flat)
    n_in_flat = n_ien * n_syn
    w_in_flat = w_in.reshape(n_in, n_in_flat)
    lo, hi = np.int32(STATE_MIN), np.int32(STATE_MAX)
    no_alias = np.full(n_out, -1, np.int64)
    buffer = np.zeros(n_hid, np.int64)
    out_buffer = np.zeros(n_out, np.int64)
    active = np.zeros(n_hid, np.int64)  # neurons that spiked in the previous step
    active_count = np.zeros(n_hid, np.int64)
    for b in range(batch):
        isyn[:, :] = 0
        v[:] = 0
        isyn_out[:] = 0
        v_out[:] = 0
        n_active = 0
        for t in range(steps):
            # 1. input events, channel by channel
            for c in range(n_in):
                events = x[b, t, c]
                if events > MAX_INPUT_EVENTS:
                    events = MAX_INPUT_EVENTS
                if events <= 0:
                    continue
                counters[b, 0] += events
                counters[b, 7] += 1
                counters[b, 1] += events * nnz_in[c]
                row = w_in_flat[c]  # the first n_ien neurons' states, neuron-major like isyn_flat
                scaled = np.int32(events)
                for m in range(n_in_flat):
                    isyn_flat[m] = min(max(np.int32(isyn_flat[m] + scaled * row[m]), lo), hi)
            # 2. and 3. previous-step hidden spikes to recurrent and readout synapses. Only rows of
            # neurons that spiked are touched; the saturation after each pre neuron is the chip's order.
            # A zero weight adds nothing, so the inner loop needs no branch and vectorises.
            for a in range(n_active):
                j = active[a]
                r = active_count[a]
                r32 = np.int32(r)
                counters[b, 2] += r * nnz_rec[j]
                counters[b, 3] += r * nnz_out[j]
                counters[b, 9] += nnz_rec[j]
                if j >= oen_offset:
                    counters[b, 10] += 1
                if nnz_rec[j] > 0:  # a neuron without recurrent synapses costs nothing here
                    row = w_rec_flat[j]
                    if r == 1:  # the common case: no multiply, 32-bit lanes (values stay far from overflow)
                        for m in range(n_flat):
                            isyn_flat[m] = min(max(np.int32(isyn_flat[m] + row[m]), lo), hi)
                    else:
                        for m in range(n_flat):
                            isyn_flat[m] = min(max(np.int32(isyn_flat[m] + r32 * row[m]), lo), hi)
                if j >= oen_offset:
                    for o in range(n_out):
                        w = w_out[j - oen_offset, o]
                        if w != 0:
                            isyn_out[o] = _sat16(isyn_out[o] + r * w)
            # 4. hidden neurons: decay and integrate (all at once), then fire in index order with aliases
            _integrate(v, isyn_flat, n_syn, dash_syn_flat, dash_mem, bias)
            buffer[:] = 0
            _fire(v, threshold, buffer, alias, MAX_HIDDEN_SPIKES)
            # 5. output neurons: the same update, one synaptic state, at most one spike, no alias
            _integrate(v_out, isyn_out, 1, dash_syn_out, dash_mem_out, bias_out)
            out_buffer[:] = 0
            _fire(v_out, threshold_out, out_buffer, no_alias, MAX_OUTPUT_SPIKES)
            n_active = 0
            for k in range(n_hid):
                if buffer[k] > 0:
                    active[n_active] = k
                    active_count[n_active] = buffer[k]
                    n_active += 1
                    counters[b, 4] += buffer[k]
                    counters[b, 8] += 1
                hidden_spikes[b, t, k] = buffer[k]
            for o in range(n_out):
                output_spikes[b, t, o] = out_buffer[o]
                counters[b, 5] += out_buffer[o]
            counters[b, 6] += n_hid + n_out
            if record:
                for k in range(n_hid):
                    rec_v[b, t, k] = v[k]
                    for s in range(n_syn):
                        rec_isyn[b, t, k, s] = isyn[k, s]
                for o in range(n_out):
                    rec_v_out[b, t, o] = v_out[o]
                    rec_isyn_out[b, t, o] = isyn_out[o]


@dataclass
class XyloRun:
    """What :func:`simulate_image` returns.

    Attributes:
        output_spikes: (batch, time, n_out) output spikes per step (0 or 1).
        hidden_spikes: (batch, time, n_hidden) hidden spike counts per step (0..31).
        states: if recorded, ``"hidden.v"`` (B, T, n_hidden), ``"hidden.isyn"`` (B, T, n_hidden),
            ``"hidden.isyn2"`` (two synaptic states only), ``"output.v"`` and ``"output.isyn"``
            (B, T, n_out): int16 values after the step, as the chip holds them.
        counters: per sample (batch,) int64, see ``COUNTER_NAMES``: ``input_events`` (after the
            15-event cap), ``synaptic_ops_*`` (weight additions: events times nonzero synapses, per
            matrix), ``hidden_spikes``, ``output_spikes``, ``neuron_updates``; and for the cycle
            model, counted once per (neuron or channel, step) whatever the multiplicity:
            ``input_channels_active``, ``hidden_neurons_active``, ``recurrent_row_ops`` (nonzero
            recurrent synapses of active neurons) and ``readout_neurons_active``.
    """

    output_spikes: np.ndarray
    hidden_spikes: np.ndarray
    states: dict[str, np.ndarray] = field(default_factory=dict)
    counters: dict[str, np.ndarray] = field(default_factory=dict)


def _shifted(weights: np.ndarray, shift: int) -> np.ndarray:
    """``int8 << shift`` through xylosim's int16 weight argument (which wraps only for shift > 8), as int16.

    int16 halves the memory the recurrent rows stream through per spike compared with int32.
    """
    if shift <= 8:  # int8 << 8 still fits int16: no wrap possible
        return np.ascontiguousarray(weights.astype(np.int16) << np.int16(shift))
    value = ((weights.astype(np.int32) << int(shift)) + 32768) & 0xFFFF
    return np.ascontiguousarray(value - 32768, dtype=np.int16)


_PREPARED: weakref.WeakKeyDictionary[XyloImage, tuple[np.ndarray, ...]] = weakref.WeakKeyDictionary()


def _prepare(image: XyloImage) -> tuple[np.ndarray, ...]:
    """The kernel's view of an image (shifted int16 weights, nonzero counts, int32 parameters), cached per image."""
    cached = _PREPARED.get(image)
    if cached is None:
        shift = image.weight_shift.astype(np.int64)
        matrices = (image.w_in, image.w_rec, image.w_out)
        w_in, w_rec, w_out = (_shifted(w, s) for w, s in zip(matrices, shift, strict=True))
        nnz_out = np.zeros(image.n_hidden, np.int64)
        nnz_out[image.n_hidden - image.n_oen :] = np.count_nonzero(w_out, axis=1)
        cached = (
            w_in,
            w_rec,
            w_out,
            *(np.ascontiguousarray(getattr(image, name), dtype=np.int32) for name in _INT32_FIELDS),
            image.alias.astype(np.int64),
            np.count_nonzero(w_in.reshape(image.n_in, -1), axis=1).astype(np.int64),
            np.count_nonzero(w_rec.reshape(image.n_hidden, -1), axis=1).astype(np.int64),
            nnz_out,
        )
        _PREPARED[image] = cached
    return cached


_INT32_FIELDS = (
    "dash_mem", "dash_syn", "threshold", "bias", "dash_mem_out", "dash_syn_out", "threshold_out", "bias_out",
)  # fmt: skip


def check_inputs(inputs: np.ndarray, n_in: int) -> np.ndarray:
    """Validate input event counts (batch, time, n_in): non-negative integers; return int64.

    Counts above 15 are legal and capped by the chip (xylosim's input cap); values that are not
    integers, negative, or the wrong number of channels are refused.

    Raises:
        ValueError: naming the problem.
    """
    x = np.asarray(inputs)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"inputs must be (batch, time, channels) event counts, got shape {x.shape}")
    if x.shape[2] != n_in:
        raise ValueError(f"inputs have {x.shape[2]} channels; the Xylo image has {n_in} input channels")
    if x.size:
        if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
            raise ValueError("Xylo inputs are event counts: every value must be an integer")
        if x.min() < 0:
            raise ValueError(f"Xylo inputs are event counts >= 0, got {x.min()}")
    return np.ascontiguousarray(np.minimum(x, 2**31), dtype=np.int64)


def simulate_image(image: XyloImage, inputs: np.ndarray, record: bool = False) -> XyloRun:
    """Run ``image`` on ``inputs`` (batch, time, n_in) input event counts, bit-exactly.

    Every sample starts from the reset state (all states 0, no pending spikes).
    """
    x = check_inputs(inputs, image.n_in)
    batch, steps = x.shape[:2]
    n_hid, n_out, n_syn = image.n_hidden, image.n_out, image.n_syn
    hidden = np.zeros((batch, steps, n_hid), np.int64)
    output = np.zeros((batch, steps, n_out), np.int64)
    shape_b = (batch, steps) if record else (0, 0)
    rec_v = np.zeros((*shape_b, n_hid), np.int64)
    rec_isyn = np.zeros((*shape_b, n_hid, n_syn), np.int64)
    rec_v_out = np.zeros((*shape_b, n_out), np.int64)
    rec_isyn_out = np.zeros((*shape_b, n_out), np.int64)
    counters = np.zeros((batch, len(COUNTER_NAMES)), np.int64)
    w_in, w_rec, w_out, dmem, dsyn, th, bias, dmem_o, dsyn_o, th_o, bias_o, alias, nnz_in, nnz_rec, nnz_out = _prepare(
        image
    )
    _run(
        x, w_in, w_rec, w_out, dmem, dsyn, th, bias, alias, dmem_o, dsyn_o, th_o, bias_o, bool(record),
        hidden, output, rec_v, rec_isyn, rec_v_out, rec_isyn_out, counters, nnz_in, nnz_rec, nnz_out,
    )  # fmt: skip
    states: dict[str, np.ndarray] = {}
    if record:
        states["hidden.v"] = rec_v
        states["hidden.isyn"] = rec_isyn[..., 0]
        if n_syn > 1:
            states["hidden.isyn2"] = rec_isyn[..., 1]
        states["output.v"] = rec_v_out
        states["output.isyn"] = rec_isyn_out
    return XyloRun(output, hidden, states, {name: counters[:, i].copy() for i, name in enumerate(COUNTER_NAMES)})

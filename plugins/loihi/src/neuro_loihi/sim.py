"""The exact, batched integer simulator of a Loihi Program, bit-exact to Lava's bit-accurate models.

Semantics (lava-nc 0.10.0; every convention with its source line is in docs/loihi.md):

- Weights: Lava's ``clip_weights`` (8 bits by sign mode) then ``truncate_weights`` (drop
  ``8 - num_weight_bits + mixed`` LSBs by arithmetic shifts), once, before the first step.
- Dense / DelayDense: at step t a connection sends what it accumulated for arrival at t, then
  accumulates this step's input spikes (times their payload) per delay slot and applies
  ``weight_exp`` to each (step, slot) sum: left shift if > 0, arithmetic (floor) right shift if < 0.
  A spike at step t through a synapse of delay d arrives at t + 1 + d (delay 0 = Dense's 1-step latency).
- LIF: ``u = trunc0(u * (4096 - du - 1) / 4096) + (a_in << 6)`` in int32, wrapped once into
  (-2**23, 2**23]; ``v = trunc0(v * (4096 - dv) / 4096) + u + (bias_mant << bias_exp)`` in int32,
  clipped to +-(2**23 - 1); spike if ``v > vth << 6``; then ``v = 0`` (u is kept).

One kernel (:func:`_run_kernel`) written in the numba-compatible subset does all of it; it is
compiled with numba when numba imports (the ``fast`` extra) and runs as plain Python otherwise.
It is event-driven: only sources that spiked this step touch synaptic memory (a CSR table by
source), so the cost per step is (#active sources x fan-out) + (#neurons).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from neuro_core.accel import maybe_njit
from neuro_core.results import SimResult

from .program import Network
from .target import ACT_SHIFT, DECAY_SHIFT, DECAY_UNITY, MAX_DELAY, RING_SLOTS, STATE_BITS, VTH_SHIFT

#: Names of the activity counters, in the column order of the kernel's counter array.
COUNTERS = (
    "synaptic_ops",
    "spikes",
    "input_spikes",
    "neuron_updates_active",
    "neuron_updates_inactive",
    "messages_within_tile",
    "messages_across_tiles",
    "tile_hops",
)

_MAX_U = 1 << (STATE_BITS - 1)
_MAX_V = (1 << (STATE_BITS - 1)) - 1


@maybe_njit
def _run_kernel(
    x: np.ndarray,
    pop_start: np.ndarray,
    pop_n: np.ndarray,
    pop_du: np.ndarray,
    pop_dv: np.ndarray,
    pop_vth: np.ndarray,
    bias: np.ndarray,
    conn_src_start: np.ndarray,
    conn_n_src: np.ndarray,
    conn_exp: np.ndarray,
    conn_base: np.ndarray,
    conn_rbase: np.ndarray,
    conn_n_delays: np.ndarray,
    src_ptr: np.ndarray,
    syn_count: np.ndarray,
    syn_dst: np.ndarray,
    syn_w: np.ndarray,
    syn_d: np.ndarray,
    route_local: np.ndarray,
    route_remote: np.ndarray,
    route_hops: np.ndarray,
    out_neuron: np.ndarray,
    out_is_v: np.ndarray,
    record: bool,
    outputs: np.ndarray,
    rec_spikes: np.ndarray,
    rec_v: np.ndarray,
    rec_u: np.ndarray,
    counters: np.ndarray,
) -> None:
    """Run every sample of ``x`` (batch, time, n_in) int64; write outputs, records and counters in place.

    ``syn_w`` holds the weights already shifted left by positive exponents; ``conn_exp`` is only
    used when negative (the floor of each (step, delay) sum must happen in the kernel).

    Neurons are numbered 0..N-1 over all populations; sources are numbered 0..n_in-1 (inputs) then
    n_in + neuron. ``ring[slot, neuron]`` holds the dendritic input arriving at step ``slot`` (mod 64).
    """
    batch, steps, n_in = x.shape
    n_neurons = bias.shape[0]
    n_pops = pop_start.shape[0]
    n_conns = conn_src_start.shape[0]
    mask = RING_SLOTS - 1
    max_src = 1
    for c in range(n_conns):
        max_src = max(max_src, conn_n_src[c])
    wrap = np.int64(1) << 32
    half = np.int64(1) << 31
    for b in range(batch):
        u = np.zeros(n_neurons, np.int64)
        v = np.zeros(n_neurons, np.int64)
        ring = np.zeros((RING_SLOTS, n_neurons), np.int64)
        tmp = np.zeros(n_neurons, np.int64)
        touched_flag = np.zeros(n_neurons, np.bool_)
        touched = np.zeros(n_neurons, np.int64)
        active = np.zeros(max_src, np.int64)
        src_val = np.zeros(n_in + n_neurons, np.int64)
        for t in range(steps):
            slot = t & mask
            # 1. neurons: read this step's dendritic input, update u and v, spike and reset
            for p in range(n_pops):
                keep_u = DECAY_UNITY - (pop_du[p] + 1)
                keep_v = DECAY_UNITY - pop_dv[p]
                vth = pop_vth[p] << VTH_SHIFT
                for j in range(pop_start[p], pop_start[p] + pop_n[p]):
                    a_in = ring[slot, j]
                    ring[slot, j] = 0
                    u_old = u[j]
                    v_old = v[j]
                    if a_in != 0 or u_old != 0 or v_old != 0 or bias[j] != 0:
                        counters[b, 3] += 1
                    else:
                        counters[b, 4] += 1
                    prod = u_old * keep_u
                    decayed = (abs(prod) >> DECAY_SHIFT) * (1 if prod >= 0 else -1)
                    uu = decayed + a_in * (1 << ACT_SHIFT)
                    if uu >= half or uu < -half:  # Lava computes in int32: wrap modulo 2**32
                        uu = ((uu + half) % wrap) - half
                    if uu > _MAX_U:  # then one conditional wrap into (-2**23, 2**23], as Lava does
                        uu -= 2 * _MAX_U
                    elif uu <= -_MAX_U:
                        uu += 2 * _MAX_U
                    u[j] = uu
                    prod = v_old * keep_v
                    decayed = (abs(prod) >> DECAY_SHIFT) * (1 if prod >= 0 else -1)
                    vv = decayed + uu + bias[j]
                    if vv >= half or vv < -half:
                        vv = ((vv + half) % wrap) - half
                    if vv > _MAX_V:
                        vv = _MAX_V
                    elif vv < -_MAX_V:
                        vv = -_MAX_V
                    if vv > vth:
                        src_val[n_in + j] = 1
                        counters[b, 1] += 1
                        vv = 0
                    else:
                        src_val[n_in + j] = 0
                    v[j] = vv
                    if record:
                        rec_spikes[b, t, j] = src_val[n_in + j]
                        rec_v[b, t, j] = vv
                        rec_u[b, t, j] = uu
            for i in range(n_in):
                src_val[i] = x[b, t, i]
                if x[b, t, i] != 0:
                    counters[b, 2] += 1
            # 2. connections: fan out this step's active sources, one delay value at a time (synapses
            #    are stored grouped by (delay, source)), into the arrival slot t + 1 + delay
            for c in range(n_conns):
                e = conn_exp[c]
                base = conn_base[c]
                rbase = conn_rbase[c]
                n_src = conn_n_src[c]
                s0 = conn_src_start[c]
                n_active = 0
                for i in range(n_src):
                    if src_val[s0 + i] != 0:
                        active[n_active] = i
                        n_active += 1
                        counters[b, 0] += syn_count[rbase + i]
                        counters[b, 5] += route_local[rbase + i]
                        counters[b, 6] += route_remote[rbase + i]
                        counters[b, 7] += route_hops[rbase + i]
                if n_active == 0:
                    continue
                for d in range(conn_n_delays[c]):
                    s = (t + 1 + d) & mask
                    row = base + d * n_src
                    arrival = ring[s]
                    if e >= 0:  # a left shift distributes over the sum: weights are stored pre-shifted and
                        for q in range(n_active):  # every synapse goes straight to its own arrival slot
                            i = active[q]
                            val = src_val[s0 + i]
                            for k in range(src_ptr[row + i], src_ptr[row + i + 1]):
                                ring[(t + 1 + syn_d[k]) & mask, syn_dst[k]] += syn_w[k] * val
                        continue
                    n_touched = 0  # the right shift floors this (step, delay) sum: collect it first
                    for q in range(n_active):
                        i = active[q]
                        val = src_val[s0 + i]
                        for k in range(src_ptr[row + i], src_ptr[row + i + 1]):
                            j = syn_dst[k]
                            if not touched_flag[j]:
                                touched_flag[j] = True
                                touched[n_touched] = j
                                n_touched += 1
                            tmp[j] += syn_w[k] * val
                    for q in range(n_touched):  # as Lava's a_accum >> -weight_exp
                        j = touched[q]
                        arrival[j] += tmp[j] >> (-e)
                        tmp[j] = 0
                        touched_flag[j] = False
            # 3. outputs
            for o in range(out_neuron.shape[0]):
                j = out_neuron[o]
                outputs[b, t, o] = v[j] if out_is_v[o] else src_val[n_in + j]


def lava_weights(weights: np.ndarray, sign_mode: str, num_weight_bits: int) -> np.ndarray:
    """The weights Lava's bit-accurate Dense uses: ``clip_weights`` to 8 bits then ``truncate_weights``.

    Mixed sign: clip to [-256, 255] and drop ``8 - num_weight_bits + 1`` LSBs (floor: -3 -> -4);
    excitatory: clip to [0, 255]; inhibitory: negate, clip to [0, 255], truncate, negate back
    (so truncation rounds toward zero there). Shape and values are (n_dst, n_src) int64.
    """
    w = np.asarray(weights, np.int64)
    mixed = sign_mode == "mixed"
    if sign_mode == "inhibitory":
        w = -w
    w = np.clip(w, -256 if mixed else 0, 255)
    drop = 8 - num_weight_bits + int(mixed)
    w = (w >> drop) << drop
    return -w if sign_mode == "inhibitory" else w


class CompiledNetwork:
    """The flat arrays the kernel reads, built once from a :class:`~neuro_loihi.program.Network`."""

    def __init__(self, net: Network) -> None:
        self.net = net
        pops = net.populations
        self.pop_n = np.array([p.n for p in pops], np.int64)
        self.pop_start = (
            np.concatenate([[0], np.cumsum(self.pop_n)[:-1]]).astype(np.int64) if pops else np.zeros(0, np.int64)
        )
        self.pop_du = np.array([p.du for p in pops], np.int64)
        self.pop_dv = np.array([p.dv for p in pops], np.int64)
        self.pop_vth = np.array([p.vth for p in pops], np.int64)
        bias_parts = []
        for p in pops:
            mant, exp = p.bias_mant.astype(np.int64), p.bias_exp.astype(np.int64)
            bias_parts.append(np.where(exp >= 0, mant << np.maximum(exp, 0), mant >> np.maximum(-exp, 0)))
        self.bias = np.concatenate(bias_parts).astype(np.int64) if bias_parts else np.zeros(0, np.int64)
        self.n_neurons = int(self.pop_n.sum())
        in_sizes = [n for _, n in net.inputs]
        in_start = np.concatenate([[0], np.cumsum(in_sizes)[:-1]]).astype(np.int64) if in_sizes else np.zeros(0)
        self.n_in = int(sum(in_sizes))
        src_start, n_src, dst_start, n_dst, exps, bases, rbases, n_delays = [], [], [], [], [], [], [], []
        ptr_parts, count_parts, dst_parts, w_parts, d_parts = [], [], [], [], []
        r_local: list[np.ndarray] = []
        r_remote: list[np.ndarray] = []
        r_hops: list[np.ndarray] = []
        offset_syn = 0
        offset_base = 0
        offset_route = 0
        self.max_delay = 0
        for c, conn in enumerate(net.connections):
            w = lava_weights(conn.weights, conn.sign_mode, conn.num_weight_bits)
            d = np.asarray(conn.delays, np.int64)
            if d.size and (d.min() < 0 or d.max() > MAX_DELAY):
                raise ValueError(f"connection {conn.name!r}: delays must be in 0..{MAX_DELAY}")
            m = w.shape[1]
            rows, cols = np.nonzero(w)
            delays = d[rows, cols]
            # a negative exponent floors each (step, delay) sum, so those synapses are grouped by
            # (delay, source) and summed per delay; otherwise by source alone, each synapse with its delay
            slots = int(delays.max(initial=0)) + 1 if conn.weight_exp < 0 else 1
            key = delays * m + cols if conn.weight_exp < 0 else cols
            order = np.lexsort((rows, key))
            counts = np.bincount(key, minlength=slots * m)
            src_start.append(in_start[conn.src] if conn.src_kind == "input" else self.n_in + self.pop_start[conn.src])
            n_src.append(m)
            dst_start.append(self.pop_start[conn.dst])
            n_dst.append(w.shape[0])
            exps.append(conn.weight_exp)
            bases.append(offset_base)
            rbases.append(offset_route)
            n_delays.append(slots)
            ptr_parts.append(offset_syn + np.concatenate([[0], np.cumsum(counts)]))
            count_parts.append(np.bincount(cols, minlength=m))
            dst_parts.append(rows[order] + self.pop_start[conn.dst])
            # a left shift distributes over sums, so positive exponents are applied to the weights here
            w_parts.append(w[rows, cols][order] << max(conn.weight_exp, 0))
            d_parts.append(delays[order])
            self.max_delay = max(self.max_delay, slots - 1)
            offset_syn += len(rows)
            offset_base += slots * m + 1
            offset_route += m
            for name, acc in (("route_local", r_local), ("route_remote", r_remote), ("route_hops", r_hops)):
                table = net.routes.get(f"conn{c}.{name}")
                acc.append(table if table is not None else np.zeros(m, np.int64))
        self.synapses = offset_syn
        i64 = np.int64

        def cat(parts: list[Any]) -> np.ndarray:
            return np.concatenate(parts).astype(i64) if parts else np.zeros(0, i64)

        self.conn_src_start = np.array(src_start, i64)
        self.conn_n_src = np.array(n_src, i64)
        self.conn_dst_start = np.array(dst_start, i64)
        self.conn_n_dst = np.array(n_dst, i64)
        self.conn_exp = np.array(exps, i64)
        self.conn_base = np.array(bases, i64)
        self.conn_rbase = np.array(rbases, i64)
        self.conn_n_delays = np.array(n_delays, i64)
        self.src_ptr = cat(ptr_parts)
        self.syn_count = cat(count_parts)
        # int32 halves the bytes the inner loop streams; destinations are global neuron indices
        self.syn_dst = cat(dst_parts).astype(np.int32)
        self.syn_w = cat(w_parts).astype(np.int32)
        self.syn_d = cat(d_parts).astype(np.int32)
        self.route_local = cat(r_local)
        self.route_remote = cat(r_remote)
        self.route_hops = cat(r_hops)
        out_neuron: list[int] = []
        out_is_v: list[bool] = []
        for _, index, readout in net.outputs:
            out_neuron.extend(range(int(self.pop_start[index]), int(self.pop_start[index] + self.pop_n[index])))
            out_is_v.extend([readout == "v"] * int(self.pop_n[index]))
        self.out_neuron = np.array(out_neuron, i64)
        self.out_is_v = np.array(out_is_v, np.bool_)

    def run(self, inputs: np.ndarray, record: bool = False) -> dict[str, Any]:
        """Run ``inputs`` (batch, time, n_in) of non-negative integer payloads.

        Returns a dict with ``outputs`` (batch, time, n_out) float64, ``counters`` {name: (batch,)},
        and when ``record``: ``spikes`` (batch, time, N) uint8, ``v`` and ``u`` (batch, time, N) int32.
        """
        x = np.ascontiguousarray(inputs, dtype=np.int64)
        batch, steps, _ = x.shape
        n = self.n_neurons
        outputs = np.zeros((batch, steps, len(self.out_neuron)), np.float64)
        shape = (batch, steps, n) if record else (1, 1, 1)
        rec_s = np.zeros(shape, np.uint8)
        rec_v = np.zeros(shape, np.int32)
        rec_u = np.zeros(shape, np.int32)
        counters = np.zeros((batch, len(COUNTERS)), np.int64)
        _run_kernel(
            x,
            self.pop_start,
            self.pop_n,
            self.pop_du,
            self.pop_dv,
            self.pop_vth,
            self.bias,
            self.conn_src_start,
            self.conn_n_src,
            self.conn_exp,
            self.conn_base,
            self.conn_rbase,
            self.conn_n_delays,
            self.src_ptr,
            self.syn_count,
            self.syn_dst,
            self.syn_w,
            self.syn_d,
            self.route_local,
            self.route_remote,
            self.route_hops,
            self.out_neuron,
            self.out_is_v,
            bool(record),
            outputs,
            rec_s,
            rec_v,
            rec_u,
            counters,
        )
        result: dict[str, Any] = {"outputs": outputs, "counters": {k: counters[:, i] for i, k in enumerate(COUNTERS)}}
        if record:
            result.update(spikes=rec_s, v=rec_v, u=rec_u)
        return result


def check_inputs(inputs: np.ndarray, n_in: int, max_payload: int) -> np.ndarray:
    """Validate (batch, time, channels) inputs: channel count and integer payloads in 0..max_payload.

    Raises:
        ValueError: naming the wrong shape, the non-integer or out-of-range value.
    """
    x = np.asarray(inputs)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"inputs must be (batch, time, channels), got shape {x.shape}")
    if x.shape[2] != n_in:
        raise ValueError(f"inputs have {x.shape[2]} channels, the Program takes {n_in}")
    if x.size:
        if not np.issubdtype(x.dtype, np.integer) and (not np.all(np.isfinite(x)) or not np.all(x == np.round(x))):
            raise ValueError("inputs must be integer spike payloads per step (finite, whole numbers)")
        lo, hi = x.min(), x.max()
        if lo < 0 or hi > max_payload:
            raise ValueError(
                f"input spike payloads must be in 0..{max_payload} on this device "
                f"({'binary spikes' if max_payload == 1 else 'graded spikes'}), got {lo}..{hi}"
            )
    return x.astype(np.int64)


def simulate_network(
    net: Network,
    inputs: np.ndarray,
    record: bool = False,
    device: str = "loihi",
    max_payload: int = 1,
    compiled: CompiledNetwork | None = None,
) -> SimResult:
    """Simulate a :class:`~neuro_loihi.program.Network` on ``inputs`` (batch, time, channels).

    Returns a SimResult whose ``outputs`` are the output populations' spikes (0/1) or, for an LI
    readout, the integer voltage ``v``, with the chip's latency (one step per connection stage).
    ``counters`` hold every name of :data:`COUNTERS` plus ``synaptic_events`` (= ``synaptic_ops``).
    ``compiled`` reuses the kernel tables of ``net`` built earlier (:class:`CompiledNetwork`).
    """
    x = check_inputs(inputs, net.input_channels, max_payload)
    compiled = compiled if compiled is not None else CompiledNetwork(net)
    raw = compiled.run(x, record)
    counters = {k: v.astype(np.float64) for k, v in raw["counters"].items()}
    counters["synaptic_events"] = counters["synaptic_ops"].copy()
    spikes: dict[str, np.ndarray] = {}
    states: dict[str, np.ndarray] = {}
    if record:
        for p, pop in enumerate(net.populations):
            sl = slice(int(compiled.pop_start[p]), int(compiled.pop_start[p] + pop.n))
            spikes[pop.name] = raw["spikes"][:, :, sl]
            states[f"{pop.name}.v"] = raw["v"][:, :, sl]
            states[f"{pop.name}.u"] = raw["u"][:, :, sl]
    return SimResult(device, net.dt, raw["outputs"], spikes, states, counters, None)

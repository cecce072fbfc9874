"""Build and run a :class:`~neuro_loihi.program.Network` with Lava's own bit-accurate process models.

Imported only when Lava is wanted (the ``"lava"`` connection backend and the cross-check tests in
``tests_lava/``): ``RingBuffer`` sources feed ``Dense`` (or ``DelayDense`` where a connection has
delays) processes into ``LIF`` processes, run with ``Loihi2SimCfg(select_tag="fixed_pt")``, which
selects PyDenseModelBitAcc, PyDelayDenseModelBitAcc and PyLifModelBitAcc (lava-nc 0.10.0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from neuro_core.results import SimResult

from .program import Network


def _build(net: Network, x: np.ndarray, graded: bool) -> list[Any]:
    """Lava processes of ``net`` fed by ``x`` (time, channels): returns the LIF processes."""
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.utils.weightutils import SignMode

    sign = {"mixed": SignMode.MIXED, "excitatory": SignMode.EXCITATORY, "inhibitory": SignMode.INHIBITORY}
    sources = []
    start = 0
    for _, n in net.inputs:
        sources.append(RingBuffer(data=x[:, start : start + n].T.astype(int)))
        start += n
    lifs = [
        LIF(
            shape=(p.n,),
            du=p.du,
            dv=p.dv,
            vth=p.vth,
            bias_mant=p.bias_mant.astype(int),
            bias_exp=p.bias_exp.astype(int),
            name=p.name,
        )
        for p in net.populations
    ]
    for conn in net.connections:
        kwargs: dict[str, Any] = dict(
            weights=conn.weights.astype(int),
            weight_exp=conn.weight_exp,
            num_weight_bits=conn.num_weight_bits,
            sign_mode=sign[conn.sign_mode],
            num_message_bits=8 if (graded and conn.src_kind == "input") else 0,
        )
        proc = DelayDense(delays=conn.delays.astype(int), **kwargs) if np.any(conn.delays) else Dense(**kwargs)
        src = sources[conn.src].s_out if conn.src_kind == "input" else lifs[conn.src].s_out
        src.connect(proc.s_in)
        proc.a_out.connect(lifs[conn.dst].a_in)
    return lifs


def run_lava_sample(net: Network, x: np.ndarray, graded: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """Run one sample ``x`` (time, channels) in Lava; return {population: {"u", "v"}} each (time, n)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.monitor.process import Monitor

    steps = x.shape[0]
    lifs = _build(net, x, graded)
    probes = []
    for lif in lifs:
        monitors = {var: Monitor() for var in ("u", "v")}
        monitors["u"].probe(lif.u, steps)
        monitors["v"].probe(lif.v, steps)
        probes.append((lif, monitors))
    lifs[0].run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    out: dict[str, dict[str, np.ndarray]] = {}
    try:
        for (lif, monitors), pop in zip(probes, net.populations, strict=True):
            u = np.asarray(monitors["u"].get_data()[lif.name]["u"]).reshape(steps, pop.n).astype(np.int64)
            v = np.asarray(monitors["v"].get_data()[lif.name]["v"]).reshape(steps, pop.n).astype(np.int64)
            out[pop.name] = {"u": u, "v": v}
    finally:
        lifs[0].stop()
    return out


def lava_steps_per_second(net: Network, x: np.ndarray, warmup: int = 5) -> float:
    """Lava's steps per second on ``x`` (time, channels), without monitors, after ``warmup`` steps.

    The warm-up run starts Lava's runtime (process spawning, compilation), which is excluded.
    """
    import time

    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    lifs = _build(net, x, bool(x.max(initial=0) > 1))
    config = Loihi2SimCfg(select_tag="fixed_pt")
    try:
        lifs[0].run(condition=RunSteps(num_steps=warmup), run_cfg=config)
        start = time.perf_counter()
        lifs[0].run(condition=RunSteps(num_steps=x.shape[0] - warmup), run_cfg=config)
        return (x.shape[0] - warmup) / (time.perf_counter() - start)
    finally:
        lifs[0].stop()


def run_network_in_lava(net: Network, x: np.ndarray, device: str, chip_id: int | None) -> SimResult:
    """Run every sample of ``x`` (batch, time, channels) in Lava; outputs are v readouts or spikes.

    Spikes are recovered exactly from the recorded voltages: a neuron spiked at step t iff the
    pre-reset voltage ``decay(v[t-1]) + u[t] + bias`` (saturated) exceeds ``vth << 6``.
    """
    from .target import DECAY_SHIFT, DECAY_UNITY, VTH_SHIFT

    batch, steps, _ = x.shape
    outputs = np.zeros((batch, steps, net.output_channels))
    for b in range(batch):
        graded = bool(x[b].max(initial=0) > 1)
        states = run_lava_sample(net, x[b], graded)
        cols = []
        for _, p, readout in net.outputs:
            pop = net.populations[p]
            s = states[pop.name]
            if readout == "v":
                cols.append(s["v"].astype(float))
                continue
            bias = np.where(pop.bias_exp >= 0, pop.bias_mant << np.maximum(pop.bias_exp, 0), pop.bias_mant)
            v_prev = np.vstack([np.zeros((1, pop.n), np.int64), s["v"][:-1]])
            prod = v_prev * (DECAY_UNITY - pop.dv)
            pre = np.sign(prod) * (np.abs(prod) >> DECAY_SHIFT) + s["u"] + bias
            pre = np.clip(pre, -(1 << 23) + 1, (1 << 23) - 1)
            cols.append((pre > (pop.vth << VTH_SHIFT)).astype(float))
        outputs[b] = np.concatenate(cols, axis=1) if cols else np.zeros((steps, 0))
    return SimResult(
        device,
        net.dt,
        outputs,
        {},
        {},
        {"spikes": outputs.sum(axis=(1, 2)), "synaptic_events": np.zeros(batch)},
        chip_id,
    )

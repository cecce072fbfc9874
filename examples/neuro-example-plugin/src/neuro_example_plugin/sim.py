"""The exact integer simulator of example-if8: this file *is* the chip's specification.

Per time step t, for the input event counts ``a = x[t]`` (integers 0..15 per channel) and then for
each layer k in order (all layers within the same step, no pipeline latency):

1. ``i = W_k @ a`` in integers (int8 weights, wide accumulator: no overflow is possible);
2. ``v_k = clip(v_k + i, -32768, 32767)`` (16-bit saturating membrane, starts at 0);
3. ``z = v_k > threshold_k`` (int16 thresholds);
4. ``v_k = 0`` where ``z`` (reset to zero);
5. ``a = z`` (0/1) feeds layer k + 1; the last layer's ``z`` are the output channels.

Counters per sample: ``spikes`` (all layers) and ``synaptic_events`` (each input event times the
number of nonzero weights it reaches). ``chip_id`` and ``seed`` do not matter: the chip is digital.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from neuro_core import Program, SimResult, Target

from .program import unpack

MEMBRANE_MIN, MEMBRANE_MAX = -(1 << 15), (1 << 15) - 1
INPUT_MAX = 15


@dataclass
class IntegerRun:
    """Raw result of :func:`run`: integer arrays, (batch, time, n) unless named otherwise."""

    outputs: np.ndarray
    spikes: list[np.ndarray]
    membranes: list[np.ndarray] | None
    spike_count: np.ndarray  # (batch,)
    synaptic_events: np.ndarray  # (batch,)


def check_inputs(inputs: np.ndarray, channels: int) -> np.ndarray:
    """``inputs`` (batch, time, channels) as int64 event counts.

    Raises:
        ValueError: wrong shape or channel count, or a value that is not an integer in 0..15.
    """
    x = np.asarray(inputs)
    if x.ndim != 3 or x.shape[2] != channels:
        raise ValueError(f"example-if8 inputs must be (batch, time, {channels}), got shape {x.shape}")
    counts = np.rint(x).astype(np.int64) if x.size else x.astype(np.int64)
    if x.size and (np.any(counts != x) or counts.min() < 0 or counts.max() > INPUT_MAX):
        raise ValueError(
            f"example-if8 inputs are event counts, integers 0..{INPUT_MAX}; got values in [{x.min()}, {x.max()}]"
        )
    return counts


def run(weights: list[np.ndarray], thresholds: list[np.ndarray], counts: np.ndarray, record: bool) -> IntegerRun:
    """Run the integer network on ``counts`` (batch, time, inputs) int64; see the module docstring."""
    batch, steps, _ = counts.shape
    w = [wk.astype(np.int64) for wk in weights]
    th = [tk.astype(np.int64) for tk in thresholds]
    fan_out = [np.count_nonzero(wk, axis=0).astype(np.int64) for wk in w]
    v = [np.zeros((batch, wk.shape[0]), dtype=np.int64) for wk in w]
    spikes = [np.zeros((batch, steps, wk.shape[0]), dtype=np.int64) for wk in w]
    membranes = [np.zeros((batch, steps, wk.shape[0]), dtype=np.int64) for wk in w] if record else None
    events = np.zeros(batch, dtype=np.int64)
    for t in range(steps):
        a = counts[:, t]
        for k in range(len(w)):
            events += a @ fan_out[k]
            v[k] = np.clip(v[k] + a @ w[k].T, MEMBRANE_MIN, MEMBRANE_MAX)
            z = v[k] > th[k]
            v[k][z] = 0
            spikes[k][:, t] = z
            if membranes is not None:
                membranes[k][:, t] = v[k]
            a = z.astype(np.int64)
    total = sum((s.sum(axis=(1, 2)) for s in spikes), np.zeros(batch, dtype=np.int64))
    return IntegerRun(spikes[-1], spikes, membranes, total, events)


def simulate(target: Target, program: Program, inputs: np.ndarray, record: bool, chip_id: int | None) -> SimResult:
    """Run ``program`` on ``inputs`` (batch, time, channels) and package a SimResult.

    Raises:
        ProgrammingError: the Program is not a valid example-if8 image.
        ValueError: bad inputs (see :func:`check_inputs`).
    """
    weights, thresholds = unpack(program)
    counts = check_inputs(inputs, weights[0].shape[1])
    raw = run(weights, thresholds, counts, record)
    names = [layer["neuron"] for layer in program.meta["layers"]]
    spikes = dict(zip(names, raw.spikes, strict=True)) if record else {}
    states = {f"{n}.v": m for n, m in zip(names, raw.membranes, strict=True)} if raw.membranes is not None else {}
    return SimResult(
        device=target.name,
        dt=float(program.meta["dt"]),
        outputs=raw.outputs,
        spikes=spikes,
        states=states,
        counters={"spikes": raw.spike_count, "synaptic_events": raw.synaptic_events},
        chip_id=chip_id,
    )

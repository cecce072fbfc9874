"""The reference (float64) simulator of a :class:`~neuro_core.graph.Graph`: the IR's semantics.

One step ``t`` evaluates the nodes in :meth:`Graph.schedule` order. A node's input is the sum of its
predecessors' outputs: this step's along ordinary edges, the previous step's along back edges
(zero at ``t = 0``). Neuron updates use forward Euler as NIR does, with state starting at zero:

- LI:      ``v += dt/tau * (v_leak - v + r*I)``; output ``v``.
- IF:      ``v += r*I``; then spike and reset.
- LIF:     ``v += dt/tau * (v_leak - v + r*I)``; then spike and reset.
- CubaLIF: ``i += dt/tau_syn * (-i + w_in*I)``; ``v += dt/tau * (v_leak - v + r*i)`` (the new ``i``);
  then spike and reset.
- spike: ``z = v > v_threshold``; reset ``"zero"``: ``v = v_reset`` where ``z``;
  ``"subtract"``: ``v -= v_threshold`` where ``z``. The node outputs ``z`` (0.0 or 1.0).
- Linear/Affine with per-synapse delays ``d``: ``y[o] = sum_i W[o, i] * x[t - d[o, i], i]``.
- Delay: ``y[t] = x[t - d]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .graph import IF, LI, LIF, Affine, CubaLIF, Delay, Graph, Input, Linear, Output, Scale, Threshold


@dataclass
class ReferenceResult:
    """What :func:`simulate` returns.

    Attributes:
        outputs: per Output node, an array (batch, time, channels).
        spikes: per spiking node, its spikes (batch, time, n) as 0/1 floats.
        states: per stateful neuron node, membrane potential ``v`` after reset (batch, time, n)
            (only if ``record=True``).
        counters: ``"spikes"`` (all spiking nodes) and ``"synaptic_events"`` (input magnitude times
            the number of nonzero weights it reaches, over Linear/Affine nodes), each (batch,).
    """

    outputs: dict[str, np.ndarray]
    spikes: dict[str, np.ndarray] = field(default_factory=dict)
    states: dict[str, np.ndarray] = field(default_factory=dict)
    counters: dict[str, np.ndarray] = field(default_factory=dict)


def _as_btc(inputs: np.ndarray) -> np.ndarray:
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"inputs must be (batch, time, channels) or (time, channels), got shape {x.shape}")
    return x


def simulate(graph: Graph, inputs: np.ndarray | dict[str, np.ndarray], record: bool = False) -> ReferenceResult:
    """Run ``graph`` on ``inputs`` (batch, time, channels) with the reference semantics.

    ``inputs`` is one array for a graph with one Input node, or a dict by Input name.
    """
    names = graph.inputs()
    feed = inputs if isinstance(inputs, dict) else {names[0]: inputs}
    missing = set(names) - set(feed)
    if missing:
        raise ValueError(f"no input given for Input node(s) {sorted(missing)}")
    feed = {k: _as_btc(v) for k, v in feed.items()}
    batch, steps = next(iter(feed.values())).shape[:2]
    for name, x in feed.items():
        if x.shape[2] != graph.nodes[name].out_size:
            raise ValueError(
                f"input for {name!r} has {x.shape[2]} channels, the Input node takes {graph.nodes[name].out_size}"
            )
    order, back = graph.schedule()
    dt = graph.dt
    out: dict[str, np.ndarray] = {n: np.zeros((batch, graph.nodes[n].out_size)) for n in graph.nodes}
    prev = {n: v.copy() for n, v in out.items()}
    v_state = {n: np.zeros((batch, graph.nodes[n].out_size)) for n in graph.neuron_nodes()}
    i_state = {n: np.zeros_like(v_state[n]) for n, node in graph.nodes.items() if isinstance(node, CubaLIF)}
    history: dict[str, list[np.ndarray]] = {}  # input history of delayed nodes
    max_delay = {}
    for n, node in graph.nodes.items():
        d = getattr(node, "delay", None)
        if d is not None:
            max_delay[n] = int(d.max(initial=0))
            history[n] = []
    result = ReferenceResult({n: np.zeros((batch, steps, graph.nodes[n].out_size)) for n in graph.outputs()})
    spiking = [n for n, node in graph.nodes.items() if node.spiking]
    for n in spiking:
        result.spikes[n] = np.zeros((batch, steps, graph.nodes[n].out_size))
    if record:
        for n in v_state:
            result.states[n] = np.zeros((batch, steps, graph.nodes[n].out_size))
    preds = {n: graph.predecessors(n) for n in graph.nodes}
    fan_out = {n: (node.weight != 0).sum(axis=0) for n, node in graph.nodes.items() if isinstance(node, Linear)}
    synaptic_events = np.zeros(batch)
    for t in range(steps):
        for n in order:
            node = graph.nodes[n]
            if isinstance(node, Input) and not isinstance(node, Output):
                out[n] = feed[n][:, t]
                continue
            x = np.zeros((batch, node.in_size))
            for p in preds[n]:
                x = x + (prev[p] if (p, n) in back else out[p])
            if n in fan_out:
                synaptic_events += np.abs(x) @ fan_out[n]
            if n in history:
                history[n].append(x)
                del history[n][: -(max_delay[n] + 1)]
            out[n] = _step(node, n, x, t, dt, v_state, i_state, history)
            if isinstance(node, Output):
                result.outputs[n][:, t] = out[n]
            if n in result.spikes:
                result.spikes[n][:, t] = out[n]
            if record and n in v_state:
                result.states[n][:, t] = v_state[n]
        prev = {k: v.copy() for k, v in out.items()}
    result.counters["synaptic_events"] = synaptic_events
    result.counters["spikes"] = sum((s.sum(axis=(1, 2)) for s in result.spikes.values()), np.zeros(batch))
    return result


def _delayed(hist: list[np.ndarray], delay: np.ndarray) -> np.ndarray:
    """x[t - delay] per channel from the history (last entry is this step); zero before t = 0."""
    stacked = np.stack(hist[::-1], axis=0)  # (age, batch, channels)
    ages = delay.astype(int)
    valid = ages < stacked.shape[0]
    picked = stacked[np.minimum(ages, stacked.shape[0] - 1), :, np.arange(ages.shape[-1])]  # (ch, batch)
    return (picked * valid[:, None]).T


def _step(node, name, x, t, dt, v_state, i_state, history):  # type: ignore[no-untyped-def]
    if isinstance(node, Output):
        return x
    if isinstance(node, Linear):
        if node.delay is None or not np.any(node.delay):
            y = x @ node.weight.T
        else:
            stacked = np.stack(history[name][::-1], axis=0)  # (age, batch, in)
            y = np.zeros((x.shape[0], node.out_size))
            for age in np.unique(node.delay).astype(int):
                if age < stacked.shape[0]:
                    y += stacked[age] @ np.where(node.delay == age, node.weight, 0.0).T
        return y + node.bias if isinstance(node, Affine) else y
    if isinstance(node, Scale):
        return x * node.scale
    if isinstance(node, Threshold):
        return (x > node.threshold).astype(np.float64)
    if isinstance(node, Delay):
        return _delayed(history[name], node.delay)
    v = v_state[name]
    if isinstance(node, CubaLIF):
        i = i_state[name]
        i += dt / node.tau_syn * (-i + node.w_in * x)
        v += dt / node.tau * (node.v_leak - v + node.r * i)
    elif isinstance(node, LIF):
        v += dt / node.tau * (node.v_leak - v + node.r * x)
    elif isinstance(node, LI):
        v += dt / node.tau * (node.v_leak - v + node.r * x)
        return v.copy()
    elif isinstance(node, IF):
        v += node.r * x
    z = v > node.v_threshold
    if node.reset == "zero":
        v[...] = np.where(z, node.v_reset, v)
    else:
        v -= z * node.v_threshold
    return z.astype(np.float64)

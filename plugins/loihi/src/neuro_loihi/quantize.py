"""Float graph -> Loihi integer formats (weights as 8-bit mantissa x 2**weight_exp, 12-bit decays, ...).

How a neuron population maps (docs/loihi.md, "Quantization"): with ``alpha = dt / tau_syn`` and
``beta = dt / tau`` the IR's Euler updates ``i += alpha (w_in I - i)`` and ``v += beta (v_leak - v + r i)``
become Lava's ``u = u (1 - (du + 1)/4096) + 64 a_in`` and ``v = v (1 - dv/4096) + u + bias`` with

- ``du = round(4096 alpha) - 1`` (CubaLIF) or 4095 (LIF, IF, LI: no synaptic memory),
- ``dv = round(4096 beta)`` (LIF, CubaLIF, LI) or 0 (IF),
- voltage scale per neuron ``sigma_j = theta_j / (64 vth)``: the float threshold ``theta_j`` becomes the
  shared integer ``vth`` (per-neuron thresholds are folded into the rows of the incoming weights),
- chip weights ``W_int 2**e = G_j W[j, :] / (64 sigma_j)`` with the input gain ``G_j`` of the neuron
  (``beta r alpha w_in`` for CubaLIF, ``beta r`` for LIF and LI, ``r`` for IF),
- ``bias_mant << bias_exp = (beta v_leak + gain * Affine bias) / sigma_j``.

``vth`` is ``2**(17 - headroom_bits)`` (default 2**11) so u and v can hold ``2**headroom_bits``
thresholds before they wrap or saturate; each connection's exponent ``e`` is the smallest in -8..7
that fits its largest weight into the 8-bit mantissa (even values for mixed-sign weights, as Lava
drops their LSB). A graph whose nodes already carry complete Loihi ``int_params`` (exported by
:class:`~neuro_loihi.model.LoihiModel` or imported from netx) is taken as is: its integers are the
deployment, so training and chip agree exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
from neuro_core.errors import GraphError, QuantizationError
from neuro_core.graph import IF, LI, LIF, Affine, CubaLIF, Graph, Input, Linear, Node, Output
from neuro_core.target import Target

from .target import ACT_SHIFT, DECAY_UNITY

OPTIONS = {"per_channel", "headroom_bits"}
POP_KEYS = ("du", "dv", "vth", "bias_mant", "bias_exp")
VTH_MAX = (1 << 17) - 1
WEIGHT_EXP_RANGE = (-8, 7)
BIAS_MANT_MAX = 4095


def check_options(device: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate quantizer options; unknown ones are a ValueError naming them."""
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} for device {device!r}; allowed: {sorted(OPTIONS)}")
    if options.get("per_channel", False):
        raise QuantizationError(
            f"per_channel=True is not available on {device!r}: Loihi shares one weight exponent per connection "
            "and one threshold per population (per-neuron thresholds are folded into the weights anyway)"
        )
    headroom = options.get("headroom_bits", 6)
    if not isinstance(headroom, int) or not 0 <= headroom <= 16:
        raise ValueError(f"headroom_bits must be an integer in 0..16, got {headroom!r}")
    return {"headroom_bits": headroom}


def decays(node: Node, dt: float) -> tuple[int, int]:
    """(du, dv) of a neuron node for step ``dt`` (seconds); QuantizationError if tau is not uniform."""
    du, dv = DECAY_UNITY - 1, 0
    if isinstance(node, CubaLIF):
        du = int(np.clip(round(DECAY_UNITY * dt / _uniform(node, "tau_syn")) - 1, 0, DECAY_UNITY - 1))
    if isinstance(node, (LIF, LI)):
        dv = int(np.clip(round(DECAY_UNITY * dt / _uniform(node, "tau")), 0, DECAY_UNITY - 1))
    return du, dv


def _uniform(node: Node, key: str) -> float:
    values = np.asarray(getattr(node, key), float)
    if values.size and not np.allclose(values, values.flat[0], rtol=1e-9, atol=0.0):
        raise QuantizationError(
            f"{node.kind}.{key} must be the same for every neuron of a Loihi population (one {key} per process), "
            f"got values from {values.min()} to {values.max()}"
        )
    return float(values.flat[0])


def input_gain(node: Node, dt: float) -> np.ndarray:
    """G_j: float change of v per unit of input current I, per neuron (n,)."""
    n = node.out_size
    if isinstance(node, CubaLIF):
        return dt / node.tau * node.r * (dt / node.tau_syn) * node.w_in
    if isinstance(node, (LIF, LI)):
        return dt / node.tau * node.r
    if isinstance(node, IF):
        return np.asarray(node.r, float) * np.ones(n)
    raise GraphError(f"node kind {node.kind} is not a Loihi neuron")


def _has_loihi_ints(graph: Graph, name: str) -> bool:
    node = graph.nodes[name]
    if not all(k in node.int_params for k in POP_KEYS):
        return False
    return all(
        "weight" in graph.nodes[p].int_params and "weight_exp" in graph.nodes[p].int_params
        for p in graph.predecessors(name)
    )


def bias_split(bias: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer bias -> (bias_mant, bias_exp) with |mant| <= 4095 and the smallest exp in 0..7 per neuron."""
    b = np.asarray(bias, float)
    exp = np.zeros(b.shape, np.int64)
    mant = np.round(b).astype(np.int64)
    for e in range(8):
        m = np.round(b / 2**e).astype(np.int64)
        take = (np.abs(mant) > BIAS_MANT_MAX) & (np.abs(m) <= BIAS_MANT_MAX)
        mant = np.where(take, m, mant)
        exp = np.where(take, e, exp)
    if np.any(np.abs(mant) > BIAS_MANT_MAX):
        worst = float(np.abs(b).max())
        raise QuantizationError(
            f"{where}: bias {worst:.6g} (chip units) exceeds bias_mant 13 bits << bias_exp 7 = {BIAS_MANT_MAX << 7}"
        )
    return mant, exp


def mantissa(values: np.ndarray, mixed: bool) -> np.ndarray:
    """Round float chip weights to the mantissa grid: even integers for mixed sign (Lava drops the LSB)."""
    if mixed:
        return (2 * np.round(values / 2)).astype(np.int64)
    return np.round(values).astype(np.int64)


def quantize_graph(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> Graph:
    """The Loihi-format copy of ``graph`` (see the module docstring). Never mutates ``graph``.

    Raises:
        QuantizationError: naming node, parameter, limit and value (non-uniform tau, subtractive reset,
            v_reset != 0, a bias beyond 13+7 bits, weights too large for the threshold).
        GraphError: a node type or topology Loihi cannot express.
    """
    opts = check_options(device, options)
    vth_target = 1 << (17 - opts["headroom_bits"])
    dt = graph.dt
    new_nodes: dict[str, Node] = dict(graph.nodes)
    for name, node in graph.nodes.items():
        if not isinstance(node, (Input, Output, Linear, IF, LI)):
            raise GraphError(
                f"node {name!r} of type {node.kind} has no Loihi equivalent; supported: {sorted(target.node_types)}"
            )
    for name in graph.neuron_nodes():
        node = graph.nodes[name]
        preds = graph.predecessors(name)
        for p in preds:
            if not isinstance(graph.nodes[p], Linear):
                raise GraphError(
                    f"population {name!r} is fed by {p!r} ({graph.nodes[p].kind}); on Loihi neurons are fed "
                    "through a Linear/Affine connection"
                )
        for p in preds:
            if len(graph.successors(p)) != 1:
                raise GraphError(
                    f"connection {p!r} feeds {graph.successors(p)}; on Loihi a connection feeds one population"
                )
        if _has_loihi_ints(graph, name):
            continue  # already in Loihi integers (LoihiModel export, netx import): keep them exactly
        if isinstance(node, IF) and not isinstance(node, LI):
            if node.reset != "zero":
                raise QuantizationError(
                    f"node {name!r}: reset {node.reset!r} is not available (Lava's bit-accurate LIF resets v to 0)"
                )
            if np.any(np.asarray(node.v_reset) != 0):
                raise QuantizationError(
                    f"node {name!r}: v_reset must be 0 on Loihi (v is reset to 0), "
                    f"got up to {np.abs(np.asarray(node.v_reset)).max()}"
                )
        du, dv = decays(node, dt)
        gain = input_gain(node, dt)
        n = node.out_size
        is_readout = isinstance(node, LI)
        if is_readout:
            theta = np.ones(n)
        else:
            theta = np.asarray(cast(IF, node).v_threshold, np.float64) * np.ones(n)
            if np.any(theta <= 0):
                raise QuantizationError(f"node {name!r}: v_threshold must be > 0 on Loihi (spike if v > vth << 6)")
        # normalised chip-weight magnitude per connection: W[j, :] * G_j / theta_j
        linears = {p: cast(Linear, graph.nodes[p]) for p in preds}
        normalised = {p: lin.weight * (gain / theta)[:, None] for p, lin in linears.items()}
        exps: dict[str, int] = {}
        if is_readout:
            # no threshold: scale so the largest weight uses the full mantissa at weight_exp 0
            largest = max((float(np.abs(w).max(initial=0.0)) for w in normalised.values()), default=0.0)
            vth = VTH_MAX
            scale_v = 254.0 / largest if largest > 0 else 1.0  # chip units per normalised unit (= 64 vth / theta)
            exps = dict.fromkeys(preds, 0)
        else:
            vth = vth_target
            for p, w in normalised.items():
                m = float(np.abs(w).max(initial=0.0))
                if m == 0:
                    exps[p] = 0
                    continue
                e = int(np.clip(math.ceil(math.log2(vth_target * m / 254.0)), *WEIGHT_EXP_RANGE))
                exps[p] = e
                vth = min(vth, math.floor(254.0 * 2**e / m))
            if vth < 1:
                raise QuantizationError(
                    f"node {name!r}: weights are too large relative to v_threshold for Loihi (vth would be {vth}); "
                    "lower the weights or raise the threshold"
                )
            scale_v = float(vth)
        # chip voltage units per float volt, per neuron: 64 vth / theta_j
        per_volt = (1 << ACT_SHIFT) * scale_v / theta if not is_readout else (1 << ACT_SHIFT) * scale_v * np.ones(n)
        bias_float = np.zeros(n)
        if isinstance(node, (LIF, LI)):
            bias_float = bias_float + dt / node.tau * np.asarray(node.v_leak)
        for lin in linears.values():
            if isinstance(lin, Affine) and np.any(lin.bias):
                # a constant input current: its steady-state drive of v per step (exact for LIF/IF, whose u
                # has no memory; for CubaLIF the current's rise over ~tau_syn is not reproduced)
                drive = gain * lin.bias
                bias_float = bias_float + (drive / (dt / node.tau_syn) if isinstance(node, CubaLIF) else drive)
        bias_mant, bias_exp = bias_split(bias_float * per_volt, f"node {name!r}")
        for p, lin in linears.items():
            e = exps[p]
            chip = normalised[p] * scale_v / 2**e
            w_signs = lin.weight
            mixed = bool(w_signs.min(initial=0) < 0 < w_signs.max(initial=0))
            w_int = mantissa(chip, mixed)
            w_int = np.clip(w_int, -256 if mixed else -255, 254 if mixed else 255)
            # delays are kept even beyond 62: the mapper reports them with every other violation
            delay = None if lin.delay is None else np.round(lin.delay).astype(np.int64)
            # dequantized float weights: what the integers compute, in the graph's units
            w_deq = w_int * 2.0**e / (gain / theta * scale_v)[:, None]
            w_deq = np.where(np.isfinite(w_deq), w_deq, 0.0)
            ints = {"weight": w_int, "weight_exp": np.array([e])}
            if delay is not None:
                ints["delay"] = delay
            scales = {}
            row = theta / (gain * scale_v)
            if np.allclose(row, row[0]):
                scales["weight"] = float(2.0**e * row[0])
            new_nodes[p] = lin.with_params(weight=w_deq, int_params=ints, scales=scales)
        changes: dict[str, Any] = {
            "int_params": {
                "du": np.array([du]),
                "dv": np.array([dv]),
                "vth": np.array([vth]),
                "bias_mant": bias_mant,
                "bias_exp": bias_exp,
            },
            "scales": {"vth": float(np.mean(theta)) / vth if not is_readout else 1.0 / float(per_volt[0])},
        }
        if isinstance(node, CubaLIF):
            changes["tau_syn"] = np.full(n, dt * DECAY_UNITY / (du + 1))
        if isinstance(node, (LIF, LI)) and dv > 0:
            changes["tau"] = np.full(n, dt * DECAY_UNITY / dv)
        if isinstance(node, (LIF, LI)):
            beta = dt / changes.get("tau", node.tau)
            changes["v_leak"] = (bias_mant << bias_exp) / per_volt / beta
        new_nodes[name] = node.with_params(**changes)
    return Graph(new_nodes, graph.edges, graph.dt, {**graph.metadata, "quantized_for": device})

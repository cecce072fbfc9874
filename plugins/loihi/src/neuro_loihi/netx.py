"""Import and export of lava-dl ``netx`` HDF5 networks (the files slayer's ``export_hdf5`` writes).

Layout (lava-dl: ``lava.lib.dl.netx.hdf5.Network``, ``netx.utils.NetDict``, slayer
``block/base.py`` ``export_hdf5``): a group ``layer`` with one group per block, named ``"0"``,
``"1"``, ... in order. Each block holds ``type`` (a 1-element ``S10`` string dataset: ``input``,
``dense``, ...), ``shape``, and for ``dense`` blocks ``inFeatures``, ``outFeatures``, ``weight``
(out, in) integer weights in dendritic-input units, an optional ``bias``, an optional ``delay``
(one *axonal* delay per neuron of the block, applied to its outgoing spikes) and the neuron's
device parameters under ``neuron/``: ``type`` (``CUBA``), ``iDecay``, ``vDecay``, ``vThMant``,
``refDelay``, ``gradedSpike``.

netx deploys a CUBA dense block as Lava ``LIF(vth=vThMant, du=iDecay - 1, dv=vDecay, bias_mant=bias,
bias_exp=6)`` fed by ``Dense`` with the weights of ``optimize_weight_bits(weight)`` (a lossless
rescaling to ``weight << s`` with ``weight_exp = -s``); :func:`read_netx` builds exactly that, so a
file runs here bit-for-bit as netx runs it in Lava. Axonal delays become per-synapse delays of the
next connection. Not supported (a clear error): conv/pool/flatten blocks, SDNN/sigma-delta neurons,
input blocks with their own neurons, ``iDecay = 0`` or ``vDecay = 4096`` (outside Loihi's 12-bit du/dv).

h5py is imported only here (``pip install h5py``).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from neuro_core.errors import FileFormatError
from neuro_core.graph import CubaLIF, Graph, Input, Linear, Node, Output

from .program import network_of, sign_mode_of
from .sim import lava_weights
from .target import ACT_SHIFT, DECAY_UNITY, MAX_DELAY

NETX_BIAS_EXP = 6


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:
        raise ImportError("reading and writing netx HDF5 files needs h5py: pip install h5py") from exc
    return h5py


def optimize_weight_bits(weight: np.ndarray) -> tuple[np.ndarray, int, int, str]:
    """lava-dl netx's ``optimize_weight_bits``: (weights << s, num_weight_bits, weight_exp = -s, sign_mode)."""
    weight = np.asarray(weight, np.int64)
    if weight.size == 0 or (weight.max() == 0 and weight.min() == 0):
        return weight, 8, 0, "excitatory"
    hi, lo = int(weight.max()), int(weight.min())
    if (hi > 254 and lo < 0) or (lo < -256 and hi > 0):
        weight = np.clip(weight, -256, 254)
        hi, lo = int(weight.max()), int(weight.min())
    if hi < 0:
        mode, signed, scale = "inhibitory", 0, -256 / lo
    elif lo >= 0:
        mode, signed, scale = "excitatory", 0, 255 / hi
    else:
        mode, signed, scale = "mixed", 1, min(127 / hi, -128 / lo)
    scale_bits = math.floor(math.log2(scale)) + signed
    n = 8
    while n > 0 and np.sum(np.abs(weight / 2**n - np.round(weight / 2**n))) != 0:
        n -= 1
    n -= signed
    return weight << scale_bits if scale_bits >= 0 else weight >> -scale_bits, 8 - scale_bits - n, -scale_bits, mode


def _text(dataset: Any) -> str:
    value = dataset[()]
    if getattr(value, "shape", ()) != ():
        value = value[0]
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def read_netx(path: str | os.PathLike[str], dt: float = 1e-3) -> Graph:
    """A Loihi-quantized graph (Input -> [Linear -> CubaLIF]* -> Output) from a netx HDF5 file.

    Raises:
        FileFormatError: naming the file, the block and what is unsupported or malformed.
        ImportError: h5py is not installed.
    """
    h5py = _h5py()
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise FileFormatError(f"{path}: not an HDF5 file ({exc})") from exc
    with handle:
        if "layer" not in handle:
            raise FileFormatError(f"{path}: no 'layer' group: not a netx network file")
        layers = handle["layer"]
        order = sorted(layers.keys(), key=int)
        nodes: dict[str, Node] = {}
        edges: list[tuple[str, str]] = []
        source: str | None = None
        pending_delay: np.ndarray | None = None
        for key in order:
            block = layers[key]
            kind = _text(block["type"])
            where = f"{path}: block {key} ({kind})"
            if kind == "input":
                if "neuron" in block or "weight" in block:
                    raise FileFormatError(f"{where}: input blocks with their own neurons are not supported")
                nodes["input"] = Input((int(np.prod(block["shape"][()])),))
                source = "input"
                continue
            if kind != "dense":
                raise FileFormatError(f"{where}: only 'input' and 'dense' blocks are supported")
            neuron = block["neuron"]
            if _text(neuron["type"]) not in ("CUBA", "LOIHI"):
                raise FileFormatError(f"{where}: neuron type {_text(neuron['type'])!r} is not supported (CUBA only)")
            weight = np.asarray(block["weight"][()]).astype(np.int64)
            n_out = int(np.prod(block["shape"][()]))
            weight = weight.reshape(n_out, -1)
            if source is None:
                nodes["input"] = Input((weight.shape[1],))
                source = "input"
            i_decay, v_decay = int(neuron["iDecay"][()]), int(neuron["vDecay"][()])
            if not 1 <= i_decay <= DECAY_UNITY or not 0 <= v_decay < DECAY_UNITY:
                raise FileFormatError(
                    f"{where}: iDecay {i_decay} / vDecay {v_decay} outside Loihi's 12-bit du = iDecay - 1 in 0..4095, "
                    "dv in 0..4095"
                )
            du, dv, vth = i_decay - 1, v_decay, int(neuron["vThMant"][()])
            bias_mant = (
                np.asarray(block["bias"][()]).astype(np.int64).reshape(-1)
                if "bias" in block
                else np.zeros(n_out, np.int64)
            )
            shifted, _, weight_exp, mode = optimize_weight_bits(weight)
            if not np.array_equal(lava_weights(shifted, mode, 8), shifted):
                raise FileFormatError(f"{where}: weights do not fit Loihi's 8-bit synapse losslessly")
            delay = (
                np.zeros(weight.shape, np.int64)
                if pending_delay is None
                else np.broadcast_to(pending_delay, weight.shape)
            )
            pending_delay = np.asarray(block["delay"][()]).astype(np.int64).reshape(-1) if "delay" in block else None
            name = f"layer{key}"
            lif = _cuba_node(n_out, du, dv, vth, bias_mant, dt)
            gain = float(_gain(du, dv))
            w_float = shifted * 2.0**weight_exp / (gain * vth if vth > 0 else 1.0)
            nodes[f"{name}.dense"] = Linear(
                w_float,
                delay,
                int_params={"weight": shifted, "weight_exp": np.array([weight_exp]), "delay": np.array(delay)},
            )
            nodes[name] = lif
            edges += [(source, f"{name}.dense"), (f"{name}.dense", name)]
            source = name
        if source is None or source == "input":
            raise FileFormatError(f"{path}: the file holds no dense block")
        nodes["output"] = Output((nodes[source].out_size,))
        edges.append((source, "output"))
    return Graph(nodes, tuple(edges), dt, {"imported_from": "lava-dl netx hdf5"})


def _gain(du: int, dv: int) -> float:
    return (max(dv, 1) / DECAY_UNITY) * ((du + 1) / DECAY_UNITY)


def _cuba_node(n: int, du: int, dv: int, vth: int, bias_mant: np.ndarray, dt: float) -> CubaLIF:
    """A CubaLIF carrying the netx integers, with float parameters that approximate them (threshold 1)."""
    ones = np.ones(n)
    per_volt = float((1 << ACT_SHIFT) * max(vth, 1))
    tau = dt * DECAY_UNITY / max(dv, 1) if dv > 0 else dt * DECAY_UNITY * 1e6  # dv = 0: no leak
    beta = dt / tau
    return CubaLIF(
        r=ones,
        v_threshold=ones,
        tau=ones * tau,
        tau_syn=ones * dt * DECAY_UNITY / (du + 1),
        w_in=ones,
        v_leak=(bias_mant << NETX_BIAS_EXP) / per_volt / beta,
        int_params={
            "du": np.array([du]),
            "dv": np.array([dv]),
            "vth": np.array([vth]),
            "bias_mant": bias_mant,
            "bias_exp": np.full(n, NETX_BIAS_EXP),
        },
        scales={"vth": 1.0 / max(vth, 1)},
    )


def write_netx(graph: Graph, path: str | os.PathLike[str]) -> None:
    """Write a Loihi-quantized feed-forward chain as a netx HDF5 file lava-dl's netx loads.

    Raises:
        FileFormatError: something netx cannot express, naming it: a non-chain topology, a
            connection whose effective weights are not integers in [-256, 254], per-synapse delays
            that are not one axonal delay per source neuron (or delays on the input), a bias that is
            not a multiple of 64 within 13 bits, an LI readout.
    """
    h5py = _h5py()
    net = network_of(graph)
    if len(net.inputs) != 1 or len(net.outputs) != 1:
        raise FileFormatError("netx export needs one Input and one Output")
    blocks = []
    for p, pop in enumerate(net.populations):
        conns = [c for c in net.connections if c.dst == p]
        expected = ("input", 0) if p == 0 else ("pop", p - 1)
        if len(conns) != 1 or (conns[0].src_kind, conns[0].src) != expected:
            raise FileFormatError(f"population {pop.name!r}: netx holds feed-forward chains of one dense block each")
        if pop.readout != "spikes":
            raise FileFormatError(f"population {pop.name!r}: LI readouts have no netx equivalent")
        conn = conns[0]
        effective = lava_weights(conn.weights, sign_mode_of(conn.weights), 8).astype(float) * 2.0**conn.weight_exp
        if (
            not np.all(effective == np.round(effective))
            or effective.min(initial=0) < -256
            or effective.max(initial=0) > 254
        ):
            raise FileFormatError(
                f"connection {conn.name!r}: effective weights (mantissa x 2**{conn.weight_exp}) must be integers in "
                "[-256, 254] for netx; quantize with a threshold that gives weight_exp 0"
            )
        delays = np.asarray(conn.delays)
        if delays.size and np.any(delays != delays[:1, :]):
            raise FileFormatError(
                f"connection {conn.name!r}: netx stores one axonal delay per source neuron, not per synapse"
            )
        if p == 0 and np.any(delays):
            raise FileFormatError("netx has no delays on the network input")
        bias = np.where(pop.bias_exp >= 0, pop.bias_mant << np.maximum(pop.bias_exp, 0), pop.bias_mant)
        if np.any(bias % (1 << NETX_BIAS_EXP)) or np.any(np.abs(bias >> NETX_BIAS_EXP) > 4095):
            raise FileFormatError(f"population {pop.name!r}: netx biases are bias_mant << 6 with 13-bit mantissas")
        blocks.append((pop, effective.astype(np.int64), bias >> NETX_BIAS_EXP, delays[0] if delays.size else None))
    with h5py.File(path, "w") as handle:
        layer = handle.create_group("layer")
        for k, (pop, weight, bias, _) in enumerate(blocks):
            group = layer.create_group(str(k))
            group.create_dataset("type", (1,), "S10", [b"dense"])
            group.create_dataset("shape", data=np.array([pop.n]))
            group.create_dataset("inFeatures", data=weight.shape[1])
            group.create_dataset("outFeatures", data=weight.shape[0])
            group.create_dataset("weight", data=weight)
            if np.any(bias):
                group.create_dataset("bias", data=bias)
            axonal = blocks[k + 1][3] if k + 1 < len(blocks) else None
            if axonal is not None and np.any(axonal):
                if axonal.max() > MAX_DELAY:
                    raise FileFormatError(f"delays beyond {MAX_DELAY} steps cannot be exported")
                group.create_dataset("delay", data=axonal.astype(float))
            for name, value in {
                "type": "CUBA",
                "iDecay": pop.du + 1,
                "vDecay": pop.dv,
                "vThMant": pop.vth,
                "refDelay": 1,
                "gradedSpike": False,
            }.items():
                group.create_dataset(f"neuron/{name}", data=value)

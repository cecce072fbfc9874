"""lava-dl netx HDF5: files in slayer's layout import bit-exactly, and export/import round-trips."""

from __future__ import annotations

from pathlib import Path

import neuro_core
import numpy as np
import pytest
from conftest import spikes
from neuro_core.errors import FileFormatError
from neuro_loihi.netx import optimize_weight_bits, read_netx, write_netx
from neuro_loihi.program import Connection, Network, Population
from neuro_loihi.sim import simulate_network

h5py = pytest.importorskip("h5py")


def _slayer_file(path: Path) -> dict[str, np.ndarray]:
    """A file written the way slayer's Dense block export_hdf5 writes one (700 -> 16 -> 4 style, smaller)."""
    rng = np.random.default_rng(0)
    w0 = 2 * rng.integers(-40, 41, (16, 12))  # slayer quantizes mixed weights with step 2
    w1 = 2 * rng.integers(-60, 61, (4, 16))
    delay0 = rng.integers(0, 10, 16).astype(float)  # axonal delay of layer 0's neurons
    bias1 = rng.integers(-20, 20, 4)
    with h5py.File(path, "w") as handle:
        layer = handle.create_group("layer")
        for k, (w, extra) in enumerate([(w0, {"delay": delay0}), (w1, {"bias": bias1})]):
            g = layer.create_group(str(k))
            g.create_dataset("type", (1,), "S10", [b"dense"])
            g.create_dataset("shape", data=np.array([w.shape[0]]))
            g.create_dataset("inFeatures", data=w.shape[1])
            g.create_dataset("outFeatures", data=w.shape[0])
            g.create_dataset("weight", data=w.astype(float))
            for key, value in extra.items():
                g.create_dataset(key, data=value)
            neuron: dict[str, object] = {
                "type": "CUBA",
                "iDecay": 1024,
                "vDecay": 128,
                "vThMant": 80,
                "refDelay": 1,
                "gradedSpike": False,
            }
            for name, setting in neuron.items():
                g.create_dataset(f"neuron/{name}", data=setting)
    return {"w0": w0, "w1": w1, "delay0": delay0, "bias1": bias1}


def test_a_slayer_export_runs_as_netx_runs_it(tmp_path: Path) -> None:
    path = tmp_path / "net.net"
    spec = _slayer_file(path)
    graph = read_netx(path)
    chip = neuro_core.device("loihi")
    x = spikes(2, 60, 12, 0.4, seed=1)
    got = chip.simulate(chip.compile(graph), x)
    # what netx builds in Lava: LIF(vth=80, du=1023, dv=128, bias_exp=6) fed by Dense(optimize_weight_bits(w))
    conns: list[Connection] = []
    for k, (w, delay) in enumerate([(spec["w0"], 0), (spec["w1"], np.broadcast_to(spec["delay0"], spec["w1"].shape))]):
        shifted, bits, exp, mode = optimize_weight_bits(w)
        conns.append(
            Connection(
                f"c{k}", "input" if k == 0 else "pop", 0, k, shifted, np.zeros(w.shape, int) + delay, exp, bits, mode
            )
        )
    pops = [
        Population("l0", 16, 1023, 128, 80, np.zeros(16, int), np.full(16, 6)),
        Population("l1", 4, 1023, 128, 80, spec["bias1"], np.full(4, 6)),
    ]
    expected = simulate_network(Network([("in", 12)], pops, conns, [("out", 1, "spikes")], 1e-3), x)
    assert expected.outputs.sum() > 5
    np.testing.assert_array_equal(got.outputs, expected.outputs)


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    first = tmp_path / "a.net"
    _slayer_file(first)
    graph = read_netx(first)
    second = tmp_path / "b.net"
    write_netx(graph, second)
    again = read_netx(second)
    chip = neuro_core.device("loihi")
    assert chip.compile(graph).same_image(chip.compile(again))


def test_unsupported_blocks_are_named(tmp_path: Path) -> None:
    path = tmp_path / "conv.net"
    with h5py.File(path, "w") as handle:
        g = handle.create_group("layer").create_group("0")
        g.create_dataset("type", (1,), "S10", [b"conv"])
    with pytest.raises(FileFormatError, match="conv"):
        read_netx(path)
    (tmp_path / "junk.net").write_bytes(b"not hdf5")
    with pytest.raises(FileFormatError, match="HDF5"):
        read_netx(tmp_path / "junk.net")


def test_per_synapse_delays_cannot_be_exported(tmp_path: Path) -> None:
    from conftest import chain_graph

    chip = neuro_core.device("loihi")
    with pytest.raises(FileFormatError):
        write_netx(chip.quantize(chain_graph(delays=True)), tmp_path / "x.net")

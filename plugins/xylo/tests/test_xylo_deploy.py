"""quantize, map, program and the virtual chip: design rules, refusals, and what reaches a connection."""

from __future__ import annotations

import numpy as np
import pytest
from neuro_core import device
from neuro_core.errors import (
    ChipConnectionError,
    FileFormatError,
    GraphError,
    MappingError,
    ProgrammingError,
    QuantizationError,
)
from neuro_core.graph import Graph, Input, Linear, Output
from neuro_core.program import Program
from neuro_xylo.program import XyloImage
from xylo_helpers import DT, events, population, xylo_graph


def test_oversized_network_lists_every_violation() -> None:
    chip = device("xylo-imu")
    big = xylo_graph(20, 600, 20, seed=0, recurrent=False)
    with pytest.raises(MappingError) as caught:
        chip.map(chip.quantize(big))
    constraints = {v.constraint for v in caught.value.violations}
    # generic (inputs, hidden neurons, outputs) and Xylo's own (128-neuron input and output windows)
    assert {"input_channels", "neurons", "output_channels", "input_window", "output_window"} <= constraints
    window = next(v for v in caught.value.violations if v.constraint == "input_window")
    assert window.value == "neurons 0..599" and "0..127" in window.limit


def test_audio2_recurrent_fan_out_is_limited_to_64() -> None:
    chip = device("xylo-audio2")
    graph = xylo_graph(4, 80, 2, seed=1, recurrent=False)
    dense = Linear(np.full((80, 80), 0.1))
    graph = Graph({**graph.nodes, "w_rec": dense}, (*graph.edges, ("hidden", "w_rec"), ("w_rec", "hidden")), DT)
    with pytest.raises(MappingError) as caught:
        chip.map(chip.quantize(graph))
    fan_out = [v for v in caught.value.violations if v.constraint == "max_recurrent_fan_out"]
    assert len(fan_out) == 80 and fan_out[0].limit == 64 and fan_out[0].value == 80
    device("xylo-imu").map(device("xylo-imu").quantize(graph))  # IMU: dense hidden weights, no such rule


def test_readout_cannot_be_recurrent_nor_fed_by_the_input() -> None:
    chip = device("xylo-audio2")
    nodes = {
        "input": Input(shape=(3,)),
        "w_in": Linear(np.ones((4, 3))),
        "hidden": population(4),
        "w_out": Linear(np.ones((2, 4))),
        "skip": Linear(np.ones((2, 3))),
        "back": Linear(np.ones((4, 2))),
        "readout": population(2),
        "output": Output(shape=(2,)),
    }
    edges = [
        ("input", "w_in"), ("w_in", "hidden"), ("hidden", "w_out"), ("w_out", "readout"), ("readout", "output"),
        ("input", "skip"), ("skip", "readout"), ("readout", "back"), ("back", "hidden"),
    ]  # fmt: skip
    with pytest.raises(MappingError) as caught:
        chip.map(chip.quantize(Graph(nodes, tuple(edges), DT)))
    assert {"input_to_hidden_only", "output_not_recurrent"} <= {v.constraint for v in caught.value.violations}


def test_quantization_errors_name_node_parameter_limit_and_value() -> None:
    chip = device("xylo-audio2")
    graph = xylo_graph(4, 8, 2, seed=0)
    slow = population(8).with_params(tau=np.full(8, DT * 2.0**20))
    with pytest.raises(QuantizationError, match=r"'hidden'.*'tau'.*\[0, 15\]"):
        chip.quantize(graph.replace_nodes(hidden=slow))
    fast_syn = population(8).with_params(tau_syn=np.full(8, DT))
    with pytest.raises(QuantizationError, match=r"'tau_syn'.*\[1, 15\]"):
        chip.quantize(graph.replace_nodes(hidden=fast_syn))
    with pytest.raises(GraphError, match="subtraction"):
        chip.quantize(graph.replace_nodes(hidden=population(8).with_params(reset="zero")))
    with pytest.raises(ValueError, match="bogus"):
        chip.quantize(graph, bogus=1)


def test_quantize_keeps_biases_scales_thresholds_and_never_wraps() -> None:
    chip = device("xylo-audio2")
    graph = xylo_graph(4, 8, 2, seed=3, scale=5.0)
    biased = graph.nodes["hidden"].with_params(v_leak=np.linspace(-1, 1, 8) * 2.0**4)  # bias = v_leak / 2**dash_mem
    q = chip.quantize(graph.replace_nodes(hidden=biased))
    w = q.nodes["w_in"].int_params["weight"]
    assert np.abs(w).max() == 127 and w.dtype.kind == "i"
    scale = q.nodes["w_in"].scales["weight"]
    assert q.nodes["hidden"].int_params["threshold"][0] == round(1.0 / scale)  # thresholds scaled with their inputs
    np.testing.assert_array_equal(q.nodes["hidden"].int_params["bias"], np.round(np.linspace(-1, 1, 8) / scale))
    again = chip.quantize(q)  # a quantized graph is canonical: quantizing it again changes nothing
    for name in ("w_in", "w_rec", "w_out"):
        np.testing.assert_array_equal(again.nodes[name].int_params["weight"], q.nodes[name].int_params["weight"])


def test_per_channel_quantization_uses_each_neurons_full_range() -> None:
    chip = device("xylo-audio2")
    graph = xylo_graph(4, 6, 2, seed=4, recurrent=False)
    weight = graph.nodes["w_in"].weight * np.array([1, 10, 100, 1, 1, 1])[:, None]
    graph = graph.replace_nodes(w_in=Linear(weight))
    per_channel = chip.quantize(graph, per_channel=True).nodes["w_in"].int_params["weight"]
    assert np.all(np.abs(per_channel).max(axis=1) == 127)
    global_ = chip.quantize(graph).nodes["w_in"].int_params["weight"]
    assert np.abs(global_[0]).max() < 5  # the small neuron loses precision under one global scale


def test_program_for_another_variant_or_a_corrupt_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    audio2, imu = device("xylo-audio2"), device("xylo-imu")
    program = audio2.compile(xylo_graph(16, 24, 4, seed=1))
    with imu.connect() as connection, pytest.raises(ChipConnectionError, match="xylo-audio2"):
        connection.write(program)
    path = tmp_path / "a2.program"
    program.save(path)
    with pytest.raises(FileFormatError, match="xylo-audio2"):
        Program.load(path, device="xylo-imu")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError):
        Program.load(path, device="xylo-audio2")


def test_nothing_is_written_unless_it_verifies() -> None:
    chip = device("xylo-audio2")
    good = chip.compile(xylo_graph(16, 24, 4, seed=1))
    image = XyloImage.from_program(good, chip.target)
    arrays = image.arrays()
    arrays["dash_mem"] = np.full_like(arrays["dash_mem"], 16)  # a 4-bit field cannot hold 16
    bad_range = Program(good.device, good.format_version, arrays, good.meta)
    n = 70  # a dense 70 x 70 recurrent matrix: recurrent fan-out 70 > 64 on Audio 2
    wide = {"w_rec": np.ones((n, n, 1)), "w_in": np.ones((16, n, 1)), "w_out": np.ones((n, 4)), "dash_mem": np.ones(n)}
    wide |= {"dash_syn": np.ones((n, 1)), "threshold": np.ones(n), "bias": np.zeros(n), "alias": np.full(n, -1)}
    too_wide = XyloImage.build(**{**image.arrays(), **wide}).to_program(good.device)
    newer = Program(good.device, good.format_version + 1, good.arrays, good.meta)
    with chip.connect() as connection:
        for bad, reason in ((bad_range, "dash_mem"), (too_wide, "fan-out"), (newer, "format")):
            with pytest.raises(ProgrammingError, match=reason):
                connection.write(bad)
            with pytest.raises(ChipConnectionError, match="no configuration"):
                connection.read()  # the refused image never reached the chip
        connection.write(good)
        assert connection.read().same_image(good)
        out = connection.run(events(2, 30, 16, seed=0))
        assert out.outputs.shape == (2, 30, 4)


def test_samna_backend_fails_clearly_without_the_sdk_or_adapter() -> None:
    with pytest.raises(ChipConnectionError, match="samna"):
        device("xylo-audio2").connect(backend="samna")
    with pytest.raises(ChipConnectionError, match="backend"):
        device("xylo-audio2").connect(backend="usb")

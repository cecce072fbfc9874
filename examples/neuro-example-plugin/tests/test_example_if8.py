"""The chip's own semantics: hand-computed integer cases, quantization, mapping rules, power."""

from __future__ import annotations

import neuro_core
import numpy as np
import pytest
from if8_graphs import DT, event_counts, if_chain
from neuro_core import IF, LIF, Graph, GraphError, Input, Linear, MappingError, Output, QuantizationError
from neuro_core.reference import simulate as reference_simulate
from neuro_example_plugin import sim
from neuro_example_plugin.quantize import power_of_two_scale


@pytest.fixture
def chip() -> neuro_core.Device:
    return neuro_core.device("example-if8")


def test_integer_if_hand_computed() -> None:
    # One neuron, weights (3, -1), threshold 5: v goes 3, 6 -> spike -> 0, then 3-1 = 2, ...
    weights = [np.array([[3, -1]], dtype=np.int8)]
    thresholds = [np.array([5], dtype=np.int16)]
    counts = np.array([[[1, 0], [1, 0], [1, 1], [2, 0]]], dtype=np.int64)
    raw = sim.run(weights, thresholds, counts, record=True)
    assert raw.membranes is not None
    np.testing.assert_array_equal(raw.membranes[0][0, :, 0], [3, 0, 2, 8 - 8])  # 2 + 6 = 8 > 5 -> spike -> 0
    np.testing.assert_array_equal(raw.outputs[0, :, 0], [0, 1, 0, 1])
    assert raw.spike_count.tolist() == [2]
    assert raw.synaptic_events.tolist() == [1 + 1 + 2 + 2]  # each event reaches one nonzero weight


def test_membrane_saturates_at_16_bits() -> None:
    weights = [np.array([[127]], dtype=np.int8), np.array([[-128]], dtype=np.int8)]
    thresholds = [np.array([32767], dtype=np.int16), np.array([0], dtype=np.int16)]
    counts = np.full((1, 300, 1), 15, dtype=np.int64)  # 1905 per step: reaches 32767 after 18 steps
    raw = sim.run(weights, thresholds, counts, record=True)
    assert raw.membranes is not None
    assert raw.membranes[0].max() == 32767  # clipped, never wrapped to negative
    assert raw.membranes[0][0, -1, 0] == 32767 and raw.outputs.sum() == 0  # v == threshold never spikes


def test_chip_matches_the_reference_on_the_quantized_graph(chip: neuro_core.Device) -> None:
    # Power-of-two scales make the dequantized float graph compute the chip's integers exactly.
    graph = if_chain([8, 20, 6], seed=3)
    quantized = chip.quantize(graph)
    x = event_counts(8, batch=4, steps=40, seed=1)
    ours = chip.simulate(chip.program(chip.map(quantized)), x, record=True)
    ref = reference_simulate(quantized, x)
    np.testing.assert_array_equal(ours.outputs, ref.outputs["out"])
    assert ours.outputs.sum() > 0  # the case is not vacuous
    np.testing.assert_array_equal(ours.counters["spikes"], ref.counters["spikes"])
    np.testing.assert_array_equal(ours.counters["synaptic_events"], ref.counters["synaptic_events"])


def test_quantize_folds_r_into_weights_with_a_power_of_two_scale(chip: neuro_core.Device) -> None:
    graph = Graph.chain(
        DT,
        [
            ("in", Input((2,))),
            ("fc", Linear(np.array([[1.0, -0.5]]))),
            ("if", IF(r=np.array([2.0]), v_threshold=np.array([3.0]))),
            ("out", Output((1,))),
        ],
    )
    q = chip.quantize(graph)
    # max |r W| = 2 needs s >= 2 / 127; the smallest power of two above that is 2**-5.
    assert q.nodes["fc"].scales["weight"] == 2.0**-5
    np.testing.assert_array_equal(q.nodes["fc"].int_params["weight"], [[64, -32]])
    assert q.nodes["if"].int_params["threshold"].tolist() == [96]  # 3 / 2**-5
    np.testing.assert_array_equal(q.nodes["if"].r, [1.0])


def test_power_of_two_scale_covers_weights_and_thresholds() -> None:
    assert power_of_two_scale(1.0, 1.0, 127, 32767) == 2.0**-6  # 1/127 > 2**-7
    assert power_of_two_scale(0.01, 1000.0, 127, 32767) == 2.0**-5  # the threshold decides
    assert power_of_two_scale(0.0, 0.0, 127, 32767) == 1.0


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (
            Graph.chain(
                DT,
                [
                    ("in", Input((2,))),
                    ("fc", Linear(np.ones((2, 2)))),
                    ("lif", LIF(r=np.ones(2), v_threshold=np.ones(2), tau=np.ones(2))),
                    ("out", Output((2,))),
                ],
            ),
            "LIF",
        ),
        (
            Graph.chain(
                DT,
                [
                    ("in", Input((2,))),
                    ("fc", Linear(np.ones((2, 2)))),
                    ("if", IF(r=np.ones(2), v_threshold=np.ones(2), reset="subtract")),
                    ("out", Output((2,))),
                ],
            ),
            "resets the membrane to zero",
        ),
        (
            Graph.chain(DT, [("in", Input((2,))), ("fc", Linear(np.ones((2, 2)))), ("out", Output((2,)))]),
            "Linear -> IF",
        ),
    ],
)
def test_quantize_refuses_what_the_chip_cannot_run(chip: neuro_core.Device, graph: Graph, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        chip.quantize(graph)


def test_per_channel_is_refused_with_the_reason(chip: neuro_core.Device) -> None:
    with pytest.raises(QuantizationError, match="one weight scale per layer"):
        chip.quantize(if_chain([2, 2]), per_channel=True)


def test_one_layer_per_core_rule(chip: neuro_core.Device) -> None:
    # 65 + 65 + 65 neurons = 195 <= 256, but each layer needs 2 whole cores: 6 > 4.
    q = chip.quantize(if_chain([4, 65, 65, 65], weight_mean=0.0))
    with pytest.raises(MappingError) as caught:
        chip.map(q)
    constraints = [v.constraint for v in caught.value.violations]
    assert "cores" in constraints and "neurons" not in constraints
    cores = next(v for v in caught.value.violations if v.constraint == "cores")
    assert (cores.limit, cores.value) == (4, 6)


def test_placement_fills_cores_in_order(chip: neuro_core.Device) -> None:
    graph = if_chain([4, 70, 10])
    sparse = np.array(graph.nodes["fc1"].weight)
    sparse[:, 60:] = 0.0  # fan-in 60 <= 64: only the core rule is exercised
    placement = chip.map(chip.quantize(graph.replace_nodes(fc1=Linear(sparse))))
    assert placement.cores["if0"].tolist() == [0] * 64 + [1] * 6
    assert placement.cores["if1"].tolist() == [2] * 10
    assert placement.resources["cores_used"] == 3


def test_inputs_must_be_event_counts(chip: neuro_core.Device) -> None:
    program = chip.compile(if_chain([2, 2]))
    for bad in (np.full((1, 3, 2), 0.5), np.full((1, 3, 2), 16.0), np.full((1, 3, 2), -1.0)):
        with pytest.raises(ValueError, match=r"integers 0\.\.15"):
            chip.simulate(program, bad)


def test_power_is_modelled_and_labelled_fictional(chip: neuro_core.Device) -> None:
    graph = if_chain([6, 10, 4])
    program = chip.compile(graph)
    result = chip.simulate(program, event_counts(6))
    report = chip.measure_power(program, result)
    assert report.measured is False and "FICTIONAL" in report.source
    expected = np.mean(result.counters["synaptic_events"]) * 2e-12 + np.mean(result.counters["spikes"]) * 10e-12
    assert report.dynamic_energy_per_inference_j == pytest.approx(expected)
    assert report.energy_per_inference_j == pytest.approx(10e-6 * 25 * DT + expected)

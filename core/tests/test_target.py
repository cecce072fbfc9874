"""Target: every generic check, immutability and the JSON round trip."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from core_helpers import DT, lif_chain
from neuro_core import (
    LIF,
    Delay,
    EnergyConstant,
    Graph,
    Input,
    Linear,
    NumberFormat,
    Output,
    Target,
    TimeModel,
    Violation,
)


def small_target(**limits: object) -> Target:
    base: dict[str, object] = {"name": "t", "family": "t", "kind": "digital", "cores": 1, "neurons_per_core": 100}
    return Target(**{**base, **limits})  # type: ignore[arg-type]


def constraints(violations: list[Violation]) -> list[str]:
    return [v.constraint for v in violations]


def test_a_fitting_graph_has_no_violation() -> None:
    assert small_target(input_channels=3, output_channels=2, max_fan_in=4, max_fan_out=4).check(lif_chain()) == []


def test_node_types() -> None:
    found = small_target(node_types={"Input", "Output", "Linear"}).check(lif_chain())
    assert found == [
        Violation("node_types", "node 'lif1'", ["Input", "Linear", "Output"], "LIF"),
        Violation("node_types", "node 'lif2'", ["Input", "Linear", "Output"], "LIF"),
    ]


def test_reset_modes() -> None:
    graph = lif_chain()  # lif1 resets to zero, lif2 by subtraction
    assert small_target().check(graph) == []  # by default a Target has both
    assert small_target(reset_modes={"subtract"}).check(graph) == [
        Violation("reset_modes", "node 'lif1'", ["subtract"], "zero")
    ]
    assert small_target(reset_modes={"zero"}).check(graph) == [
        Violation("reset_modes", "node 'lif2'", ["zero"], "subtract")
    ]


def test_neurons_counts_every_population_against_cores_times_neurons_per_core() -> None:
    target = small_target(cores=2, neurons_per_core=2)  # 4 neurons; the chain has 4 + 2
    assert target.max_neurons == 4
    assert target.check(lif_chain()) == [Violation("neurons", "whole network", 4, 6)]


def test_input_and_output_channels() -> None:
    found = small_target(input_channels=2, output_channels=1).check(lif_chain(n_in=3, n_out=2))
    assert found == [
        Violation("input_channels", "Input nodes", 2, 3),
        Violation("output_channels", "Output nodes", 1, 2),
    ]


def test_fan_in_and_fan_out_count_nonzero_synapses_per_neuron() -> None:
    weight = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])  # neuron 0 has fan-in 3; input 0 fans out to 2
    graph = Graph.chain(
        DT,
        [
            ("in", Input((3,))),
            ("fc", Linear(weight)),
            ("lif", LIF(r=np.ones(2), v_threshold=np.ones(2), tau=np.ones(2))),
            ("out", Output((2,))),
        ],
    )
    found = small_target(max_fan_in=2, max_fan_out=1).check(graph)
    assert Violation("max_fan_in", "node 'lif', neuron 0", 2, 3) in found
    assert Violation("max_fan_out", "node 'fc', input 0", 1, 2) in found
    assert len(found) == 2


def test_fan_in_adds_up_over_every_edge_into_a_population() -> None:
    graph = Graph(
        {
            "in": Input((1,)),
            "a": Linear(np.ones((1, 1))),
            "b": Linear(np.ones((1, 1))),
            "lif": LIF(r=np.ones(1), v_threshold=np.ones(1), tau=np.ones(1)),
            "out": Output((1,)),
        },
        (("in", "a"), ("in", "b"), ("a", "lif"), ("b", "lif"), ("lif", "out")),
        DT,
    )
    assert small_target(max_fan_in=1).check(graph) == [Violation("max_fan_in", "node 'lif', neuron 0", 1, 2)]


def test_recurrence_on_a_feed_forward_chip() -> None:
    graph = Graph(
        {
            "in": Input((1,)),
            "fc": Linear(np.ones((1, 1))),
            "lif": LIF(r=np.ones(1), v_threshold=np.ones(1), tau=np.ones(1)),
            "rec": Linear(np.ones((1, 1))),
            "out": Output((1,)),
        },
        (("in", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out")),
        DT,
    )
    assert small_target(recurrent=False).check(graph) == [Violation("recurrent", "edges [('rec', 'lif')]", False, True)]
    assert small_target(recurrent=True).check(graph) == []


def test_delays_on_synapses_and_delay_nodes() -> None:
    graph = Graph.chain(
        DT,
        [
            ("in", Input((2,))),
            ("d", Delay(np.array([0.0, 5.0]))),
            ("fc", Linear(np.ones((1, 2)), delay=np.array([[1, 7]]))),
            ("out", Output((1,))),
        ],
    )
    assert small_target(max_delay=4).check(graph) == [
        Violation("max_delay", "node 'd'", 4, 5),
        Violation("max_delay", "node 'fc', synapse (0, 1)", 4, 7),
    ]
    assert small_target(max_delay=7).check(graph) == []


def test_integer_parameters_outside_their_format() -> None:
    node = Linear(np.ones((1, 2)), int_params={"weight": np.array([[-9, 8]])}, scales={"weight": 1.0})
    graph = Graph.chain(DT, [("in", Input((2,))), ("fc", node), ("out", Output((1,)))])
    found = small_target(formats={"weight": NumberFormat(4)}).check(graph)  # int4: -8..7
    assert found == [Violation("format:weight", "node 'fc'", -8, -9), Violation("format:weight", "node 'fc'", 7, 8)]
    assert small_target(formats={"weight": NumberFormat(5)}).check(graph) == []


def test_several_violations_are_all_reported() -> None:
    target = small_target(cores=1, neurons_per_core=1, input_channels=1, output_channels=1, max_fan_in=1)
    assert set(constraints(target.check(lif_chain()))) == {"neurons", "input_channels", "output_channels", "max_fan_in"}


def test_number_format_ranges() -> None:
    assert (NumberFormat(8).min, NumberFormat(8).max) == (-128, 127)
    assert (NumberFormat(8, signed=False).min, NumberFormat(8, signed=False).max) == (0, 255)


def full_target() -> Target:
    return Target(
        name="chip",
        family="fam",
        kind="mixed-signal",
        cores=4,
        neurons_per_core=256,
        input_channels=16,
        output_channels=8,
        max_fan_in=64,
        max_fan_out=1024,
        synapse_memory_bits_per_core=65536,
        formats={"weight": NumberFormat(8, shift_bits=4, shift_range=(0, 15), note="per matrix shift")},
        time=TimeModel(dt=None, continuous=True, acceleration=1000.0, clock_hz=250e6),
        max_delay=62,
        recurrent=True,
        node_types=frozenset({"Input", "Output", "Linear", "LIF"}),
        mismatch={"tau": 0.2},
        energy={"spike": EnergyConstant(2.3e-12, "J", "Paper 2020, Table 2", measured=True)},
        sources={"cores": "datasheet p. 3"},
        extra={"variant": "b"},
    )


def test_target_json_round_trip_keeps_every_field() -> None:
    target = full_target()
    text = target.to_json()
    again = Target.from_dict(json.loads(text))
    assert again == target
    assert again.formats["weight"].shift_range == (0, 15)
    assert again.energy["spike"] == EnergyConstant(2.3e-12, "J", "Paper 2020, Table 2", True)
    assert json.loads(text)["node_types"] == ["Input", "LIF", "Linear", "Output"]


def test_target_is_frozen() -> None:
    target = full_target()
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.cores = 8  # type: ignore[misc]
    with pytest.raises(TypeError):
        target.formats["bias"] = NumberFormat(8)  # type: ignore[index]

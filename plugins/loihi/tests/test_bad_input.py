"""Bad input gets clear errors: delays beyond 62, weights beyond the format, networks over a core's limits."""

from __future__ import annotations

from typing import Any

import neuro_core
import numpy as np
import pytest
from conftest import chain_graph, spikes
from neuro_core.errors import GraphError, MappingError, QuantizationError
from neuro_core.graph import CubaLIF, Graph, Input, Linear, Output


@pytest.fixture(scope="module")
def chip() -> neuro_core.Device:
    return neuro_core.device("loihi")


def _layer(n_in: int, n: int, weight: np.ndarray, delay: np.ndarray | None = None, **kw: Any) -> Graph:
    ones = np.ones(n)
    params: dict[str, Any] = dict(r=ones, v_threshold=ones, tau=ones * 1e-2, tau_syn=ones * 5e-3, w_in=ones)
    params.update(v_leak=0 * ones, **kw)
    return Graph.chain(
        1e-3, [("in", Input((n_in,))), ("fc", Linear(weight, delay)), ("lif", CubaLIF(**params)), ("out", Output((n,)))]
    )


def test_delays_beyond_62_are_listed(chip: neuro_core.Device) -> None:
    delay = np.zeros((3, 4))
    delay[1, 2] = 63
    delay[2, 0] = 90
    with pytest.raises(MappingError) as caught:
        chip.map(chip.quantize(_layer(4, 3, np.ones((3, 4)), delay)))
    text = str(caught.value)
    assert "max_delay" in text and "62" in text and "90" in text
    assert any(v.constraint == "format:delay" for v in caught.value.violations)


def test_weights_beyond_the_format_are_listed(chip: neuro_core.Device) -> None:
    graph = chip.quantize(_layer(4, 3, np.ones((3, 4))))
    fc = graph.nodes["fc"]
    bad = dict(fc.int_params)
    bad["weight"] = np.full((3, 4), 300)
    bad["weight_exp"] = np.array([9])
    graph = graph.replace_nodes(fc=fc.with_params(int_params=bad))
    with pytest.raises(MappingError) as caught:
        chip.map(graph)
    constraints = {v.constraint for v in caught.value.violations}
    assert {"format:weight", "format:weight_exp"} <= constraints
    assert "300" in str(caught.value) and "255" in str(caught.value)


def test_odd_mixed_sign_weights_are_flagged_not_silently_truncated(chip: neuro_core.Device) -> None:
    graph = chip.quantize(_layer(4, 3, np.where(np.eye(3, 4) > 0, 1.0, -1.0)))
    fc = graph.nodes["fc"]
    ints = dict(fc.int_params)
    ints["weight"] = ints["weight"] + 1
    with pytest.raises(MappingError, match="LSB"):
        chip.map(graph.replace_nodes(fc=fc.with_params(int_params=ints)))


def test_a_network_over_a_cores_limits_lists_every_core(chip: neuro_core.Device) -> None:
    # 300 neurons fully connected from 5,000 inputs: the mapper splits them over cores to fit the
    # 1 Mbit of synaptic memory, but every core still receives 5,000 > 4,096 input axons
    rng = np.random.default_rng(0)
    graph = chip.quantize(_layer(5000, 300, rng.normal(size=(300, 5000))))
    with pytest.raises(MappingError) as caught:
        chip.map(graph)
    axons = [v for v in caught.value.violations if v.constraint == "input_axons_per_core"]
    assert len(axons) >= 10 and all(v.limit == 4096 and v.value == 5000 for v in axons)
    assert len({v.where for v in axons}) == len(axons)  # one per core
    assert sum(v.constraint == "max_fan_in" for v in caught.value.violations) == 300
    assert not any(v.constraint == "synapse_memory_bits_per_core" for v in caught.value.violations)


def test_populations_are_split_until_their_synapses_fit(chip: neuro_core.Device) -> None:
    rng = np.random.default_rng(0)
    placement = chip.map(chip.quantize(_layer(1200, 1000, rng.normal(size=(1000, 1200)))))
    memory = placement.resources["synapse_memory_bits_per_core"]
    assert placement.resources["cores_used"] == len(memory) > 1  # 1,000 neurons fit one core, their synapses do not
    assert max(memory) <= 16384 * 64


def test_too_many_cores_is_a_violation(chip: neuro_core.Device) -> None:
    graph = chip.quantize(_layer(2, 140 * 1024, np.ones((140 * 1024, 2))))
    with pytest.raises(MappingError) as caught:
        chip.map(graph)
    assert any(v.constraint == "cores" and v.limit == 128 and v.value == 140 for v in caught.value.violations)


def test_quantizer_refuses_what_loihi_cannot_do(chip: neuro_core.Device) -> None:
    ones = np.ones(3)
    with pytest.raises(QuantizationError, match="tau"):
        chip.quantize(_layer(2, 3, np.ones((3, 2)), tau=np.array([1e-2, 2e-2, 1e-2])))
    with pytest.raises(QuantizationError, match="reset"):
        chip.quantize(_layer(2, 3, np.ones((3, 2)), reset="subtract"))
    with pytest.raises(QuantizationError, match="v_reset"):
        chip.quantize(_layer(2, 3, np.ones((3, 2)), v_reset=0.1 * ones))
    with pytest.raises(QuantizationError, match="per_channel"):
        chip.quantize(_layer(2, 3, np.ones((3, 2))), per_channel=True)
    with pytest.raises(ValueError, match="headroom_bits"):
        chip.quantize(_layer(2, 3, np.ones((3, 2))), headroom_bits=40)
    with pytest.raises(GraphError, match="Linear"):
        chip.quantize(
            Graph.chain(
                1e-3,
                [
                    ("in", Input((3,))),
                    ("lif", CubaLIF(r=ones, v_threshold=ones, tau=ones, tau_syn=ones)),
                    ("out", Output((3,))),
                ],
            )
        )


def test_simulate_refuses_bad_inputs(chip: neuro_core.Device) -> None:
    graph = chain_graph()
    program = chip.compile(graph)
    x = spikes(2, 10, 12)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        chip.simulate(program, x * 2)  # Loihi 1 takes binary spikes
    with pytest.raises(ValueError, match="channels"):
        chip.simulate(program, x[:, :, :5])
    with pytest.raises(ValueError, match="integer"):
        chip.simulate(program, x * 0.5)
    loihi2 = neuro_core.device("loihi2")
    loihi2.simulate(loihi2.compile(graph), x * 7)  # graded spikes are fine on Loihi 2

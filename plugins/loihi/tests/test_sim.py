"""The simulator: one kernel with and without numba, batching, latency, counters, mapping and power."""

from __future__ import annotations

import neuro_core
import numpy as np
import pytest
from conftest import chain_graph, spikes
from neuro_loihi import sim
from neuro_loihi.program import read_program


@pytest.fixture(scope="module")
def chip() -> neuro_core.Device:
    return neuro_core.device("loihi")


def test_the_kernel_runs_without_numba_and_agrees(chip: neuro_core.Device, monkeypatch: pytest.MonkeyPatch) -> None:
    program = chip.compile(chain_graph((10, 8, 3), seed=2))
    x = spikes(2, 40, 10, seed=3)
    compiled = chip.simulate(program, x, record=True)
    pure = getattr(sim._run_kernel, "py_func", sim._run_kernel)  # the same source, interpreted
    monkeypatch.setattr(sim, "_run_kernel", pure)
    interpreted = chip.simulate(program, x, record=True)
    np.testing.assert_array_equal(compiled.outputs, interpreted.outputs)
    for name, trace in compiled.states.items():
        np.testing.assert_array_equal(trace, interpreted.states[name], err_msg=name)
    for name, counter in compiled.counters.items():
        np.testing.assert_array_equal(counter, interpreted.counters[name], err_msg=name)


def test_one_step_latency_per_stage(chip: neuro_core.Device) -> None:
    ones = np.ones(1)
    lif = neuro_core.CubaLIF(r=ones, v_threshold=ones * 0.5, tau=ones * 1e-3, tau_syn=ones * 1e-3, w_in=ones)
    graph = neuro_core.Graph.chain(
        1e-3,
        [
            ("in", neuro_core.Input((1,))),
            ("fc0", neuro_core.Linear(np.ones((1, 1)))),
            ("a", lif),
            ("fc1", neuro_core.Linear(np.ones((1, 1)))),
            ("b", lif),
            ("out", neuro_core.Output((1,))),
        ],
    )
    x = np.zeros((1, 6, 1), np.int64)
    x[0, 0, 0] = 1
    out = chip.simulate(chip.compile(graph), x, record=True)
    assert list(np.flatnonzero(out.spikes["a"][0, :, 0])) == [1]  # input at 0 -> first population at 1
    assert list(np.flatnonzero(out.outputs[0, :, 0])) == [2]  # -> second population at 2


def test_counters_count_synaptic_ops_and_messages(chip: neuro_core.Device) -> None:
    graph = chain_graph((12, 10, 4), seed=0, delays=False)
    program = chip.compile(graph)
    x = spikes(3, 20, 12, seed=1)
    result = chip.simulate(program, x, record=True)
    net = read_program(program, "loihi")
    fan_out = [(c.weights != 0).sum(axis=0) for c in net.connections]
    expected = (x.sum(axis=1) @ fan_out[0]) + result.spikes["lif0"].sum(axis=1) @ fan_out[1]
    np.testing.assert_array_equal(result.counters["synaptic_ops"], expected)
    np.testing.assert_array_equal(result.counters["spikes"], sum(s.sum(axis=(1, 2)) for s in result.spikes.values()))
    neurons = 10 + 4
    total = result.counters["neuron_updates_active"] + result.counters["neuron_updates_inactive"]
    np.testing.assert_array_equal(total, np.full(3, neurons * 20))


def test_mapper_splits_populations_and_reports_memory_per_core(chip: neuro_core.Device) -> None:
    graph = chain_graph((40, 2500, 10), seed=0, delays=True, gain=1.0)
    placement = chip.map(chip.quantize(graph))
    assert placement.resources["cores_used"] == 4  # 2,500 neurons on 3 cores + 10 on a fourth
    assert sorted(set(placement.cores["lif0"].tolist())) == [0, 1, 2]
    memory = placement.resources["synapse_memory_bits_per_core"]
    assert len(memory) == 4 and all(0 < m <= 16384 * 64 for m in memory)
    # the readout core receives 2,500 axons: memory grows with delay bits (6 per synapse)
    no_delay = chip.map(chip.quantize(chain_graph((40, 2500, 10), seed=0, delays=False, gain=1.0)))
    assert sum(memory) > sum(no_delay.resources["synapse_memory_bits_per_core"])
    x = spikes(1, 10, 40, seed=0)
    result = chip.simulate(chip.program(placement), x)
    assert result.counters["messages_across_tiles"][0] > 0 or result.counters["messages_within_tile"][0] > 0


def test_power_is_counters_times_published_energies(chip: neuro_core.Device) -> None:
    program = chip.compile(chain_graph())
    result = chip.simulate(program, spikes(2, 30, 12))
    report = chip.measure_power(program, result)
    energy = chip.target.energy
    expected = (
        result.counters["synaptic_ops"].mean() * energy["synaptic_op"].value
        + result.counters["neuron_updates_active"].mean() * energy["neuron_update_active"].value
        + result.counters["neuron_updates_inactive"].mean() * energy["neuron_update_inactive"].value
        + result.counters["messages_within_tile"].mean() * energy["spike_within_tile"].value
        + result.counters["tile_hops"].mean() * energy["spike_per_tile_hop"].value
    )
    assert report.dynamic_energy_per_inference_j == pytest.approx(expected)
    assert report.static_w == energy["static_chip"].value == pytest.approx(0.029)
    assert report.energy_per_inference_j == pytest.approx(expected + 0.029 * result.duration)
    assert "Davies" in report.source and "Blouw" in report.source and report.measured is False

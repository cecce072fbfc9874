"""Layers against the IR's reference simulator, and to_graph / from_graph round trips."""

from __future__ import annotations

import neuro_core
import neuro_core.nn as snn
import numpy as np
import pytest
import torch
from neuro_core import graph as ir
from neuro_core.errors import GraphError
from neuro_core.reference import simulate


def _spikes(seed: int, batch: int, steps: int, channels: int, rate: float = 0.3) -> np.ndarray:
    return (np.random.default_rng(seed).random((batch, steps, channels)) < rate).astype(np.float64)


def _net(seed: int, reset: str = "subtract") -> snn.Network:
    torch.manual_seed(seed)
    return snn.Network(
        [
            snn.Linear(12, 10, delay=np.random.default_rng(seed).integers(0, 3, (10, 12))),
            snn.LIF(10, tau=np.linspace(5e-3, 30e-3, 10), threshold=0.5, reset=reset, v_reset=-0.1, v_leak=0.05),
            snn.RecurrentLIF(10, 8, tau=15e-3, reset=reset, r=8.0),
            snn.Linear(8, 7, bias=True),
            snn.CubaLIF(7, tau_mem=10e-3, tau_syn=4e-3, reset=reset, threshold=0.3),
            snn.Linear(7, 6),
            snn.IF(6, threshold=0.4, reset=reset, r=2.0),
            snn.Linear(6, 4),
            snn.LI(4, tau=12e-3, v_leak=0.2, r=5.0),
        ]
    )


def _scaled(net: snn.Network) -> None:
    """Weights large enough that every population fires."""
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(3.0)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_network_equals_reference_simulator_spike_for_spike(reset: str) -> None:
    net = _net(0, reset).double()
    _scaled(net)
    graph = net.to_graph()
    x = _spikes(1, 3, 40, 12)
    ref = simulate(graph, x)
    out = net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, ref.outputs["output"], rtol=1e-9, atol=1e-9)
    for name in ("lif1", "recurrentlif2", "cubalif4", "if6"):
        assert ref.spikes[name].mean() > 0.01, name  # every population is active


def test_float32_network_matches_reference() -> None:
    net = _net(2)
    _scaled(net)
    x = _spikes(3, 4, 40, 12)
    ref = simulate(net.to_graph(), x).outputs["output"]
    out = net(torch.from_numpy(x).float()).detach().numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_single_lif_layer_spike_for_spike_on_many_inputs() -> None:
    torch.manual_seed(4)
    model = snn.Sequential(snn.Linear(16, 32, sparse_input=True), snn.LIF(32, tau=10e-3, reset="zero"))
    graph = snn.to_graph(model)
    x = _spikes(5, 16, 60, 16, rate=0.4)
    ref = simulate(graph, x).spikes["lif1"]
    out = model(torch.from_numpy(x).float()).detach().numpy()
    assert ref.mean() > 0.02
    np.testing.assert_array_equal(out, ref)


def test_default_r_adds_the_input_unscaled() -> None:
    lif = snn.LI(1, tau=20e-3, dt=1e-3)
    y = lif(torch.ones(1, 3, 1, dtype=torch.float64))
    np.testing.assert_allclose(y[0, :, 0].numpy(), [1.0, 1.95, 1.95 * 0.95 + 1])
    assert float(lif.graph_node().r[0]) == pytest.approx(20.0)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_graph_model_graph_round_trip_is_exact(reset: str) -> None:
    graph = _net(6, reset).to_graph()
    again = snn.from_graph(graph).to_graph()
    assert again.allclose(graph)
    assert list(again.nodes) == list(graph.nodes) and again.edges == graph.edges


def test_round_trip_of_a_float64_graph_with_foreign_names() -> None:
    rng = np.random.default_rng(7)
    graph = ir.Graph(
        {
            "spikes": ir.Input(shape=(5,)),
            "w": ir.Affine(weight=rng.normal(size=(4, 5)), bias=rng.normal(size=4)),
            "hidden": ir.LIF(tau=np.full(4, 0.0123), r=np.full(4, 3.3), v_threshold=np.full(4, 0.7), reset="zero"),
            "hidden_rec": ir.Linear(weight=rng.normal(size=(4, 4))),
            "out": ir.Output(shape=(4,)),
        },
        (("spikes", "w"), ("w", "hidden"), ("hidden", "hidden_rec"), ("hidden_rec", "hidden"), ("hidden", "out")),
        dt=5e-4,
        metadata={"origin": "hand-written"},
    )
    net = snn.from_graph(graph, dtype=torch.float64)
    assert isinstance(net.layers[0], snn.RecurrentLIF)
    assert net.to_graph().allclose(graph)
    x = _spikes(8, 2, 30, 5, rate=0.5)
    np.testing.assert_allclose(net(torch.from_numpy(x)).detach().numpy(), simulate(graph, x).outputs["out"])


def test_delay_slots_round_trip_and_match_reference() -> None:
    layer = snn.DelayLinear(6, 5, max_delay=4, slots=3, seed=1)
    layer.harden()
    layer.prune(2)
    net = snn.Network([layer, snn.LIF(5, threshold=0.2)])
    graph = net.to_graph()
    assert [n for n in graph.nodes if "slot" in n] == ["delaylinear0.slot0", "delaylinear0.slot1"]
    assert snn.from_graph(graph).to_graph().allclose(graph)
    x = _spikes(9, 2, 25, 6, rate=0.5)
    ref = simulate(graph, x).outputs["output"]
    np.testing.assert_array_equal(net(torch.from_numpy(x).float()).detach().numpy(), ref)


def test_ideal_device_chip_model_is_a_network() -> None:
    graph = _net(10).to_graph()
    model = neuro_core.device("ideal").chip_model(graph)
    assert isinstance(model, snn.Network)
    assert model.to_graph().allclose(graph)


def test_to_graph_errors() -> None:
    with pytest.raises(GraphError, match="share one dt"):
        snn.to_graph(snn.Sequential(snn.LIF(3, dt=1e-3), snn.Linear(3, 3), snn.LIF(3, dt=2e-3)))
    with pytest.raises(GraphError, match="pass dt"):
        snn.to_graph(snn.Linear(3, 2))
    assert snn.to_graph(snn.Linear(3, 2), dt=1e-3).dt == 1e-3
    with pytest.raises(GraphError, match="no IR form"):
        snn.to_graph(torch.nn.Sequential(snn.Linear(3, 3), torch.nn.ReLU()))


def test_from_graph_errors_name_the_node() -> None:
    graph = ir.Graph.chain(
        1e-3,
        [("in", ir.Input(shape=(3,))), ("gain", ir.Scale(scale=np.ones(3))), ("out", ir.Output(shape=(3,)))],
    )
    with pytest.raises(GraphError, match="'gain' of type Scale"):
        snn.from_graph(graph)
    with pytest.raises(ValueError, match="unknown from_graph option"):
        snn.from_graph(graph, colour="red")


def test_neuron_parameters_stay_float64_through_dtype_casts() -> None:
    lif = snn.LIF(3, tau=20e-3)
    lif.to(torch.float32)
    assert lif.tau.dtype == torch.float64
    assert float(lif.graph_node().tau[0]) == 20e-3  # exactly the value given


def test_learn_tau_gets_a_gradient() -> None:
    lif = snn.LIF(4, learn_tau=True)
    x = torch.rand(2, 30, 4) * 0.5
    lif(x).sum().backward()
    assert lif.tau.grad is not None and bool((lif.tau.grad != 0).any())


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="reset must be one of"):
        snn.LIF(3, reset="hard")
    with pytest.raises(ValueError, match=r"tau must be > 0"):
        snn.LIF(3, tau=[0.01, -1.0, 0.02])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        snn.LIF(3, threshold=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"expects input \(batch, time, 3\)"):
        snn.LIF(3)(torch.zeros(2, 3))

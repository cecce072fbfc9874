"""LoihiModel: trained model and deployed chip agree spike for spike; delays learn; pruning saves memory."""

from __future__ import annotations

import neuro_core
import numpy as np
import pytest
import torch
from conftest import chain_graph, spikes
from neuro_loihi.model import LoihiModel, quantize_weights


@pytest.fixture(scope="module")
def chip() -> neuro_core.Device:
    return neuro_core.device("loihi")


def _model(chip: neuro_core.Device, graph: neuro_core.Graph, **options: object) -> LoihiModel:
    model = chip.chip_model(graph, **options)
    assert isinstance(model, LoihiModel)
    return model


def _deployed(chip: neuro_core.Device, model: LoihiModel, x: np.ndarray) -> np.ndarray:
    return chip.simulate(chip.compile(model.to_graph()), x).outputs


def test_quantization_aware_model_equals_the_chip_spike_for_spike(chip: neuro_core.Device) -> None:
    graph = chain_graph((20, 16, 6), seed=1, delays=True)
    model = _model(chip, graph)
    model.quantization_aware = True
    x = spikes(4, 60, 20, 0.3, seed=2)
    with torch.no_grad():
        out = model(torch.as_tensor(x, dtype=torch.float32)).numpy()
    deployed = _deployed(chip, model, x)
    assert out.sum() > 50  # the comparison is not vacuous
    np.testing.assert_array_equal(out, deployed)
    # and the model built from the graph computes what compiling the graph directly computes
    np.testing.assert_array_equal(chip.simulate(chip.compile(graph), x).outputs, deployed)


def test_learned_delays_train_round_prune_and_still_agree(chip: neuro_core.Device) -> None:
    graph = chain_graph((16, 12, 5), seed=3, delays=False)
    model = _model(chip, graph, learn_delays=True, max_delay=24, delay_slots=3, seed=5)
    model.quantization_aware = True
    x = torch.as_tensor(spikes(3, 50, 16, 0.3, seed=4), dtype=torch.float32)
    positions = model.stages[0].synapses.position
    before = positions.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.5)
    for _ in range(2):  # soft (Gaussian) delays: the positions get gradients
        optimizer.zero_grad()
        model(x).sum().backward()
        assert positions.grad is not None and bool(torch.any(positions.grad != 0))
        optimizer.step()
    assert not torch.equal(before, positions.detach())
    report = model.prune_delays(1)
    assert report["bits_after"] * 3 == report["bits_before"] and report["bits_saved"] > 0
    model.harden()
    with torch.no_grad():
        out = model(x).numpy()
    deployed = _deployed(chip, model, x.numpy().astype(np.int64))
    assert out.sum() > 20
    np.testing.assert_array_equal(out, deployed)
    delays = model.to_graph().nodes["fc0"].int_params["delay"]
    assert delays.min() >= 0 and delays.max() <= 24 and len(np.unique(delays)) > 3


def test_exported_graph_keeps_the_models_integers(chip: neuro_core.Device) -> None:
    model = _model(chip, chain_graph(seed=6))
    exported = model.to_graph()
    quantized = chip.quantize(exported)
    for name, node in exported.nodes.items():
        for key, value in node.int_params.items():
            np.testing.assert_array_equal(quantized.nodes[name].int_params[key], value, err_msg=f"{name}.{key}")


def test_weight_quantizer_uses_even_mantissas_and_a_straight_through_gradient() -> None:
    w = torch.tensor([[3.3, -100.2, 700.0]], requires_grad=True)
    q, e = quantize_weights(w)
    mant = q.detach() / 2.0**e
    assert e == 2 and torch.all(mant == torch.round(mant)) and torch.all(mant % 2 == 0)
    assert float(mant.abs().max()) <= 254
    q.sum().backward()
    assert w.grad is not None and torch.equal(w.grad, torch.ones_like(w))


def test_model_rejects_unknown_options_and_recurrent_graphs(chip: neuro_core.Device) -> None:
    with pytest.raises(ValueError, match="bogus"):
        chip.chip_model(chain_graph(), bogus=1)
    graph = chain_graph((6, 4), delays=False)
    recurrent = neuro_core.Graph(
        {**graph.nodes, "rec": neuro_core.Linear(np.eye(4))},
        (*graph.edges, ("lif0", "rec"), ("rec", "lif0")),
        graph.dt,
    )
    with pytest.raises(neuro_core.GraphError, match="feed-forward"):
        chip.chip_model(recurrent)


def test_li_readout_model_equals_the_chip(chip: neuro_core.Device) -> None:
    base = chain_graph((12, 10), seed=7, delays=True)
    nodes = dict(base.nodes)
    del nodes["out"]
    ones = np.ones(3)
    rng = np.random.default_rng(8)
    nodes["fc_out"] = neuro_core.Linear(rng.normal(0, 1, (3, 10)), rng.integers(0, 4, (3, 10)))
    nodes["readout"] = neuro_core.LI(tau=ones * 2e-2, r=ones, v_leak=ones * 0)
    nodes["out"] = neuro_core.Output((3,))
    edges = (*[e for e in base.edges if e[1] != "out"], ("lif0", "fc_out"), ("fc_out", "readout"), ("readout", "out"))
    graph = neuro_core.Graph(nodes, edges, base.dt)
    model = _model(chip, graph)
    model.quantization_aware = True
    x = spikes(2, 40, 12, 0.3, seed=9)
    with torch.no_grad():
        out = model(torch.as_tensor(x, dtype=torch.float32)).numpy()
    deployed = _deployed(chip, model, x)
    assert np.abs(deployed).max() > 0  # voltages, not all zero
    np.testing.assert_array_equal(out, deployed)

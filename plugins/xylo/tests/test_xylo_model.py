"""The differentiable model: QAT deploys exactly, gradients flow, export round-trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from neuro_core import device
from neuro_core.chipmodel import ChipModel
from neuro_core.errors import GraphError
from neuro_xylo.model import XyloModel
from neuro_xylo.sim import simulate_image
from xylo_helpers import events, xylo_graph


@pytest.mark.parametrize("per_channel", [False, True])
def test_quantization_aware_model_spikes_equal_the_deployed_program(per_channel: bool) -> None:
    chip = device("xylo-audio2")
    for seed in range(3):
        model = chip.chip_model(xylo_graph(16, 24, 4, seed=seed), per_channel=per_channel).double()
        model.quantization_aware = True
        program = chip.compile(model.to_graph(), per_channel=per_channel)
        x = events(3, 50, 16, seed=seed)
        with torch.no_grad():
            spikes = model(torch.as_tensor(x, dtype=torch.float64)).numpy()
        deployed = chip.simulate(program, x)
        assert deployed.outputs.sum() > 10, "the test network must be active to mean anything"
        np.testing.assert_array_equal(spikes, deployed.outputs)


def test_two_synaptic_states_deploy_exactly_through_the_image() -> None:
    target = device("xylo-audio2").target
    model = XyloModel.from_graph(target, xylo_graph(8, 16, 3, seed=5), synapses=2).double()
    with torch.no_grad():
        model.w_in[:, :, 1] = torch.linspace(-2, 2, 16)[None, :]
        model.dash_syn[:, 1] = 5
    model.quantization_aware = True
    x = events(2, 40, 8, seed=6)
    with torch.no_grad():
        spikes = model(torch.as_tensor(x, dtype=torch.float64)).numpy()
    run = simulate_image(model.to_image(), x)
    assert run.output_spikes.sum() > 0
    np.testing.assert_array_equal(spikes, run.output_spikes)
    with pytest.raises(GraphError, match="two synaptic states"):
        model.to_graph()


def test_gradients_reach_every_trained_parameter_with_quantization_on() -> None:
    model = device("xylo-audio2").chip_model(xylo_graph(16, 24, 4, seed=0), output="vmem")
    assert isinstance(model, ChipModel)
    model.quantization_aware = True
    x = torch.as_tensor(events(2, 30, 16, seed=1), dtype=torch.float32)
    model(x).sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, f"no gradient reaches {name}"


def test_float_and_quantized_models_agree_closely() -> None:
    model = device("xylo-audio2").chip_model(xylo_graph(16, 24, 4, seed=2)).double()
    x = torch.as_tensor(events(4, 60, 16, seed=2), dtype=torch.float64)
    with torch.no_grad():
        floating = model(x).sum().item()
        model.quantization_aware = True
        quantized = model(x).sum().item()
    assert floating > 0 and abs(floating - quantized) <= 0.1 * floating


def test_model_refuses_more_synaptic_states_than_the_chip_has() -> None:
    with pytest.raises(GraphError, match="synaptic state"):
        XyloModel.from_graph(device("xylo-imu").target, xylo_graph(4, 4, 2, seed=0), synapses=2)

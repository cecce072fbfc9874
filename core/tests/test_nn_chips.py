"""Network.forward_chips: many parameter sets at once equal one forward per set."""

from __future__ import annotations

import neuro_core.nn as snn
import numpy as np
import pytest
import torch
from torch.func import functional_call


def _network(reset: str) -> snn.Network:
    torch.manual_seed(0)
    delay = snn.DelayLinear(6, 8, max_delay=3, slots=2, sigma=1.0, seed=2)
    net = snn.Network(
        [
            delay,
            snn.LIF(8, tau=15e-3, threshold=0.3, reset=reset),
            snn.RecurrentLIF(8, 7, tau=12e-3, threshold=0.3, reset=reset, r=9.0),
            snn.Linear(7, 6, bias=True, delay=np.random.default_rng(1).integers(0, 3, (6, 7))),
            snn.CubaLIF(6, threshold=0.2, reset=reset),
            snn.Linear(6, 5),
            snn.IF(5, threshold=0.3),
            snn.Linear(5, 4),
            snn.LI(4, v_leak=0.1),
        ]
    ).double()
    with torch.no_grad():
        for p in net.parameters():
            if p is not delay.position:
                p.mul_(3.0)
    return net


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_forward_chips_equals_one_forward_per_chip(reset: str) -> None:
    net = _network(reset)
    x = (torch.rand(3, 25, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) < 0.4).double()
    generator = torch.Generator().manual_seed(4)
    varied = ["layers.0.weight", "layers.1.tau", "layers.2.recurrent.weight", "layers.2.lif.threshold",
              "layers.3.weight", "layers.3.bias", "layers.4.tau_syn", "layers.6.r", "layers.8.tau"]  # fmt: skip
    own = dict(net.named_parameters()) | dict(net.named_buffers())
    params = {
        name: own[name].detach()
        * (1 + 0.2 * torch.randn(4, *own[name].shape, generator=generator, dtype=torch.float64))
        for name in varied
    }
    together = net.forward_chips(x, params)
    assert together.shape == (4, 3, 25, 4)
    for chip in range(4):
        alone = functional_call(net, {k: v[chip] for k, v in params.items()}, (x,))
        torch.testing.assert_close(together[chip], alone)
    assert not torch.allclose(together[0], together[1])  # the chips differ


def test_forward_chips_without_params_repeats_the_network() -> None:
    net = _network("subtract")
    x = torch.rand(2, 10, 6, dtype=torch.float64)
    torch.testing.assert_close(net.forward_chips(x, {})[0], net(x))


def test_forward_chips_rejects_bad_params() -> None:
    net = _network("subtract")
    x = torch.rand(2, 10, 6, dtype=torch.float64)
    with pytest.raises(ValueError, match="does not have"):
        net.forward_chips(x, {"layers.0.colour": torch.zeros(2)})
    with pytest.raises(ValueError, match="same leading chips"):
        net.forward_chips(x, {"layers.1.tau": torch.ones(2, 8), "layers.8.tau": torch.ones(3, 4)})


def test_training_robustness_evaluates_a_network() -> None:
    from neuro_core.training.robustness import robustness

    net = _network("subtract").float()
    x = (np.random.default_rng(5).random((12, 20, 6)) < 0.4).astype(np.float32)
    labels = net(torch.from_numpy(x)).sum(dim=1).argmax(dim=1).numpy()  # the network's own answers
    rows = robustness(net, (x, labels), sigmas=(0.0, 0.3), n_chips=6, readout="sum")
    assert rows[0]["mean"] == 1.0 and rows[0]["std"] == 0.0  # sigma 0: every chip is the network
    assert rows[1]["mean"] < 1.0  # 30 % mismatch changes some answers

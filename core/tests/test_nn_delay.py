"""Delays: fixed integer delays shift the input exactly; DelayLinear learns, rounds and prunes."""

from __future__ import annotations

import neuro_core.nn as snn
import numpy as np
import pytest
import torch


def test_integer_delays_shift_the_input_exactly() -> None:
    x = torch.rand(2, 10, 3, dtype=torch.float64)
    delay = np.array([[0, 0, 0], [0, 2, 0], [0, 0, 5]])
    layer = snn.Linear(3, 3, delay=delay).double()
    with torch.no_grad():
        layer.weight.copy_(torch.eye(3, dtype=torch.float64))
    y = layer(x)
    torch.testing.assert_close(y[:, :, 0], x[:, :, 0])
    torch.testing.assert_close(y[:, 2:, 1], x[:, :-2, 1])
    assert bool((y[:, :2, 1] == 0).all()) and bool((y[:, :5, 2] == 0).all())
    torch.testing.assert_close(y[:, 5:, 2], x[:, :-5, 2])


def test_hard_delay_linear_is_a_shift() -> None:
    layer = snn.DelayLinear(2, 2, max_delay=6, seed=0)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[[1.0], [0.0]], [[0.0], [2.0]]]))
        layer.position.copy_(torch.tensor([[[3.2], [0.0]], [[0.0], [5.9]]]))
    layer.harden()
    assert layer.rounded_delays().tolist() == [[3, 0], [0, 6]]
    x = torch.rand(1, 12, 2)
    y = layer(x)
    torch.testing.assert_close(y[0, 3:, 0], x[0, :-3, 0])
    torch.testing.assert_close(y[0, 6:, 1], 2 * x[0, :-6, 1])
    assert bool((y[0, :3, 0] == 0).all())


def test_soft_delays_get_position_gradients() -> None:
    layer = snn.DelayLinear(4, 3, max_delay=8, slots=2, sigma=2.0, seed=3)
    layer(torch.rand(2, 20, 4)).square().sum().backward()
    assert layer.position.grad is not None and bool((layer.position.grad != 0).any())
    layer.set_sigma(0.0)
    layer.position.grad = None
    layer(torch.rand(2, 20, 4)).sum().backward()
    assert layer.position.grad is None  # hard delays: positions are constants


def test_prune_keeps_the_strongest_slots_and_reports_memory() -> None:
    layer = snn.DelayLinear(5, 4, max_delay=15, slots=4, seed=2)
    strongest = layer.weight.detach().abs().topk(2, dim=-1).indices.sort(dim=-1).values
    report = layer.prune(2, weight_bits=8)
    kept = layer.mask.nonzero()[:, -1].reshape(4, 5, 2).sort(dim=-1).values
    assert torch.equal(kept, strongest)
    assert (report.slots_before, report.slots_after) == (80, 40)
    assert report.bits_per_slot == 8 + 4  # 16 delay values need 4 bits
    assert report.bits_saved == 40 * 12 == report.bits_before - report.bits_after
    assert layer.active_slots() == 2 and len(layer.graph_nodes()) == 2
    with pytest.raises(ValueError, match="keep must be in"):
        layer.prune(0)


def test_rounded_delays_follow_the_strongest_slot() -> None:
    layer = snn.DelayLinear(1, 1, max_delay=9, slots=2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[[0.1, -0.9]]]))
        layer.position.copy_(torch.tensor([[[2.4, 7.6]]]))
    assert layer.rounded_delays().tolist() == [[8]]
    assert layer.slot_delays().tolist() == [[[2, 8]]]

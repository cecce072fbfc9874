"""Surrogate gradients: Heaviside forward, the documented pseudo-derivative backward."""

from __future__ import annotations

import math

import pytest
import torch
from neuro_core.nn import surrogate


@pytest.mark.parametrize("name", sorted(surrogate.SURROGATES))
def test_spike_is_heaviside_forward_and_surrogate_backward(name: str) -> None:
    x = torch.linspace(-2, 2, 41, dtype=torch.float64, requires_grad=True)
    z = surrogate.spike(x, name)
    assert torch.equal(z, (x > 0).double())
    (grad,) = torch.autograd.grad(z.sum(), x)
    torch.testing.assert_close(grad, surrogate.derivative(name, x.detach()))


@pytest.mark.parametrize(
    ("name", "peak"), [("fast_sigmoid", 1.0), ("sigmoid", 5.0 / 4), ("arctan", 1.0), ("triangle", 1.0)]
)
def test_surrogate_shapes(name: str, peak: float) -> None:
    x = torch.linspace(-50, 50, 200001, dtype=torch.float64)
    d = surrogate.derivative(name, x)
    assert float(d.max()) == pytest.approx(peak)
    assert float(d[x.abs().argmin()]) == pytest.approx(peak)  # peak at the threshold
    torch.testing.assert_close(d, d.flip(0))  # symmetric
    assert bool((d >= 0).all())
    # monotone decreasing away from the threshold
    right = d[x >= 0]
    assert bool((right[1:] <= right[:-1] + 1e-15).all())
    if name != "fast_sigmoid":  # the normalised ones are derivatives of a step: integral 1
        assert float(torch.trapezoid(d, x)) == pytest.approx(1.0, abs=2e-2)


def test_scale_sharpens_the_surrogate() -> None:
    x = torch.tensor([0.3], dtype=torch.float64)
    assert surrogate.derivative("fast_sigmoid", x, 25.0) < surrogate.derivative("fast_sigmoid", x, 5.0)
    assert float(surrogate.derivative("triangle", torch.tensor([0.5]), 1.0)) == pytest.approx(0.5)
    assert float(surrogate.derivative("arctan", torch.tensor([0.0]), 2.0)) == pytest.approx(1.0)
    assert float(surrogate.derivative("sigmoid", torch.tensor([1.0]), 1.0)) == pytest.approx(
        math.exp(-1) / (1 + math.exp(-1)) ** 2
    )


def test_bad_surrogate_is_refused() -> None:
    with pytest.raises(ValueError, match="surrogate must be one of"):
        surrogate.spike(torch.zeros(1), "relu")
    with pytest.raises(ValueError, match="scale must be a positive"):
        surrogate.spike(torch.zeros(1), "arctan", -1.0)

"""Surrogate gradients: the spike is a Heaviside step forward and a smooth pseudo-derivative backward.

Every surrogate is defined by its pseudo-derivative ``d(x; scale)`` of the step ``H(x)`` at
``x = v - threshold`` (volts above threshold, in the model's units). Names (``SURROGATES``):

================  ==============================================  =====  ======================================
name              pseudo-derivative ``d(x)``                      scale  reference
================  ==============================================  =====  ======================================
``fast_sigmoid``  ``1 / (scale*|x| + 1)**2``                      10     SuperSpike (Zenke & Ganguli 2018)
``sigmoid``       ``scale * s * (1 - s)``, ``s = sigmoid(scale*x)``  5      Zenke & Vogels 2021
``arctan``        ``(scale/2) / (1 + (pi/2 * scale * x)**2)``     2      Fang et al. 2021 (SpikingJelly ATan)
``triangle``      ``scale * max(0, 1 - scale*|x|)``               1      Esser et al. 2016; Bellec et al. 2018
================  ==============================================  =====  ======================================

The scale column is the default (:data:`DEFAULT_SCALE`).
``sigmoid``, ``arctan`` and ``triangle`` integrate to 1 over x (they are the derivatives of a smooth step);
``fast_sigmoid`` keeps SuperSpike's unnormalised form (peak 1), as snnTorch and Norse do.

The fused scans (:mod:`neuro_core.nn.functional`) call :func:`derivative` on the saved membrane
potentials in one vectorised pass; :func:`spike` is the stand-alone custom autograd function for
code that builds its own loop (and for the unfused reference loop the tests compare against).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

SurrogateFn = Callable[[torch.Tensor, float], torch.Tensor]


def _fast_sigmoid(x: torch.Tensor, scale: float) -> torch.Tensor:
    # abs/mul/add/pow in place on one temporary: this runs over every (batch, time, neuron) element
    return (x.abs() * scale).add_(1.0).pow_(-2)


def _sigmoid(x: torch.Tensor, scale: float) -> torch.Tensor:
    s = torch.sigmoid(x * scale)
    return s.mul_(1.0 - s).mul_(scale)


def _arctan(x: torch.Tensor, scale: float) -> torch.Tensor:
    return (x * (math.pi / 2 * scale)).square_().add_(1.0).reciprocal_().mul_(scale / 2)


def _triangle(x: torch.Tensor, scale: float) -> torch.Tensor:
    return (1.0 - scale * x.abs()).clamp_(min=0.0).mul_(scale)


SURROGATES: dict[str, SurrogateFn] = {
    "fast_sigmoid": _fast_sigmoid,
    "sigmoid": _sigmoid,
    "arctan": _arctan,
    "triangle": _triangle,
}
DEFAULT_SCALE: dict[str, float] = {"fast_sigmoid": 10.0, "sigmoid": 5.0, "arctan": 2.0, "triangle": 1.0}


def check_surrogate(name: str, scale: float | None = None) -> tuple[str, float]:
    """Validate a surrogate name and scale; return ``(name, scale)`` with the default scale filled in.

    Raises:
        ValueError: unknown name (the known names are listed) or a scale that is not positive.
    """
    if name not in SURROGATES:
        raise ValueError(f"surrogate must be one of {sorted(SURROGATES)}, got {name!r}")
    value = DEFAULT_SCALE[name] if scale is None else float(scale)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"surrogate scale must be a positive finite number, got {scale!r}")
    return name, value


def derivative(name: str, x: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    """The pseudo-derivative of the spike at ``x = v - threshold`` (any shape; same shape out)."""
    name, value = check_surrogate(name, scale)
    return SURROGATES[name](x, value)


class _Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, name: str, scale: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.name, ctx.scale = name, scale
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * SURROGATES[ctx.name](x, ctx.scale), None, None


def spike(x: torch.Tensor, name: str = "fast_sigmoid", scale: float | None = None) -> torch.Tensor:
    """``(x > 0)`` as 0/1 floats forward; ``grad * derivative(name, x, scale)`` backward.

    Args:
        x: membrane potential minus threshold, any shape.
        name: a key of :data:`SURROGATES`.
        scale: steepness (default per name, :data:`DEFAULT_SCALE`).
    """
    name, value = check_surrogate(name, scale)
    return _Spike.apply(x, name, value)


__all__ = ["DEFAULT_SCALE", "SURROGATES", "check_surrogate", "derivative", "spike"]

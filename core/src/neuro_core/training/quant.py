"""Straight-through fake quantization: the building block of quantization-aware training (QAT).

A chip plugin's :class:`~neuro_core.chipmodel.ChipModel` quantizes its weights and neuron parameters
to the chip's number formats when ``quantization_aware`` is True. This module gives it a generic
helper: the forward pass sees the value rounded to the chip's integer grid, the backward pass sees
the identity (Bengio et al. 2013, "Estimating or propagating gradients through stochastic neurons"),
so gradient descent keeps moving the float "shadow" parameter while the loss is that of the chip.
"""

from __future__ import annotations

import torch

__all__ = ["fake_quantize", "integer_range"]


def integer_range(bits: int, signed: bool = True) -> tuple[int, int]:
    """The smallest and largest integer of a ``bits``-wide two's-complement (or unsigned) format."""
    if not isinstance(bits, int) or bits < (2 if signed else 1):
        kind = "signed" if signed else "unsigned"
        raise ValueError(f"bits must be an integer >= {2 if signed else 1} for a {kind} format, got {bits!r}")
    if signed:
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def fake_quantize(
    x: torch.Tensor,
    bits: int,
    scale: float | torch.Tensor | None = None,
    *,
    signed: bool = True,
    clip_gradient: bool = False,
) -> torch.Tensor:
    """Round ``x`` to the grid ``scale * k`` (``k`` an integer of the format) with a straight-through gradient.

    Args:
        x: any float tensor (weights, thresholds, decays ...).
        bits: width of the integer format, e.g. 8 for int8 weights.
        scale: float value of one integer unit; a float or a tensor broadcastable to ``x`` (per-channel
            scales). ``None``: symmetric max-abs scale ``max|x| / k_max`` (computed without gradient).
        signed: two's-complement (``[-2**(bits-1), 2**(bits-1)-1]``) or unsigned (``[0, 2**bits-1]``).
        clip_gradient: if True the gradient is zero where ``x`` lies outside the representable range
            (the clipped straight-through estimator), so saturated values stop drifting away.

    Returns:
        A tensor of ``x``'s shape and dtype whose values are ``clamp(round(x / scale)) * scale`` and whose
        gradient with respect to ``x`` is 1 (or 0 outside the range with ``clip_gradient``).
        Rounding is torch's round-half-to-even; a chip with another rounding rule quantizes itself.
    """
    k_min, k_max = integer_range(bits, signed)
    if scale is None:
        scale = x.detach().abs().amax().clamp_min(torch.finfo(x.dtype).tiny) / k_max
    scale_t = torch.as_tensor(scale, dtype=x.dtype, device=x.device)
    if not bool((scale_t > 0).all()):
        raise ValueError(f"scale must be > 0 everywhere, got min {float(scale_t.min())}")
    quantized = torch.clamp(torch.round(x / scale_t), k_min, k_max) * scale_t
    source = x
    if clip_gradient:
        inside = (x >= (k_min - 0.5) * scale_t) & (x <= (k_max + 0.5) * scale_t)
        source = torch.where(inside, x, x.detach())
    # value of `quantized`, gradient of `source` (identity): the straight-through estimator
    return source + (quantized - source).detach()

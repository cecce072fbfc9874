"""Fused neuron scans with hand-written backward passes (``torch.autograd.Function``).

Autograd through a Python loop over 250 steps records ~10 nodes and keeps ~5 tensors per step;
these functions record one node per layer and keep only the potentials before reset ``p``
(batch, time, n): spikes (``p > threshold``), the reset state and the surrogate derivative are
recomputed from ``p`` in the backward pass. Shapes are (batch, time, n) throughout; per-neuron
parameters are (n,) in the input's dtype and device.

Backward of the spiking scan. With ``s_t = surrogate'(p_t - threshold)`` and ``m_t = dv_t/dp_t``
(the reset's derivative: 1 for a detached subtractive reset, ``1 - threshold*s_t`` otherwise;
``1 - z_t`` for a detached reset to zero, ``1 - z_t + (v_reset - p_t)*s_t`` otherwise)::

    dL/dp_t = dL/dz_t * s_t + m_t * beta * dL/dp_{t+1}          (a linear scan backward in time)
    dL/dx_t = dL/dp_t;  dL/dc = sum dL/dp;  dL/dbeta = sum_t dL/dp_t * v_{t-1}
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from .kernels import csr_pair, linear_scan, spiking_backward, spiking_scan
from .surrogate import SURROGATES


def _sum_bt(t: torch.Tensor) -> torch.Tensor:
    return t.sum(dim=(0, 1))


def _grad_beta(g: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
    """``sum_t g_t * state_{t-1}`` over batch and time (state is zero before t = 0)."""
    return _sum_bt(g[:, 1:] * state[:, :-1])


class SpikingScan(torch.autograd.Function):
    """LIF/IF over time: inputs ``(x, beta, c, threshold, v_reset)``, output spikes ``z``."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: torch.Tensor,
        beta: torch.Tensor,
        c: torch.Tensor | None,
        threshold: torch.Tensor,
        v_reset: torch.Tensor,
        zero_reset: bool,
        detach_reset: bool,
        surrogate: str,
        scale: float,
    ) -> torch.Tensor:
        p, z = spiking_scan(x.contiguous(), beta, c, threshold, v_reset, zero_reset)
        ctx.save_for_backward(p, beta, threshold, v_reset)
        ctx.options = (zero_reset, detach_reset, surrogate, scale, c is not None)
        return z

    @staticmethod
    def backward(ctx: Any, grad_z: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        p, beta, threshold, v_reset = ctx.saved_tensors
        zero_reset, detach_reset, surrogate, scale, has_c = ctx.options
        needs = ctx.needs_input_grad
        grad_p, grad_beta = spiking_backward(
            grad_z, p, beta, threshold, v_reset, zero_reset, detach_reset, surrogate, scale, needs[1]
        )
        grad_c = _sum_bt(grad_p) if has_c and needs[2] else None
        return grad_p if needs[0] else None, grad_beta, grad_c, None, None, None, None, None, None


class LinearScan(torch.autograd.Function):
    """Leaky integration over time: ``y_t = beta*y_{t-1} + x_t + c`` (LI readout, synaptic current)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, beta: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:  # type: ignore[override]
        y = linear_scan(x.contiguous(), beta, None, c)
        # y is kept only when beta (a learnable tau) needs a gradient
        ctx.save_for_backward(beta, y if ctx.needs_input_grad[1] else None)
        ctx.has_c = c is not None
        return y

    @staticmethod
    def backward(ctx: Any, grad_y: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        beta, y = ctx.saved_tensors
        grad = linear_scan(grad_y.contiguous(), beta, None, reverse=True)
        grad_beta = _grad_beta(grad, y) if ctx.needs_input_grad[1] else None
        grad_c = _sum_bt(grad) if ctx.has_c and ctx.needs_input_grad[2] else None
        return grad, grad_beta, grad_c


def _recurrent_input(z: torch.Tensor, w_rec: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """``base + z W_rec^T`` for z (batch, m): W_rec (m, m), or (chips, n, n) acting on each of the
    ``chips`` blocks of n neurons of z (m = chips*n: chips folded into the neuron axis)."""
    if w_rec.dim() == 2:
        return torch.addmm(base, z, w_rec.t())
    chips, n, _ = w_rec.shape
    blocks = torch.bmm(z.view(-1, chips, n).transpose(0, 1), w_rec.transpose(1, 2))  # (chips, batch, n)
    return base + blocks.transpose(0, 1).reshape(z.shape)


def _recurrent_grad(g: torch.Tensor, w_rec: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """``base + g W_rec`` (the transpose of :func:`_recurrent_input`'s map)."""
    if w_rec.dim() == 2:
        return torch.addmm(base, g, w_rec)
    chips, n, _ = w_rec.shape
    blocks = torch.bmm(g.view(-1, chips, n).transpose(0, 1), w_rec)
    return base + blocks.transpose(0, 1).reshape(g.shape)


class RecurrentSpikingScan(torch.autograd.Function):
    """LIF with recurrent weights: ``p_t = beta*v_{t-1} + x_t + c + W_rec z_{t-1}``.

    The recurrent matmul stays inside the loop (it needs the previous step's spikes) but the loop
    records no autograd graph; backward runs one matmul per step plus one for ``grad W_rec``.
    ``W_rec`` is (n, n), or (chips, n, n) with the chips folded into the neuron axis (see
    :func:`_recurrent_input`; used to evaluate many mismatched chips at once).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: torch.Tensor,
        w_rec: torch.Tensor,
        beta: torch.Tensor,
        c: torch.Tensor | None,
        threshold: torch.Tensor,
        v_reset: torch.Tensor,
        zero_reset: bool,
        detach_reset: bool,
        surrogate: str,
        scale: float,
    ) -> torch.Tensor:
        x = x.contiguous() if c is None else x + c
        p = torch.empty_like(x)
        z = torch.empty_like(x)
        v = x.new_zeros(x.shape[0], x.shape[2])
        z_prev = torch.zeros_like(v)
        minus_threshold = -threshold
        for x_t, p_t, z_t in zip(x.unbind(1), p.unbind(1), z.unbind(1), strict=True):
            torch.addcmul(_recurrent_input(z_prev, w_rec, x_t), v, beta, out=p_t)
            torch.gt(p_t, threshold, out=z_t)
            v = torch.where(z_t.bool(), v_reset, p_t) if zero_reset else torch.addcmul(p_t, z_t, minus_threshold)
            z_prev = z_t
        ctx.save_for_backward(p, w_rec, beta, threshold, v_reset)
        ctx.options = (zero_reset, detach_reset, surrogate, scale, c is not None)
        return z

    @staticmethod
    def backward(ctx: Any, grad_z: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        p, w_rec, beta, threshold, v_reset = ctx.saved_tensors
        zero_reset, detach_reset, surrogate, scale, has_c = ctx.options
        above = p - threshold
        z = (above > 0).to(p.dtype)
        s = SURROGATES[surrogate](above, scale)
        # beta * dv_t/dp_t (the reset's derivative), once for all steps
        decay: torch.Tensor
        if zero_reset:
            decay = 1.0 - z
            if not detach_reset:
                decay = decay.addcmul_(v_reset - p, s)
            decay = decay.mul_(beta)
        else:
            decay = beta if detach_reset else (1.0 - threshold * s).mul_(beta)
        grad_p = torch.empty_like(p)
        g_next = p.new_zeros(p.shape[0], p.shape[2])  # dL/dp_{t+1}
        decays = decay.unbind(1) if decay.dim() == 3 else [decay] * p.shape[1]
        steps = list(zip(grad_z.unbind(1), s.unbind(1), decays, grad_p.unbind(1), strict=True))
        for gz_t, s_t, decay_t, out_t in reversed(steps):
            # dL/dz_t gets the output gradient plus the recurrent path into p_{t+1}
            torch.mul(_recurrent_grad(g_next, w_rec, gz_t), s_t, out=out_t)
            g_next = out_t.addcmul_(decay_t, g_next)
        needs = ctx.needs_input_grad
        grad_w = grad_beta = grad_c = None
        if needs[1]:
            n = w_rec.shape[-1]
            g_rows, z_rows = grad_p[:, 1:].reshape(-1, p.shape[2]), z[:, :-1].reshape(-1, p.shape[2])
            if w_rec.dim() == 2:
                grad_w = g_rows.t() @ z_rows
            else:  # per chip: sum over batch and time of g_c^T z_c
                chips = w_rec.shape[0]
                g_c = g_rows.view(-1, chips, n).transpose(0, 1)
                grad_w = torch.bmm(g_c.transpose(1, 2), z_rows.view(-1, chips, n).transpose(0, 1))
        if needs[2]:
            v = torch.where(z.bool(), v_reset, p) if zero_reset else p - threshold * z
            grad_beta = _grad_beta(grad_p, v)
        if has_c and needs[3]:
            grad_c = _sum_bt(grad_p)
        return grad_p if needs[0] else None, grad_w, grad_beta, grad_c, None, None, None, None, None, None


def _csr(crow: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    with warnings.catch_warnings():  # "sparse CSR support is in beta": the ops used here are tested
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, cols, values, shape)


def _sparse_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse.mm(a, b)


class SparseInputLinear(torch.autograd.Function):
    """``y = x W^T (+ b)`` for a sparse input ``x`` (rows, in) that needs no gradient (input spikes).

    Both matmuls of a dense layer (``x W^T`` forward, ``grad W = grad_y^T x`` backward) touch only
    the nonzeros of ``x`` through CSR matrices of ``x`` and ``x^T`` (:func:`~neuro_core.nn.kernels.csr_pair`),
    so their cost scales with the spike count instead of rows*in; autograd keeps the nonzeros'
    int32 coordinates and values instead of the dense input.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        crow: torch.Tensor,
        cols: torch.Tensor,
        values: torch.Tensor,
        ccol: torch.Tensor,
        rows_t: torch.Tensor,
        values_t: torch.Tensor,
    ) -> torch.Tensor:
        shape = (crow.shape[0] - 1, ccol.shape[0] - 1)
        y = _sparse_mm(_csr(crow, cols, values, shape), weight.t())
        if bias is not None:
            y += bias
        ctx.save_for_backward(ccol, rows_t, values_t)
        ctx.shape = shape
        ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx: Any, grad_y: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        ccol, rows_t, values_t = ctx.saved_tensors
        grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            x_t = _csr(ccol, rows_t, values_t, (ctx.shape[1], ctx.shape[0]))
            grad_w = _sparse_mm(x_t, grad_y.contiguous()).t()
        if ctx.has_bias and ctx.needs_input_grad[1]:
            grad_b = grad_y.sum(dim=0)
        return grad_w, grad_b, None, None, None, None, None, None


def sparse_input_linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, max_density: float
) -> torch.Tensor | None:
    """``x W^T + b`` over the last axis through :class:`SparseInputLinear`, or None if ``x`` has more
    than ``max_density`` nonzeros (then the dense matmul is faster). ``x`` must not need a gradient."""
    pair = csr_pair(x.reshape(-1, x.shape[-1]), max_density)
    if pair is None:
        return None
    y = SparseInputLinear.apply(weight, bias, *pair)
    return y.reshape(*x.shape[:-1], weight.shape[0])


def spiking(
    x: torch.Tensor,
    beta: torch.Tensor,
    c: torch.Tensor | None,
    threshold: torch.Tensor,
    v_reset: torch.Tensor,
    reset: str = "subtract",
    detach_reset: bool = True,
    surrogate: str = "fast_sigmoid",
    scale: float = 10.0,
    w_rec: torch.Tensor | None = None,
) -> torch.Tensor:
    """Spikes (batch, time, n) of a LIF/IF population driven by ``x`` (volts per step, (batch, time, n)).

    ``beta``/``c``/``threshold``/``v_reset`` are (n,); ``w_rec`` (n, n) adds recurrent input from the
    previous step's spikes. Gradients flow to ``x``, ``beta``, ``c`` and ``w_rec``.
    """
    zero = reset == "zero"
    if w_rec is None:
        return SpikingScan.apply(x, beta, c, threshold, v_reset, zero, detach_reset, surrogate, scale)
    return RecurrentSpikingScan.apply(x, w_rec, beta, c, threshold, v_reset, zero, detach_reset, surrogate, scale)


def leaky(x: torch.Tensor, beta: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
    """``y_t = beta*y_{t-1} + x_t + c`` over time, y = 0 before t = 0; (batch, time, n) in and out."""
    return LinearScan.apply(x, beta, c)


__all__ = [
    "LinearScan",
    "RecurrentSpikingScan",
    "SparseInputLinear",
    "SpikingScan",
    "leaky",
    "sparse_input_linear",
    "spiking",
]

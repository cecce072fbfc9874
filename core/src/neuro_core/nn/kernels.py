"""The two time scans every neuron layer runs, on plain arrays laid out (batch, time, neuron).

- :func:`spiking_scan` (forward of LIF/IF): ``p_t = beta*v_{t-1} + x_t + c``; ``z_t = p_t > threshold``;
  ``v_t = p_t - threshold*z_t`` (subtract) or ``v_reset`` where ``z_t`` (zero). Writes ``p`` and ``z``.
- :func:`spiking_backward` (its backward): ``g_t = dL/dz_t * s_t + m_t * beta * g_{t+1}`` with the
  surrogate derivative ``s_t`` and the reset's derivative ``m_t`` (see :mod:`neuro_core.nn.functional`),
  plus ``dL/dbeta = sum g_t * v_{t-1}``.
- :func:`linear_scan` (forward of LI and of a synaptic current; backward of the leaky scans):
  ``y_t = a_t + c + coef * m_t * y_{t-1}`` running forward, or ``y_t = a_t + c + coef * m_t * y_{t+1}``
  running backward in time (``m`` optional, per element).

Plus :func:`csr_pair`, the CSR matrices of a sparse input and of its transpose (for
:class:`~neuro_core.nn.functional.SparseInputLinear`).

Each scan has two implementations, tested equal to each other (``tests/test_nn_kernels``):

1. a loop of fused torch ops over time (``unbind`` views, ``out=`` writes, no autograd): runs on
   any device and dtype (CUDA, float64 for gradcheck) and needs nothing but torch;
2. an element loop compiled by numba when numba imports (``maybe_njit``): one pass over memory,
   ~10x faster on CPU than (1) because (1) pays torch's per-op dispatch 250 times per op and the
   backward's surrogate, reset derivative and recursion fuse into one loop instead of ~8 passes.
   The numba backward evaluates the surrogates inline (``_surrogate_nb``): the formulas of
   :data:`neuro_core.nn.surrogate.SURROGATES`, tested equal to them.

This is the one place where a kernel exists twice, on purpose: numba cannot run on CUDA tensors,
and the numba source run as plain Python would take seconds per call, so neither can stand in
for the other. :func:`set_backend` forces one of them (tests, benchmarks).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch

from ..accel import HAVE_NUMBA, maybe_njit

_BACKENDS = ("auto", "torch", "numba")
_backend = os.environ.get("NEURO_NN_BACKEND", "auto")
if _backend not in _BACKENDS or (_backend == "numba" and not HAVE_NUMBA):
    warnings.warn(
        f"NEURO_NN_BACKEND={_backend!r} is not usable here (one of {_BACKENDS}; 'numba' needs numba); using 'auto'",
        stacklevel=1,
    )
    _backend = "auto"


def set_backend(name: str) -> str:
    """Choose the scan implementation: ``"auto"`` (numba on CPU when available), ``"torch"`` or
    ``"numba"`` (an error if numba is missing). Returns the previous choice."""
    global _backend
    if name not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {name!r}")
    if name == "numba" and not HAVE_NUMBA:
        raise ImportError("backend 'numba' needs numba: pip install numba (or neuro-core's fast extra)")
    previous, _backend = _backend, name
    return previous


def use_numba(x: torch.Tensor) -> bool:
    """Whether the scans of ``x`` run in the numba kernels."""
    if _backend == "torch" or not HAVE_NUMBA:
        return False
    return x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)


# ---- numba kernels (numba-compatible subset: loops over numpy arrays) ------------------------------
# Constants arrive as scalars of the arrays' dtype (``one``, ``a``, ``b``): a float64 literal would
# promote float32 arithmetic to float64 and halve the vector width.
@maybe_njit(error_model="numpy")
def _spiking_scan_nb(x, beta, c, threshold, v_reset, zero_reset, one, p_out, z_out):  # type: ignore[no-untyped-def]
    batch, steps, n = x.shape
    zero = one - one
    for b in range(batch):
        v = np.zeros(n, dtype=x.dtype)
        for t in range(steps):
            for j in range(n):
                p = beta[j] * v[j] + x[b, t, j] + c[j]
                p_out[b, t, j] = p
                spike = p > threshold[j]
                z_out[b, t, j] = one if spike else zero
                if zero_reset:
                    v[j] = v_reset[j] if spike else p
                else:
                    v[j] = p - threshold[j] if spike else p


@maybe_njit(error_model="numpy")
def _linear_scan_nb(a, c, coef, m, reverse, out):  # type: ignore[no-untyped-def]
    batch, steps, n = a.shape
    has_m = m.shape[0] > 0
    for b in range(batch):
        y = np.zeros(n, dtype=a.dtype)
        for k in range(steps):
            t = steps - 1 - k if reverse else k
            if has_m:
                for j in range(n):
                    y[j] = a[b, t, j] + c[j] + coef[j] * m[b, t, j] * y[j]
                    out[b, t, j] = y[j]
            else:
                for j in range(n):
                    y[j] = a[b, t, j] + c[j] + coef[j] * y[j]
                    out[b, t, j] = y[j]


SURROGATE_CODES = {"fast_sigmoid": 0, "sigmoid": 1, "arctan": 2, "triangle": 3}


def _surrogate_constants(name: str, scale: float) -> tuple[float, float]:
    """``(a, b)`` of :func:`_surrogate_nb` for a surrogate and its scale."""
    if name == "arctan":
        return 0.5 * np.pi * scale, 0.5 * scale
    return scale, scale


@maybe_njit(error_model="numpy")
def _surrogate_row_nb(p, threshold, code, a, b, one, out):  # type: ignore[no-untyped-def]
    """The formulas of :data:`neuro_core.nn.surrogate.SURROGATES` at ``p - threshold`` over one row.

    One loop per surrogate (the branch outside the loop) so that each loop vectorises.
    """
    n = p.shape[0]
    if code == 0:  # fast_sigmoid: 1 / (scale*|x| + 1)^2
        for j in range(n):
            d = a * abs(p[j] - threshold[j]) + one
            out[j] = one / (d * d)
    elif code == 1:  # sigmoid: scale * s * (1 - s), s = sigmoid(scale * x)
        for j in range(n):
            e = one / (one + np.exp(-a * (p[j] - threshold[j])))
            out[j] = a * e * (one - e)
    elif code == 2:  # arctan: (scale/2) / (1 + (pi/2 * scale * x)^2); a = pi/2 * scale, b = scale/2
        for j in range(n):
            u = a * (p[j] - threshold[j])
            out[j] = b / (one + u * u)
    else:  # triangle: scale * max(0, 1 - scale*|x|)
        for j in range(n):
            out[j] = a * max(one - one, one - a * abs(p[j] - threshold[j]))


@maybe_njit(error_model="numpy")
def _spiking_backward_nb(  # type: ignore[no-untyped-def]
    grad_z, p, beta, threshold, v_reset, zero_reset, detach_reset, code, a, b, one, need_beta, grad_p, grad_beta
):
    batch, steps, n = p.shape
    zero = one - one
    s = np.empty(n, dtype=p.dtype)
    m = np.empty(n, dtype=p.dtype)
    for bi in range(batch):
        g = np.zeros(n, dtype=p.dtype)
        for t in range(steps - 1, -1, -1):
            p_t = p[bi, t]
            _surrogate_row_nb(p_t, threshold, code, a, b, one, s)
            # m = dv_t/dp_t, the reset's derivative, times beta
            if zero_reset and detach_reset:
                for j in range(n):
                    m[j] = beta[j] if p_t[j] <= threshold[j] else zero
            elif zero_reset:
                for j in range(n):
                    m[j] = ((one if p_t[j] <= threshold[j] else zero) + (v_reset[j] - p_t[j]) * s[j]) * beta[j]
            elif detach_reset:
                for j in range(n):
                    m[j] = beta[j]
            else:
                for j in range(n):
                    m[j] = (one - threshold[j] * s[j]) * beta[j]
            gz_t = grad_z[bi, t]
            out_t = grad_p[bi, t]
            for j in range(n):
                g[j] = gz_t[j] * s[j] + m[j] * g[j]
                out_t[j] = g[j]
            if need_beta and t > 0:  # dL/dbeta = sum g_t * v_{t-1}, v_{t-1} the state after the reset at t-1
                for j in range(n):
                    prev = p[bi, t - 1, j]
                    if prev > threshold[j]:
                        prev = v_reset[j] if zero_reset else prev - threshold[j]
                    grad_beta[j] += g[j] * prev


@maybe_njit(error_model="numpy")
def _count_nonzeros_nb(x, row_count, col_count):  # type: ignore[no-untyped-def]
    rows, cols = x.shape
    for r in range(rows):
        count = 0
        for c in range(cols):
            if x[r, c] != 0:
                count += 1
                col_count[c] += 1
        row_count[r] = count


@maybe_njit(error_model="numpy")
def _fill_csr_pair_nb(x, ccol, cols_out, values_out, rows_t_out, values_t_out):  # type: ignore[no-untyped-def]
    rows, cols = x.shape
    next_t = ccol[:-1].copy()  # next free slot of each column in the transposed CSR
    k = 0
    for r in range(rows):
        for c in range(cols):
            value = x[r, c]
            if value != 0:
                cols_out[k] = c
                values_out[k] = value
                k += 1
                q = next_t[c]
                rows_t_out[q] = r
                values_t_out[q] = value
                next_t[c] = q + 1


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


# ---- the two entry points ----------------------------------------------------------------------------
def spiking_scan(
    x: torch.Tensor,
    beta: torch.Tensor,
    c: torch.Tensor | None,
    threshold: torch.Tensor,
    v_reset: torch.Tensor,
    zero_reset: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward of a spiking population without autograd.

    Args:
        x: input current already scaled to volts per step, (batch, time, n), contiguous.
        beta: decay per step (n,); c: constant drive per step (n,) or None; threshold, v_reset: (n,).
        zero_reset: reset to ``v_reset`` (True) or subtract the threshold (False).

    Returns:
        ``(p, z)``: the potentials before reset and the 0/1 spikes, both (batch, time, n).
    """
    p = torch.empty_like(x)
    z = torch.empty_like(x)
    if use_numba(x):
        cc = torch.zeros_like(beta) if c is None else c
        one = _np(x).dtype.type(1)
        _spiking_scan_nb(_np(x), _np(beta), _np(cc), _np(threshold), _np(v_reset), zero_reset, one, _np(p), _np(z))
        return p, z
    xc = x if c is None else x + c  # one vectorised add instead of one per step
    v = x.new_zeros(x.shape[0], x.shape[2])
    minus_threshold = -threshold
    for x_t, p_t, z_t in zip(xc.unbind(1), p.unbind(1), z.unbind(1), strict=True):
        torch.addcmul(x_t, v, beta, out=p_t)
        torch.gt(p_t, threshold, out=z_t)
        v = torch.where(z_t.bool(), v_reset, p_t) if zero_reset else torch.addcmul(p_t, z_t, minus_threshold)
    return p, z


def spiking_backward(
    grad_z: torch.Tensor,
    p: torch.Tensor,
    beta: torch.Tensor,
    threshold: torch.Tensor,
    v_reset: torch.Tensor,
    zero_reset: bool,
    detach_reset: bool,
    surrogate: str,
    scale: float,
    need_beta: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Backward of :func:`spiking_scan`: ``(dL/dp, dL/dbeta or None)`` from ``dL/dz`` and the saved ``p``."""
    grad_z = grad_z.contiguous()
    if use_numba(p):
        grad_p = torch.empty_like(p)
        grad_beta = torch.zeros(p.shape[2], dtype=torch.float64)  # accumulate in float64: a sum of B*T terms
        kind = _np(p).dtype.type
        a, b = _surrogate_constants(surrogate, scale)
        _spiking_backward_nb(
            _np(grad_z), _np(p), _np(beta), _np(threshold), _np(v_reset), zero_reset, detach_reset,
            SURROGATE_CODES[surrogate], kind(a), kind(b), kind(1), need_beta, _np(grad_p), grad_beta.numpy(),
        )  # fmt: skip
        return grad_p, grad_beta.to(p.dtype) if need_beta else None
    from .surrogate import SURROGATES  # here, not at the top: surrogate imports nothing from kernels

    above = p - threshold
    s = SURROGATES[surrogate](above, scale)
    m: torch.Tensor | None
    if zero_reset:
        keep = (above <= 0).to(p.dtype)  # 1 - z
        m = keep if detach_reset else keep.addcmul_(v_reset - p, s)
    else:
        m = None if detach_reset else torch.addcmul(torch.ones_like(s), s, threshold, value=-1.0)
    grad_p = linear_scan(s.mul_(grad_z), beta, m, reverse=True)
    if not need_beta:
        return grad_p, None
    z = above > 0
    v = torch.where(z, v_reset, p) if zero_reset else p - threshold * z
    return grad_p, (grad_p[:, 1:] * v[:, :-1]).sum(dim=(0, 1))


_INT_OF_FLOAT = {torch.float32: torch.int32, torch.float64: torch.int64, torch.float16: torch.int16}


def _offsets(counts: torch.Tensor) -> torch.Tensor:
    out = torch.zeros(counts.shape[0] + 1, dtype=torch.int32, device=counts.device)
    torch.cumsum(counts, 0, out=out[1:])
    return out


def csr_pair(x: torch.Tensor, max_density: float) -> tuple[torch.Tensor, ...] | None:
    """The nonzeros of a 2-D ``x`` (rows, cols) as CSR of ``x`` and CSR of ``x^T`` (int32 indices).

    Returns ``(crow, cols, values, ccol, rows_t, values_t)``, or None when more than ``max_density``
    of the entries are nonzero (or there are too many for int32 indices).
    """
    n_rows, n_cols = x.shape
    if x.numel() >= 2**31:
        return None
    x = x.contiguous()
    if use_numba(x):
        row_count = torch.empty(n_rows, dtype=torch.int32)
        col_count = torch.zeros(n_cols, dtype=torch.int32)
        _count_nonzeros_nb(_np(x), row_count.numpy(), col_count.numpy())
        crow, ccol = _offsets(row_count), _offsets(col_count)
        nnz = int(crow[-1])
        if nnz > max_density * x.numel():
            return None
        cols = torch.empty(nnz, dtype=torch.int32)
        rows_t = torch.empty(nnz, dtype=torch.int32)
        values, values_t = torch.empty(nnz, dtype=x.dtype), torch.empty(nnz, dtype=x.dtype)
        _fill_csr_pair_nb(_np(x), ccol.numpy(), cols.numpy(), _np(values), rows_t.numpy(), _np(values_t))
        return crow, cols, values, ccol, rows_t, values_t
    # nonzero over the bit patterns (an integer view) is faster than over floats; a -0.0 it keeps
    # adds 0 to the products, so the results are unchanged
    flat = x.reshape(-1)
    bits = _INT_OF_FLOAT.get(x.dtype)
    flat_index = (flat if bits is None else flat.view(bits)).nonzero().squeeze(1)
    if flat_index.numel() > max_density * x.numel():
        return None
    rows64 = torch.div(flat_index, n_cols, rounding_mode="floor")
    cols = (flat_index - rows64 * n_cols).to(torch.int32)
    rows = rows64.to(torch.int32)
    values = flat.take(flat_index)
    order = torch.argsort(cols, stable=True)  # x^T in CSR: the coordinates sorted by column
    crow = _offsets(torch.bincount(rows, minlength=n_rows))
    ccol = _offsets(torch.bincount(cols, minlength=n_cols))
    return crow, cols, values, ccol, rows[order], values[order]


def linear_scan(
    a: torch.Tensor,
    coef: torch.Tensor,
    m: torch.Tensor | None = None,
    c: torch.Tensor | None = None,
    reverse: bool = False,
) -> torch.Tensor:
    """``y_t = a_t + c + coef*m_t*y_{t-1}`` (``reverse``: ``y_{t+1}``), y = 0 outside; no autograd.

    Args:
        a: (batch, time, n), contiguous. coef, c: (n,). m: (batch, time, n) or None (ones).
    """
    out = torch.empty_like(a)
    if use_numba(a):
        empty = np.zeros((0, 0, 0), dtype=_np(a).dtype)
        cc = torch.zeros_like(coef) if c is None else c
        _linear_scan_nb(_np(a), _np(cc), _np(coef), empty if m is None else _np(m), reverse, _np(out))
        return out
    ac = a if c is None else a + c
    coef_m = coef if m is None else m * coef  # fold the per-step coefficient into one tensor up front
    y = a.new_zeros(a.shape[0], a.shape[2])
    steps = zip(ac.unbind(1), out.unbind(1), coef_m.unbind(1) if m is not None else [coef] * a.shape[1], strict=True)
    for a_t, out_t, k_t in reversed(list(steps)) if reverse else steps:
        y = torch.addcmul(a_t, y, k_t, out=out_t)
    return out


__all__ = [
    "HAVE_NUMBA",
    "csr_pair",
    "linear_scan",
    "maybe_njit",
    "set_backend",
    "spiking_backward",
    "spiking_scan",
    "use_numba",
]

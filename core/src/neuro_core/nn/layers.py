"""Layers: ``Linear`` and the neuron populations ``LIF``, ``CubaLIF``, ``LI``, ``IF``, ``RecurrentLIF``.

Every layer maps (batch, time, in) -> (batch, time, out) and starts from zero state on each call.
Neuron dynamics equal the graph IR's reference semantics (:mod:`neuro_core.reference`), forward
Euler with step ``dt`` (seconds)::

    v <- v + dt/tau * (v_leak - v + r*I)    ==    v <- beta*v + (1 - beta)*v_leak + (dt/tau)*r*I,  beta = 1 - dt/tau
    z  = v > threshold;  reset "subtract": v <- v - threshold*z;  "zero": v <- v_reset where z

Default ``r = tau/dt`` so that ``(dt/tau)*r = 1``: the input current is added to ``v`` unscaled,
as in snnTorch/SpikingJelly (``v = beta*v + I``), and changing ``tau`` changes only the leak.

Neuron parameters (tau, threshold, ...) are per-neuron float64 buffers that keep float64 through
``.to(dtype)`` (only their device follows), so a graph exported with :func:`~neuro_core.nn.to_graph`
carries exactly the values given; the scans run in the input's dtype.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import graph as ir
from ..graph import RESET_MODES, ResetMode
from .functional import leaky, sparse_input_linear, spiking
from .surrogate import check_surrogate

ArrayLike = float | np.ndarray | torch.Tensor | list[float]


def _per_neuron(name: str, value: ArrayLike, n: int) -> torch.Tensor:
    """``value`` broadcast to a float64 (n,) tensor; a clear error for a wrong shape or non-finite value."""
    tensor = torch.as_tensor(np.array(value.detach().cpu() if isinstance(value, torch.Tensor) else value, float))
    if tensor.ndim > 1 or (tensor.ndim == 1 and tensor.shape[0] not in (1, n)):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got shape {tuple(tensor.shape)}")
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return tensor.to(torch.float64).expand(n).clone()


def _positive(name: str, value: torch.Tensor) -> torch.Tensor:
    if (value <= 0).any():
        raise ValueError(f"{name} must be > 0 seconds, got min {float(value.min())}")
    return value


def _check_reset(reset: str) -> ResetMode:
    if reset not in RESET_MODES:
        raise ValueError(f"reset must be one of {RESET_MODES}, got {reset!r}")
    return "zero" if reset == "zero" else "subtract"


def _check_dt(dt: float | None, required: bool = True) -> float | None:
    if dt is None and not required:
        return None
    if dt is None or not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive finite number of seconds, got {dt!r}")
    return float(dt)


def _check_input(x: torch.Tensor, n: int, layer: str) -> None:
    if x.ndim != 3 or x.shape[2] != n:
        raise ValueError(f"{layer} expects input (batch, time, {n}), got shape {tuple(x.shape)}")


def _np64(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy().copy()


class _Float64Buffers(nn.Module):
    """A module whose registered float64 buffers follow ``.to(device)`` but never ``.to(dtype)``."""

    def _apply(self, fn: Any, recurse: bool = True) -> _Float64Buffers:
        kept = {k: b for k, b in self._buffers.items() if b is not None and b.dtype == torch.float64}
        super()._apply(fn, recurse)
        for key, original in kept.items():
            moved = self._buffers[key]
            assert moved is not None
            self._buffers[key] = original.to(moved.device)
        return self


SPARSE_MIN_ELEMENTS = 1 << 17  # smallest input (batch*time*in) for which Linear's auto mode goes sparse


class Linear(nn.Linear):
    """``y_t = W x_{t - d}`` (+ bias): a dense layer applied to every time step in one matmul.

    Args:
        in_features, out_features: sizes.
        bias: add a learnable bias (exported as an ``Affine`` node).
        delay: optional fixed integer delays in steps, (out_features, in_features) (a ``Linear`` node's
            per-synapse delays); learnable delays are :class:`~neuro_core.nn.DelayLinear`.
        sparse_input: ``None`` (auto): an input that needs no gradient (the data: input spikes) on
            the CPU with at least ``SPARSE_MIN_ELEMENTS`` entries and at most ``max_density``
            nonzeros goes through sparse matmuls
            (:class:`~neuro_core.nn.functional.SparseInputLinear`), whose cost scales with the spike
            count; ``True``: the same at any density and on any device; ``False``: always dense.
            The result is the same up to float rounding order.
        max_density: the nonzero fraction up to which the sparse path is used.

    Input (batch, time, in_features) -> output (batch, time, out_features). Without delays the
    matmul runs once over all batch*time rows (the input matmul hoisted out of the time loop).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = False,
        delay: ArrayLike | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        sparse_input: bool | None = None,
        max_density: float = 0.1,
    ) -> None:
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.sparse_input = sparse_input
        self.max_density = float(max_density)
        self.delay: torch.Tensor | None
        if delay is None:
            self.register_buffer("delay", None)
        else:
            d = torch.as_tensor(np.array(delay.cpu() if isinstance(delay, torch.Tensor) else delay))
            if d.shape != (out_features, in_features):
                raise ValueError(f"delay must have shape ({out_features}, {in_features}), got {tuple(d.shape)}")
            if (d < 0).any() or (d != d.round()).any():
                raise ValueError(f"delay must hold integers >= 0 (steps), got min {float(d.min())}")
            self.register_buffer("delay", d.to(torch.int64, copy=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, in) -> (batch, time, out)."""
        _check_input(x, self.in_features, "Linear")
        if self.delay is None or not bool(self.delay.any()):
            # auto: CPU inputs big enough that building the CSR pays off (measured break-even ~1e4-1e5)
            auto = self.sparse_input is None and x.device.type == "cpu" and x.numel() >= SPARSE_MIN_ELEMENTS
            if (auto or self.sparse_input) and not x.requires_grad:
                y = sparse_input_linear(x, self.weight, self.bias, self.max_density if auto else 1.0)
                if y is not None:
                    return y
            return nn.functional.linear(x, self.weight, self.bias)
        # one matmul per distinct delay value on the input shifted by that many steps
        steps = x.shape[1]
        out = None
        for d in torch.unique(self.delay).tolist():
            if d >= steps:
                continue
            shifted = nn.functional.pad(x, (0, 0, d, 0))[:, :steps] if d else x
            part = nn.functional.linear(shifted, self.weight * (self.delay == d).to(self.weight.dtype))
            out = part if out is None else out + part
        if out is None:
            out = x.new_zeros(*x.shape[:2], self.out_features)
        return out if self.bias is None else out + self.bias

    def graph_node(self) -> ir.Node:
        """The IR node: ``Affine`` with a bias, else ``Linear``."""
        delay = None if self.delay is None else self.delay.cpu().numpy()
        weight = _np64(self.weight)
        if self.bias is not None:
            return ir.Affine(weight=weight, delay=delay, bias=_np64(self.bias))
        return ir.Linear(weight=weight, delay=delay)


Params = Mapping[str, "torch.Tensor | None"]


class _Neuron(_Float64Buffers):
    """Shared parameter handling of the neuron populations (see the module docstring).

    ``forward(x)`` is ``run(x, own parameters)``; ``run`` takes the per-neuron tensors (names in
    ``PARAMS``) as an argument, each of shape ``(m,)`` with ``m = x.shape[-1]``, so the same code also
    runs several parameter sets at once with their populations side by side (``Network.forward_chips``).
    """

    kind = "neuron"
    PARAMS: tuple[str, ...] = ()

    def __init__(self, n: int, dt: float | None, surrogate: str, surrogate_scale: float | None) -> None:
        super().__init__()
        if int(n) < 1:
            raise ValueError(f"n must be a positive number of neurons, got {n!r}")
        self.n = int(n)
        self.dt = _check_dt(dt, required=False)
        self.surrogate, self.surrogate_scale = check_surrogate(surrogate, surrogate_scale)

    def _cast(self, value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return value.to(device=like.device, dtype=like.dtype)

    def _tau_terms(
        self, tau: torch.Tensor, r: torch.Tensor | None, v_leak: torch.Tensor | None, like: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """``(beta, gain, c)`` per neuron in ``like``'s dtype: decay, input gain (None = 1), constant drive."""
        assert self.dt is not None
        a = self.dt / tau
        beta = self._cast(1.0 - a, like)
        gain = None if r is None else self._cast(a * r, like)
        if gain is not None and not gain.requires_grad and bool((gain == 1).all()):
            gain = None  # r == tau/dt in this dtype: skip a multiply over (batch, time, n)
        c = None if v_leak is None else self._cast(a * v_leak, like)
        return beta, gain, c

    def params(self) -> dict[str, torch.Tensor | None]:
        """This population's per-neuron tensors, by name (the keys of ``run``'s ``p``)."""
        return {name: getattr(self, name) for name in self.PARAMS}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Input current (batch, time, n) -> output (batch, time, n): spikes, or the potential for LI."""
        _check_input(x, self.n, self.kind)
        return self.run(x, self.params())

    def run(self, x: torch.Tensor, p: Params) -> torch.Tensor:
        """The dynamics on ``x`` (batch, time, m) with per-neuron tensors ``p`` of shape (m,)."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"n={self.n}, dt={self.dt}"


class _Spiking(_Neuron):
    threshold: torch.Tensor
    v_reset: torch.Tensor

    def __init__(
        self,
        n: int,
        dt: float | None,
        threshold: ArrayLike,
        reset: str,
        v_reset: ArrayLike,
        surrogate: str,
        surrogate_scale: float | None,
        detach_reset: bool,
    ) -> None:
        super().__init__(n, dt, surrogate, surrogate_scale)
        self.reset = _check_reset(reset)
        self.detach_reset = bool(detach_reset)
        self.register_buffer("threshold", _per_neuron("threshold", threshold, self.n))
        self.register_buffer("v_reset", _per_neuron("v_reset", v_reset, self.n))

    def _spikes(
        self,
        x: torch.Tensor,
        p: Params,
        beta: torch.Tensor,
        c: torch.Tensor | None,
        w_rec: torch.Tensor | None = None,
    ) -> torch.Tensor:
        threshold, v_reset = p["threshold"], p["v_reset"]
        assert threshold is not None and v_reset is not None
        return spiking(
            x,
            beta,
            c,
            self._cast(threshold, x),
            self._cast(v_reset, x),
            self.reset,
            self.detach_reset,
            self.surrogate,
            self.surrogate_scale,
            w_rec,
        )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, reset={self.reset!r}, surrogate={self.surrogate!r}"


class _LeakyMixin:
    """tau (buffer, or a Parameter with ``learn_tau``), r (None = tau/dt) and v_leak handling."""

    tau: torch.Tensor
    r: torch.Tensor | None
    v_leak: torch.Tensor
    dt: float | None
    n: int

    def _init_leak(self, tau: ArrayLike, r: ArrayLike | None, v_leak: ArrayLike, learn_tau: bool) -> None:
        module: Any = self
        _check_dt(self.dt)
        tau_t = _positive("tau", _per_neuron("tau", tau, self.n))
        if learn_tau:
            module.tau = nn.Parameter(tau_t)
        else:
            module.register_buffer("tau", tau_t)
        module.register_buffer("r", None if r is None else _per_neuron("r", r, self.n))
        leak = _per_neuron("v_leak", v_leak, self.n)
        module.register_buffer("v_leak", leak)
        self._has_leak = bool((leak != 0).any())

    def _r_values(self) -> torch.Tensor:
        assert self.dt is not None
        return self.tau.detach() / self.dt if self.r is None else self.r

    def _leak_terms(
        self, p: Params, like: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        tau = p["tau"]
        assert tau is not None
        leak = p["v_leak"] if self._has_leak else None
        return self._tau_terms(tau.to(torch.float64), p["r"], leak, like)  # type: ignore[attr-defined]


class LIF(_LeakyMixin, _Spiking):
    """Leaky integrate-and-fire population: input current (batch, time, n) -> spikes (batch, time, n).

    Args:
        n: number of neurons.
        tau: membrane time constant in seconds (scalar or (n,)).
        dt: time step in seconds.
        threshold: firing threshold (volts; scalar or (n,)); a neuron spikes when ``v > threshold``.
        reset: ``"subtract"`` (v -= threshold) or ``"zero"`` (v = v_reset), in the step of the spike.
        v_reset: potential after a reset to zero.
        r: input resistance; default ``tau/dt`` (input added to v unscaled; see the module docstring).
        v_leak: resting potential.
        surrogate, surrogate_scale: pseudo-derivative of the spike (:mod:`neuro_core.nn.surrogate`).
        learn_tau: make ``tau`` a trainable parameter (gradient through the decay ``beta``).
        detach_reset: treat the reset as a constant in the backward pass (as snnTorch does).
    """

    kind = "LIF"
    PARAMS = ("tau", "r", "v_leak", "threshold", "v_reset")

    def __init__(
        self,
        n: int,
        tau: ArrayLike = 20e-3,
        dt: float = 1e-3,
        threshold: ArrayLike = 1.0,
        reset: str = "subtract",
        v_reset: ArrayLike = 0.0,
        r: ArrayLike | None = None,
        v_leak: ArrayLike = 0.0,
        surrogate: str = "fast_sigmoid",
        learn_tau: bool = False,
        surrogate_scale: float | None = None,
        detach_reset: bool = True,
    ) -> None:
        _Spiking.__init__(self, n, dt, threshold, reset, v_reset, surrogate, surrogate_scale, detach_reset)
        self._init_leak(tau, r, v_leak, learn_tau)

    def run(self, x: torch.Tensor, p: Params) -> torch.Tensor:
        """Input current (batch, time, m) -> spikes (batch, time, m) as 0/1 in x's dtype."""
        beta, gain, c = self._leak_terms(p, x)
        return self._spikes(x if gain is None else x * gain, p, beta, c)

    def graph_node(self) -> ir.Node:
        """The IR ``LIF`` node."""
        return ir.LIF(
            tau=_np64(self.tau),
            r=_np64(self._r_values()),
            v_leak=_np64(self.v_leak),
            v_threshold=_np64(self.threshold),
            v_reset=_np64(self.v_reset),
            reset=self.reset,
        )


class IF(_Spiking):
    """Integrate-and-fire (no leak): ``v += r*I``; spike and reset as :class:`LIF`.

    ``dt`` (seconds) is needed only to export a graph that has no other neuron layer.
    """

    kind = "IF"
    PARAMS = ("r", "threshold", "v_reset")
    r: torch.Tensor

    def __init__(
        self,
        n: int,
        threshold: ArrayLike = 1.0,
        reset: str = "subtract",
        v_reset: ArrayLike = 0.0,
        r: ArrayLike = 1.0,
        dt: float | None = None,
        surrogate: str = "fast_sigmoid",
        surrogate_scale: float | None = None,
        detach_reset: bool = True,
    ) -> None:
        super().__init__(n, dt, threshold, reset, v_reset, surrogate, surrogate_scale, detach_reset)
        self.register_buffer("r", _per_neuron("r", r, self.n))

    def run(self, x: torch.Tensor, p: Params) -> torch.Tensor:
        """Input current (batch, time, m) -> spikes (batch, time, m)."""
        r = p["r"]
        assert r is not None
        gain = self._cast(r, x)
        beta = torch.ones_like(gain)
        return self._spikes(x if bool((gain == 1).all()) else x * gain, p, beta, None)

    def graph_node(self) -> ir.Node:
        """The IR ``IF`` node."""
        return ir.IF(r=_np64(self.r), v_threshold=_np64(self.threshold), v_reset=_np64(self.v_reset), reset=self.reset)


class LI(_LeakyMixin, _Neuron):
    """Leaky integrator readout: input current (batch, time, n) -> membrane potential (batch, time, n).

    ``v <- beta*v + (1-beta)*v_leak + (dt/tau)*r*I``; default ``r = tau/dt``. No spikes, no reset.
    """

    kind = "LI"
    PARAMS = ("tau", "r", "v_leak")

    def __init__(
        self,
        n: int,
        tau: ArrayLike = 20e-3,
        dt: float = 1e-3,
        r: ArrayLike | None = None,
        v_leak: ArrayLike = 0.0,
        learn_tau: bool = False,
    ) -> None:
        _Neuron.__init__(self, n, dt, "fast_sigmoid", None)
        self._init_leak(tau, r, v_leak, learn_tau)

    def run(self, x: torch.Tensor, p: Params) -> torch.Tensor:
        """Input current (batch, time, m) -> potential (batch, time, m)."""
        beta, gain, c = self._leak_terms(p, x)
        return leaky(x if gain is None else x * gain, beta, c)

    def graph_node(self) -> ir.Node:
        """The IR ``LI`` node."""
        return ir.LI(tau=_np64(self.tau), r=_np64(self._r_values()), v_leak=_np64(self.v_leak))


class CubaLIF(_LeakyMixin, _Spiking):
    """Current-based LIF: a leaky synaptic current drives a LIF membrane.

    ``i <- i + dt/tau_syn*(-i + w_in*I)``; ``v <- v + dt/tau_mem*(v_leak - v + r*i)`` (the new ``i``);
    spike and reset as :class:`LIF`. Defaults ``w_in = tau_syn/dt`` and ``r = tau_mem/dt`` make both
    updates add their input unscaled: ``i = alpha*i + I``, ``v = beta*v + i`` (snnTorch ``Synaptic``).
    ``tau_mem`` is exported as the node's ``tau``.
    """

    kind = "CubaLIF"
    PARAMS = ("tau", "tau_syn", "w_in", "r", "v_leak", "threshold", "v_reset")
    tau_syn: torch.Tensor
    w_in: torch.Tensor | None

    def __init__(
        self,
        n: int,
        tau_mem: ArrayLike = 20e-3,
        tau_syn: ArrayLike = 5e-3,
        dt: float = 1e-3,
        threshold: ArrayLike = 1.0,
        reset: str = "subtract",
        v_reset: ArrayLike = 0.0,
        r: ArrayLike | None = None,
        w_in: ArrayLike | None = None,
        v_leak: ArrayLike = 0.0,
        surrogate: str = "fast_sigmoid",
        learn_tau: bool = False,
        surrogate_scale: float | None = None,
        detach_reset: bool = True,
    ) -> None:
        _Spiking.__init__(self, n, dt, threshold, reset, v_reset, surrogate, surrogate_scale, detach_reset)
        self._init_leak(tau_mem, r, v_leak, learn_tau)
        tau_syn_t = _positive("tau_syn", _per_neuron("tau_syn", tau_syn, self.n))
        if learn_tau:
            self.tau_syn = nn.Parameter(tau_syn_t)
        else:
            self.register_buffer("tau_syn", tau_syn_t)
        self.register_buffer("w_in", None if w_in is None else _per_neuron("w_in", w_in, self.n))

    def run(self, x: torch.Tensor, p: Params) -> torch.Tensor:
        """Input current (batch, time, m) -> spikes (batch, time, m)."""
        tau_syn = p["tau_syn"]
        assert tau_syn is not None
        alpha, syn_gain, _ = self._tau_terms(tau_syn.to(torch.float64), p["w_in"], None, x)
        current = leaky(x if syn_gain is None else x * syn_gain, alpha)
        beta, gain, c = self._leak_terms(p, x)
        return self._spikes(current if gain is None else current * gain, p, beta, c)

    def graph_node(self) -> ir.Node:
        """The IR ``CubaLIF`` node."""
        assert self.dt is not None
        w_in = self.tau_syn.detach() / self.dt if self.w_in is None else self.w_in
        return ir.CubaLIF(
            tau=_np64(self.tau),
            tau_syn=_np64(self.tau_syn),
            w_in=_np64(w_in),
            r=_np64(self._r_values()),
            v_leak=_np64(self.v_leak),
            v_threshold=_np64(self.threshold),
            v_reset=_np64(self.v_reset),
            reset=self.reset,
        )


class RecurrentLIF(nn.Module):
    """Input :class:`Linear`, recurrent weights and a :class:`LIF`: (batch, time, in) -> spikes (batch, time, n).

    ``I_t = W_in x_t + W_rec z_{t-1}`` drives the LIF; the recurrent input is the previous step's
    spikes, as a back edge of the IR (``name.rec`` closes the cycle ``name -> name.rec -> name``).
    The input matmul runs once over all steps; the recurrent one runs inside a fused scan
    (:class:`~neuro_core.nn.functional.RecurrentSpikingScan`). Keyword arguments go to :class:`LIF`.
    """

    def __init__(self, in_features: int, n: int, bias: bool = False, **lif: Any) -> None:
        super().__init__()
        self.input = Linear(in_features, n, bias=bias)
        self.lif = LIF(n, **lif)
        self.recurrent = Linear(n, n)
        with torch.no_grad():  # start weak: a strong random recurrence makes the net fire at every step
            self.recurrent.weight.mul_(0.5)

    @property
    def n(self) -> int:
        """Number of neurons."""
        return self.lif.n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, in) -> spikes (batch, time, n)."""
        return self.run(self.input(x), self.lif.params(), self.recurrent.weight)

    def run(self, current: torch.Tensor, p: Params, w_rec: torch.Tensor) -> torch.Tensor:
        """The LIF part on the input current (batch, time, m) with recurrent weights ``w_rec`` (m, m) or,
        for ``chips`` populations side by side (m = chips*n), (chips, n, n)."""
        lif = self.lif
        beta, gain, c = lif._leak_terms(p, current)
        if gain is not None:  # r scales the sum of both inputs, so both paths
            current = current * gain
            w_rec = w_rec * gain.view(*w_rec.shape[:-1], 1)
        return lif._spikes(current, p, beta, c, w_rec)


__all__ = ["IF", "LI", "LIF", "CubaLIF", "Linear", "RecurrentLIF"]

"""The network-level robust training of Buchel et al., Sci. Rep. 11, 23376 (2021), arXiv:2102.06408.

A rate network is first trained on the task with BPTT. The spiking network (the DYNAP-SE2 hidden
population) then learns to reproduce the rate network's hidden dynamics ``X(t)`` (d units) with a
local, control-theoretic rule (as FOLLOW, Gilra & Gerstner 2017, which the paper builds on):

- fixed random encoders ``F`` (N x d) define what each spiking neuron represents; its input
  weights are ``F U`` (the rate network's input weights ``U`` seen through the encoders);
- while learning, the decoded error ``e = X - D r`` (``r``: spikes filtered with the synaptic time
  constant, ``D`` the linear decoder) is fed back into every neuron as the current ``k F e`` (the
  controller keeps the network near the target trajectory, so learning sees the right activity);
- the recurrent weights change by ``dW_ij = eta (F e)_i r_j``: postsynaptic error current times
  presynaptic trace, local to the synapse; ``D`` is refitted by ridge regression after every epoch;
- after learning the feedback is removed; the output population reads the decoded state through
  the rate network's readout, ``W_out = s V D`` (``s`` a gain chosen on the training data).

Robustness comes from the feedback-trained dynamics being spread over many neurons with random
encoders, so that per-neuron mismatch averages out in the decoded state. Our adaptation to
DYNAP-SE2 (what the paper did on DYNAP-SE's model): the DPI neurons are rectified, so encoders of
both signs and an excitatory (AMPA) / inhibitory (GABA) split of every signed current are used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .model import DPIState, DynapseModel, dpi_step, hard_spike, neuron_constants
from .tasks import decide

Readout = Callable[[torch.Tensor], torch.Tensor]
_GAIN_CHIP_SEED = 1_000_003  # mismatch draws used to choose the output gain (never a benchmark chip_id)


class RateNetwork(torch.nn.Module):
    """A leaky tanh rate RNN: ``h += dt/tau (-h + tanh(W h + U x + b))``; output ``V h``.

    ``forward``: (B, T, n_in) -> (B, T, n_out); :meth:`states` gives ``h`` (B, T, d).
    """

    def __init__(self, n_in: int, n_units: int, n_out: int, dt: float, tau: float = 0.02, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.alpha = dt / tau
        self.U = torch.nn.Parameter(torch.randn(n_units, n_in, generator=gen) / math.sqrt(n_in))
        self.W = torch.nn.Parameter(torch.randn(n_units, n_units, generator=gen) * 0.5 / math.sqrt(n_units))
        self.b = torch.nn.Parameter(torch.zeros(n_units))
        self.V = torch.nn.Parameter(torch.randn(n_out, n_units, generator=gen) / math.sqrt(n_units))

    def states(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden states (B, T, d) for inputs (B, T, n_in)."""
        x = x.to(self.W.dtype)
        h = x.new_zeros((x.shape[0], self.W.shape[0]))
        out = []
        for t in range(x.shape[1]):
            h = h + self.alpha * (-h + torch.tanh(h @ self.W.T + x[:, t] @ self.U.T + self.b))
            out.append(h)
        return torch.stack(out, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, n_in) -> (B, T, n_out)."""
        return self.states(x) @ self.V.T


@dataclass
class MimicReport:
    """What :func:`mimic` did: decoding error per epoch, the chosen output gain and its training
    accuracy (mean over the model and the mismatched copies that chose the gain)."""

    errors: list[float] = field(default_factory=list)
    output_gain: float = 0.0
    train_accuracy: float = 0.0


def _split(current: torch.Tensor) -> torch.Tensor:
    """A signed current (B, n) as the (B, n, 4) synaptic input: positive on AMPA, negative on GABA."""
    zero = torch.zeros_like(current)
    return torch.stack([current.clamp(min=0), zero, (-current).clamp(min=0), zero], dim=-1)


def _run_hidden(
    model: DynapseModel,
    x: torch.Tensor,
    w_rec: torch.Tensor,
    feedback: Callable[[int, torch.Tensor], torch.Tensor] | None,
    on_step: Callable[[int, torch.Tensor, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """Run the hidden population alone with an optional feedback current; returns traces r (B, T, N)."""
    c = neuron_constants(model.population_currents("hidden"))
    w_in = model.weights["w_in"].detach()
    batch, steps, _ = x.shape
    n = w_in.shape[0]
    state = DPIState.zeros(batch, n, c.io, w_in)
    decay = torch.exp(-model.dt / c.tau_syn[:, 0])
    r = x.new_zeros((batch, n))
    z = x.new_zeros((batch, n))
    traces = []
    for t in range(steps):
        drive = x[:, t] @ w_in.T + z @ w_rec.T
        if feedback is not None:
            drive = drive + feedback(t, r)
        state, z = dpi_step(state, _split(drive), c, model.dt, hard_spike)  # the local rule needs no gradient
        r_prev = r
        r = r * decay + z
        if on_step is not None:
            on_step(t, r_prev, r)
        traces.append(r)
    return torch.stack(traces, dim=1)


def _local_rule(
    delta: torch.Tensor, X: torch.Tensor, D: torch.Tensor, F: torch.Tensor
) -> Callable[[int, torch.Tensor, torch.Tensor], None]:
    """The learning rule as a per-step callback: ``delta += (F e)^T r_prev`` averaged over the batch,
    with ``e = X(t) - D r(t)`` the decoded error after the step (postsynaptic error x presynaptic trace)."""

    def learn(t: int, r_prev: torch.Tensor, r_now: torch.Tensor) -> None:
        error = X[:, t] - r_now @ D.T
        delta.add_((error @ F.T).T @ r_prev / X.shape[0])

    return learn


def _ridge(r: torch.Tensor, X: torch.Tensor, alpha: float) -> torch.Tensor:
    """Decoder D (d, N) minimising ``|X - D r|^2 + alpha |D|^2`` over all (batch, time)."""
    R = r.reshape(-1, r.shape[-1]).double()
    Y = X.reshape(-1, X.shape[-1]).double()
    gram = R.T @ R + alpha * torch.eye(R.shape[1], dtype=torch.float64)
    return torch.linalg.solve(gram, R.T @ Y).T.float()


def mimic(
    model: DynapseModel,
    rate: RateNetwork,
    x: np.ndarray,
    y: np.ndarray,
    readout: Readout,
    epochs: int = 10,
    batch_size: int = 32,
    eta: float = 20.0,
    feedback_gain: float = 1000.0,
    input_gain: float = 500.0,
    encoder_gain: float = 1.0,
    ridge: float = 1e-2,
    seed: int = 0,
    gain_chips: int = 4,
    gain_samples: int = 256,
) -> MimicReport:
    """Train ``model`` (input -> recurrent hidden -> out) to mimic ``rate``'s hidden dynamics, in place.

    Args:
        model: a DynapseModel with projections ``w_in``, ``w_rec`` (hidden -> hidden) and ``w_out``.
        rate: the trained rate network (its hidden size d is the represented dimension).
        x, y: training inputs (B, T, n_in) and labels (B,).
        readout: the task's readout (B, T, out) -> (B, out), used to choose the output gain.
        epochs: passes of the local rule over the data.
        batch_size: samples per weight update.
        eta: learning rate of the local rule (nA per unit error per unit trace).
        feedback_gain: k, the controller's gain (nA per unit error).
        input_gain: nA of input weight per unit of the rate network's input weight.
        encoder_gain: scale of the random encoders.
        ridge: regularisation of the decoder fit.
        seed: seed of the encoders and the data order.
        gain_chips: the output gain is the one with the best mean training accuracy over the model
            and this many mismatched copies of it (its own mismatch model, fixed seeds): a gain that
            only the nominal chip tolerates would not survive deployment.
        gain_samples: training samples used to choose the gain (the first ones).

    Returns:
        A :class:`MimicReport`; ``model``'s weights ``w_in``, ``w_rec`` and ``w_out`` are replaced.
    """
    gen = torch.Generator().manual_seed(seed)
    n = model.weights["w_in"].shape[0]
    d = rate.W.shape[0]
    F = encoder_gain * torch.randn(n, d, generator=gen) / math.sqrt(d)
    xs = torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        X = rate.states(xs)
        model.weights["w_in"].copy_(input_gain * F @ rate.U.detach())
        w_rec = torch.zeros(n, n)
        D = torch.zeros(d, n)
        report = MimicReport()

        def controlled(X_batch: torch.Tensor, D_now: torch.Tensor) -> Callable[[int, torch.Tensor], torch.Tensor]:
            return lambda t, r: feedback_gain * (X_batch[:, t] - r @ D_now.T) @ F.T

        # phase 0: the controller alone drives the neurons along X; fit the decoder
        r = _run_hidden(model, xs, w_rec, controlled(X, D))
        D = _ridge(r, X, ridge)
        order = np.random.default_rng(seed).permutation(len(xs))
        for _ in range(epochs):
            for start in range(0, len(xs), batch_size):
                idx = torch.as_tensor(order[start : start + batch_size])
                xb, Xb = xs[idx], X[idx]
                delta = torch.zeros_like(w_rec)
                _run_hidden(model, xb, w_rec, controlled(Xb, D), _local_rule(delta, Xb, D, F))
                w_rec += eta * delta / xb.shape[1]
            r = _run_hidden(model, xs, w_rec, None)  # free-running: how well is X reproduced now?
            report.errors.append(float(((r @ D.T - X) ** 2).mean()))
            D = _ridge(_run_hidden(model, xs, w_rec, controlled(X, D)), X, ridge)
        model.weights["w_rec"].copy_(w_rec)
        readout_w = rate.V.detach() @ D  # (n_out, N): the rate readout of the decoded state
        x_gain, y_gain = xs[:gain_samples], np.asarray(y)[:gain_samples]

        def accuracy(gain: float) -> float:
            model.weights["w_out"].copy_(gain * readout_w)
            chips = [model] + [model.mismatched(seed=_GAIN_CHIP_SEED + k) for k in range(gain_chips)]
            # judged as the deployed chip is: silence or a tie is wrong (argmax would call it class 0)
            return float(np.mean([(decide(readout(chip(x_gain)).numpy()) == y_gain).mean() for chip in chips]))

        best = max((accuracy(gain), gain) for gain in np.geomspace(1.0, 1e5, 16))
        model.weights["w_out"].copy_(best[1] * readout_w)
        report.output_gain, report.train_accuracy = best[1], best[0]
    return report


def last_window_readout(steps: int) -> Readout:
    """Spike counts of the last ``steps`` steps: (B, T, out) -> (B, out)."""

    def readout(output: torch.Tensor) -> torch.Tensor:
        return output[:, -steps:].sum(dim=1)

    return readout


__all__ = ["MimicReport", "RateNetwork", "last_window_readout", "mimic"]

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
  the rate network's readout, ``W_out = s V D``. The decoder ``D`` (the local rule's own, or one
  fitted over mismatched copies of the model) and the gain ``s`` are chosen on other mismatched
  copies, since one readout must serve every chip.

Last, :func:`train_readout` may train the output weights alone by surrogate gradient over other
mismatched copies (the hidden spikes recorded, so the local rule's dynamics stay as learned),
keeping them only where held-out copies score better: one readout fitted across chips absorbs part
of what mismatch does to the hidden population and to the output neurons.

Robustness comes from the feedback-trained dynamics being spread over many neurons with random
encoders, so that per-neuron mismatch averages out in the decoded state; optionally the rule
learns on mismatched copies of the model in turn (``learning_chips``), so that the learned
dynamics must hold on every chip.

Our adaptation to DYNAP-SE2 (the paper used DYNAP-SE's model): the DPI neurons are rectified, so
the encoders have both signs, and every synapse drives the AMPA or GABA synapse of its own sign, as
on the chip (only the teacher's feedback current, which is no chip synapse, is split after summing).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from . import target as hw
from .model import (
    NA,
    DPIState,
    DynapseModel,
    Structure,
    dpi_step,
    hard_spike,
    neuron_constants,
    run_network,
    surrogate_spike,
)
from .tasks import decide

Readout = Callable[[torch.Tensor], torch.Tensor]
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MAX_BASE_NA = hw.COARSE_MAX_CURRENT[-1] / NA  # the largest settable base weight current, nA
_READOUT_CHIP_SEED = 1_000_003  # mismatch draws used to fit the readout (never a benchmark chip_id)
_LEARNING_CHIP_SEED = 2_000_003  # mismatch draws the local rule learns on
_OUTPUT_TRAINING_CHIP_SEED = 3_000_003  # mismatch draws the output weights are trained on


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
    """What :func:`mimic` did: the free-running decoding error per epoch, the readout chosen
    (``"learning"``: the local rule's decoder; ``"pooled"``: fitted over mismatched copies), its
    output gain and its accuracy on the training samples over the validation copies."""

    errors: list[float] = field(default_factory=list)
    readout: str = ""
    output_gain: float = 0.0
    validation_accuracy: float = 0.0


def _synaptic_input(excitatory: torch.Tensor, inhibitory: torch.Tensor) -> torch.Tensor:
    """Excitatory and inhibitory currents (B, n) as the (B, n, 4) synaptic input (AMPA, GABA)."""
    zero = torch.zeros_like(excitatory)
    return torch.stack([excitatory, zero, inhibitory, zero], dim=-1)


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
    # as on the chip, every synapse drives the type of its own sign (a mismatched chip scales the
    # AMPA and GABA gains of a neuron apart, so cancelling currents do not cancel exactly there)
    w_exc = torch.cat([w_in, w_rec], dim=1).clamp(min=0)
    w_inh = (-torch.cat([w_in, w_rec], dim=1)).clamp(min=0)
    state = DPIState.zeros(batch, n, c.io, w_in)
    decay = torch.exp(-model.dt / c.tau_syn[:, 0])
    r = x.new_zeros((batch, n))
    z = x.new_zeros((batch, n))
    traces = []
    for t in range(steps):
        pre = torch.cat([x[:, t], z], dim=1)
        excitatory, inhibitory = pre @ w_exc.T, pre @ w_inh.T
        if feedback is not None:
            control = feedback(t, r)  # the teacher's current: not a chip synapse, so split after summing
            excitatory, inhibitory = excitatory + control.clamp(min=0), inhibitory + (-control).clamp(min=0)
        state, z = dpi_step(state, _synaptic_input(excitatory, inhibitory), c, model.dt, hard_spike)
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


class _OutputStage:
    """One chip's output population driven by its hidden spikes, recorded once: ``stage(w_out)``
    gives the output spikes (B, T, n_out) for output weights ``w_out`` (n_out, N) in nA, scaled by
    the chip's weight mismatch (``chip``'s own ``w_out``, which must hold only its mismatch factors)."""

    def __init__(self, chip: DynapseModel, x: torch.Tensor) -> None:
        recorder = SimpleNamespace()  # run_network stores the traces on it
        structure = chip.structure
        constants = {pop: neuron_constants(chip.population_currents(pop)) for pop, _ in structure.populations}
        weights = {name: w.detach() for name, w in chip.weights.items()}
        run_network(structure, weights, constants, x, chip.dt, hard_spike, recorder=recorder, record_all=True)
        self.hidden = recorder.trace["hidden.spikes"]
        self.factors = weights["w_out"]
        self.constants = {"out": constants["out"]}
        projection = next(p for p in structure.projections if p.name == "w_out")
        n_out = dict(structure.populations)["out"]
        self.structure = Structure("hidden", self.hidden.shape[-1], (("out", n_out),), (projection,), "out", "out")
        self.dt = chip.dt

    def _run(
        self, w_out: torch.Tensor, spike_fn: Callable[[torch.Tensor], torch.Tensor], recorder: Any = None
    ) -> torch.Tensor:
        weights = {"w_out": w_out * self.factors}
        return run_network(self.structure, weights, self.constants, self.hidden, self.dt, spike_fn, recorder=recorder)

    def __call__(self, w_out: torch.Tensor) -> torch.Tensor:
        return self._run(w_out, hard_spike)

    def membrane(self, w_out: torch.Tensor) -> torch.Tensor:
        """The output neurons' I_mem / Ispkthr (B, T, n_out), each over its own (mismatched) threshold,
        differentiable in ``w_out`` (surrogate spikes)."""
        recorder = SimpleNamespace()
        self._run(w_out, surrogate_spike, recorder)
        return recorder.record / self.constants["out"].ispkthr


def _accuracy_on_copies(stages: Sequence[_OutputStage], readout: Readout, w_out: torch.Tensor, y: np.ndarray) -> float:
    """Mean accuracy over the copies with output weights ``w_out``, judged as the deployed chip is:
    silence or a tie is wrong (argmax would call it class 0)."""
    return float(np.mean([(decide(readout(stage(w_out)).numpy()) == y).mean() for stage in stages]))


def _largest_gain(readout_w: torch.Tensor) -> float:
    """The largest output gain at which every output weight can still be set: the largest weight
    must not exceed the sum of the four base currents at the bias generator's maximum. Beyond it
    the largest weights saturate (a search up to 1e5 picked weights coded with 0.53 normalised
    error, against 0.10)."""
    return max(1.0, 4 * MAX_BASE_NA / float(readout_w.abs().max().clamp(min=1e-12)))


def fit_decoder(
    model: DynapseModel, x: torch.Tensor, X: torch.Tensor, chip_seeds: Sequence[int], ridge: float = 1e-2
) -> torch.Tensor:
    """The decoder D (d, N) of the state ``X`` (B, T, d) from the free-running hidden traces of
    ``model`` and of its mismatched copies drawn with ``chip_seeds``, by ridge regression over all.

    A decoder fitted to the nominal network alone misreads mismatched chips (in a probe on
    ``cue_accumulation``: 0.73 to 0.95 accuracy on chips whose own best decoder reached 0.93);
    one fitted over copies serves the chips alike.
    """
    with torch.no_grad():
        chips = [model] + [model.mismatched(seed=seed) for seed in chip_seeds]
        traces = [_run_hidden(chip, x, chip.weights["w_rec"].detach(), None) for chip in chips]
        return _ridge(torch.cat(traces), X.repeat(len(traces), 1, 1), ridge)


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
    readout_chips: int = 4,
    validation_chips: int = 8,
    readout_samples: int = 256,
    learning_chips: int = 0,
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
        readout_chips: mismatched copies of the model (its own mismatch model, fixed seeds) over which
            the ``"pooled"`` decoder is fitted (:func:`fit_decoder`).
        validation_chips: other mismatched copies that choose the readout: the decoder (the local
            rule's own, ``"learning"``, or ``"pooled"``) and the output gain (from 1 to the largest
            whose weights the chip can set, ``_largest_gain``) with the best mean accuracy on them.
            On the fitting copies themselves the pooled decoder looked as good as the other on
            ``delayed_cue`` (probe: 0.997 against 0.995) but was worse on other chips (0.907 against 0.999).
        readout_samples: training samples used to fit the readout (the first ones).
        learning_chips: if > 0, the local rule learns on this many mismatched copies of the model in
            turn (one per batch; their neuron currents and input weights are mismatched, the learned
            recurrent weights are not), so the learned dynamics must hold across chips, as the
            noise injection of the BPTT methods does; 0 learns on the nominal model.

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
        learners = [model.mismatched(seed=_LEARNING_CHIP_SEED + k) for k in range(learning_chips)] or [model]
        for _ in range(epochs):
            for batch, start in enumerate(range(0, len(xs), batch_size)):
                idx = torch.as_tensor(order[start : start + batch_size])
                xb, Xb = xs[idx], X[idx]
                delta = torch.zeros_like(w_rec)
                learner = learners[batch % len(learners)]
                _run_hidden(learner, xb, w_rec, controlled(Xb, D), _local_rule(delta, Xb, D, F))
                w_rec += eta * delta / xb.shape[1]
            r = _run_hidden(model, xs, w_rec, None)  # free-running: how well is X reproduced now?
            report.errors.append(float(((r @ D.T - X) ** 2).mean()))
            D = _ridge(_run_hidden(model, xs, w_rec, controlled(X, D)), X, ridge)
        model.weights["w_rec"].copy_(w_rec)
        x_fit, X_fit, y_fit = xs[:readout_samples], X[:readout_samples], np.asarray(y)[:readout_samples]
        fit_seeds = [_READOUT_CHIP_SEED + k for k in range(readout_chips)]
        validation_seeds = [_READOUT_CHIP_SEED + readout_chips + k for k in range(validation_chips)]
        decoders = {"learning": D, "pooled": fit_decoder(model, x_fit, X_fit, fit_seeds, ridge)}

        # Only the output population depends on the readout: run each validation copy's hidden
        # population once. With unit output weights, a copy's w_out holds its mismatch factors.
        model.weights["w_out"].fill_(1.0)
        chips = [model.mismatched(seed=seed) for seed in validation_seeds] or [model]
        stages = [_OutputStage(chip, x_fit) for chip in chips]

        def accuracy(readout_w: torch.Tensor, gain: float) -> float:
            return _accuracy_on_copies(stages, readout, gain * readout_w, y_fit)

        choices = []
        for name, decoder in decoders.items():
            readout_w = rate.V.detach() @ decoder  # (n_out, N): the rate readout of the decoded state
            for gain in np.geomspace(1.0, _largest_gain(readout_w), 16):
                choices.append((accuracy(readout_w, gain), float(gain), name, readout_w))
        report.validation_accuracy, report.output_gain, report.readout, readout_w = max(choices, key=lambda c: c[:2])
        model.weights["w_out"].copy_(report.output_gain * readout_w)
    return report


@dataclass
class ReadoutTraining:
    """What :func:`train_readout` did: the loss per step, the accuracy of the starting and of the
    trained output weights on the held-out copies, and whether the trained ones were kept."""

    losses: list[float] = field(default_factory=list)
    start_accuracy: float = 0.0
    trained_accuracy: float = 0.0
    kept: bool = False


def train_readout(
    model: DynapseModel,
    x: np.ndarray,
    y: np.ndarray,
    loss: Loss,
    logits: Readout,
    readout: Readout,
    chips: int = 8,
    validation_chips: int = 8,
    steps: int = 80,
    lr: float = 0.02,
) -> ReadoutTraining:
    """Train ``model``'s output weights ``w_out`` alone, in place, so that one readout serves many chips.

    After :func:`mimic` the hidden dynamics are fixed. On the chips that still fail the network (in a
    probe on ``cue_accumulation`` at 20 % mismatch, three chips at 0.53-0.54) the nominal hidden
    neurons would restore 0.88-0.93 and the nominal output neurons 0.74-0.88: a readout that serves
    every chip must absorb part of both. This descends the task loss by
    surrogate gradients through the output population only, on ``chips`` mismatched copies of
    ``model`` in turn (one per step; the model's own mismatch model, seeds never used as benchmark
    chips), each copy's hidden spikes recorded once: no gradient reaches the hidden population, so
    the local rule's dynamics are kept. The trained weights replace the starting ones only if they
    score better on ``validation_chips`` other copies (on ``delayed_cue``, where the chosen readout
    was already right on nearly every chip, training lowered the 20 % minimum in a probe).

    Args:
        model: the network after :func:`mimic` (its ``w_out`` is the starting point).
        x, y: training inputs (B, T, n_in) and labels (B,).
        loss: ``loss(logits, labels)`` on logits (B, n_out).
        logits: maps the output neurons' I_mem / Ispkthr (B, T, n_out) to logits (B, n_out).
        readout: the task's spike readout (B, T, n_out) -> (B, n_out), for the held-out comparison.
        chips: mismatched copies trained on.
        validation_chips: other copies on which the starting and the trained weights are compared.
        steps: Adam steps (each on one copy and the whole of ``x``).
        lr: Adam's step as a fraction of the starting mean ``|w_out|`` (the weights are in nA).

    Returns:
        A :class:`ReadoutTraining`; ``model``'s ``w_out`` is the better of the two.
    """
    xs = torch.as_tensor(x, dtype=torch.float32)
    y = np.asarray(y)
    labels = torch.as_tensor(y, dtype=torch.long)
    start = model.weights["w_out"].detach().clone()
    with torch.no_grad():
        model.weights["w_out"].fill_(1.0)  # a copy's w_out then holds only its mismatch factors
        copies = [model.mismatched(seed=_OUTPUT_TRAINING_CHIP_SEED + k) for k in range(chips + validation_chips)]
        model.weights["w_out"].copy_(start)
        stages = [_OutputStage(copy, xs) for copy in copies]
    training, held_out = stages[:chips], stages[chips:]
    w_out = torch.nn.Parameter(start.clone())
    optimizer = torch.optim.Adam([w_out], lr=lr * float(start.abs().mean()))
    report = ReadoutTraining()
    for step in range(steps):
        value = loss(logits(training[step % chips].membrane(w_out)), labels)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        report.losses.append(float(value.detach()))
    with torch.no_grad():
        trained = w_out.detach()
        report.start_accuracy = _accuracy_on_copies(held_out, readout, start, y)
        report.trained_accuracy = _accuracy_on_copies(held_out, readout, trained, y)
        report.kept = report.trained_accuracy > report.start_accuracy
        model.weights["w_out"].copy_(trained if report.kept else start)
    return report


def last_window_readout(steps: int) -> Readout:
    """Spike counts of the last ``steps`` steps: (B, T, out) -> (B, out)."""

    def readout(output: torch.Tensor) -> torch.Tensor:
        return output[:, -steps:].sum(dim=1)

    return readout


__all__ = [
    "MimicReport",
    "RateNetwork",
    "ReadoutTraining",
    "fit_decoder",
    "last_window_readout",
    "mimic",
    "train_readout",
]

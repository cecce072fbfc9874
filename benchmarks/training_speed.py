"""Training-step speed and backward memory: neuro_core.nn against the peer libraries, side by side.

The work (issue 3): an SHD-sized network 700 -> 256 LIF -> 20 LIF, batch 32, 250 steps, float32,
loss = cross-entropy of the output spike counts, one Adam step. Every implementation gets the same
input spikes (Bernoulli, rate 2 % per step and channel, a fixed seed), the same shapes, LIF neurons
with decay 0.95 per step, threshold 1 and a subtractive reset (where the library offers it), and
the input matmul hoisted out of the time loop where the library allows it. All run in one
process, interleaved round by round (so machine load hits all alike), with 2 torch threads and
``OMP_WAIT_POLICY=PASSIVE`` (on a busy machine OpenMP's active waiting can make 2 threads ~40x
slower than 1). Peers that do not import are skipped; they are never dependencies of neuro-core
(the optional tox env ``bench`` installs them).

Columns: ms per training step (median of the timed rounds after warm-up), the ratio peer/neuro
(> 1: neuro is faster), and the memory the autograd graph keeps for the backward pass: the
distinct tensor storages saved by autograd during forward (``torch.autograd.graph.saved_tensors_hooks``),
parameters excluded. The ``matmul floor`` row times only the dense matmuls of the step (forward
``x W1^T``, ``grad W1``, and the three of the small layer).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # before torch is imported: OpenMP reads these once
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import importlib
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Section, main

THREADS = 2
BETA = 0.95  # decay per step: tau = 20 ms at dt = 1 ms
TAU_STEPS = 1.0 / (1.0 - BETA)  # = 20 steps, for libraries that take tau in steps


@dataclass
class Shape:
    """The benchmark's sizes."""

    batch: int = 32
    steps: int = 250
    n_in: int = 700
    n_hidden: int = 256
    n_out: int = 20


# ---- one model per library: each maps x (batch, time, in) -> output spikes (batch, time, out) ------------
def neuro_model(shape: Shape, sparse_input: bool | None = None) -> nn.Module:
    import neuro_core.nn as snn

    return snn.Sequential(
        snn.Linear(shape.n_in, shape.n_hidden, sparse_input=sparse_input),
        snn.LIF(shape.n_hidden, tau=20e-3, dt=1e-3),
        snn.Linear(shape.n_hidden, shape.n_out),
        snn.LIF(shape.n_out, tau=20e-3, dt=1e-3),
    )


class _FastSigmoidSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def, override]
        ctx.save_for_backward(x)
        return (x > 0).float()

    @staticmethod
    def backward(ctx, grad):  # type: ignore[no-untyped-def, override]
        (x,) = ctx.saved_tensors
        return grad / (10.0 * x.abs() + 1.0) ** 2


class PlainLIF(nn.Module):
    """The plain PyTorch loop a careful user writes: unbind over time, autograd through every step."""

    def forward(self, current: torch.Tensor) -> torch.Tensor:
        v = torch.zeros_like(current[:, 0])
        out = []
        for i_t in current.unbind(1):
            v = BETA * v + i_t
            z = _FastSigmoidSpike.apply(v - 1.0)
            v = v - z.detach()
            out.append(z)
        return torch.stack(out, 1)


def plain_model(shape: Shape) -> nn.Module:
    return nn.Sequential(
        nn.Linear(shape.n_in, shape.n_hidden, bias=False),
        PlainLIF(),
        nn.Linear(shape.n_hidden, shape.n_out, bias=False),
        PlainLIF(),
    )


class _StepLoop(nn.Module):
    """Runs a single-step neuron module over time (batch-first input, hoisted matmul before it)."""

    def __init__(self, cell: nn.Module, call: Callable[[nn.Module, torch.Tensor, object], tuple[torch.Tensor, object]]):
        super().__init__()
        self.cell, self.call = cell, call

    def forward(self, current: torch.Tensor) -> torch.Tensor:
        state: object = None
        out = []
        for i_t in current.unbind(1):
            z, state = self.call(self.cell, i_t, state)
            out.append(z)
        return torch.stack(out, 1)


def snntorch_model(shape: Shape) -> nn.Module:
    import snntorch
    from snntorch import surrogate

    def call(cell: nn.Module, i_t: torch.Tensor, mem: object) -> tuple[torch.Tensor, object]:
        return cell(i_t, torch.zeros_like(i_t) if mem is None else mem)

    def lif() -> nn.Module:
        return _StepLoop(snntorch.Leaky(beta=BETA, spike_grad=surrogate.fast_sigmoid(slope=10)), call)

    return nn.Sequential(
        nn.Linear(shape.n_in, shape.n_hidden, bias=False),
        lif(),
        nn.Linear(shape.n_hidden, shape.n_out, bias=False),
        lif(),
    )


def norse_model(shape: Shape) -> nn.Module:
    import norse.torch as norse

    params = norse.LIFBoxParameters(tau_mem_inv=torch.tensor(1.0 / 20e-3), v_th=torch.tensor(1.0))

    def call(cell: nn.Module, i_t: torch.Tensor, state: object) -> tuple[torch.Tensor, object]:
        return cell(i_t, state)

    def lif() -> nn.Module:
        return _StepLoop(norse.LIFBoxCell(params, dt=1e-3), call)

    return nn.Sequential(
        nn.Linear(shape.n_in, shape.n_hidden, bias=False),
        lif(),
        nn.Linear(shape.n_hidden, shape.n_out, bias=False),
        lif(),
    )


class _TimeMajor(nn.Module):
    """(batch, time, n) <-> (time, batch, n) around a time-major multi-step module."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.transpose(0, 1)).transpose(0, 1)


def spikingjelly_model(shape: Shape) -> nn.Module:
    from spikingjelly.activation_based import neuron, surrogate

    def lif() -> nn.Module:
        # decay_input=False: v = v - v/tau + x (input unscaled), v_reset=None: subtractive reset
        node = neuron.LIFNode(
            tau=TAU_STEPS,
            decay_input=False,
            v_reset=None,
            detach_reset=True,
            surrogate_function=surrogate.Sigmoid(),
            step_mode="m",
        )
        return _ResetEachCall(_TimeMajor(node), node)

    return nn.Sequential(
        nn.Linear(shape.n_in, shape.n_hidden, bias=False),
        lif(),
        nn.Linear(shape.n_hidden, shape.n_out, bias=False),
        lif(),
    )


class _ResetEachCall(nn.Module):
    """Stateful peer layers (SpikingJelly, Sinabs) keep state across calls: reset it before each."""

    def __init__(self, inner: nn.Module, stateful: nn.Module) -> None:
        super().__init__()
        self.inner, self.stateful = inner, stateful

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reset: Callable[[], None] = getattr(self.stateful, "reset", None) or getattr(self.stateful, "reset_states")  # noqa: B009
        reset()
        return self.inner(x)


def sinabs_model(shape: Shape) -> nn.Module:
    import sinabs.activation as act
    import sinabs.layers as sl

    def lif() -> nn.Module:
        node = sl.LIF(
            tau_mem=torch.tensor(TAU_STEPS),
            norm_input=False,
            spike_fn=act.SingleSpike,
            surrogate_grad_fn=act.SingleExponential(),
        )
        return _ResetEachCall(node, node)

    return nn.Sequential(
        nn.Linear(shape.n_in, shape.n_hidden, bias=False),
        lif(),
        nn.Linear(shape.n_hidden, shape.n_out, bias=False),
        lif(),
    )


class _Rockpool(nn.Module):
    def __init__(self, shape: Shape) -> None:
        super().__init__()
        from rockpool.nn.combinators import Sequential as RockpoolSequential
        from rockpool.nn.modules import LIFTorch, LinearTorch

        self.net = RockpoolSequential(
            LinearTorch((shape.n_in, shape.n_hidden)),
            LIFTorch(shape.n_hidden, tau_mem=20e-3, tau_syn=2e-3, dt=1e-3),
            LinearTorch((shape.n_hidden, shape.n_out)),
            LIFTorch(shape.n_out, tau_mem=20e-3, tau_syn=2e-3, dt=1e-3),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.net.reset_state()
        out, _, _ = self.net(x)
        return out


def rockpool_model(shape: Shape) -> nn.Module:
    return _Rockpool(shape)


# library name -> (module to import for its version, model factory)
PEERS: dict[str, tuple[str, Callable[[Shape], nn.Module]]] = {
    "plain PyTorch loop": ("torch", plain_model),
    "snnTorch": ("snntorch", snntorch_model),
    "Norse": ("norse", norse_model),
    "SpikingJelly": ("spikingjelly", spikingjelly_model),
    "Sinabs": ("sinabs", sinabs_model),
    "Rockpool (LIFTorch)": ("rockpool", rockpool_model),
}


# ---- measuring -----------------------------------------------------------------------------------------
def _version(module: str) -> str:
    try:
        mod = importlib.import_module(module)
    except Exception:
        return ""
    version = getattr(mod, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version

        try:
            version = dist_version(module)
        except Exception:
            version = "?"
    return str(version)


class Runner:
    """One library's training step on a fixed batch."""

    def __init__(self, model: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> None:
        self.model, self.x, self.labels = model, x, labels
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss(self) -> torch.Tensor:
        counts = self.model(self.x).sum(dim=1)  # (batch, classes) output spike counts
        return nn.functional.cross_entropy(counts, self.labels)

    def step(self) -> float:
        """One training step; returns its wall time in ms."""
        start = time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        self.loss().backward()
        self.optimizer.step()
        return (time.perf_counter() - start) * 1e3

    def saved_megabytes(self) -> float:
        """MB of distinct non-parameter storages autograd keeps for the backward pass of one step."""
        parameters = {p.untyped_storage().data_ptr() for p in self.model.parameters()}
        storages: dict[int, int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            storage = t.untyped_storage()
            if storage.data_ptr() not in parameters:
                storages[storage.data_ptr()] = storage.nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = self.loss()
        loss.backward()
        self.optimizer.zero_grad(set_to_none=True)
        return sum(storages.values()) / 1e6


def matmul_floor(shape: Shape, x: torch.Tensor) -> Callable[[], float]:
    """The dense matmuls of one step (forward, weight gradients, hidden gradient), timed in ms."""
    rows = shape.batch * shape.steps
    w1 = torch.randn(shape.n_hidden, shape.n_in)
    w2 = torch.randn(shape.n_out, shape.n_hidden)
    x2 = x.reshape(rows, shape.n_in)
    h = torch.randn(rows, shape.n_hidden)
    g2 = torch.randn(rows, shape.n_out)

    def run() -> float:
        start = time.perf_counter()
        g1 = x2 @ w1.t()
        _ = h @ w2.t()
        _ = g2.t() @ h
        _ = g2 @ w2
        _ = g1.t() @ x2
        return (time.perf_counter() - start) * 1e3

    return run


def run(quick: bool = False) -> Section:
    """Measure every importable library side by side; ``quick`` shrinks the sizes to seconds."""
    torch.set_num_threads(THREADS)
    shape = Shape(batch=4, steps=40, n_in=100, n_hidden=64) if quick else Shape()
    warmup, rounds = (1, 3) if quick else (3, 15)
    generator = torch.Generator().manual_seed(0)
    x = (torch.rand(shape.batch, shape.steps, shape.n_in, generator=generator) < 0.02).float()
    labels = torch.randint(0, shape.n_out, (shape.batch,), generator=generator)

    import neuro_core.nn as snn
    from neuro_core.nn import kernels

    libraries: dict[str, tuple[str, Callable[[], float], float]] = {}  # name -> (version, step, MB)

    def add(name: str, version: str, factory: Callable[[], nn.Module], backend: str | None = None) -> None:
        torch.manual_seed(0)
        runner = Runner(factory(), x, labels)

        def step() -> float:
            previous = snn.set_backend(backend) if backend else None
            try:
                return runner.step()
            finally:
                if previous is not None:
                    snn.set_backend(previous)

        megabytes = runner.saved_megabytes()
        libraries[name] = (version, step, megabytes)

    neuro_version = _version("neuro_core")
    neuro_name = "neuro"  # the defaults: numba scan when numba imports, sparse input matmuls
    add(neuro_name, neuro_version, lambda: neuro_model(shape))
    add("neuro, dense input matmul", neuro_version, lambda: neuro_model(shape, sparse_input=False))
    if kernels.HAVE_NUMBA:
        add("neuro, torch scan (no numba)", neuro_version, lambda: neuro_model(shape), "torch")
    skipped = []
    for name, (module, factory) in PEERS.items():
        version = _version(module)
        if not version:
            skipped.append(name)
            continue
        try:
            add(name, version, lambda factory=factory: factory(shape))  # type: ignore[misc]
        except Exception as exc:
            skipped.append(f"{name} ({type(exc).__name__}: {exc})")

    floor = matmul_floor(shape, x)
    timings: dict[str, list[float]] = {name: [] for name in [*libraries, "matmul floor"]}
    for round_index in range(warmup + rounds):
        for name, (_, step, _) in libraries.items():
            ms = step()
            if round_index >= warmup:
                timings[name].append(ms)
        ms = floor()
        if round_index >= warmup:
            timings["matmul floor"].append(ms)

    medians = {name: statistics.median(values) for name, values in timings.items()}
    reference = medians[neuro_name]
    rows = []
    for name, ms in sorted(medians.items(), key=lambda item: item[1]):
        version, _, megabytes = libraries.get(name, ("", None, float("nan")))
        rows.append(
            {
                "library": name,
                "version": version,
                "ms/step": round(ms, 1),
                "ratio vs neuro": round(ms / reference, 2),
                "backward memory MB": round(megabytes, 1) if megabytes == megabytes else "-",
            }
        )
    notes = [
        f"Work: {shape.n_in} -> {shape.n_hidden} LIF -> {shape.n_out} LIF, batch {shape.batch}, {shape.steps} steps, "
        f"float32, forward + backward + Adam; {THREADS} torch threads, OMP_WAIT_POLICY="
        f"{os.environ.get('OMP_WAIT_POLICY')}; median of {rounds} interleaved rounds after {warmup} warm-up.",
        "ratio = library ms / neuro ms (above 1: neuro is faster). Backward memory: distinct non-parameter storages "
        "saved by autograd for one step (saved_tensors_hooks).",
        "Rockpool's LIFTorch always integrates a synaptic current as well (more work per step than the others).",
        f"'neuro' uses its defaults: the numba scan ({'numba present' if kernels.HAVE_NUMBA else 'numba ABSENT here'}) "
        "and sparse matmuls for the input layer (input spikes at 2 % density); 'dense input matmul' turns the "
        "latter off (sparse_input=False), 'torch scan' the former. The matmul floor is for the dense FLOPs.",
    ]
    if skipped:
        notes.append("Not measured (not installed or failed): " + "; ".join(skipped) + ".")
    return Section(
        name="training_speed",
        title="Training step speed and backward memory (SHD-sized network)",
        command="python benchmarks/training_speed.py",
        rows=rows,
        notes=notes,
    )


if __name__ == "__main__":
    main(run)

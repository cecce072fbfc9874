"""Shared builders for the dynapse2 tests: small DYNAP-SE2 networks as float graphs."""

from __future__ import annotations

import numpy as np
import pytest
from neuro_core import CubaLIF, Graph, Input, Linear, Output
from neuro_dynapse2 import dynapse2
from neuro_dynapse2.model import DynapseModel, Projection, Structure, default_currents, make_network


def strong_network(n_in: int = 8, n_hidden: int = 12, n_out: int = 3, seed: int = 0) -> Graph:
    """A recurrent input -> hidden -> output network whose neurons fire for Poisson input."""
    model = make_network(dynapse2(), n_in, n_hidden, n_out, seed=seed, weight_scale_a=8e-8)
    for name in ("w_in", "w_out"):  # excitatory feed-forward layers: every neuron is driven
        w = model.weights[name].data
        w.copy_(w.abs())
    return model.to_graph()


def single_neuron(weights_a: list[float], dt: float = 1e-3, **params: float) -> Graph:
    """Input(len(weights)) -> one DPI neuron (weights in A; negative = inhibitory) -> Output."""
    structure = Structure("input", len(weights_a), (("n", 1),), (Projection("w", "input", "n", False),), "n", "output")
    model = DynapseModel(dynapse2(), structure, {"w": np.array([weights_a])}, {"n": default_currents(1, **params)}, dt)
    return model.to_graph()


def poisson(shape: tuple[int, int, int], p: float, seed: int) -> np.ndarray:
    """Seeded Bernoulli event counts (batch, time, channels)."""
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float64)


@pytest.fixture
def target():
    return dynapse2()


def fan_in_graph(n_in: int, n_neurons: int, dt: float = 1e-3) -> Graph:
    """Input(n_in) fully connected to ``n_neurons`` CubaLIF neurons (IR units) -> Output."""
    n = n_neurons
    lif = CubaLIF(tau=np.full(n, 0.02), tau_syn=np.full(n, 0.01), r=np.ones(n), v_threshold=np.ones(n))
    weight = np.random.default_rng(0).normal(0.5, 0.1, (n, n_in))
    return Graph.chain(dt, [("input", Input((n_in,))), ("w", Linear(weight)), ("n", lif), ("output", Output((n,)))])

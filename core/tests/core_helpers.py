"""Small graphs shared by the core tests (imported as ``helpers``; core/tests is on sys.path via conftest)."""

from __future__ import annotations

import numpy as np
from neuro_core import LIF, Graph, Input, Linear, Output

DT = 1e-3


def lif_chain(n_in: int = 3, n_hidden: int = 4, n_out: int = 2, seed: int = 0) -> Graph:
    """Input -> Linear -> LIF -> Linear -> LIF -> Output, float, random weights from ``seed``."""
    rng = np.random.default_rng(seed)
    return Graph.chain(
        DT,
        [
            ("in", Input((n_in,))),
            ("fc1", Linear(rng.normal(0.8, 0.5, (n_hidden, n_in)))),
            ("lif1", LIF(r=np.ones(n_hidden), v_threshold=np.ones(n_hidden), tau=np.full(n_hidden, 0.01))),
            ("fc2", Linear(rng.normal(0.8, 0.5, (n_out, n_hidden)))),
            ("lif2", LIF(r=np.ones(n_out), v_threshold=np.ones(n_out), tau=np.full(n_out, 0.01), reset="subtract")),
            ("out", Output((n_out,))),
        ],
    )


def spike_inputs(graph: Graph, batch: int = 3, steps: int = 20, rate: float = 0.5, seed: int = 0) -> np.ndarray:
    """Bernoulli 0/1 input spikes (batch, time, channels) for ``graph``'s single Input node."""
    channels = graph.nodes[graph.inputs()[0]].out_size
    return (np.random.default_rng(seed).random((batch, steps, channels)) < rate).astype(np.float64)

"""Graph builders shared by the neuro-xylo tests (small, seeded)."""

from __future__ import annotations

import numpy as np
from neuro_core.graph import CubaLIF, Graph, Input, Linear, Output

DT = 1e-3


def population(n: int, threshold: float = 1.0, dash_mem: int = 4, dash_syn: int = 2) -> CubaLIF:
    """A CubaLIF in Xylo's canonical form: exact dashes (tau = dt * 2**dash), weights in state units."""
    return CubaLIF(
        r=np.full(n, 2.0**dash_mem),
        v_threshold=np.full(n, threshold),
        reset="subtract",
        tau=np.full(n, DT * 2.0**dash_mem),
        tau_syn=np.full(n, DT * 2.0**dash_syn),
        w_in=np.full(n, 2.0**dash_syn - 1.0),
    )


def xylo_graph(n_in: int, n_hidden: int, n_out: int, seed: int, recurrent: bool = True, scale: float = 0.6) -> Graph:
    """Input -> Linear -> CubaLIF (+ recurrent Linear) -> Linear -> CubaLIF -> Output, random weights."""
    rng = np.random.default_rng(seed)
    nodes = {
        "input": Input(shape=(n_in,)),
        "w_in": Linear(rng.normal(0.0, scale, (n_hidden, n_in))),
        "hidden": population(n_hidden),
        "w_out": Linear(rng.normal(0.0, scale, (n_out, n_hidden))),
        "readout": population(n_out),
        "output": Output(shape=(n_out,)),
    }
    edges = [("input", "w_in"), ("w_in", "hidden"), ("hidden", "w_out"), ("w_out", "readout"), ("readout", "output")]
    if recurrent:
        w_rec = rng.normal(0.0, scale / 2, (n_hidden, n_hidden)) * (rng.random((n_hidden, n_hidden)) < 0.2)
        nodes["w_rec"] = Linear(w_rec)
        edges += [("hidden", "w_rec"), ("w_rec", "hidden")]
    return Graph(nodes, tuple(edges), DT)


def events(batch: int, steps: int, channels: int, seed: int, rate: float = 0.3, max_count: int = 3) -> np.ndarray:
    """Random input event counts (batch, steps, channels)."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, max_count + 1, (batch, steps, channels)) * (rng.random((batch, steps, channels)) < rate)

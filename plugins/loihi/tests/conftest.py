"""Shared graphs for the Loihi plugin tests."""

from __future__ import annotations

import itertools

import numpy as np
from neuro_core.graph import CubaLIF, Graph, Input, Linear, Output


def chain_graph(
    sizes: tuple[int, ...] = (12, 10, 4), seed: int = 0, delays: bool = True, dt: float = 1e-3, gain: float = 6.0
) -> Graph:
    """Input -> (Linear[delays] -> CubaLIF)* -> Output with random weights, thresholds 1."""
    rng = np.random.default_rng(seed)
    layers: list = [("in", Input((sizes[0],)))]
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        weight = rng.normal(0.5, 2.0, (n_out, n_in)) * gain / np.sqrt(n_in)
        delay = rng.integers(0, 8, (n_out, n_in)) if delays else None
        layers.append((f"fc{k}", Linear(weight, delay)))
        layers.append(
            (
                f"lif{k}",
                CubaLIF(
                    r=np.ones(n_out),
                    v_threshold=np.ones(n_out),
                    tau=np.full(n_out, 10e-3),
                    tau_syn=np.full(n_out, 5e-3),
                    w_in=np.full(n_out, 5.0),
                    v_leak=np.zeros(n_out),
                ),
            )
        )
    layers.append(("out", Output((sizes[-1],))))
    return Graph.chain(dt, layers)


def spikes(batch: int, steps: int, channels: int, rate: float = 0.3, seed: int = 0) -> np.ndarray:
    """Random binary input spikes (batch, time, channels)."""
    return (np.random.default_rng(seed).random((batch, steps, channels)) < rate).astype(np.int64)

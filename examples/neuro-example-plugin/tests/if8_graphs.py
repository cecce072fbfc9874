"""Graphs and inputs shared by the example plugin's tests."""

from __future__ import annotations

import itertools

import numpy as np
from neuro_core import IF, Graph, Input, Linear, Output

DT = 1e-3


def if_chain(sizes: list[int], seed: int = 0, threshold: float = 1.0, weight_mean: float = 0.3) -> Graph:
    """Input -> (Linear -> IF)* -> Output with layer ``sizes`` [inputs, hidden..., outputs]."""
    rng = np.random.default_rng(seed)
    layers: list[tuple[str, object]] = [("in", Input((sizes[0],)))]
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append((f"fc{k}", Linear(rng.normal(weight_mean, 0.4, (n_out, n_in)))))
        layers.append((f"if{k}", IF(r=np.ones(n_out), v_threshold=np.full(n_out, threshold))))
    layers.append(("out", Output((sizes[-1],))))
    return Graph.chain(DT, layers)  # type: ignore[arg-type]


def event_counts(channels: int, batch: int = 3, steps: int = 25, seed: int = 0, high: int = 3) -> np.ndarray:
    """Random input event counts 0..high-1, (batch, time, channels)."""
    return np.random.default_rng(seed).integers(0, high, (batch, steps, channels)).astype(np.float64)

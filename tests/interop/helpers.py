"""Shared helpers of the NIR interoperability tests (optional tox env ``interop``)."""

from __future__ import annotations

import numpy as np


def spike_inputs(seed: int, steps: int, channels: int, rate: float = 0.3, batch: int = 2) -> np.ndarray:
    """Random 0/1 spike trains (batch, time, channels) from ``seed``."""
    rng = np.random.default_rng(seed)
    return (rng.random((batch, steps, channels)) < rate).astype(np.float32)


def assert_same_spikes(ours: np.ndarray, theirs: np.ndarray, min_spikes: int = 5) -> None:
    """Spike-for-spike equality, and enough spikes that the comparison means something."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    assert theirs.sum() >= min_spikes, f"only {theirs.sum()} spikes: the test network is too quiet"
    mismatch = np.argwhere(ours != theirs)
    assert mismatch.size == 0, f"{len(mismatch)} spikes differ, first at (batch, time, channel) {mismatch[:3].tolist()}"

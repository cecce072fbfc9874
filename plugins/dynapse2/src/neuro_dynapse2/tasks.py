"""Two generated classification tasks that need temporal memory (seeded, nothing downloaded).

Both emit Poisson spike trains on ``n_in`` channels in two groups (A: first half, B: second half)
and are read out only in the last ``readout_steps`` steps, long after the informative input is
over, so a network must hold the information across a silent delay.

- ``delayed_cue``: a 20 ms cue on group A (class 0) or B (class 1), then a delay, then a 20 ms
  "go" burst on all channels; the answer is read during the go burst.
- ``temporal_xor``: two 15 ms pulses separated by a gap, each on group A or B; class 1 if they
  differ (XOR), 0 if equal; read after the second pulse and a delay (the Rockpool DYNAP-SE
  ``temporal_xor`` example poses the same problem).
- ``cue_accumulation``: five 10 ms cues, 10 ms apart, each on group A or B; class = the group that
  got the majority, read after a delay (the evidence-accumulation task of Bellec et al. 2020,
  e-prop, Nature Communications 11:3625, shortened to the chip's time constants).
"""

from __future__ import annotations

import numpy as np

TASKS = ("delayed_cue", "temporal_xor", "cue_accumulation")
CUES = 5  # cue_accumulation: odd, so a majority always exists


def make_task(
    name: str,
    n_samples: int,
    seed: int,
    n_in: int = 8,
    dt: float = 1e-3,
    delay_s: float = 0.05,
    rate_hz: float = 200.0,
    background_hz: float = 5.0,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Generate ``n_samples`` of task ``name``.

    Returns:
        ``(x, y, readout_steps)``: x (n_samples, T, n_in) float event counts, y (n_samples,) int
        labels in {0, 1}, and how many final steps carry the answer.
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {TASKS}")
    rng = np.random.default_rng(seed)
    half = n_in // 2
    groups = [slice(0, half), slice(half, n_in)]
    steps_of = lambda seconds: max(1, round(seconds / dt))  # noqa: E731
    if name == "delayed_cue":
        cue, delay, go = steps_of(0.02), steps_of(delay_s), steps_of(0.02)
        total = cue + delay + go
        rates = np.full((n_samples, total, n_in), background_hz)
        y = rng.integers(0, 2, n_samples)
        for i, label in enumerate(y):
            rates[i, :cue, groups[label]] = rate_hz
        rates[:, cue + delay :, :] = rate_hz / 2
        readout = go
    elif name == "cue_accumulation":
        cue, pause, delay, go = steps_of(0.01), steps_of(0.01), steps_of(delay_s), steps_of(0.02)
        total = CUES * (cue + pause) + delay + go
        rates = np.full((n_samples, total, n_in), background_hz)
        sides = rng.integers(0, 2, (n_samples, CUES))
        y = (sides.sum(axis=1) > CUES // 2).astype(np.int64)
        for i in range(n_samples):
            for k, side in enumerate(sides[i]):
                start = k * (cue + pause)
                rates[i, start : start + cue, groups[side]] = rate_hz
        rates[:, -go:, :] = rate_hz / 2
        readout = go
    else:
        pulse, gap, tail = steps_of(0.015), steps_of(delay_s / 2), steps_of(delay_s / 2)
        readout = steps_of(0.02)
        total = 2 * pulse + gap + tail + readout
        rates = np.full((n_samples, total, n_in), background_hz)
        first, second = rng.integers(0, 2, n_samples), rng.integers(0, 2, n_samples)
        y = (first != second).astype(np.int64)
        for i in range(n_samples):
            rates[i, :pulse, groups[first[i]]] = rate_hz
            rates[i, pulse + gap : 2 * pulse + gap, groups[second[i]]] = rate_hz
        rates[:, -readout:, :] = rate_hz / 2  # the "report now" cue
    x = (rng.random(rates.shape) < rates * dt).astype(np.float64)
    return x, y.astype(np.int64), readout


def decide(counts: np.ndarray) -> np.ndarray:
    """Class per sample from output spike counts (B, n_out): the most spiking output neuron, or -1
    (always wrong) when none fires or the top count is tied."""
    top = counts.max(axis=1)
    winners = (counts == top[:, None]).sum(axis=1)
    return np.where((top > 0) & (winners == 1), counts.argmax(axis=1), -1)


def predictions(outputs: np.ndarray, window: int) -> np.ndarray:
    """Class per sample from output spikes (B, T, n_out): :func:`decide` on the last ``window`` steps."""
    return decide(outputs[:, -window:].sum(axis=1))

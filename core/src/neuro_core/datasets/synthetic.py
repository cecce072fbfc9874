"""Seeded synthetic spike tasks: random manifolds (randman), delayed XOR, spike-pattern association.

Every generator is deterministic for its ``seed`` and returns a :class:`SpikeData` whose event times
are whole multiples of ``dt`` (so ``dense(dt)`` puts each spike in its own step).
"""

from __future__ import annotations

import numpy as np

from ..errors import NeuroError
from .spikedata import SpikeData

__all__ = ["delayed_xor", "randman", "spike_pattern_association"]


def _positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise NeuroError(f"{name} must be > 0, got {value}")


def randman(
    n_classes: int = 10,
    n_units: int = 100,
    samples_per_class: int = 100,
    manifold_dim: int = 1,
    n_steps: int = 100,
    dt: float = 1e-3,
    alpha: float = 2.0,
    n_basis: int = 20,
    n_spikes: int = 1,
    seed: int = 0,
) -> SpikeData:
    """Random manifold spike-timing task (after Zenke & Vogels 2021, Neural Computation 33(4)).

    Each class is a random smooth ``manifold_dim``-dimensional manifold embedded in ``n_units``
    dimensions: unit ``i`` of class ``c`` maps a point ``x`` in ``[0, 1]^manifold_dim`` to
    ``y_i(x) = sum_j sum_k k^-alpha a_cijk sin(2 pi (k b_cijk x_j + p_cijk))`` (``k = 1..n_basis``,
    ``a, b, p`` uniform in [0, 1)), rescaled to [0, 1] by the function's own bound. A sample draws ``x``
    uniformly and every unit fires exactly ``n_spikes`` times (each spike from its own manifold), at
    step ``round(y_i(x) * (n_steps - 1))``. All classes have the same firing rates; only spike timing
    tells them apart. ``alpha`` sets the smoothness (larger: smoother, easier).

    Returns:
        SpikeData with ``n_classes * samples_per_class`` samples (shuffled), ``n_units`` channels,
        duration ``n_steps * dt``.
    """
    _positive(n_classes=n_classes, n_units=n_units, samples_per_class=samples_per_class, n_steps=n_steps, dt=dt)
    _positive(manifold_dim=manifold_dim, n_basis=n_basis, n_spikes=n_spikes)
    rng = np.random.default_rng(seed)
    k = np.arange(1, n_basis + 1, dtype=np.float64)
    shape = (n_classes, n_spikes, n_units, manifold_dim, n_basis)
    amplitude = rng.random(shape) * k**-alpha
    frequency = rng.random(shape) * k
    phase = rng.random(shape)
    bound = amplitude.sum(axis=(-1, -2))  # |y| <= bound for every x: rescale to [0, 1]
    n = n_classes * samples_per_class
    labels = np.repeat(np.arange(n_classes), samples_per_class)
    points = rng.random((n, manifold_dim))
    # (n, spikes, units, dim, basis): evaluated for every sample's own class at once.
    argument = frequency[labels] * points[:, None, None, :, None] + phase[labels]
    value = (amplitude[labels] * np.sin(2 * np.pi * argument)).sum(axis=(-1, -2))
    y = (value / bound[labels] + 1.0) / 2.0
    steps = np.rint(y * (n_steps - 1)).astype(np.int64)  # (n, spikes, units)
    order = rng.permutation(n)
    events = []
    for i in order:
        units = np.broadcast_to(np.arange(n_units), steps[i].shape).reshape(-1)
        times = steps[i].reshape(-1)
        sort = np.lexsort((units, times))
        events.append((times[sort] * dt, units[sort]))
    return SpikeData.from_events(
        events,
        labels[order],
        tuple(str(c) for c in range(n_classes)),
        n_units,
        duration=n_steps * dt,
        meta={
            "generator": "neuro_core.datasets.randman",
            "seed": seed,
            "manifold_dim": manifold_dim,
            "alpha": alpha,
            "time_resolution": dt,
        },
    )


def _poisson(rng: np.random.Generator, rate: float, steps: int, channels: int, dt: float) -> np.ndarray:
    return rng.random((steps, channels)) < rate * dt


def _to_events(raster: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    steps, units = np.nonzero(raster)
    return steps * dt, units


def delayed_xor(
    n_samples: int = 1000,
    channels_per_group: int = 10,
    cue_duration: float = 0.05,
    delay: float = 0.2,
    response_duration: float = 0.05,
    rate: float = 100.0,
    noise_rate: float = 5.0,
    dt: float = 1e-3,
    seed: int = 0,
) -> SpikeData:
    """Delayed XOR: two binary cues separated by a delay; the label is their XOR.

    Channels are four groups of ``channels_per_group``: bit A = 0, A = 1, B = 0, B = 1. Cue A fires its
    group at ``rate`` Hz for ``cue_duration`` s at the start; after ``delay`` s of silence cue B does
    the same; then ``response_duration`` s follow in which the answer is read. Every channel also
    fires at ``noise_rate`` Hz throughout. Solving it needs memory across the delay.

    Returns:
        SpikeData, classes ("0", "1"), ``extra["a"]``, ``extra["b"]`` the two bits.
    """
    _positive(n_samples=n_samples, channels_per_group=channels_per_group, cue_duration=cue_duration, dt=dt)
    if delay < 0 or response_duration < 0 or rate < 0 or noise_rate < 0:
        raise NeuroError("delay, response_duration, rate and noise_rate must be >= 0")
    rng = np.random.default_rng(seed)
    cue, gap = round(cue_duration / dt), round(delay / dt)
    steps = 2 * cue + gap + round(response_duration / dt)
    bits = rng.integers(0, 2, size=(n_samples, 2))
    events = []
    for a, b in bits:
        raster = _poisson(rng, noise_rate, steps, 4 * channels_per_group, dt)
        for start, group in ((0, a), (cue + gap, 2 + b)):
            columns = slice(group * channels_per_group, (group + 1) * channels_per_group)
            raster[start : start + cue, columns] |= _poisson(rng, rate, cue, channels_per_group, dt)
        events.append(_to_events(raster, dt))
    return SpikeData.from_events(
        events,
        bits[:, 0] ^ bits[:, 1],
        ("0", "1"),
        4 * channels_per_group,
        duration=steps * dt,
        extra={"a": bits[:, 0], "b": bits[:, 1]},
        meta={"generator": "neuro_core.datasets.delayed_xor", "seed": seed, "time_resolution": dt},
    )


def spike_pattern_association(
    n_patterns: int = 10,
    samples_per_pattern: int = 50,
    n_channels: int = 50,
    duration: float = 0.2,
    rate: float = 20.0,
    jitter: float = 2e-3,
    deletion: float = 0.1,
    noise_rate: float = 2.0,
    dt: float = 1e-3,
    seed: int = 0,
) -> SpikeData:
    """Spike-pattern association (tempotron-style): recognise which frozen Poisson pattern is shown.

    ``n_patterns`` frozen patterns of ``rate`` Hz Poisson spikes over ``n_channels`` x ``duration``
    s; every sample is one pattern with each spike moved by Gaussian jitter (sigma ``jitter`` s),
    deleted with probability ``deletion``, plus Poisson noise spikes at ``noise_rate`` Hz.

    Returns:
        SpikeData with classes "0".."n_patterns-1", shuffled.
    """
    _positive(n_patterns=n_patterns, samples_per_pattern=samples_per_pattern, n_channels=n_channels)
    _positive(duration=duration, dt=dt)
    if not 0 <= deletion < 1:
        raise NeuroError(f"deletion must be in [0, 1), got {deletion}")
    rng = np.random.default_rng(seed)
    steps = round(duration / dt)
    patterns = [np.nonzero(_poisson(rng, rate, steps, n_channels, dt)) for _ in range(n_patterns)]
    labels = rng.permutation(np.repeat(np.arange(n_patterns), samples_per_pattern))
    events = []
    for label in labels:
        pattern_steps, pattern_units = patterns[label]
        keep = rng.random(len(pattern_steps)) >= deletion
        moved = pattern_steps[keep] + np.rint(rng.normal(0, jitter / dt, keep.sum())).astype(np.int64)
        raster = _poisson(rng, noise_rate, steps, n_channels, dt)
        inside = (moved >= 0) & (moved < steps)
        raster[moved[inside], pattern_units[keep][inside]] = True
        events.append(_to_events(raster, dt))
    return SpikeData.from_events(
        events,
        labels,
        tuple(str(p) for p in range(n_patterns)),
        n_channels,
        duration=steps * dt,
        meta={"generator": "neuro_core.datasets.spike_pattern_association", "seed": seed, "time_resolution": dt},
    )

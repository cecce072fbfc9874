"""Seeded data augmentation of spike sets: random time shift and stretch, channel shift, event dropout, noise.

Augmentation works on the events of a :class:`~neuro_core.datasets.SpikeData` (never on dense arrays),
so it costs the same for 16 and 700 channels. Each sample gets its own draw of every transform; the
draws come from ``numpy.random.default_rng(seed)`` only, so the same seed gives the same set.

What each transform imitates in speech through a cochlear front end:

- time shift / stretch: a word starting earlier or later, spoken faster or slower;
- channel shift: a shift of the spectrum along the tonotopic axis, i.e. a speaker with a shorter or
  longer vocal tract (formants move by a roughly constant number of ERB, hence of channels on an
  ERB-spaced filterbank: vocal-tract-length perturbation, Jaitly & Hinton 2013);
- event dropout and noise events: a quieter or noisier recording.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from ..errors import NeuroError
from .spikedata import SpikeData

__all__ = ["SpikeAugment", "augment", "shift_channels"]


@dataclass(frozen=True)
class SpikeAugment:
    """Ranges of the random transforms; every draw is uniform and independent per sample.

    Applied in this order to each event time ``t`` and channel ``u`` of a sample:
    ``t' = t * stretch + shift``, ``u' = u + channel_shift``; events that leave ``[0, duration)`` or
    ``0..n_channels-1`` are dropped, then each remaining event is dropped with probability ``drop``,
    then noise events are added.

    Attributes:
        time_shift: largest shift of the whole sample in time, seconds (shift uniform in
            ``[-time_shift, time_shift]``).
        time_stretch: largest relative stretch; the factor is ``exp(u)`` with ``u`` uniform in
            ``[-log(1 + time_stretch), log(1 + time_stretch)]`` (0.1: between 1/1.1 and 1.1 times as long).
        channel_shift: largest shift along the channel axis, channels (uniform integer in
            ``[-channel_shift, channel_shift]``).
        drop: probability that an event is removed, in ``[0, 1)``.
        channel_tilt: largest spectral tilt, natural-log units: each sample draws ``g`` uniform in
            ``[-channel_tilt, channel_tilt]`` and keeps an event of channel ``u`` with probability
            ``exp(g * u / (C - 1) - max(g, 0))`` (1 at the favoured end, ``exp(-|g|)`` at the other): a
            brighter or duller microphone or voice.
        noise_rate: rate of added random events per channel, Hz (Poisson count, uniform times and channels).
    """

    time_shift: float = 0.0
    time_stretch: float = 0.0
    channel_shift: int = 0
    drop: float = 0.0
    channel_tilt: float = 0.0
    noise_rate: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "time_shift": self.time_shift >= 0,
            "time_stretch": self.time_stretch >= 0,
            "channel_shift": isinstance(self.channel_shift, int | np.integer) and self.channel_shift >= 0,
            "drop": 0 <= self.drop < 1,
            "channel_tilt": self.channel_tilt >= 0,
            "noise_rate": self.noise_rate >= 0,
        }
        limits = {
            "time_shift": ">= 0 seconds",
            "time_stretch": ">= 0",
            "channel_shift": "an integer >= 0 channels",
            "drop": "in [0, 1)",
            "channel_tilt": ">= 0",
            "noise_rate": ">= 0 Hz",
        }
        for name, ok in checks.items():
            if not ok:
                raise NeuroError(f"SpikeAugment.{name} must be {limits[name]}, got {getattr(self, name)!r}")

    def __call__(self, data: SpikeData, seed: int) -> SpikeData:
        """One randomly transformed copy of ``data`` (same samples, labels, speakers and extra, in order).

        Event times are rounded down to ``data.meta["time_resolution"]`` seconds when the set has one
        (the front end's 1 ms), so the copy bins and saves like the original.
        """
        rng = np.random.default_rng(seed)
        n = len(data)
        duration = data.duration if data.duration is not None else float(data.times.max(initial=0.0)) + 1e-3
        resolution = float(data.meta.get("time_resolution", 0.0) or 0.0)
        # Per-sample draws first (fixed count), so a transform's draws do not depend on the others' sizes.
        shift = rng.uniform(-self.time_shift, self.time_shift, n)
        log_stretch = np.log1p(self.time_stretch)
        stretch = np.exp(rng.uniform(-log_stretch, log_stretch, n))
        channel = rng.integers(-self.channel_shift, self.channel_shift, n, endpoint=True)
        tilt = rng.uniform(-self.channel_tilt, self.channel_tilt, n)
        noise_counts = rng.poisson(self.noise_rate * duration * data.n_channels, n)

        lengths = np.diff(data.offsets)
        sample = np.repeat(np.arange(n), lengths)
        times = data.times * stretch[sample] + shift[sample]
        units = data.units + channel[sample]
        keep = (times >= 0) & (times < duration) & (units >= 0) & (units < data.n_channels)
        if self.drop > 0:
            keep &= rng.random(len(times)) >= self.drop
        if self.channel_tilt > 0:
            position = units / max(data.n_channels - 1, 1)
            keep_probability = np.exp(tilt[sample] * position - np.maximum(tilt[sample], 0.0))
            keep &= rng.random(len(times)) < keep_probability
        noise_sample = np.repeat(np.arange(n), noise_counts)
        noise_times = rng.uniform(0.0, duration, len(noise_sample))
        noise_units = rng.integers(0, data.n_channels, len(noise_sample))

        sample = np.concatenate([sample[keep], noise_sample])
        times = np.concatenate([times[keep], noise_times])
        units = np.concatenate([units[keep], noise_units])
        if resolution > 0:
            # floor with the same tolerance as SpikeData's binning, so k * resolution stays in tick k
            times = np.floor(times / resolution + 1e-6) * resolution
        order = np.lexsort((units, times, sample))
        offsets = np.concatenate([[0], np.cumsum(np.bincount(sample, minlength=n))])
        return SpikeData(
            times=times[order],
            units=units[order],
            offsets=offsets,
            labels=data.labels,
            speakers=data.speakers,
            classes=data.classes,
            n_channels=data.n_channels,
            duration=data.duration,
            speaker_names=data.speaker_names,
            extra=data.extra,
            meta={**data.meta, "augmentation": {**asdict(self), "seed": seed}},
        )


def augment(
    data: SpikeData, augmentation: SpikeAugment, copies: int, seed: int, keep_original: bool = True
) -> SpikeData:
    """A larger training set: ``data`` followed by ``copies`` independently transformed copies of it.

    Args:
        data: the training set (never the test set: augmentation only widens what training sees).
        augmentation: the ranges of the random transforms.
        copies: number of transformed copies (>= 0).
        seed: copy ``k`` uses the seed drawn from ``SeedSequence([seed, k])``.
        keep_original: put the untransformed ``data`` first.

    Returns:
        A SpikeData of ``(copies + keep_original) * len(data)`` samples; speakers keep their indices.
    """
    if not isinstance(copies, int) or copies < 0:
        raise NeuroError(f"copies must be an integer >= 0, got {copies!r}")
    if copies == 0 and not keep_original:
        raise NeuroError("augment with copies=0 and keep_original=False would return an empty set")
    seeds = [int(np.random.SeedSequence([seed, k]).generate_state(1)[0]) for k in range(copies)]
    parts = ([data] if keep_original else []) + [augmentation(data, s) for s in seeds]
    if len(parts) == 1:
        return parts[0]
    return _stack(parts)


def shift_channels(data: SpikeData, shift: int) -> SpikeData:
    """``data`` with every event moved ``shift`` channels up (down if negative); events pushed past
    channel 0 or ``n_channels - 1`` are dropped.

    The deterministic form of ``SpikeAugment.channel_shift``. At test time, averaging a network's
    read-out over the shifts it was trained with (``-k..k`` for ``channel_shift=k``) marginalises over
    the vocal-tract lengths that augmentation taught it, which helps on an unseen speaker
    (docs/datasets.md, FSDD).
    """
    if not isinstance(shift, int | np.integer):
        raise NeuroError(f"shift must be an integer number of channels, got {shift!r}")
    units = data.units + int(shift)
    keep = (units >= 0) & (units < data.n_channels)
    sample = np.repeat(np.arange(len(data)), np.diff(data.offsets))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(sample[keep], minlength=len(data)))])
    # shifting every unit of a sample by the same amount keeps the (time, unit) order within it
    return replace(data, times=data.times[keep], units=units[keep], offsets=offsets,
                   meta={**data.meta, "channel_shift": int(shift)})  # fmt: skip


def _stack(parts: list[SpikeData]) -> SpikeData:
    """Samples of ``parts`` in order; unlike ``SpikeData.concatenate`` speaker indices are shared, not shifted."""
    first = parts[0]
    offsets = [np.zeros(1, dtype=np.int64)]
    total = 0
    for part in parts:
        offsets.append(part.offsets[1:] + total)
        total += int(part.offsets[-1])
    return SpikeData(
        times=np.concatenate([p.times for p in parts]),
        units=np.concatenate([p.units for p in parts]),
        offsets=np.concatenate(offsets),
        labels=np.concatenate([p.labels for p in parts]),
        speakers=np.concatenate([p.speakers for p in parts]),
        classes=first.classes,
        n_channels=first.n_channels,
        duration=first.duration,
        speaker_names=first.speaker_names,
        extra={k: np.concatenate([p.extra[k] for p in parts]) for k in first.extra},
        meta={**first.meta, "augmented_copies": len(parts) - 1},
    )

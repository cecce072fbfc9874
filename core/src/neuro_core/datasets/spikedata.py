"""SpikeData: a labelled set of spike trains in the sparse layout of the Spiking Heidelberg Digits.

Events of every sample are concatenated: ``times`` (seconds) and ``units`` (channel index) of
sample ``i`` are ``times[offsets[i]:offsets[i+1]]``. Dense (batch, time, channels) arrays are made on
demand, per batch, so a 700-channel set never has to be dense all at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..container import read_container, write_container
from ..errors import NeuroError

if TYPE_CHECKING:  # torch is imported only inside batches()/tensors()
    import torch

__all__ = ["SPIKEDATA_FORMAT_VERSION", "SpikeData"]

SPIKEDATA_FORMAT_VERSION = 1
_KIND = "spikedata"
# Event times are binned with floor(t / dt + eps): times written as k * dt in float must land in bin k.
_BIN_EPS = 1e-6


@dataclass(frozen=True, eq=False)
class SpikeData:
    """A labelled spike dataset (events, not dense arrays).

    Attributes:
        times: (E,) float64 event times in seconds from the start of each sample.
        units: (E,) int64 channel index of each event, ``0 <= unit < n_channels``.
        offsets: (N+1,) int64 start of each sample's events; ``offsets[0] == 0``, ``offsets[-1] == E``.
        labels: (N,) int64 class index of each sample.
        speakers: (N,) int64 speaker/voice index of each sample (-1 where unknown).
        classes: class names, ``classes[label]``.
        n_channels: number of input channels C.
        duration: nominal length of every sample in seconds (dense arrays use it), or None to use the
            latest event of the set.
        speaker_names: name of each speaker index, if known.
        extra: further per-sample (N,) arrays (e.g. ``"word"`` of the keyword-spotting set).
        meta: JSON-serialisable provenance (generator, front-end parameters, licence).
    """

    times: np.ndarray
    units: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    speakers: np.ndarray
    classes: tuple[str, ...]
    n_channels: int
    duration: float | None = None
    speaker_names: tuple[str, ...] = ()
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        coerce = {
            "times": np.float64,
            "units": np.int64,
            "offsets": np.int64,
            "labels": np.int64,
            "speakers": np.int64,
        }
        for name, dtype in coerce.items():
            array = np.array(getattr(self, name), dtype=dtype).reshape(-1)
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "speaker_names", tuple(self.speaker_names))
        n = len(self.labels)
        if len(self.offsets) != n + 1 or self.offsets[0] != 0 or np.any(np.diff(self.offsets) < 0):
            raise NeuroError(f"offsets must be non-decreasing, start at 0 and have N+1={n + 1} entries")
        if self.offsets[-1] != len(self.times) or len(self.units) != len(self.times):
            raise NeuroError(
                f"times ({len(self.times)}), units ({len(self.units)}) and offsets[-1] ({self.offsets[-1]}) "
                "must agree on the number of events"
            )
        if len(self.speakers) != n:
            raise NeuroError(f"speakers has {len(self.speakers)} entries, labels has {n}")
        if self.n_channels < 1:
            raise NeuroError(f"n_channels must be >= 1, got {self.n_channels}")
        if len(self.units) and (self.units.min() < 0 or self.units.max() >= self.n_channels):
            raise NeuroError(
                f"units must lie in 0..{self.n_channels - 1}, found {self.units.min()}..{self.units.max()}"
            )
        if len(self.times) and (not np.all(np.isfinite(self.times)) or self.times.min() < 0):
            raise NeuroError("event times must be finite and >= 0 seconds")
        if n and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            raise NeuroError(f"labels must lie in 0..{len(self.classes) - 1} (one per class name)")
        extra = {}
        for name, values in self.extra.items():
            array = np.array(values)
            if len(array) != n:
                raise NeuroError(f"extra[{name!r}] has {len(array)} entries, labels has {n}")
            array.setflags(write=False)
            extra[name] = array
        object.__setattr__(self, "extra", extra)
        object.__setattr__(self, "meta", dict(self.meta))

    # ---- construction ------------------------------------------------------------------------------
    @classmethod
    def from_events(
        cls,
        events: Sequence[tuple[np.ndarray, np.ndarray]],
        labels: Sequence[int] | np.ndarray,
        classes: Sequence[str],
        n_channels: int,
        **fields: Any,
    ) -> SpikeData:
        """Build from one ``(times seconds, units)`` pair per sample; other fields as keywords."""
        lengths = [len(t) for t, _ in events]
        offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        times = np.concatenate([np.asarray(t, dtype=np.float64) for t, _ in events]) if events else np.zeros(0)
        units = np.concatenate([np.asarray(u, dtype=np.int64) for _, u in events]) if events else np.zeros(0)
        fields.setdefault("speakers", np.full(len(lengths), -1))
        return cls(times, units, offsets, np.asarray(labels), classes=tuple(classes), n_channels=n_channels, **fields)

    @classmethod
    def from_dense(
        cls, counts: np.ndarray, labels: Sequence[int] | np.ndarray, classes: Sequence[str], dt: float, **fields: Any
    ) -> SpikeData:
        """Build from dense (N, T, C) spike counts at step ``dt`` seconds (a count of k gives k events)."""
        counts = np.asarray(counts)
        if counts.ndim != 3:
            raise NeuroError(f"counts must be (N, T, C), got shape {counts.shape}")
        if np.any(counts < 0):
            raise NeuroError("spike counts must be >= 0")
        n, steps, channels = counts.shape
        flat = counts.reshape(n, -1).astype(np.int64)
        events = []
        for row in flat:
            index = np.repeat(np.nonzero(row)[0], row[row > 0])
            events.append((index // channels * dt, index % channels))
        fields.setdefault("duration", steps * dt)
        return cls.from_events(events, labels, classes, channels, **fields)

    @classmethod
    def concatenate(cls, sets: Sequence[SpikeData]) -> SpikeData:
        """One set holding the samples of ``sets`` in order (same classes and channel count).

        Speaker indices of later sets are shifted past the earlier sets' ``speaker_names`` (or their
        largest index), so speakers stay distinct; ``extra`` keeps the keys common to every set.
        """
        if not sets:
            raise NeuroError("concatenate needs at least one SpikeData")
        first = sets[0]
        for other in sets[1:]:
            if other.classes != first.classes or other.n_channels != first.n_channels:
                raise NeuroError(
                    f"cannot concatenate sets with classes {other.classes} / {other.n_channels} channels "
                    f"to sets with classes {first.classes} / {first.n_channels} channels"
                )
        speakers, names, shift = [], [], 0
        for data in sets:
            known = data.speakers >= 0
            speakers.append(np.where(known, data.speakers + shift, -1))
            width = max(len(data.speaker_names), int(data.speakers.max()) + 1 if known.any() else 0)
            names += list(data.speaker_names) + [f"speaker{shift + i}" for i in range(len(data.speaker_names), width)]
            shift += width
        common = set.intersection(*(set(d.extra) for d in sets))
        durations = {d.duration for d in sets}
        return cls.from_events(
            [data.sample(i) for data in sets for i in range(len(data))],
            np.concatenate([d.labels for d in sets]),
            first.classes,
            first.n_channels,
            speakers=np.concatenate(speakers),
            duration=None if None in durations else max(d for d in durations if d is not None),
            speaker_names=tuple(names),
            extra={k: np.concatenate([d.extra[k] for d in sets]) for k in sorted(common)},
            meta={**first.meta, "concatenated": len(sets)},
        )

    # ---- access -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.labels)

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """``(times, units)`` of one sample."""
        start, stop = self.offsets[index], self.offsets[index + 1]
        return self.times[start:stop], self.units[start:stop]

    def n_steps(self, dt: float, duration: float | None = None) -> int:
        """Number of time steps T of dense arrays at step ``dt`` (s) for ``duration`` (s, default: the set's)."""
        if dt <= 0:
            raise NeuroError(f"dt must be > 0 seconds, got {dt}")
        if duration is None:
            duration = self.duration
        if duration is None:
            duration = float(self.times.max()) + dt if len(self.times) else dt
        return max(1, int(np.ceil(duration / dt - _BIN_EPS)))

    def dense(
        self, dt: float = 1e-3, duration: float | None = None, indices: Sequence[int] | np.ndarray | None = None
    ) -> np.ndarray:
        """Dense event counts.

        Args:
            dt: bin width in seconds.
            duration: length in seconds (default: ``self.duration``, else the latest event). Events
                at or after ``duration`` are dropped.
            indices: which samples (default: all).

        Returns:
            (N, T, C) uint8 counts of events per bin and channel, ``T = ceil(duration / dt)``. Counts
            above 255 are clipped to 255 (only reachable with bins much coarser than the 1 ms of
            the front end and very dense input).
        """
        steps = self.n_steps(dt, duration)
        chosen = np.arange(len(self)) if indices is None else np.asarray(indices, dtype=np.int64)
        starts, stops = self.offsets[chosen], self.offsets[chosen + 1]
        lengths = stops - starts
        # Gather every chosen event at once: event j of the k-th chosen sample sits at starts[k] + j.
        sample_of_event = np.repeat(np.arange(len(chosen)), lengths)
        within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        events = starts[sample_of_event] + within
        bins = np.floor(self.times[events] / dt + _BIN_EPS).astype(np.int64)
        keep = bins < steps
        flat = (sample_of_event[keep] * steps + bins[keep]) * self.n_channels + self.units[events][keep]
        counts = np.bincount(flat, minlength=len(chosen) * steps * self.n_channels)
        return np.minimum(counts, 255).astype(np.uint8).reshape(len(chosen), steps, self.n_channels)

    def subset(self, indices: Sequence[int] | np.ndarray) -> SpikeData:
        """A new SpikeData holding the given samples, in the given order."""
        chosen = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(chosen) and (chosen.min() < -len(self) or chosen.max() >= len(self)):
            raise NeuroError(f"sample index out of range 0..{len(self) - 1}")
        chosen = chosen % max(len(self), 1)
        events = [self.sample(int(i)) for i in chosen]
        return SpikeData.from_events(
            events,
            self.labels[chosen],
            self.classes,
            self.n_channels,
            speakers=self.speakers[chosen],
            duration=self.duration,
            speaker_names=self.speaker_names,
            extra={k: v[chosen] for k, v in self.extra.items()},
            meta=self.meta,
        )

    def split(
        self,
        test_fraction: float = 0.2,
        seed: int = 0,
        by_speaker: bool = True,
        test_speakers: Sequence[int] | None = None,
    ) -> tuple[SpikeData, SpikeData]:
        """Split into ``(train, test)``.

        Args:
            test_fraction: share of speakers (``by_speaker``) or of samples held out.
            seed: seed of the random choice.
            by_speaker: hold out whole speakers, so that test speakers are unseen in training.
            test_speakers: explicit speaker indices to hold out (overrides the random choice).
        """
        if test_speakers is not None or by_speaker:
            if test_speakers is None:
                if not 0 < test_fraction < 1:
                    raise NeuroError(f"test_fraction must be in (0, 1), got {test_fraction}")
                speakers = np.unique(self.speakers)
                if len(speakers) < 2:
                    raise NeuroError(f"cannot split by speaker: the set has {len(speakers)} speaker(s)")
                n_test = min(len(speakers) - 1, max(1, round(len(speakers) * test_fraction)))
                test_speakers = np.random.default_rng(seed).choice(speakers, n_test, replace=False).tolist()
            is_test = np.isin(self.speakers, np.asarray(test_speakers))
        else:
            if not 0 < test_fraction < 1:
                raise NeuroError(f"test_fraction must be in (0, 1), got {test_fraction}")
            order = np.random.default_rng(seed).permutation(len(self))
            is_test = np.zeros(len(self), dtype=bool)
            is_test[order[: max(1, round(len(self) * test_fraction))]] = True
        return self.subset(np.nonzero(~is_test)[0]), self.subset(np.nonzero(is_test)[0])

    # ---- torch --------------------------------------------------------------------------------------
    def batches(
        self,
        batch_size: int,
        dt: float = 1e-3,
        shuffle: bool = True,
        seed: int = 0,
        duration: float | None = None,
        drop_last: bool = False,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Dense mini-batches for training.

        Yields:
            ``(x, y)``: x (B, T, C) float32 spike counts, y (B,) int64 labels. T is the same for every
            batch (``duration`` or the set's). The order is a permutation drawn from ``seed``.
        """
        import torch

        if batch_size < 1:
            raise NeuroError(f"batch_size must be >= 1, got {batch_size}")
        duration = duration if duration is not None else self.duration
        if duration is None:
            duration = self.n_steps(dt) * dt
        order = np.random.default_rng(seed).permutation(len(self)) if shuffle else np.arange(len(self))
        stop = len(order) - (len(order) % batch_size if drop_last else 0)
        for start in range(0, stop, batch_size):
            chosen = order[start : start + batch_size]
            x = torch.from_numpy(self.dense(dt, duration, chosen).astype(np.float32))
            yield x, torch.from_numpy(self.labels[chosen].copy())

    def tensors(self, dt: float = 1e-3, duration: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole set as ``(x (N, T, C) float32, y (N,) int64)`` torch tensors (small sets only)."""
        import torch

        return torch.from_numpy(self.dense(dt, duration).astype(np.float32)), torch.from_numpy(self.labels.copy())

    def as_dataset(self, dt: float = 1e-3, duration: float | None = None) -> torch.utils.data.Dataset:
        """A map-style torch Dataset: item ``i`` is ``(x (T, C) float32, label int64)``, made dense on access.

        For training loops that batch with a ``DataLoader`` (``neuro_core.training.Trainer`` accepts it),
        so that a 700-channel set is never dense all at once.
        """
        import torch

        data, steps = self, self.n_steps(dt, duration)

        class SpikeDataset(torch.utils.data.Dataset):
            def __len__(self) -> int:
                return len(data)

            def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
                x = data.dense(dt, steps * dt, [index])[0].astype(np.float32)
                return torch.from_numpy(x), torch.tensor(int(data.labels[index]))

        return SpikeDataset()

    # ---- files --------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], compress: bool = True) -> str:
        """Write a neuro container (kind ``"spikedata"``); return its checksum.

        Times are stored as integer ticks of ``meta["time_resolution"]`` seconds when every time is
        a whole number of ticks (the front end's output), else as float64. Ticks are stored as
        differences within each sample (events are sorted by time), which deflates to about one
        byte per event.
        """
        resolution = float(self.meta.get("time_resolution", 0.0) or 0.0)
        arrays: dict[str, np.ndarray] = {
            "offsets": self.offsets,
            "labels": _smallest_int(self.labels),
            "speakers": _smallest_int(self.speakers),
            "units": _smallest_int(self.units),
        }
        ticks = np.round(self.times / resolution) if resolution > 0 else None
        if ticks is not None and np.allclose(ticks * resolution, self.times, rtol=0, atol=resolution * 1e-6):
            ticks = ticks.astype(np.int64)
            order = np.lexsort((self.units, ticks, np.repeat(np.arange(len(self)), np.diff(self.offsets))))
            arrays["units"] = _smallest_int(self.units[order])
            sorted_ticks = ticks[order]
            deltas = np.diff(sorted_ticks, prepend=0)
            firsts = self.offsets[:-1][np.diff(self.offsets) > 0]
            deltas[firsts] = sorted_ticks[firsts]  # each sample restarts from tick 0
            arrays["tick_deltas"] = _smallest_int(deltas)
        else:
            arrays["times"] = self.times
        for name, values in self.extra.items():
            if values.dtype == object:
                raise NeuroError(f"extra[{name!r}] has dtype object and cannot be saved")
            arrays[f"extra.{name}"] = values
        meta = {
            "classes": list(self.classes),
            "n_channels": self.n_channels,
            "duration": self.duration,
            "speaker_names": list(self.speaker_names),
            "meta": dict(self.meta),
        }
        return write_container(path, _KIND, SPIKEDATA_FORMAT_VERSION, meta, arrays, compress=compress)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SpikeData:
        """Read a file written by :meth:`save` (verified: checksum, kind, version; never unpickles)."""
        header, arrays = read_container(path, _KIND, SPIKEDATA_FORMAT_VERSION)
        meta = header["meta"]
        if "tick_deltas" in arrays:
            running = np.concatenate([[0], np.cumsum(arrays["tick_deltas"].astype(np.int64))])
            offsets = arrays["offsets"].astype(np.int64)
            # Undo the per-sample differencing: remove what earlier samples added to the running sum.
            ticks = running[1:] - np.repeat(running[offsets[:-1]], np.diff(offsets))
            times = ticks.astype(np.float64) * float(meta["meta"]["time_resolution"])
        else:
            times = arrays["times"]
        return cls(
            times=times,
            units=arrays["units"],
            offsets=arrays["offsets"],
            labels=arrays["labels"],
            speakers=arrays["speakers"],
            classes=tuple(meta["classes"]),
            n_channels=int(meta["n_channels"]),
            duration=meta["duration"],
            speaker_names=tuple(meta["speaker_names"]),
            extra={k[len("extra.") :]: v for k, v in arrays.items() if k.startswith("extra.")},
            meta=meta["meta"],
        )

    def __repr__(self) -> str:
        return (
            f"SpikeData(samples={len(self)}, channels={self.n_channels}, classes={len(self.classes)}, "
            f"speakers={len(np.unique(self.speakers))}, events={len(self.times)}, duration={self.duration})"
        )


def _smallest_int(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return values.astype(np.int32)
    for dtype in (np.uint8, np.int8, np.uint16, np.int16, np.int32):
        info = np.iinfo(dtype)
        if values.min() >= info.min and values.max() <= info.max:
            return values.astype(dtype)
    return values

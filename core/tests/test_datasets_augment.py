"""neuro_core.datasets.augment: seeded random transforms of spike sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from neuro_core.datasets import SpikeAugment, SpikeData, augment, shift_channels
from neuro_core.errors import NeuroError


def speech_like(n: int = 4, channels: int = 20, steps: int = 100, seed: int = 0) -> SpikeData:
    """Samples with dense events at 1 ms ticks in the first half of a 0.1 s window."""
    rng = np.random.default_rng(seed)
    events = []
    for _ in range(n):
        count = 400
        events.append((rng.integers(0, steps // 2, count) * 1e-3, rng.integers(0, channels, count)))
    return SpikeData.from_events(
        events,
        labels=np.arange(n) % 3,
        classes=("a", "b", "c"),
        n_channels=channels,
        speakers=np.arange(n) % 2,
        duration=steps * 1e-3,
        speaker_names=("s0", "s1"),
        extra={"word": np.arange(n)},
        meta={"time_resolution": 1e-3},
    )


def shift_rows(array: np.ndarray, k: int) -> np.ndarray:
    """``array`` moved ``k`` rows later (earlier for k < 0), zero-filled, same shape."""
    out = np.zeros_like(array)
    if k >= 0:
        out[k:] = array[: len(array) - k]
    else:
        out[:k] = array[-k:]
    return out


def test_identity_ranges_return_the_same_events() -> None:
    data = speech_like()
    copy = SpikeAugment()(data, seed=3)
    assert np.array_equal(copy.dense(1e-3), data.dense(1e-3))
    assert np.array_equal(copy.labels, data.labels) and np.array_equal(copy.speakers, data.speakers)
    assert np.array_equal(copy.extra["word"], data.extra["word"])


def test_same_seed_same_set_other_seed_other_set() -> None:
    transform = SpikeAugment(time_shift=0.01, time_stretch=0.2, channel_shift=2, drop=0.1, channel_tilt=1.0)
    data = speech_like()
    first, again, other = transform(data, 7), transform(data, 7), transform(data, 8)
    assert np.array_equal(first.times, again.times) and np.array_equal(first.units, again.units)
    assert not np.array_equal(first.dense(1e-3), other.dense(1e-3))


def test_time_shift_moves_each_sample_by_whole_ticks_and_drops_what_leaves_the_window() -> None:
    data = speech_like()
    shifted = SpikeAugment(time_shift=0.02)(data, seed=1)
    for i in range(len(data)):
        before, after = data.dense(1e-3, indices=[i])[0], shifted.dense(1e-3, indices=[i])[0]
        lags = [k for k in range(-21, 22) if np.array_equal(shift_rows(before, k), after)]
        assert lags, f"sample {i} is not a pure time shift"
    ticks = shifted.times / 1e-3
    assert np.allclose(ticks, np.round(ticks))  # still on the front end's 1 ms grid
    assert shifted.times.min() >= 0 and shifted.times.max() < data.duration


def test_channel_shift_moves_events_along_the_channel_axis() -> None:
    data = speech_like()
    shifted = SpikeAugment(channel_shift=3)(data, seed=2)
    moved = []
    for i in range(len(data)):
        before, after = data.dense(1e-3, indices=[i])[0], shifted.dense(1e-3, indices=[i])[0]
        match = [s for s in range(-3, 4) if np.array_equal(shift_rows(before.T, s).T, after)]
        assert match, f"sample {i} is not a pure channel shift"
        moved.append(match[0])
    assert any(s != 0 for s in moved)
    assert shifted.units.min() >= 0 and shifted.units.max() < data.n_channels


def test_stretch_changes_the_length_of_the_sample() -> None:
    data = speech_like(n=200)
    stretched = SpikeAugment(time_stretch=0.5)(data, seed=4)
    last = np.array([stretched.sample(i)[0].max() for i in range(len(data))])
    assert last.min() < 0.04 and last.max() > 0.06  # originals all end at 0.049 s: shorter and longer copies


def test_drop_and_tilt_remove_events_as_specified() -> None:
    data = speech_like(n=50)
    dropped = SpikeAugment(drop=0.5)(data, seed=5)
    assert 0.45 < len(dropped.times) / len(data.times) < 0.55
    tilted = SpikeAugment(channel_tilt=3.0)(data, seed=6)
    kept = len(tilted.times) / len(data.times)
    # keep probability averages (1 - exp(-|g|)) / |g| over channels for |g| uniform in [0, 3]: about 0.52
    assert 0.4 < kept < 0.65
    thinned_end = []
    for i in range(len(data)):  # the favoured end channel keeps every event, the other loses exp(-|g|) of them
        counts = np.bincount(tilted.sample(i)[1], minlength=20)[[0, 19]]
        original = np.bincount(data.sample(i)[1], minlength=20)[[0, 19]]
        assert counts[0] == original[0] or counts[1] == original[1]
        thinned_end.append(min(counts / np.maximum(original, 1)))
    assert min(thinned_end) < 0.3  # some samples drew a steep tilt


def test_noise_adds_events_at_the_given_rate() -> None:
    data = SpikeData.from_events([(np.zeros(0), np.zeros(0, int))] * 20, np.zeros(20, int), ("x",), 10, duration=1.0)
    noisy = SpikeAugment(noise_rate=5.0)(data, seed=0)
    assert 0.9 < len(noisy.times) / (20 * 10 * 5.0) < 1.1  # 5 Hz per channel, 10 channels, 1 s, 20 samples


def test_transformed_copy_saves_and_loads(tmp_path: Path) -> None:
    copy = SpikeAugment(time_shift=0.01, time_stretch=0.1, channel_shift=1)(speech_like(), seed=0)
    copy.save(tmp_path / "aug.neuro")
    back = SpikeData.load(tmp_path / "aug.neuro")
    assert np.array_equal(back.dense(1e-3), copy.dense(1e-3))
    assert back.meta["augmentation"]["channel_shift"] == 1 and back.meta["augmentation"]["seed"] == 0


def test_augment_stacks_original_and_copies_keeping_speakers() -> None:
    data = speech_like()
    bigger = augment(data, SpikeAugment(time_shift=0.01), copies=2, seed=0)
    assert len(bigger) == 3 * len(data)
    assert np.array_equal(bigger.subset(range(len(data))).dense(1e-3), data.dense(1e-3))
    assert np.array_equal(bigger.speakers, np.tile(data.speakers, 3))
    assert bigger.speaker_names == data.speaker_names and np.array_equal(bigger.labels, np.tile(data.labels, 3))
    again = augment(data, SpikeAugment(time_shift=0.01), copies=2, seed=0)
    assert np.array_equal(again.times, bigger.times)
    only_copies = augment(data, SpikeAugment(time_shift=0.01), copies=1, seed=0, keep_original=False)
    assert len(only_copies) == len(data)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time_shift": -1.0}, "time_shift"),
        ({"time_stretch": -0.1}, "time_stretch"),
        ({"channel_shift": 1.5}, "channel_shift"),
        ({"drop": 1.0}, "drop"),
        ({"channel_tilt": -1.0}, "channel_tilt"),
        ({"noise_rate": -2.0}, "noise_rate"),
    ],
)
def test_bad_ranges_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(NeuroError, match=field):
        SpikeAugment(**kwargs)


def test_bad_copies_are_refused() -> None:
    with pytest.raises(NeuroError, match="copies"):
        augment(speech_like(), SpikeAugment(), copies=-1, seed=0)
    with pytest.raises(NeuroError, match="empty"):
        augment(speech_like(), SpikeAugment(), copies=0, seed=0, keep_original=False)


@pytest.mark.parametrize("k", [-3, 0, 2])
def test_shift_channels_moves_every_event_and_drops_those_past_the_edge(k: int) -> None:
    data = speech_like()
    shifted = shift_channels(data, k)
    dense, moved = data.dense(1e-3), shifted.dense(1e-3)  # (N, T, C)
    expected = np.moveaxis(shift_rows(np.moveaxis(dense, 2, 0), k), 0, 2)
    np.testing.assert_array_equal(moved, expected)
    np.testing.assert_array_equal(shifted.labels, data.labels)
    assert shifted.meta["channel_shift"] == k
    assert len(shifted) == len(data)


def test_shift_channels_rejects_a_fractional_shift() -> None:
    with pytest.raises(NeuroError, match="shift must be an integer"):
        shift_channels(speech_like(), 1.5)  # type: ignore[arg-type]

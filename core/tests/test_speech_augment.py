"""Waveform augmentation (AudioAugment), augmented FSDD copies and the cache of generated spoken digits."""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io.wavfile
from neuro_core.datasets import CochleaConfig, SpikeData, audio_to_spikes, fsdd_spikes, gammatone_bank, speech
from neuro_core.datasets.speech import AudioAugment, cached_spoken_digits, front_end_config, front_end_key
from neuro_core.datasets.tts import TTSNotAvailableError
from neuro_core.errors import NeuroError

RATE = 8000


def tone(frequency: float, seconds: float = 0.3, rate: int = RATE) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * frequency * np.arange(int(seconds * rate)) / rate)


# ---- AudioAugment ----------------------------------------------------------------------------------
def test_audio_augment_is_deterministic_and_stays_in_range() -> None:
    augment = AudioAugment(speed=0.15, noise_probability=0.5)
    audio = tone(500.0)
    rates = []
    for seed in range(40):
        first, rate = augment(audio, RATE, [seed, 1, 2])
        again, rate_again = augment(audio, RATE, [seed, 1, 2])
        assert rate == rate_again and np.array_equal(first, again)
        assert RATE / 1.15 - 50 <= rate <= RATE * 1.15 + 50 and rate % 50 == 0
        rates.append(rate)
    assert min(rates) < RATE < max(rates)  # both slower and faster replays occur
    assert not np.array_equal(augment(audio, RATE, 0)[0], augment(audio, RATE, 1)[0]) or len(set(rates)) > 1


def test_faster_replay_moves_a_tone_to_higher_channels() -> None:
    config = CochleaConfig(n_channels=32)
    centres, _ = gammatone_bank(config)
    audio = tone(centres[12])
    _, plain_units = audio_to_spikes(audio, RATE, config)
    _, fast_units = audio_to_spikes(audio, round(RATE * 1.3), config)  # what a speed factor of 1.3 does
    _, slow_units = audio_to_spikes(audio, round(RATE / 1.3), config)
    plain, fast, slow = (np.bincount(u, minlength=32).argmax() for u in (plain_units, fast_units, slow_units))
    assert slow < plain < fast


def test_audio_augment_noise_only_when_asked() -> None:
    audio = tone(700.0)
    clean, _ = AudioAugment(speed=0.1)(audio, RATE, 3)
    assert np.array_equal(clean, audio)  # the speed change is in the rate, not the samples
    noisy, _ = AudioAugment(noise_probability=1.0, snr_db=(10.0, 10.0))(audio, RATE, 3)
    snr = 10 * np.log10(np.mean(audio**2) / np.mean((noisy - audio) ** 2))
    assert snr == pytest.approx(10.0, abs=0.5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"speed": 1.0}, "speed"),
        ({"speed": -0.1}, "speed"),
        ({"noise_probability": 1.5}, "noise_probability"),
        ({"snr_db": (30.0, 10.0)}, "snr_db"),
        ({"rate_step": 0}, "rate_step"),
    ],
)
def test_audio_augment_rejects_bad_ranges(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(NeuroError, match=f"AudioAugment.{field}"):
        AudioAugment(**kwargs)


# ---- FSDD copies -----------------------------------------------------------------------------------
def _recordings(folder: Path, speakers: tuple[str, ...] = ("ann", "bob")) -> None:
    centres, _ = gammatone_bank(CochleaConfig(n_channels=16))
    for speaker in speakers:
        for digit in range(3):
            audio = (tone(centres[3 + 4 * digit], 0.25) * 20000).astype(np.int16)
            scipy.io.wavfile.write(folder / f"{digit}_{speaker}_0.wav", RATE, audio)


def test_fsdd_copies_follow_the_originals_and_are_seeded(tmp_path: Path) -> None:
    _recordings(tmp_path)
    plain = fsdd_spikes(tmp_path, channels=32)
    augmented = fsdd_spikes(tmp_path, channels=32, augmentation=AudioAugment(speed=0.2), copies=2, seed=5)
    assert len(plain) == 6 and len(augmented) == 18 and augmented.n_channels == 32
    assert augmented.extra["copy"].tolist() == [0] * 6 + [1] * 6 + [2] * 6
    assert augmented.labels.tolist() == plain.labels.tolist() * 3
    assert augmented.speakers.tolist() == plain.speakers.tolist() * 3
    originals = augmented.subset(np.arange(6))
    assert np.array_equal(originals.times, plain.times) and np.array_equal(originals.units, plain.units)
    copies = augmented.subset(np.arange(6, 18))
    assert not np.array_equal(copies.units, np.concatenate([plain.units, plain.units]))
    again = fsdd_spikes(tmp_path, channels=32, augmentation=AudioAugment(speed=0.2), copies=2, seed=5)
    assert np.array_equal(again.times, augmented.times) and np.array_equal(again.units, augmented.units)
    assert augmented.meta["augmentation"]["copies"] == 2 and augmented.meta["augmentation"]["seed"] == 5


def test_fsdd_copies_need_an_augmentation(tmp_path: Path) -> None:
    _recordings(tmp_path)
    with pytest.raises(NeuroError, match="needs an augmentation"):
        fsdd_spikes(tmp_path, copies=1)
    with pytest.raises(NeuroError, match="copies must be an integer >= 0"):
        fsdd_spikes(tmp_path, augmentation=AudioAugment(speed=0.1), copies=-1)


def test_front_end_config_widths() -> None:
    assert front_end_config(700) == speech.SHIPPED[700] and front_end_config(16) == speech.SHIPPED[16]
    assert front_end_config(64).n_channels == 64
    with pytest.raises(NeuroError, match="channels must be an integer >= 1"):
        front_end_config(0)


# ---- cache of generated digits ---------------------------------------------------------------------
class FakeGenerator:
    """Stands in for espeak-ng: a small SpikeData per requested width, and a log of the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, ...]] = []
        self.version = "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data"

    def __call__(
        self,
        n_train: int,
        n_test: int,
        repeats: int,
        seed: int,
        configs: dict[int, Any],
        variation: object = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[int, SpikeData]:
        self.calls.append(tuple(sorted(configs)))
        out = {}
        for width in configs:
            events = [(np.array([0.001 * (k + 1)]), np.array([k % width])) for k in range(4)]
            out[width] = SpikeData.from_events(
                events, [0, 1, 2, 3], speech.DIGITS, width, speakers=[0, 0, 1, 1], duration=0.8,
                extra={"is_test": np.array([False, False, True, True])},
                meta={"time_resolution": 1e-3, "seed": seed, "espeak_ng_version": self.version},
            )  # fmt: skip
        return out


@pytest.fixture
def fake_generator(monkeypatch: pytest.MonkeyPatch) -> FakeGenerator:
    fake = FakeGenerator()
    monkeypatch.setattr(speech, "generate_spoken_digits", fake)
    monkeypatch.setattr(speech, "espeak_version", lambda: fake.version)  # the installed espeak-ng
    return fake


def test_cache_generates_missing_widths_once_then_reads(tmp_path: Path, fake_generator: FakeGenerator) -> None:
    first = cached_spoken_digits(tmp_path, (700, 32), 4, 2, 1, seed=0)
    assert fake_generator.calls == [(32, 700)]  # one pass for both widths
    assert sorted(first) == [32, 700] and first[32].n_channels == 32
    assert len(list(tmp_path.glob("spoken_digits_*ch_4+2v_1r_seed0.neuro"))) == 2
    again = cached_spoken_digits(tmp_path, (32, 700, 64), 4, 2, 1, seed=0)
    assert fake_generator.calls == [(32, 700), (64,)]  # only the new width is generated
    assert np.array_equal(again[700].units, first[700].units)
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=1)  # another seed is another file
    assert fake_generator.calls[-1] == (32,) and len(fake_generator.calls) == 3


@pytest.mark.skipif(sys.platform == "win32", reason="the cache lock is POSIX-only (fcntl)")
def test_cache_waits_for_another_process_generating_the_same_set(tmp_path: Path, fake_generator: FakeGenerator) -> None:
    made = cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)[32]  # what the other process will write
    path = next(tmp_path.glob("spoken_digits_32ch_*.neuro"))
    stored = path.read_bytes()
    path.unlink()
    results: dict[int, SpikeData] = {}
    with speech._exclusive_lock(tmp_path / ".generating.lock"):  # the other process is generating
        waiting = threading.Thread(target=lambda: results.update(cached_spoken_digits(tmp_path, (32,), 4, 2, 1)))
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive()  # blocked on the lock, not generating a second copy
        path.write_bytes(stored)  # the other process's file lands, then it releases the lock
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert len(fake_generator.calls) == 1  # the waiting caller read the file instead of generating
    assert np.array_equal(results[32].units, made.units)


def test_cache_regenerates_a_corrupt_or_stale_file(tmp_path: Path, fake_generator: FakeGenerator) -> None:
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)
    path = next(tmp_path.glob("spoken_digits_32ch_*.neuro"))
    path.write_bytes(path.read_bytes()[:100])  # truncated
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)
    assert len(fake_generator.calls) == 2
    stale = SpikeData.load(path)
    stale = SpikeData.from_events(
        [stale.sample(i) for i in range(len(stale))], stale.labels, stale.classes, 32, speakers=stale.speakers,
        duration=0.8, extra=stale.extra, meta={**stale.meta, "cache_key": {"front_end": "another"}},
    )  # fmt: skip
    stale.save(path)
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)
    assert len(fake_generator.calls) == 3


def test_cache_regenerates_a_file_of_an_older_generator_revision(
    tmp_path: Path, fake_generator: FakeGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)
    assert next(tmp_path.glob("*.neuro")) and len(fake_generator.calls) == 1
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)
    assert len(fake_generator.calls) == 1  # same revision: read back
    monkeypatch.setattr(speech, "GENERATOR_REVISION", speech.GENERATOR_REVISION + 1)
    again = cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)[32]
    assert len(fake_generator.calls) == 2 and again.meta["cache_key"]["revision"] == speech.GENERATOR_REVISION


def test_cache_keeps_front_end_variants_apart(tmp_path: Path, fake_generator: FakeGenerator) -> None:
    default = cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)[32]
    # a neutral later option leaves the key (hence files written before the option existed) unchanged
    assert "channel_normalisation" not in default.meta["cache_key"]["front_end"]
    assert front_end_key(front_end_config(32)) == {
        k: v for k, v in dataclasses.asdict(front_end_config(32)).items() if k != "channel_normalisation"
    }
    equalised = CochleaConfig(n_channels=32, channel_normalisation=0.5)
    variant = cached_spoken_digits(tmp_path, (32, 700), 4, 2, 1, seed=0, configs={32: equalised})
    assert fake_generator.calls == [(32,), (32, 700)]  # the variant is generated, not read from the default file
    assert variant[32].meta["cache_key"]["front_end"]["channel_normalisation"] == 0.5
    names = sorted(p.name for p in tmp_path.glob("spoken_digits_32ch_*.neuro"))
    assert len(names) == 2 and names[0] == "spoken_digits_32ch_4+2v_1r_seed0.neuro" and "_fe" in names[1]
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)  # both files are still valid: nothing regenerated
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0, configs={32: equalised})
    assert len(fake_generator.calls) == 2
    with pytest.raises(NeuroError, match=r"configs\[32\] has n_channels=16, expected 32"):
        cached_spoken_digits(tmp_path, (32,), 4, 2, 1, configs={32: CochleaConfig(n_channels=16)})


def test_cache_regenerates_a_file_another_espeak_release_spoke(
    tmp_path: Path, fake_generator: FakeGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)
    # the same release installed elsewhere (the espeakng-loader wheel's data folder) speaks the same audio
    installed = "eSpeak NG text-to-speech: 1.51  Data at: /site-packages/espeakng_loader/espeak-ng-data"
    monkeypatch.setattr(speech, "espeak_version", lambda: installed)
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)
    assert len(fake_generator.calls) == 1
    installed = "eSpeak NG text-to-speech: 1.52.0  Data at: /site-packages/espeakng_loader/espeak-ng-data"
    fake_generator.version = installed
    again = cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)[32]
    assert len(fake_generator.calls) == 2 and "1.52.0" in again.meta["espeak_ng_version"]
    assert "1.52.0" in SpikeData.load(next(tmp_path.glob("spoken_digits_32ch_*.neuro"))).meta["espeak_ng_version"]

    def no_espeak() -> str:
        raise TTSNotAvailableError("not installed")

    monkeypatch.setattr(speech, "espeak_version", no_espeak)  # nothing to regenerate with: the file is used
    fake_generator.version = "eSpeak NG text-to-speech: 1.51"
    cached_spoken_digits(tmp_path, (32,), 4, 2, 1, seed=0)
    assert len(fake_generator.calls) == 2


def test_cache_without_espeak_raises_the_install_hint(tmp_path: Path, no_tts: None) -> None:
    with pytest.raises(TTSNotAvailableError, match="apt-get install espeak-ng"):
        cached_spoken_digits(tmp_path, (32,), 2, 1, 1)

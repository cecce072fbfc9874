"""neuro_core.datasets speech: cochlear front end, shipped synthetic sets, KWS metrics, FSDD loader."""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.io.wavfile
import scipy.signal
from neuro_core.datasets import (
    DIGITS,
    CochleaConfig,
    audio_to_spikes,
    channel_profile,
    cochleagram,
    encode_spikes,
    equalise_channels,
    equalising_gain,
    erb_space,
    fsdd_channel_profiles,
    fsdd_spikes,
    gammatone_bank,
    generate_spoken_digits,
    kws_metrics,
    load_fsdd,
    load_keyword_spotting,
    load_spoken_digits,
    voices,
)
from neuro_core.datasets.speech import GENERATOR_REVISION
from neuro_core.datasets.spikedata import SpikeData
from neuro_core.datasets.tts import TTSNotAvailableError, espeak_command
from neuro_core.errors import NeuroError

RATE = 8000


def tone(frequency: float, seconds: float = 0.3, rate: int = RATE, amplitude: float = 0.5) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * frequency * np.arange(int(seconds * rate)) / rate)


# ---- front end -------------------------------------------------------------------------------------
def test_erb_space_is_ascending_and_spans_the_band() -> None:
    centres = erb_space(100.0, 3800.0, 16)
    assert centres[0] == pytest.approx(100.0) and centres[-1] == pytest.approx(3800.0)
    assert np.all(np.diff(centres) > 0)
    ratios = np.diff(centres)[1:] / np.diff(centres)[:-1]
    assert np.all(ratios > 1)  # ERB spacing: wider steps at high frequencies


@pytest.mark.parametrize("channels", [16, 64])
def test_a_pure_tone_excites_the_channel_tuned_to_it_most(channels: int) -> None:
    config = CochleaConfig(n_channels=channels)
    centres, _ = gammatone_bank(config)
    for index in (2, channels // 2, channels - 3):
        envelope = cochleagram(tone(centres[index]), RATE, config)
        assert envelope.shape == (300, channels) and envelope.dtype == np.float32
        assert abs(int(envelope[50:].mean(axis=0).argmax()) - index) <= (0 if channels == 16 else 1)


def test_spikes_follow_the_tone_and_silence_stays_silent() -> None:
    config = CochleaConfig(n_channels=16)
    centres, _ = gammatone_bank(config)
    signal = np.concatenate([np.zeros(800), tone(centres[9], 0.2), np.zeros(800)])  # 100 ms silence each side
    times, units = audio_to_spikes(signal, RATE, config)
    assert np.all(np.diff(times) >= 0) and times.dtype == np.float64
    counts = np.bincount(units, minlength=16)
    assert counts.argmax() == 9 and counts[9] > 20
    assert np.all((times >= 0.1) & (times < 0.32))  # nothing during the silences (filter ring-down < 20 ms)
    again = audio_to_spikes(signal, RATE, config)
    np.testing.assert_array_equal(again[0], times)


def test_background_tracker_suppresses_steady_noise() -> None:
    config = CochleaConfig(n_channels=16)
    centres, _ = gammatone_bank(config)
    signal = np.concatenate([np.zeros(4000), tone(centres[9])])  # 0.5 s of noise alone, then a tone
    noise = np.random.default_rng(0).standard_normal(len(signal))
    noisy = signal + noise * np.sqrt(0.125 / 10 / np.mean(noise**2))  # 10 dB below the tone
    adapted = encode_spikes(cochleagram(noisy, RATE, config), config)
    plain_config = dataclasses.replace(config, noise_tau=0.0)
    plain = encode_spikes(cochleagram(noisy, RATE, plain_config), plain_config)
    assert adapted[100:500].sum() < 0.5 * plain[100:500].sum()  # noise-only stretch
    assert adapted[500:].sum(axis=0).argmax() == 9  # the tone still wins


def test_level_does_not_matter_and_resampling_works() -> None:
    config = CochleaConfig(n_channels=16)
    quiet, loud = cochleagram(tone(700, amplitude=0.01), RATE, config), cochleagram(tone(700), RATE, config)
    np.testing.assert_allclose(quiet, loud, rtol=1e-4, atol=1e-5)
    fast = cochleagram(tone(700, rate=22050), 22050, config)
    assert fast.shape == (300, 16) and fast.mean(axis=0).argmax() == loud.mean(axis=0).argmax()


def test_channel_normalisation_removes_a_fixed_microphone_filter() -> None:
    rng = np.random.default_rng(0)
    # noise bursts of random loudness (speech-like, broadband), and the same through a strongly tilted
    # recording chain (pre-emphasis y[n] = x[n] - 0.95 x[n-1]: about -26 dB at 100 Hz, +6 dB at 3.8 kHz)
    bursts = rng.standard_normal(4800) * np.repeat(rng.uniform(0, 1, 12), 400)
    tilted = scipy.signal.lfilter([1.0, -0.95], [1.0], bursts)

    def channel_profile_mismatch(strength: float) -> float:
        config = CochleaConfig(n_channels=16, channel_normalisation=strength)
        clean, filtered = cochleagram(bursts, RATE, config), cochleagram(tilted, RATE, config)
        return float(np.abs(np.log(clean.mean(axis=0) / filtered.mean(axis=0))).max())

    assert channel_profile_mismatch(0.0) > 0.6
    assert channel_profile_mismatch(0.5) < 0.7 * channel_profile_mismatch(0.0)
    assert channel_profile_mismatch(1.0) < 0.3


def test_channel_normalisation_is_off_by_default_and_bounded() -> None:
    assert CochleaConfig().channel_normalisation == 0.0
    envelope = np.array([[1.0, 2.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 2.0]])  # (C=3, T=4)
    np.testing.assert_array_equal(equalise_channels(envelope, 0.0), envelope)
    full = equalise_channels(envelope, 1.0, loud_percentile=50.0)  # loudest 2 of 4 steps: 1 and 2
    # channel means over the loud steps 2.5, 0, 2 -> overall 1.5; the silent channel's gain is capped
    np.testing.assert_allclose(full[0], envelope[0] * 1.5 / 2.5)
    np.testing.assert_allclose(full[2], envelope[2] * 1.5 / 2.0)
    np.testing.assert_array_equal(full[1], 0.0)
    np.testing.assert_array_equal(equalise_channels(np.zeros((3, 4)), 1.0), 0.0)  # silence stays silence
    with pytest.raises(ValueError, match=r"channel_normalisation must be in \[0, 1\], got 1.5"):
        CochleaConfig(channel_normalisation=1.5)


def test_front_end_rejects_bad_input() -> None:
    config = CochleaConfig(n_channels=16)
    with pytest.raises(NeuroError, match="1-D"):
        cochleagram(np.zeros((2, 100)), RATE, config)
    with pytest.raises(NeuroError, match="NaN"):
        cochleagram(np.full(100, np.nan), RATE, config)
    with pytest.raises(ValueError, match="f_max"):
        CochleaConfig(f_max=5000.0)  # above the 4 kHz Nyquist frequency of 8 kHz audio
    with pytest.raises(ValueError, match="n_channels"):
        CochleaConfig(n_channels=0)


# ---- shipped synthetic sets ------------------------------------------------------------------------
@pytest.fixture
def no_espeak(no_tts: None) -> None:
    """Hide espeak-ng: the shipped sets must load without any TTS installed."""
    with pytest.raises(TTSNotAvailableError, match="apt-get install espeak-ng"):
        espeak_command()


def test_shipped_digits_load_without_tts_and_split_by_voice(no_espeak: None) -> None:
    train, test = load_spoken_digits(16, "train"), load_spoken_digits(16, "test")
    assert train.n_channels == 16 and train.classes == DIGITS and train.duration == pytest.approx(0.8)
    assert len(train) >= 1500 and len(test) >= 400
    assert set(np.unique(train.labels)) == set(range(10)) == set(np.unique(test.labels))
    train_voices = {train.speaker_names[s] for s in np.unique(train.speakers)}
    test_voices = {test.speaker_names[s] for s in np.unique(test.speakers)}
    assert not train_voices & test_voices
    # Stronger: test voices use espeak-ng variants that never occur in training.
    assert not {v.split("+")[1] for v in train_voices} & {v.split("+")[1] for v in test_voices}
    x, _y = next(train.batches(8, dt=0.01, seed=0))
    assert tuple(x.shape) == (8, 80, 16) and x.max() <= 10  # at most one spike per 1 ms step


@pytest.mark.parametrize(
    ("load", "channels"), [(load_spoken_digits, 16), (load_spoken_digits, 700), (load_keyword_spotting, 16)]
)
def test_shipped_sets_are_of_the_current_generator_revision(
    no_espeak: None, load: Callable[[int], SpikeData], channels: int
) -> None:
    data = load(channels)
    assert data.meta["generator_revision"] == GENERATOR_REVISION  # regenerate: core/tools/make_spoken_digits.py


def test_shipped_700_channel_digits_are_the_same_utterances(no_espeak: None) -> None:
    wide, narrow = load_spoken_digits(700, "all"), load_spoken_digits(16, "all")
    assert wide.n_channels == 700 and wide.units.max() < 700 and len(wide) >= 2000
    assert len(wide.times) / len(wide) > 500
    # The 700-channel file keeps a subset of the voices; their utterances are those of the 16-channel file.
    voices_kept = np.isin(narrow.speakers, np.unique(wide.speakers))
    np.testing.assert_array_equal(wide.labels, narrow.labels[voices_kept])
    np.testing.assert_array_equal(wide.extra["speed"], narrow.extra["speed"][voices_kept])
    assert wide.extra["is_test"].any() and not wide.extra["is_test"].all()


def test_keyword_spotting_set(no_espeak: None) -> None:
    train, test = load_keyword_spotting(16, "train"), load_keyword_spotting(16, "test")
    assert train.classes == ("other", "aloha")
    assert 0.3 < train.labels.mean() < 0.6
    words = train.meta["words"]
    assert {"aloha", "hello", "<noise>"} <= set(words)
    assert not {train.speaker_names[s] for s in train.speakers} & {test.speaker_names[s] for s in test.speakers}
    with pytest.raises(NeuroError, match="16 channels"):
        load_keyword_spotting(700)


def test_loaders_reject_bad_arguments() -> None:
    with pytest.raises(NeuroError, match="channels must be one of"):
        load_spoken_digits(32)
    with pytest.raises(NeuroError, match="split must be"):
        load_spoken_digits(16, "validation")


def test_kws_metrics() -> None:
    target = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    pred = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 1])
    metrics = kws_metrics(pred, target)
    assert metrics == {"accuracy": pytest.approx(0.7), "miss_rate": 0.25, "false_alarm_rate": pytest.approx(2 / 6)}
    assert np.isnan(kws_metrics([0, 0], [0, 0])["miss_rate"])
    with pytest.raises(NeuroError, match="entries"):
        kws_metrics([1, 0], [1])


def test_voices_hold_out_variants() -> None:
    chosen = voices(20, 6, seed=4)
    train = {(a, v) for a, v, is_test in chosen if not is_test}
    test = {(a, v) for a, v, is_test in chosen if is_test}
    assert len(train) == 20 and len(test) == 6
    assert not {v for _, v in train} & {v for _, v in test}
    assert voices(20, 6, seed=4) == chosen


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None and importlib.util.find_spec("espeakng_loader") is None,
    reason="needs the espeak-ng command or the espeakng-loader wheel (neuro-core[tts])",
)
def test_generator_is_deterministic_for_a_seed() -> None:
    config = {16: CochleaConfig(n_channels=16)}
    first = generate_spoken_digits(1, 1, repeats=1, seed=7, configs=config)[16].subset([0, 3, 15])
    second = generate_spoken_digits(1, 1, repeats=1, seed=7, configs=config)[16].subset([0, 3, 15])
    np.testing.assert_array_equal(first.dense(1e-3), second.dense(1e-3))
    assert first.labels.tolist() == [0, 3, 5] and first.extra["is_test"].tolist() == [False, False, True]
    assert first.meta["espeak_ng_version"].startswith("eSpeak NG text-to-speech: ")  # which release spoke it
    assert first.meta["generator_revision"] == GENERATOR_REVISION


# ---- FSDD ------------------------------------------------------------------------------------------
def test_fsdd_loader_holds_out_one_speaker(tmp_path: Path) -> None:
    centres, _ = gammatone_bank(CochleaConfig(n_channels=16))
    for speaker in ("ann", "bob", "cid"):
        for digit in range(3):
            for index in range(2):
                audio = (tone(centres[3 + 4 * digit], 0.25) * 20000).astype(np.int16)
                scipy.io.wavfile.write(tmp_path / f"{digit}_{speaker}_{index}.wav", RATE, audio)
    train, test = load_fsdd(tmp_path, channels=16, held_out_speaker="bob")
    assert len(train) == 12 and len(test) == 6
    assert {test.speaker_names[s] for s in test.speakers} == {"bob"}
    assert "bob" not in {train.speaker_names[s] for s in train.speakers}
    counts = test.dense(1e-3).sum(axis=1)
    for label, row in zip(test.labels, counts, strict=True):
        assert row.argmax() == 3 + 4 * label  # each "digit" is a tone on its own channel
    with pytest.raises(NeuroError, match="held_out_speaker 'zed'"):
        load_fsdd(tmp_path, held_out_speaker="zed")


def test_fsdd_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(NeuroError, match="does not exist"):
        load_fsdd(tmp_path / "missing")
    with pytest.raises(NeuroError, match="holds no"):
        load_fsdd(tmp_path)


def test_fsdd_limit_keeps_every_digit(tmp_path: Path) -> None:
    for digit in range(4):
        for index in range(3):
            audio = (tone(300 + 200 * digit, 0.1) * 20000).astype(np.int16)
            scipy.io.wavfile.write(tmp_path / f"{digit}_ann_{index}.wav", RATE, audio)
    data = fsdd_spikes(tmp_path, channels=16, limit_per_speaker=4)
    assert sorted(data.labels.tolist()) == [0, 1, 2, 3] and data.speaker_names == ("ann",)


# ---- speaker normalisation --------------------------------------------------------------------------
def _two_microphones(folder: Path, n_words: int = 2) -> None:
    """Speakers ann and bob say the same broadband "words" (noise bursts, each digit its own band);
    bob's recording chain is a strong pre-emphasis (about -26 dB at 100 Hz, +6 dB at 3.8 kHz)."""
    rng = np.random.default_rng(0)
    for digit in range(3):
        for index in range(n_words):
            bursts = rng.standard_normal(4000) * np.repeat(rng.uniform(0.2, 1, 10), 400)
            word = scipy.signal.lfilter(
                *scipy.signal.butter(2, [300 + 900 * digit, 900 + 900 * digit], "bandpass", fs=RATE), bursts
            )
            word = word + 0.3 * bursts  # broadband too, so every channel has a level to measure
            for speaker, audio in (("ann", word), ("bob", scipy.signal.lfilter([1.0, -0.95], [1.0], word))):
                scipy.io.wavfile.write(
                    folder / f"{digit}_{speaker}_{index}.wav",
                    RATE,
                    (audio / np.abs(audio).max() * 20000).astype(np.int16),
                )


def test_speaker_normalisation_cancels_a_microphone_and_keeps_the_words(tmp_path: Path) -> None:
    _two_microphones(tmp_path)
    profiles = fsdd_channel_profiles(tmp_path, channels=16)
    assert set(profiles) == {"ann", "bob"} and profiles["ann"].shape == (16,)
    mismatch = np.abs(np.log(profiles["bob"] / profiles["ann"]))
    assert mismatch.max() > 0.5  # the pre-emphasis is plain in the long-term profile

    gain = equalising_gain(profiles["bob"], profiles["ann"], 1.0)
    config = CochleaConfig(n_channels=16)

    def word_profiles(speaker: str, channel_gain: np.ndarray | None = None) -> np.ndarray:
        words = [scipy.io.wavfile.read(tmp_path / f"{digit}_{speaker}_0.wav") for digit in range(3)]
        return np.log([cochleagram(a.astype(float), r, config, channel_gain).mean(axis=0) + 1e-3 for r, a in words])

    ann, plain, normalised = word_profiles("ann"), word_profiles("bob"), word_profiles("bob", gain)
    # bob's words, normalised with his speaker-level gains, have ann's spectra ...
    assert np.abs(normalised - ann).max(axis=1).max() < 0.5 * np.abs(plain - ann).max(axis=1).min()
    # ... and stay apart: each is nearest to ann's same word
    distance = np.abs(normalised[:, None, :] - ann[None, :, :]).mean(axis=2)
    assert distance.argmin(axis=1).tolist() == [0, 1, 2]

    spikes = fsdd_spikes(tmp_path, channels=16, channel_gain={"bob": gain})
    plain = fsdd_spikes(tmp_path, channels=16)
    ann, bob = (spikes.speakers == spikes.speaker_names.index(name) for name in ("ann", "bob"))
    counts, plain_counts = spikes.dense(1e-3).sum(axis=1).astype(float), plain.dense(1e-3).sum(axis=1).astype(float)
    np.testing.assert_array_equal(counts[ann], plain_counts[ann])  # ann has no gain: untouched
    assert np.abs(counts[bob] - counts[ann]).sum() < 0.6 * np.abs(plain_counts[bob] - plain_counts[ann]).sum()
    assert spikes.meta["channel_gain"] == {"bob": gain.tolist()}


def test_equalising_gain_strength_cap_and_silence() -> None:
    profile = np.array([1.0, 2.0, 0.0])
    np.testing.assert_array_equal(equalising_gain(profile, 1.0, 0.0), 1.0)
    np.testing.assert_allclose(equalising_gain(profile, np.array([2.0, 2.0, 2.0]), 1.0), [2.0, 1.0, 10.0])  # capped
    np.testing.assert_allclose(equalising_gain(profile, np.array([4.0, 1.0, 1.0]), 0.5), [2.0, 0.5**0.5, 10**0.5])
    np.testing.assert_array_equal(equalising_gain(np.zeros(3), 1.0, 1.0), 1.0)  # a silent speaker: no gain
    envelope = np.array([[1.0, 3.0], [2.0, 2.0]])  # (C, T): loudest 50 % = step 1
    np.testing.assert_array_equal(channel_profile(envelope, 50.0), [3.0, 2.0])


def test_speaker_enrolment_draws_unlabelled_words_reproducibly(tmp_path: Path) -> None:
    _two_microphones(tmp_path, n_words=3)  # 9 recordings per speaker
    every = fsdd_channel_profiles(tmp_path, channels=16)
    np.testing.assert_allclose(fsdd_channel_profiles(tmp_path, channels=16, enrolment=9)["bob"], every["bob"])
    few = fsdd_channel_profiles(tmp_path, channels=16, enrolment=2, seed=3)
    np.testing.assert_array_equal(few["bob"], fsdd_channel_profiles(tmp_path, channels=16, enrolment=2, seed=3)["bob"])
    assert not np.allclose(few["bob"], every["bob"])
    with pytest.raises(NeuroError, match="enrolment 10 exceeds speaker 'ann'"):
        fsdd_channel_profiles(tmp_path, channels=16, enrolment=10)
    with pytest.raises(NeuroError, match="enrolment must be an integer >= 1"):
        fsdd_channel_profiles(tmp_path, channels=16, enrolment=0)


def test_channel_gains_are_checked(tmp_path: Path) -> None:
    _two_microphones(tmp_path, n_words=1)
    with pytest.raises(NeuroError, match=r"channel_gain names speakers \['zed'\]"):
        fsdd_spikes(tmp_path, channels=16, channel_gain={"zed": np.ones(16)})
    with pytest.raises(NeuroError, match=r"channel_gain must be 16 finite gains >= 0 .* shape \(8,\)"):
        fsdd_spikes(tmp_path, channels=16, channel_gain={"bob": np.ones(8)})
    with pytest.raises(NeuroError, match="channel_gain must be 16 finite gains"):
        cochleagram(tone(500.0, 0.1), RATE, CochleaConfig(n_channels=16), np.full(16, -1.0))

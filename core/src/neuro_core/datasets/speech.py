"""Spoken-word spike sets: synthetic spoken digits, a keyword-spotting set, and FSDD real speech.

Synthetic speech comes from espeak-ng run as a separate process (see :mod:`.tts`), varied by voice
(accent x voice variant), speaking rate, pitch, onset jitter and additive noise, then goes through
the cochlear front end (:mod:`.cochlea`). A small pre-generated release ships inside the package
(``datasets/data/``), so the loaders work with no TTS installed; ``core/tools/make_spoken_digits.py``
regenerates it.

Train/test splits are by voice: a *voice* is an (accent, variant) pair, and the test voices use
variants that never occur in training, so test voices are unseen.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError, NeuroError
from .cochlea import CochleaConfig, audio_to_spikes, channel_profile, cochleagram
from .spikedata import SpikeData
from .tts import ENGLISH_ACCENTS, TTSNotAvailableError, espeak_release, espeak_version, synthesize

__all__ = [
    "DIGITS",
    "GENERATOR_REVISION",
    "KEYWORD",
    "KWS_CONFUSERS",
    "SHIPPED",
    "AudioAugment",
    "SpeechVariation",
    "cached_spoken_digits",
    "default_data_root",
    "front_end",
    "front_end_config",
    "front_end_key",
    "fsdd_channel_profiles",
    "fsdd_spikes",
    "generate_keyword_spotting",
    "generate_spoken_digits",
    "kws_metrics",
    "load_fsdd",
    "load_keyword_spotting",
    "load_spoken_digits",
    "spoken_word_set",
    "voices",
]

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
KEYWORD = "aloha"
#: Words that sound like the wake word: the hard negatives of the keyword-spotting set.
KWS_CONFUSERS = (
    "hello",
    "allow",
    "aloe",
    "halo",
    "hola",
    "alpha",
    "aha",
    "hollow",
    "yellow",
    "below",
    "a lot",
    "lower",
)
NOISE_WORD = "<noise>"

#: Human-sounding espeak-ng voice variants (robotic, whispered and joke variants left out).
VARIANTS = (
    "Alex", "Alicia", "Andrea", "Andy", "Annie", "Denis", "Diogo", "Gene", "Gene2", "Henrique", "Hugo",
    "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen", "Storm", "Tweaky", "adam", "anika",
    "announcer", "antonio", "aunty", "belinda", "benjamin", "boris", "caleb", "david", "ed", "edward",
    "edward2", "f1", "f2", "f3", "f4", "f5", "grandma", "grandpa", "gustave", "iven", "iven2", "iven3",
    "iven4", "john", "kaukovalta", "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6", "linda", "m1",
    "m2", "m3", "m4", "m5", "m6", "m7", "m8", "marcelo", "max", "michel", "miguel", "norbert", "pablo",
    "paul", "pedro", "quincy", "rob", "robert", "sandro", "shelby", "steph", "steph2", "steph3", "travis",
    "victor", "zac",
)  # fmt: skip

#: Front ends of the shipped releases: the Xylo input width and the SHD width. The 700-channel
#: encoder fires less per channel (many overlapping channels carry the same information), which keeps
#: the population rate and the shipped file small, as in SHD.
SHIPPED: dict[int, CochleaConfig] = {
    16: CochleaConfig(n_channels=16),
    700: CochleaConfig(n_channels=700, max_rate=60.0, tau=0.05),
}
_DATA = Path(__file__).resolve().parent / "data"
#: Revision of the generator's output for the same espeak-ng release and seed; recorded in every set
#: (``meta["generator_revision"]``) and in the cache key, so a cached set of an older one is regenerated.
#: 1: first release. 2: en-gb voices keep their variant (``synthesize`` names the voice by its file;
#: under revision 1 all en-gb voices spoke with the default vocal tract).
GENERATOR_REVISION = 2


def front_end_config(channels: int) -> CochleaConfig:
    """The front end for ``channels`` channels: the shipped one for 16 and 700, else the defaults at that width."""
    if not isinstance(channels, int | np.integer) or channels < 1:
        raise NeuroError(f"channels must be an integer >= 1, got {channels!r}")
    return SHIPPED.get(int(channels), CochleaConfig(n_channels=int(channels)))


@dataclass(frozen=True)
class SpeechVariation:
    """Per-utterance random variation of the synthetic sets.

    Attributes:
        speed: espeak-ng speaking rate range, words per minute (uniform).
        pitch: espeak-ng base pitch range 0..99 (uniform).
        snr_db: signal-to-noise ratio range of the added noise, dB (uniform over the range).
        noise_probability: share of utterances that get noise at all.
        max_onset: the word starts at a uniform random time in [0, max_onset] seconds.
        duration: every sample is cut or padded to this many seconds.
    """

    speed: tuple[int, int] = (120, 220)
    pitch: tuple[int, int] = (25, 75)
    snr_db: tuple[float, float] = (10.0, 30.0)
    noise_probability: float = 0.5
    max_onset: float = 0.1
    duration: float = 0.8


def voices(
    n_train: int, n_test: int, seed: int = 0, test_variant_fraction: float = 0.25
) -> list[tuple[str, str, bool]]:
    """Pick voices as ``(accent, variant, is_test)``; test variants never occur in training.

    The variants are split once by ``seed`` into a test pool (``test_variant_fraction``) and a
    train pool; each voice is a distinct (accent, variant) pair drawn from its pool.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(VARIANTS))
    n_test_variants = max(1, round(len(VARIANTS) * test_variant_fraction))
    pools = {
        True: [VARIANTS[i] for i in order[:n_test_variants]],
        False: [VARIANTS[i] for i in order[n_test_variants:]],
    }
    chosen: list[tuple[str, str, bool]] = []
    for is_test, count in ((False, n_train), (True, n_test)):
        pairs = [(accent, variant) for variant in pools[is_test] for accent in ENGLISH_ACCENTS]
        if count > len(pairs):
            raise NeuroError(f"asked for {count} {'test' if is_test else 'train'} voices, only {len(pairs)} exist")
        pairs = [pairs[i] for i in rng.permutation(len(pairs))]
        # Spread voices over variants first (distinct vocal tracts), then over accents: sort by how
        # often the pair's variant has already occurred.
        occurrence: dict[str, int] = {}
        rank = []
        for _, variant in pairs:
            rank.append(occurrence.get(variant, 0))
            occurrence[variant] = rank[-1] + 1
        chosen += [(*pairs[i], is_test) for i in np.argsort(rank, kind="stable")[:count]]
    return chosen


def _place(audio: np.ndarray, rate: int, onset: float, duration: float) -> np.ndarray:
    """Trim leading/trailing silence, then put the word at ``onset`` s in a ``duration`` s window."""
    frame = max(1, rate // 100)
    energy = np.array([np.mean(audio[i : i + frame] ** 2) for i in range(0, len(audio), frame)])
    voiced = np.nonzero(energy > energy.max() * 1e-3)[0] if energy.size and energy.max() > 0 else np.array([0])
    word = audio[voiced[0] * frame : (voiced[-1] + 1) * frame]
    out = np.zeros(round(duration * rate))
    start = round(onset * rate)
    length = min(len(word), len(out) - start)
    out[start : start + length] = word[:length]
    return out


def _noisy(clean: np.ndarray, rng: np.random.Generator, variation: SpeechVariation) -> tuple[np.ndarray, float]:
    """``clean`` plus white or pink-ish Gaussian noise at a random SNR; returns (audio, snr dB or inf).

    A silent ``clean`` (noise-only sample) always gets unit-power noise.
    """
    speech = clean[np.abs(clean) > 0]
    if speech.size and rng.random() >= variation.noise_probability:
        return clean, float("inf")
    power = np.mean(speech**2) if speech.size else 1.0
    snr = rng.uniform(*variation.snr_db) if speech.size else 0.0
    noise = rng.standard_normal(len(clean))
    if rng.random() < 0.5:  # pink-ish (1/f) noise half of the time: cumulative sum, high-passed
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(64) / 64, mode="same")
    noise *= np.sqrt(power / 10 ** (snr / 10) / np.mean(noise**2))
    return clean + noise, snr


@dataclass(frozen=True)
class AudioAugment:
    """Seeded waveform-level augmentation of recordings, applied before the front end.

    Attributes:
        speed: largest relative speed change (speed perturbation, Ko et al. 2015): the waveform is
            replayed ``factor`` times faster, ``factor = exp(u)`` with ``u`` uniform in
            ``[-log(1 + speed), log(1 + speed)]``, so every frequency (pitch and formants: the
            vocal-tract length) scales by ``factor`` and the duration by ``1 / factor``. The new
            rate is rounded to whole ``rate_step`` Hz so resampling stays a short polyphase filter.
        noise_probability: share of recordings that get additive noise (white or pink-ish, as the
            synthetic sets, see :class:`SpeechVariation`).
        snr_db: signal-to-noise ratio range of that noise, dB (uniform).
        rate_step: granularity of the replay rate, Hz (> 0).
    """

    speed: float = 0.0
    noise_probability: float = 0.0
    snr_db: tuple[float, float] = (10.0, 30.0)
    rate_step: int = 50

    def __post_init__(self) -> None:
        if not 0 <= self.speed < 1:
            raise NeuroError(f"AudioAugment.speed must be in [0, 1), got {self.speed!r}")
        if not 0 <= self.noise_probability <= 1:
            raise NeuroError(f"AudioAugment.noise_probability must be in [0, 1], got {self.noise_probability!r}")
        if len(self.snr_db) != 2 or self.snr_db[0] > self.snr_db[1]:
            raise NeuroError(f"AudioAugment.snr_db must be a (low, high) range in dB, got {self.snr_db!r}")
        if not isinstance(self.rate_step, int | np.integer) or self.rate_step < 1:
            raise NeuroError(f"AudioAugment.rate_step must be an integer >= 1 Hz, got {self.rate_step!r}")

    def __call__(self, audio: np.ndarray, rate: int, seed: int | Sequence[int]) -> tuple[np.ndarray, int]:
        """One random transform of ``audio`` (samples,) at ``rate`` Hz; returns ``(audio, new rate)``.

        The samples are unchanged by the speed change (only the rate they are played at), so a front
        end that resamples to its own rate sees the faster or slower, higher or lower voice.
        Deterministic for a seed (an int or a sequence such as ``[seed, copy, recording]``).
        """
        rng = np.random.default_rng(seed)
        log_speed = np.log1p(self.speed)
        factor = np.exp(rng.uniform(-log_speed, log_speed))
        new_rate = max(self.rate_step, round(rate * factor / self.rate_step) * self.rate_step)
        noise = SpeechVariation(snr_db=self.snr_db, noise_probability=self.noise_probability)
        noisy, _ = _noisy(np.asarray(audio, dtype=np.float64), rng, noise)
        return noisy, int(new_rate)


def front_end(
    configs: dict[int, CochleaConfig],
) -> Callable[[np.ndarray, float], dict[int, tuple[np.ndarray, np.ndarray]]]:
    """A function ``audio, rate -> {channels: (times, units)}`` running every config on one waveform."""

    def encode(audio: np.ndarray, rate: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        return {channels: audio_to_spikes(audio, rate, config) for channels, config in configs.items()}

    return encode


def spoken_word_set(
    words: Sequence[str],
    labels: Sequence[int],
    classes: Sequence[str],
    voice_list: Sequence[tuple[str, str, bool]],
    repeats: int,
    seed: int,
    configs: dict[int, CochleaConfig] | None = None,
    variation: SpeechVariation | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, SpikeData]:
    """Synthesise every word with every voice ``repeats`` times and encode it with every front end.

    Args:
        words: texts to speak (``NOISE_WORD`` gives a noise-only sample).
        labels: class index of each word.
        classes: class names.
        voice_list: from :func:`voices`.
        repeats: utterances per (voice, word), each with its own speed, pitch, onset and noise.
        seed: every draw of utterance ``k`` comes from ``default_rng([seed, k])``: deterministic and
            independent of how many utterances are made.
        configs: front ends by channel count (default: the shipped 16 and 700).
        variation: the random variation.
        progress: called with (done, total) after each utterance.

    Returns:
        One SpikeData per front end; ``extra`` holds ``word`` (index into ``meta["words"]``),
        ``is_test`` (voice in the test pool), ``speed``, ``pitch`` and ``snr_db`` (inf: no noise).
    """
    configs = configs or SHIPPED
    variation = variation or SpeechVariation()
    encode = front_end(configs)
    events: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {c: [] for c in configs}
    rows: dict[str, list[Any]] = {k: [] for k in ("label", "speaker", "word", "is_test", "speed", "pitch", "snr")}
    total = len(voice_list) * len(words) * repeats
    k = 0
    for speaker, (accent, variant, is_test) in enumerate(voice_list):
        for word_index, (word, label) in enumerate(zip(words, labels, strict=True)):
            for _ in range(repeats):
                rng = np.random.default_rng([seed, k])
                speed, pitch = int(rng.integers(*variation.speed, endpoint=True)), int(rng.integers(*variation.pitch))
                onset = rng.uniform(0, variation.max_onset)
                if word == NOISE_WORD:
                    rate = 22050
                    clean = np.zeros(round(variation.duration * rate))
                else:
                    audio, rate = synthesize(word, accent, variant, speed, pitch)
                    clean = _place(audio, rate, onset, variation.duration)
                noisy, snr = _noisy(clean, rng, variation)
                for channels, spikes in encode(noisy, rate).items():
                    events[channels].append(spikes)
                for key, value in zip(rows, (label, speaker, word_index, is_test, speed, pitch, snr), strict=True):
                    rows[key].append(value)
                k += 1
                if progress:
                    progress(k, total)
    # Noise-only sets never ran espeak-ng; the others record which release spoke them.
    version = espeak_version() if any(word != NOISE_WORD for word in words) else ""
    out = {}
    for channels, config in configs.items():
        out[channels] = SpikeData.from_events(
            events[channels],
            rows["label"],
            classes,
            channels,
            speakers=rows["speaker"],
            duration=variation.duration,
            speaker_names=tuple(f"{a}+{v}" for a, v, _ in voice_list),
            extra={
                "word": np.array(rows["word"], dtype=np.int16),
                "is_test": np.array(rows["is_test"], dtype=bool),
                "speed": np.array(rows["speed"], dtype=np.int16),
                "pitch": np.array(rows["pitch"], dtype=np.int16),
                "snr_db": np.array(rows["snr"], dtype=np.float32),
            },
            meta={
                "generator": "neuro_core.datasets.speech.spoken_word_set",
                "generator_revision": GENERATOR_REVISION,
                "tts": "espeak-ng (GPL-3.0), run as a separate process",
                **({"espeak_ng_version": version} if version else {}),
                "seed": seed,
                "words": list(words),
                "front_end": asdict(config),
                "variation": asdict(variation),
                "time_resolution": config.dt,
            },
        )
    return out


def generate_spoken_digits(
    n_train_voices: int = 48,
    n_test_voices: int = 16,
    repeats: int = 3,
    seed: int = 0,
    configs: dict[int, CochleaConfig] | None = None,
    variation: SpeechVariation | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, SpikeData]:
    """Synthetic spoken digits "zero".."nine" (needs the espeak-ng command); see :func:`spoken_word_set`."""
    voice_list = voices(n_train_voices, n_test_voices, seed)
    return spoken_word_set(DIGITS, range(10), DIGITS, voice_list, repeats, seed, configs, variation, progress)


def cached_spoken_digits(
    cache_dir: str | os.PathLike[str],
    channels: Sequence[int] = (700,),
    n_train_voices: int = 120,
    n_test_voices: int = 24,
    repeats: int = 3,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    configs: Mapping[int, CochleaConfig] | None = None,
) -> dict[int, SpikeData]:
    """Full-size synthetic spoken digits, generated once with espeak-ng and kept in ``cache_dir``.

    The shipped 700-channel release is cut to a subset of the voices to keep the package small; this
    makes the whole set at any width (front ends from :func:`front_end_config`) and stores one
    container file per width, named after its parameters. Files whose recorded parameters differ
    (another front end, seed, variation or :data:`GENERATOR_REVISION`) are regenerated. Widths that
    are missing are generated together in one pass over the utterances (one espeak-ng call per
    utterance), so the widths share voices, speeds, pitches and noise draws. A file that another
    espeak-ng release spoke (its ``meta["espeak_ng_version"]``; 1.51 and 1.52 differ) is regenerated
    when espeak-ng is installed. Processes sharing ``cache_dir`` take turns generating (a file lock,
    POSIX), so parallel workers that ask for the same missing set generate it once.
    Deterministic: the same espeak-ng release, seed and sizes give the same sets; with
    ``n_train_voices=120, n_test_voices=24, repeats=3, seed=0`` the 16-channel set equals the shipped
    release.

    Args:
        cache_dir: folder for the cache files (created if missing).
        channels: front-end widths wanted.
        n_train_voices, n_test_voices, repeats, seed: as :func:`generate_spoken_digits`.
        progress: called with (done, total) while generating.
        configs: front ends of your own by width (e.g. with ``channel_normalisation``); widths not in it
            use :func:`front_end_config`. A front end other than ``front_end_config(width)`` gets its own
            file (a hash of its parameters in the name), so variants do not overwrite each other.

    Returns:
        ``{channels: SpikeData}`` for every requested width (train and test voices together; split with
        ``extra["is_test"]``).

    Raises:
        TTSNotAvailableError: a width is not cached and espeak-ng is not installed.
    """
    folder = Path(cache_dir)
    wanted = {int(c): front_end_config(c) for c in channels}
    for width, config in (configs or {}).items():
        if int(width) in wanted:
            if config.n_channels != int(width):
                raise NeuroError(f"configs[{width}] has n_channels={config.n_channels}, expected {width}")
            wanted[int(width)] = config
    configs = wanted
    paths, keys = {}, {}
    for width, config in configs.items():
        # JSON round trip: what the file's meta holds after a save/load (tuples become lists)
        keys[width] = json.loads(
            json.dumps(
                {
                    "front_end": front_end_key(config),
                    "variation": asdict(SpeechVariation()),
                    "voices": [n_train_voices, n_test_voices],
                    "repeats": repeats,
                    "seed": seed,
                    "revision": GENERATOR_REVISION,
                }
            )
        )
        variant = ""
        if config != front_end_config(width):
            digest = hashlib.sha256(json.dumps(keys[width]["front_end"], sort_keys=True).encode()).hexdigest()
            variant = f"_fe{digest[:8]}"
        name = f"spoken_digits_{width}ch_{n_train_voices}+{n_test_voices}v_{repeats}r_seed{seed}{variant}.neuro"
        paths[width] = folder / name
    out = _read_cached(paths, keys)
    if len(out) < len(configs):
        folder.mkdir(parents=True, exist_ok=True)
        with _exclusive_lock(folder / ".generating.lock"):
            # another process may have made them while this one waited
            out.update(_read_cached({width: path for width, path in paths.items() if width not in out}, keys))
            missing = {width: configs[width] for width in configs if width not in out}
            if missing:
                made = generate_spoken_digits(n_train_voices, n_test_voices, repeats, seed, missing, progress=progress)
                for width, data in made.items():
                    data = replace(data, meta={**data.meta, "cache_key": keys[width]})
                    data.save(paths[width])
                    out[width] = data
    return {int(c): out[int(c)] for c in channels}


def _read_cached(paths: Mapping[int, Path], keys: Mapping[int, Any]) -> dict[int, SpikeData]:
    """The cache files of ``paths`` that exist, load and match their ``keys`` and the installed espeak-ng."""
    out: dict[int, SpikeData] = {}
    for width, path in paths.items():
        if not path.is_file():
            continue
        try:
            data = SpikeData.load(path)
        except NeuroError:
            continue  # corrupt or truncated (e.g. an interrupted write of an older version): regenerate
        if data.meta.get("cache_key") == keys[width] and _same_release(data.meta.get("espeak_ng_version")):
            out[width] = data
    return out


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing), so processes generating into one
    cache folder take turns and the later ones read what the first wrote. Where ``fcntl`` is missing
    (Windows) there is no lock: concurrent callers may both generate, and each file is still written whole."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _same_release(recorded: str | None) -> bool:
    """Whether a cached set's recorded espeak-ng version is the installed release's. Kept when either is
    unknown: files written before versions were recorded, or no espeak-ng to regenerate with."""
    if recorded is None:
        return True
    try:
        return espeak_release(recorded) == espeak_release(espeak_version())
    except TTSNotAvailableError:
        return True


#: Front-end options added after the first cached sets were written, with the values that leave the
#: front end unchanged: they enter a cache key only when set, so older cache files stay valid.
_LATER_FRONT_END_OPTIONS = {"channel_normalisation": 0.0}


def front_end_key(config: CochleaConfig) -> dict[str, Any]:
    """The parameters of ``config`` that identify its output (for cache keys): ``asdict(config)`` without
    the later options at their neutral value (``_LATER_FRONT_END_OPTIONS``)."""
    return {
        name: value
        for name, value in asdict(config).items()
        if name not in _LATER_FRONT_END_OPTIONS or value != _LATER_FRONT_END_OPTIONS[name]
    }


def generate_keyword_spotting(
    n_train_voices: int = 24,
    n_test_voices: int = 8,
    seed: int = 1,
    configs: dict[int, CochleaConfig] | None = None,
    variation: SpeechVariation | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, SpikeData]:
    """The keyword-spotting set: "aloha" (label 1) against similar words and noise (label 0).

    Each voice says the keyword ``len(KWS_CONFUSERS)`` times (with varied speed, pitch and noise),
    each confuser once, and there are 4 noise-only samples per voice, so the classes are balanced
    within a few per cent. ``extra["word"]`` indexes ``meta["words"]``.
    """
    words = [KEYWORD] * len(KWS_CONFUSERS) + list(KWS_CONFUSERS) + [NOISE_WORD] * 4
    labels = [1 if w == KEYWORD else 0 for w in words]
    voice_list = voices(n_train_voices, n_test_voices, seed)
    return spoken_word_set(words, labels, ("other", KEYWORD), voice_list, 1, seed, configs, variation, progress)


def kws_metrics(
    pred: Sequence[int] | np.ndarray, target: Sequence[int] | np.ndarray, keyword: int = 1
) -> dict[str, float]:
    """Keyword-spotting figures of merit.

    Args:
        pred: (N,) predicted labels.
        target: (N,) true labels.
        keyword: the label of the wake word.

    Returns:
        ``accuracy`` (share correct), ``miss_rate`` (share of keyword samples not detected: false
        negatives / positives) and ``false_alarm_rate`` (share of other samples detected as the
        keyword: false positives / negatives); NaN where the denominator is empty.
    """
    p, t = np.asarray(pred).reshape(-1), np.asarray(target).reshape(-1)
    if p.shape != t.shape:
        raise NeuroError(f"pred has {p.size} entries, target has {t.size}")
    if p.size == 0:
        raise NeuroError("kws_metrics needs at least one sample")
    positive, negative = t == keyword, t != keyword
    return {
        "accuracy": float(np.mean(p == t)),
        "miss_rate": float(np.mean(p[positive] != keyword)) if positive.any() else float("nan"),
        "false_alarm_rate": float(np.mean(p[negative] == keyword)) if negative.any() else float("nan"),
    }


def _shipped(name: str, channels: int, split: str) -> SpikeData:
    if channels not in SHIPPED:
        raise NeuroError(f"channels must be one of {sorted(SHIPPED)} for the shipped {name} set, got {channels}")
    if split not in ("train", "test", "all"):
        raise NeuroError(f"split must be 'train', 'test' or 'all', got {split!r}")
    path = _DATA / f"{name}_{channels}.neuro"
    if not path.is_file():
        raise FileFormatError(
            f"{path}: the shipped {name} release is missing from this installation "
            "(regenerate it with core/tools/make_spoken_digits.py)"
        )
    data = SpikeData.load(path)
    if split == "all":
        return data
    is_test = data.extra["is_test"]
    return data.subset(np.nonzero(is_test if split == "test" else ~is_test)[0])


def load_spoken_digits(channels: int = 16, split: str = "train") -> SpikeData:
    """The shipped synthetic spoken digits (no TTS needed).

    Args:
        channels: 16 (Xylo input width) or 700 (SHD width).
        split: "train", "test" (voices unseen in training) or "all".

    Returns:
        SpikeData with 10 classes "zero".."nine", events at 1 ms, 0.8 s per sample.
    """
    return _shipped("spoken_digits", channels, split)


def load_keyword_spotting(channels: int = 16, split: str = "train") -> SpikeData:
    """The shipped keyword-spotting set: classes ("other", "aloha"); score with :func:`kws_metrics`.

    Args:
        channels: 16 (700 can be generated with :func:`generate_keyword_spotting`).
        split: "train", "test" (unseen voices) or "all".
    """
    if channels != 16:
        raise NeuroError(
            f"the shipped keyword-spotting set has 16 channels, got channels={channels}; "
            "generate other widths with generate_keyword_spotting(configs=...) (needs espeak-ng)"
        )
    return _shipped("keyword_spotting", 16, split)


def default_data_root() -> Path:
    """Folder of the real benchmark datasets: ``$NEURO_DATASETS``, else ``<repo>/../shared/datasets``.

    The repository is found by walking up from the current directory and from this package.
    """
    if os.environ.get("NEURO_DATASETS"):
        return Path(os.environ["NEURO_DATASETS"])
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            candidate = folder.parent / "shared" / "datasets"
            if (folder / "core").is_dir() and candidate.is_dir():
                return candidate
    return Path.cwd().parent / "shared" / "datasets"


def _fsdd_order(path: Path) -> tuple[str, int, int]:
    digit, speaker, index = path.stem.split("_")[:3]
    return speaker, int(index) if index.isdigit() else 0, int(digit) if digit.isdigit() else 0


def load_fsdd(
    path: str | os.PathLike[str] | None = None,
    channels: int = 16,
    held_out_speaker: str = "theo",
    config: CochleaConfig | None = None,
    duration: float = 0.8,
    limit_per_speaker: int | None = None,
) -> tuple[SpikeData, SpikeData]:
    """Free Spoken Digit Dataset recordings through the cochlear front end, one speaker held out.

    Args: as :func:`fsdd_spikes`, plus ``held_out_speaker``: the speaker of the test set.

    Returns:
        ``(train, test)``; test holds every recording of ``held_out_speaker``, train the others.
    """
    data = fsdd_spikes(path, channels, config, duration, limit_per_speaker)
    if held_out_speaker not in data.speaker_names:
        raise NeuroError(
            f"held_out_speaker {held_out_speaker!r} is not among the recordings' speakers {list(data.speaker_names)}"
        )
    return data.split(test_speakers=[data.speaker_names.index(held_out_speaker)])


def _fsdd_recordings(
    path: str | os.PathLike[str] | None, limit_per_speaker: int | None
) -> tuple[list[tuple[np.ndarray, int, int, str]], list[str]]:
    """``[(audio, rate, digit, speaker)]`` of every FSDD file in ``path`` in :func:`_fsdd_order`, and the
    sorted speaker names. A ``limit_per_speaker`` keeps every digit (files are ordered by speaker,
    then recording index, then digit)."""
    import scipy.io.wavfile

    folder = Path(path) if path is not None else default_data_root() / "fsdd" / "recordings"
    if not folder.is_dir():
        raise NeuroError(f"FSDD folder {folder} does not exist (pass path=... or set NEURO_DATASETS)")
    files = sorted(folder.glob("*_*_*.wav"), key=_fsdd_order)
    if not files:
        raise NeuroError(f"FSDD folder {folder} holds no {{digit}}_{{speaker}}_{{index}}.wav files")
    taken: dict[str, int] = {}
    recordings = []
    for file in files:
        if not file.stem.split("_")[0].isdigit():
            raise NeuroError(f"{file.name}: FSDD file names are {{digit}}_{{speaker}}_{{index}}.wav")
        digit, speaker = int(file.stem.split("_")[0]), file.stem.split("_")[1]
        if limit_per_speaker is not None and taken.get(speaker, 0) >= limit_per_speaker:
            continue
        taken[speaker] = taken.get(speaker, 0) + 1
        rate, audio = scipy.io.wavfile.read(file)
        recordings.append((audio.astype(np.float64), int(rate), digit, speaker))
    return recordings, sorted(taken)


def fsdd_channel_profiles(
    path: str | os.PathLike[str] | None = None,
    channels: int = 16,
    config: CochleaConfig | None = None,
    duration: float = 0.8,
    enrolment: int | None = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Each FSDD speaker's long-term channel profile: the mean :func:`channel_profile` of their words.

    Averaged over many words, the profile holds the speaker's microphone and voice rather than one
    word's spectrum; :func:`equalising_gain` turns it into the ``channel_gain`` of :func:`fsdd_spikes`
    (speaker normalisation). Labels are never read.

    Args:
        path, channels, config, duration: as :func:`fsdd_spikes`.
        enrolment: average over this many recordings per speaker, drawn at random without looking at
            their digits (``None``: all): the unlabelled words a new speaker would say to calibrate.
        seed: seed of that draw (``default_rng([seed, speaker index])``).

    Returns:
        ``{speaker: (C,) float64 profile}``.
    """
    if enrolment is not None and (not isinstance(enrolment, int) or enrolment < 1):
        raise NeuroError(f"enrolment must be an integer >= 1 (recordings per speaker) or None, got {enrolment!r}")
    config = config if config is not None else front_end_config(channels)
    recordings, speakers = _fsdd_recordings(path, None)
    profiles = {}
    for number, speaker in enumerate(speakers):
        own = [(audio, rate) for audio, rate, _, name in recordings if name == speaker]
        if enrolment is not None:
            if enrolment > len(own):
                raise NeuroError(f"enrolment {enrolment} exceeds speaker {speaker!r}'s {len(own)} recordings")
            chosen = np.random.default_rng([seed, number]).choice(len(own), enrolment, replace=False)
            own = [own[i] for i in np.sort(chosen)]
        levels = [
            channel_profile(cochleagram(audio[: int(duration * rate)], rate, config).T, config.agc_percentile)
            for audio, rate in own
        ]
        profiles[speaker] = np.mean(levels, axis=0)
    return profiles


def fsdd_spikes(
    path: str | os.PathLike[str] | None = None,
    channels: int = 16,
    config: CochleaConfig | None = None,
    duration: float = 0.8,
    limit_per_speaker: int | None = None,
    augmentation: AudioAugment | None = None,
    copies: int = 0,
    seed: int = 0,
    channel_gain: Mapping[str, np.ndarray] | None = None,
) -> SpikeData:
    """Every FSDD recording in ``path`` through the cochlear front end (speaker index = sorted name order).

    Args:
        path: folder of ``{digit}_{speaker}_{index}.wav`` files (default
            ``default_data_root() / "fsdd" / "recordings"``).
        channels: front-end width (:func:`front_end_config`: the shipped front ends for 16 and 700,
            the default :class:`CochleaConfig` at other widths), unless ``config`` is given.
        config: a front end of your own.
        duration: recordings are cut to this many seconds.
        limit_per_speaker: read at most this many files per speaker, spread over the digits (quick runs).
        augmentation: waveform transform for the extra copies (needed when ``copies > 0``).
        copies: transformed copies of every recording, after the originals; copy ``c`` of recording
            ``i`` (in file order) draws from ``default_rng([seed, c, i])``.
        seed: seed of the copies.
        channel_gain: ``{speaker: (C,) gains}`` applied to that speaker's compressed channels
            (speaker normalisation; see :func:`fsdd_channel_profiles`); speakers not in it get none.

    Returns:
        The originals followed by ``copies`` augmented sets (same order); ``extra["copy"]`` is 0 for an
        original and ``c`` for copy ``c``, so a held-out speaker can be tested on originals only.
    """
    if not isinstance(copies, int) or copies < 0:
        raise NeuroError(f"copies must be an integer >= 0, got {copies!r}")
    if copies and augmentation is None:
        raise NeuroError(f"copies={copies} needs an augmentation (an AudioAugment)")
    if config is None:
        config = front_end_config(channels)
    recordings, speakers = _fsdd_recordings(path, limit_per_speaker)
    gains = dict(channel_gain or {})
    if unknown := sorted(set(gains) - set(speakers)):
        raise NeuroError(f"channel_gain names speakers {unknown} that are not among the recordings' {speakers}")
    events = []
    for copy in range(copies + 1):
        for index, (audio, rate, _, speaker) in enumerate(recordings):
            if copy:
                assert augmentation is not None  # checked above
                audio, rate = augmentation(audio, rate, [seed, copy, index])
            events.append(audio_to_spikes(audio[: int(duration * rate)], rate, config, gains.get(speaker)))
    return SpikeData.from_events(
        events,
        [digit for _, _, digit, _ in recordings] * (copies + 1),
        DIGITS,
        config.n_channels,
        speakers=[speakers.index(speaker) for *_, speaker in recordings] * (copies + 1),
        duration=duration,
        speaker_names=tuple(speakers),
        extra={"copy": np.repeat(np.arange(copies + 1, dtype=np.int16), len(recordings))},
        meta={
            "source": "Free Spoken Digit Dataset (Jackson et al.), CC BY-SA 4.0",
            "front_end": asdict(config),
            "time_resolution": config.dt,
            **({"augmentation": {**asdict(augmentation), "copies": copies, "seed": seed}} if augmentation else {}),
            **({"channel_gain": {name: gain.tolist() for name, gain in sorted(gains.items())}} if gains else {}),
        },
    )

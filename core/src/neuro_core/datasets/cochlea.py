"""A cochlear front end in numpy: gammatone filterbank -> half-wave rectification -> compression -> spikes.

The model follows the classic functional cochlea used by spiking audio sets such as the Spiking
Heidelberg Digits (SHD) and the Xylo Audio front end, kept small and fully vectorised:

1. Level normalisation (an automatic gain control): the waveform is scaled so that the RMS of its
   loudest 10 ms frames (top ``agc_percentile`` %) is 1. Noise added before the front end therefore
   keeps its signal-to-noise ratio, and the overall recording level does not matter.
2. Gammatone filterbank (4th order, Patterson et al. 1992; Slaney 1993) with centre frequencies
   equally spaced on the ERB-number scale of Glasberg & Moore (1990) between ``f_min`` and ``f_max``.
   Bandwidth ``b = 1.019 ERB(fc)``, widened by the channel spacing (in ERB) when the bank is sparser
   than one channel per ERB, so that 16 channels still cover the band. Each filter has unit gain at
   its centre frequency. The filtering is one FFT of the signal and one inverse FFT per channel, all
   channels in a single vectorised call.
3. Half-wave rectification (inner hair cell), then a 1 ms mean (low-pass and decimation to ``dt``).
4. Power-law compression ``(r / reference) ** compression`` (the outer-hair-cell compression of
   the basilar membrane response; exponent 0.3 after Ruggero et al. 1997).
4b. Optional (off by default) per-utterance channel equalisation, ``channel_normalisation = s > 0``:
   each channel's compressed level is multiplied by ``(m / m_c) ** s``, where ``m_c`` is the
   channel's mean over the loudest ``agc_percentile`` % of steps of the utterance and ``m`` the
   mean of ``m_c`` over channels. A fixed linear filter (microphone, room, a brighter or duller
   recording chain) scales channel ``c`` by a constant ``|H(f_c)| ** compression`` after
   compression, which ``s = 1`` removes exactly: cepstral mean normalisation in the compressed
   domain. It also removes the utterance's own long-term spectrum, hence ``s`` below 1 as a compromise.
4c. Optional fixed channel gains (``channel_gain`` of :func:`cochleagram`): speaker normalisation
   multiplies every utterance of a speaker by the gains that move the speaker's long-term profile
   (:func:`channel_profile` averaged over many words) towards a reference (:func:`equalising_gain`).
   Averaged over many words, the profile holds the microphone and the voice but no longer one word.
5. Background adaptation: each channel tracks its background level ``b`` (follows the compressed
   level ``c`` down at once, up with time constant ``noise_tau``), so steady noise is subtracted.
6. One leaky integrate-and-fire neuron per channel at time step ``dt`` (1 ms): input
   ``max_rate * max(c - b - floor, 0)`` per second, membrane time constant ``tau``, threshold 1,
   reset by subtraction, at most one spike per step. The spike rate grows with the level above the
   background and saturates at ``1/dt``; ``floor`` keeps silence and weak background quiet.

All figures are in seconds and hertz.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import gcd

import numpy as np
import scipy.fft
import scipy.signal

from ..errors import NeuroError

__all__ = [
    "CochleaConfig",
    "audio_to_spikes",
    "channel_profile",
    "cochleagram",
    "encode_spikes",
    "equalise_channels",
    "equalising_gain",
    "erb",
    "erb_space",
    "gammatone_bank",
    "resample",
]


@dataclass(frozen=True)
class CochleaConfig:
    """Parameters of the front end (see the module docstring for the model).

    Attributes:
        n_channels: number of cochlear channels (16 = Xylo input width, 700 = SHD).
        sample_rate: rate the audio is resampled to before filtering, Hz. 8 kHz is the rate of the
            FSDD recordings, so synthetic and real speech go through an identical bank.
        f_min: lowest centre frequency, Hz.
        f_max: highest centre frequency, Hz (below the Nyquist frequency ``sample_rate / 2``).
        dt: output time step, s.
        compression: exponent of the power-law compression.
        reference: envelope value mapped to 1 before compression (after the AGC).
        floor: compressed level below which a channel does not drive its neuron.
        max_rate: gain of the spike encoder: input current per unit compressed level above the floor, Hz.
        tau: membrane time constant of the encoder neurons, s.
        agc_percentile: the AGC normalises the RMS of the loudest ``agc_percentile`` % of 10 ms frames.
        filter_duration: length of the gammatone impulse responses, s.
        noise_tau: time constant of each channel's background tracker, s (0 disables it). The tracker
            follows the compressed level down at once and up with this time constant, so it settles on
            the steady background (noise); the encoder is driven by the level above it.
        channel_normalisation: strength ``s`` in [0, 1] of the per-utterance channel equalisation
            (step 4b of the module docstring); 0 (the default) leaves the front end unchanged.
            Channel gains are capped at ``10 ** s`` so a silent channel's noise is not blown up.
    """

    n_channels: int = 16
    sample_rate: float = 8000.0
    f_min: float = 100.0
    f_max: float = 3800.0
    dt: float = 1e-3
    compression: float = 0.3
    reference: float = 0.1
    floor: float = 0.2
    max_rate: float = 500.0
    tau: float = 0.01
    agc_percentile: float = 20.0
    filter_duration: float = 0.064
    noise_tau: float = 0.5
    channel_normalisation: float = 0.0

    def __post_init__(self) -> None:
        if self.n_channels < 1:
            raise ValueError(f"n_channels must be >= 1, got {self.n_channels}")
        if not 0 < self.f_min < self.f_max < self.sample_rate / 2:
            raise ValueError(
                f"need 0 < f_min < f_max < sample_rate/2 = {self.sample_rate / 2} Hz, "
                f"got f_min={self.f_min}, f_max={self.f_max}"
            )
        if self.dt * self.sample_rate < 1 or abs(round(self.dt * self.sample_rate) - self.dt * self.sample_rate) > 1e-9:
            raise ValueError(f"dt * sample_rate must be a positive integer (samples per step), got {self.dt}")
        if not 0 < self.compression <= 1:
            raise ValueError(f"compression exponent must be in (0, 1], got {self.compression}")
        if not 0 <= self.channel_normalisation <= 1:
            raise ValueError(f"channel_normalisation must be in [0, 1], got {self.channel_normalisation}")


def erb(frequency: np.ndarray | float) -> np.ndarray:
    """Equivalent rectangular bandwidth (Glasberg & Moore 1990) in Hz of a filter centred at ``frequency`` Hz."""
    return 24.7 * (4.37 * np.asarray(frequency, dtype=np.float64) / 1000.0 + 1.0)


def erb_space(f_min: float, f_max: float, n: int) -> np.ndarray:
    """``n`` centre frequencies (Hz, ascending) equally spaced on the ERB-number scale from f_min to f_max."""
    lo, hi = (21.4 * np.log10(4.37e-3 * f + 1.0) for f in (f_min, f_max))
    numbers = np.linspace(lo, hi, n) if n > 1 else np.array([(lo + hi) / 2])
    return (10.0 ** (numbers / 21.4) - 1.0) / 4.37e-3


def gammatone_bank(config: CochleaConfig) -> tuple[np.ndarray, np.ndarray]:
    """The filterbank of ``config``: ``(centre_frequencies (C,) Hz, impulse_responses (C, L) float64)``.

    4th-order gammatone ``t^3 exp(-2 pi b t) cos(2 pi fc t)`` sampled at ``config.sample_rate``,
    normalised to unit gain at ``fc``.
    """
    return _bank(config.n_channels, config.sample_rate, config.f_min, config.f_max, config.filter_duration)


@lru_cache(maxsize=8)
def _bank(n: int, fs: float, f_min: float, f_max: float, duration: float) -> tuple[np.ndarray, np.ndarray]:
    centres = erb_space(f_min, f_max, n)
    spacing_erb = (21.4 * (np.log10(4.37e-3 * f_max + 1) - np.log10(4.37e-3 * f_min + 1))) / max(n - 1, 1)
    # Sparse banks (16 channels over ~23 ERB) would leave gaps between 1-ERB filters: widen them.
    bandwidth = 1.019 * erb(centres) * max(1.0, spacing_erb)
    t = np.arange(round(duration * fs)) / fs
    envelope = t[None, :] ** 3 * np.exp(-2 * np.pi * bandwidth[:, None] * t[None, :])
    responses = envelope * np.cos(2 * np.pi * centres[:, None] * t[None, :])
    gain = np.abs((responses * np.exp(-2j * np.pi * centres[:, None] * t[None, :])).sum(axis=1))
    responses /= gain[:, None]
    responses.setflags(write=False)
    centres.setflags(write=False)
    return centres, responses


@lru_cache(maxsize=16)
def _bank_spectrum(config: CochleaConfig, n_fft: int) -> np.ndarray:
    _, responses = gammatone_bank(config)
    spectrum = scipy.fft.rfft(responses, n=n_fft, axis=1).astype(np.complex64)
    spectrum.setflags(write=False)
    return spectrum


def resample(audio: np.ndarray, rate: float, target_rate: float) -> np.ndarray:
    """Polyphase resampling of a 1-D signal from ``rate`` to ``target_rate`` Hz (both integers in Hz)."""
    up, down = round(target_rate), round(rate)
    if up == down:
        return np.asarray(audio, dtype=np.float64)
    common = gcd(up, down)
    return scipy.signal.resample_poly(np.asarray(audio, dtype=np.float64), up // common, down // common)


def _normalise(audio: np.ndarray, config: CochleaConfig) -> np.ndarray:
    frame = max(1, int(0.01 * config.sample_rate))
    n_frames = max(1, len(audio) // frame)
    padded = np.zeros(n_frames * frame)
    padded[: min(len(audio), n_frames * frame)] = audio[: n_frames * frame]
    energy = (padded.reshape(n_frames, frame) ** 2).mean(axis=1)
    loud = np.sort(energy)[-max(1, int(np.ceil(n_frames * config.agc_percentile / 100))) :]
    level = np.sqrt(loud.mean())
    return audio / level if level > 0 else audio


def cochleagram(
    audio: np.ndarray, sample_rate: float, config: CochleaConfig, channel_gain: np.ndarray | None = None
) -> np.ndarray:
    """Compressed cochlear envelope of a mono waveform.

    Args:
        audio: (samples,) waveform, any scale (it is level-normalised).
        sample_rate: its rate, Hz.
        config: front-end parameters.
        channel_gain: optional (C,) gains applied to the compressed channels (step 4c of the module
            docstring), e.g. a speaker's :func:`equalising_gain`.

    Returns:
        (T, C) float32 compressed envelope, one row per ``config.dt`` step, ``T = len(audio)
        resampled // samples per step``; channel 0 has the lowest centre frequency.
    """
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise NeuroError(f"audio must be a non-empty 1-D waveform, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise NeuroError("audio contains NaN or infinite samples")
    x = _normalise(resample(x, sample_rate, config.sample_rate), config)
    hop = round(config.dt * config.sample_rate)
    n_steps = len(x) // hop
    if n_steps == 0:
        raise NeuroError(f"audio is shorter than one time step ({config.dt} s)")
    taps = gammatone_bank(config)[1].shape[1]
    n_fft = scipy.fft.next_fast_len(len(x) + taps, real=True)
    spectrum = scipy.fft.rfft(x, n=n_fft).astype(np.complex64)
    filtered = scipy.fft.irfft(_bank_spectrum(config, n_fft) * spectrum[None, :], n=n_fft, axis=1)
    rectified = np.maximum(filtered[:, : n_steps * hop], 0.0)
    envelope = rectified.reshape(config.n_channels, n_steps, hop).mean(axis=2)
    compressed = (envelope / config.reference) ** config.compression
    if config.channel_normalisation > 0:
        compressed = equalise_channels(compressed, config.channel_normalisation, config.agc_percentile)
    if channel_gain is not None:
        gain = np.asarray(channel_gain, dtype=np.float64)
        if gain.shape != (config.n_channels,) or not np.all(np.isfinite(gain)) or np.any(gain < 0):
            raise NeuroError(
                f"channel_gain must be {config.n_channels} finite gains >= 0 (one per channel), got shape {gain.shape}"
            )
        compressed = compressed * gain[:, None]
    return np.ascontiguousarray(compressed.T, dtype=np.float32)


#: Largest gain of the channel equalisation at full strength (a channel 10x quieter than the average).
MAX_CHANNEL_GAIN = 10.0


def channel_profile(compressed: np.ndarray, loud_percentile: float = 20.0) -> np.ndarray:
    """Long-term channel levels of one utterance: each channel's mean over its loudest steps.

    Args:
        compressed: (C, T) compressed envelope of one utterance (channels first).
        loud_percentile: the mean is taken over the loudest this-many % of time steps (loudness =
            mean over channels), i.e. over the speech rather than the pauses.

    Returns:
        (C,) float64 mean compressed level per channel.
    """
    level = compressed.mean(axis=0)
    n_loud = max(1, int(np.ceil(level.size * loud_percentile / 100)))
    loud = np.argsort(level, kind="stable")[-n_loud:]
    return np.asarray(compressed[:, loud].mean(axis=1), dtype=np.float64)


def equalising_gain(profile: np.ndarray, reference: np.ndarray | float, strength: float) -> np.ndarray:
    """Per-channel gains that move a channel profile towards a reference profile.

    Args:
        profile: (C,) channel levels (:func:`channel_profile`, or its mean over a speaker's words).
        reference: (C,) target levels, or one level for every channel (a flat spectrum).
        strength: exponent ``s`` in [0, 1]: 0 gives gains of 1, 1 maps ``profile`` onto ``reference``.

    Returns:
        (C,) gains ``(reference / profile) ** s``, capped at ``MAX_CHANNEL_GAIN ** s`` so that a
        (nearly) silent channel's noise is not blown up; all ones if the profile is silent.
    """
    profile = np.asarray(profile, dtype=np.float64)
    target = np.broadcast_to(np.asarray(reference, dtype=np.float64), profile.shape)
    if not profile.mean() > 0:  # silence: nothing to equalise
        return np.ones_like(profile)
    return np.asarray((target / np.maximum(profile, target / MAX_CHANNEL_GAIN)) ** strength)


def equalise_channels(compressed: np.ndarray, strength: float, loud_percentile: float = 20.0) -> np.ndarray:
    """Per-utterance channel equalisation of a compressed envelope (step 4b of the module docstring).

    Args:
        compressed: (C, T) compressed envelope of one utterance (channels first).
        strength: exponent ``s`` in [0, 1]: 0 returns the input, 1 equalises fully.
        loud_percentile: the channel means are taken over the loudest this-many % of time steps.

    Returns:
        (C, T) array: channel ``c`` multiplied by ``min((m / m_c) ** s, MAX_CHANNEL_GAIN ** s)``, with
        ``m_c`` the channel's :func:`channel_profile` and ``m`` its mean over channels.
    """
    profile = channel_profile(compressed, loud_percentile)
    return compressed * equalising_gain(profile, profile.mean(), strength)[:, None]


def encode_spikes(envelope: np.ndarray, config: CochleaConfig) -> np.ndarray:
    """Spikes of one LIF neuron per channel driven by a compressed envelope.

    Args:
        envelope: (T, C) compressed envelope (from :func:`cochleagram`), or (B, T, C).
        config: front-end parameters (floor, max_rate, tau, dt).

    Returns:
        bool array of the same shape: True where the channel's neuron spiked in that step.
    """
    level = np.asarray(envelope, dtype=np.float64)
    if level.ndim not in (2, 3):
        raise NeuroError(f"envelope must be (T, C) or (B, T, C), got shape {level.shape}")
    time_axis = level.ndim - 2
    gain = config.max_rate * config.dt
    decay = np.exp(-config.dt / config.tau)
    rise = config.dt / config.noise_tau if config.noise_tau > 0 else 0.0
    v = np.zeros(level.shape[:time_axis] + level.shape[time_axis + 1 :])
    # The tracker starts at the first step's level (the synthetic sets start with silence or noise).
    background = np.take(level, 0, axis=time_axis).copy() if rise else np.zeros_like(v)
    spikes = np.zeros(level.shape, dtype=bool)
    # Loop over time only: every channel (and sample) is updated at once.
    for t in range(level.shape[time_axis]):
        now = np.take(level, t, axis=time_axis)
        if rise:
            background = np.minimum(now, background + rise * (now - background))
        v = v * decay + np.maximum(now - background - config.floor, 0.0) * gain
        fired = v >= 1.0
        v = np.where(fired, v - 1.0, v)
        if time_axis == 0:
            spikes[t] = fired
        else:
            spikes[:, t] = fired
    return spikes


def audio_to_spikes(
    audio: np.ndarray, sample_rate: float, config: CochleaConfig, channel_gain: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Spike events of a waveform through the whole front end (``channel_gain``: as in :func:`cochleagram`).

    Returns:
        ``(times, units)``: times in seconds (float64, the start of the step, ``k * dt``) and channel
        indices (int64), ordered by time then channel.
    """
    spikes = encode_spikes(cochleagram(audio, sample_rate, config, channel_gain), config)
    steps, units = np.nonzero(spikes)
    return steps * config.dt, units.astype(np.int64)

"""Offline datasets for spiking networks: generated from a seed, or shipped inside the package.

Nothing is downloaded at run time. The container is :class:`SpikeData` (events in the sparse layout of
the Spiking Heidelberg Digits; dense (N, T, C) arrays or torch batches on demand).

- Speech: :func:`load_spoken_digits` (shipped synthetic digits, 16 or 700 channels, test voices
  unseen), :func:`load_keyword_spotting` + :func:`kws_metrics` ("aloha" wake word), :func:`load_fsdd`
  (real recordings from a local folder, one speaker held out), and the generators
  (:func:`generate_spoken_digits`, :func:`generate_keyword_spotting`; need the espeak-ng command).
- Front end: :class:`CochleaConfig`, :func:`cochleagram`, :func:`encode_spikes`, :func:`audio_to_spikes`,
  :func:`equalise_channels`, :func:`channel_profile` + :func:`equalising_gain` (speaker normalisation;
  :func:`fsdd_channel_profiles` for FSDD).
- Files: :func:`read_shd` / :func:`write_shd` (SHD/SSC HDF5 layout; needs ``neuro-core[hdf5]``),
  :meth:`SpikeData.save` / :meth:`SpikeData.load` (neuro container).
- Augmentation: :class:`SpikeAugment` (seeded time shift/stretch, channel shift, dropout, tilt, noise
  on the events), :func:`augment` (a training set plus transformed copies), :func:`shift_channels`
  (one deterministic channel shift, for test-time averaging).
- Toy tasks: :func:`randman`, :func:`delayed_xor`, :func:`spike_pattern_association`.
- Images: :func:`rate_encode`, :func:`latency_encode`, :func:`load_mnist` (28x28 or 16x16),
  :func:`load_digits` (scikit-learn's 8x8 digits, if installed), :func:`downscale`.

See docs/datasets.md for provenance and licences.
"""

from __future__ import annotations

from .augment import SpikeAugment, augment, shift_channels
from .cochlea import (
    CochleaConfig,
    audio_to_spikes,
    channel_profile,
    cochleagram,
    encode_spikes,
    equalise_channels,
    equalising_gain,
    erb_space,
    gammatone_bank,
)
from .images import downscale, latency_encode, load_digits, load_mnist, rate_encode
from .shd import read_shd, write_shd
from .speech import (
    DIGITS,
    KEYWORD,
    KWS_CONFUSERS,
    SHIPPED,
    SpeechVariation,
    default_data_root,
    fsdd_channel_profiles,
    fsdd_spikes,
    generate_keyword_spotting,
    generate_spoken_digits,
    kws_metrics,
    load_fsdd,
    load_keyword_spotting,
    load_spoken_digits,
    voices,
)
from .spikedata import SpikeData
from .synthetic import delayed_xor, randman, spike_pattern_association
from .tts import TTSNotAvailableError

__all__ = [
    "DIGITS",
    "KEYWORD",
    "KWS_CONFUSERS",
    "SHIPPED",
    "CochleaConfig",
    "SpeechVariation",
    "SpikeAugment",
    "SpikeData",
    "TTSNotAvailableError",
    "audio_to_spikes",
    "augment",
    "channel_profile",
    "cochleagram",
    "default_data_root",
    "delayed_xor",
    "downscale",
    "encode_spikes",
    "equalise_channels",
    "equalising_gain",
    "erb_space",
    "fsdd_channel_profiles",
    "fsdd_spikes",
    "gammatone_bank",
    "generate_keyword_spotting",
    "generate_spoken_digits",
    "kws_metrics",
    "latency_encode",
    "load_digits",
    "load_fsdd",
    "load_keyword_spotting",
    "load_mnist",
    "load_spoken_digits",
    "randman",
    "rate_encode",
    "read_shd",
    "shift_channels",
    "spike_pattern_association",
    "voices",
    "write_shd",
]

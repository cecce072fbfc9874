"""Text to speech through espeak-ng, always in a separate process.

espeak-ng is GPL-3.0 licensed. neuro-core (Apache-2.0) therefore never links or imports it: this
module runs the ``espeak-ng`` command (the Debian/Ubuntu package ``espeak-ng``) as a subprocess and
reads the WAV it writes to stdout. Only the generator of the synthetic sets needs it; the shipped
releases and every loader work without it.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import numpy as np

from ..errors import NeuroError

__all__ = ["ENGLISH_ACCENTS", "TTSNotAvailableError", "espeak_command", "espeak_variants", "synthesize"]

#: espeak-ng's English accents (``espeak-ng --voices=en``, the non-MBROLA ones).
ENGLISH_ACCENTS = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)


class TTSNotAvailableError(NeuroError):
    """The espeak-ng command is not installed."""


def espeak_command() -> str:
    """Path of the espeak-ng executable (``$NEURO_ESPEAK`` overrides the search on PATH).

    Raises:
        TTSNotAvailableError: not found; the message says how to install it.
    """
    found = os.environ.get("NEURO_ESPEAK") or shutil.which("espeak-ng")
    if not found:
        raise TTSNotAvailableError(
            "espeak-ng is not installed: the synthetic speech generator needs the espeak-ng command "
            "(apt-get install espeak-ng, brew install espeak-ng, or set NEURO_ESPEAK to its path). "
            "The shipped datasets (load_spoken_digits, load_keyword_spotting) do not need it."
        )
    return found


def espeak_variants() -> list[str]:
    """Names of the voice variants (``+name``) installed with espeak-ng, sorted."""
    result = subprocess.run(
        [espeak_command(), "--voices=variant"], capture_output=True, text=True, check=True, timeout=30
    )
    names = []
    for line in result.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5:
            names.append(fields[4].split("/")[-1])
    return sorted(set(names))


def synthesize(text: str, voice: str, variant: str = "", speed: int = 160, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Speak ``text`` with espeak-ng in a subprocess.

    Args:
        text: what to say.
        voice: espeak-ng voice/accent (e.g. ``"en-us"``).
        variant: voice variant (e.g. ``"f3"``, ``"klatt2"``), "" for the default.
        speed: words per minute (espeak-ng accepts 80..450).
        pitch: base pitch 0..99.

    Returns:
        ``(audio, sample_rate)``: float64 waveform in [-1, 1] and its rate in Hz.
    """
    if not 80 <= speed <= 450:
        raise ValueError(f"speed must be within 80..450 words per minute, got {speed}")
    if not 0 <= pitch <= 99:
        raise ValueError(f"pitch must be within 0..99, got {pitch}")
    name = f"{voice}+{variant}" if variant else voice
    command = [espeak_command(), "-v", name, "-s", str(speed), "-p", str(pitch), "--stdout", text]
    # A word takes ~50 ms; on a heavily loaded machine an espeak-ng process has been seen to hang, so a
    # stuck call is killed and retried (the output is deterministic, so a retry changes nothing).
    for attempt in range(3):
        try:
            result = subprocess.run(command, capture_output=True, check=False, timeout=30)
            break
        except subprocess.TimeoutExpired:
            if attempt == 2:
                raise NeuroError(f"espeak-ng did not finish within 30 s three times: {' '.join(command)}") from None
    if result.returncode != 0:
        raise NeuroError(f"espeak-ng failed for voice {name!r}: {result.stderr.decode(errors='replace').strip()}")
    return _parse_wav(result.stdout)


def _parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    # espeak-ng streams a WAV whose size fields are placeholders, so scipy's reader rejects it;
    # walk the chunks ourselves and take everything after "data".
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise NeuroError("espeak-ng did not return a WAV stream")
    position, rate, bits = 12, 0, 16
    while position + 8 <= len(data):
        chunk, size = data[position : position + 4], struct.unpack("<I", data[position + 4 : position + 8])[0]
        body = position + 8
        if chunk == b"fmt ":
            channels, rate = struct.unpack("<HI", data[body + 2 : body + 8])
            bits = struct.unpack("<H", data[body + 14 : body + 16])[0]
            if channels != 1 or bits != 16:
                raise NeuroError(f"unexpected espeak-ng WAV format: {channels} channels, {bits} bits")
        elif chunk == b"data":
            samples = np.frombuffer(data[body : body + (len(data) - body) // 2 * 2], dtype="<i2")
            return samples.astype(np.float64) / 32768.0, rate
        position = body + size + (size & 1)
    raise NeuroError("espeak-ng WAV stream has no data chunk")

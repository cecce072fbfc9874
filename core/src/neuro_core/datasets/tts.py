"""Text to speech through espeak-ng, always in a separate process.

espeak-ng is GPL-3.0 licensed. neuro-core (Apache-2.0) therefore never links or imports it: this
module runs the ``espeak-ng`` command (the Debian/Ubuntu package ``espeak-ng``) as a subprocess and
reads the WAV it writes to stdout. Without the command, the PyPI wheel ``espeakng-loader``
(``pip install neuro-core[tts]``; the library and its data, no executable) serves instead: its library
is loaded only by :mod:`.espeak_runner`, a separate process with the same command line and output,
and this process never imports the wheel. Only the generator of the synthetic sets needs either; the
shipped releases and every loader work without them.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from ..errors import NeuroError

__all__ = [
    "ENGLISH_ACCENTS",
    "TTSNotAvailableError",
    "espeak_command",
    "espeak_release",
    "espeak_variants",
    "espeak_version",
    "espeak_voice_file",
    "synthesize",
]

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
    """Neither the espeak-ng command nor the espeakng-loader wheel is installed."""


_VARIANT_FILE = re.compile(r"!v/(\S+(?: \S+)*?)(?: \(| {2,}| *$)", re.MULTILINE)
#: The runner for the espeakng-loader wheel, started by path (see :func:`espeak_command`).
_RUNNER = Path(__file__).resolve().with_name("espeak_runner.py")


def espeak_command() -> list[str]:
    """The command line (argv words) that starts espeak-ng; append its arguments.

    ``$NEURO_ESPEAK`` if set, else the ``espeak-ng`` command on PATH: ``[path]``. Else, if the
    ``espeakng-loader`` wheel is installed (looked up, never imported here), its runner in a separate
    process: ``[sys.executable, "-P", ".../espeak_runner.py"]`` (by path, so the child skips importing
    neuro_core and torch: ~0.08 s a call instead of ~1.3 s; it is the same module as
    ``python -m neuro_core.datasets.espeak_runner``).

    Raises:
        TTSNotAvailableError: neither is installed; the message says how to install either.
    """
    found = os.environ.get("NEURO_ESPEAK") or shutil.which("espeak-ng")
    if found:
        return [found]
    if sys.executable and importlib.util.find_spec("espeakng_loader") is not None:
        return [sys.executable, "-P", str(_RUNNER)]
    raise TTSNotAvailableError(
        "espeak-ng is not installed: the synthetic speech generator needs the espeak-ng command "
        "(apt-get install espeak-ng, brew install espeak-ng, or set NEURO_ESPEAK to its path) or the "
        "espeakng-loader wheel (pip install neuro-core[tts]; run in a separate process). "
        "The shipped datasets (load_spoken_digits, load_keyword_spotting) do not need it."
    )


def espeak_version() -> str:
    """espeak-ng's ``--version`` line: its version and data folder, e.g.
    ``"eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data"``.

    Raises:
        TTSNotAvailableError: espeak-ng is not installed.
        NeuroError: espeak-ng failed to report it.
    """
    command = [*espeak_command(), "--version"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    if result.returncode != 0 or not result.stdout.strip():
        raise NeuroError(f"espeak-ng could not report its version ({' '.join(command)}): {result.stderr.strip()}")
    return result.stdout.strip()


def espeak_release(version_line: str) -> str:
    """The release in a :func:`espeak_version` line without its data folder (``"eSpeak NG
    text-to-speech: 1.51"``): what decides the audio, the folder being only where it is installed."""
    return version_line.split("Data at:")[0].strip()


def espeak_variants() -> list[str]:
    """Names of the voice variants (``+name``) installed with espeak-ng, sorted.

    Raises:
        TTSNotAvailableError: espeak-ng is not installed.
        NeuroError: espeak-ng failed to list its voices.
    """
    command = [*espeak_command(), "--voices=variant"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    if result.returncode != 0:
        raise NeuroError(f"espeak-ng could not list its variants ({' '.join(command)}): {result.stderr.strip()}")
    # The File column is "!v/<file name>", padded to 20 characters, maybe followed by "(language priority)"
    # pairs; a file name may hold one space ("Mr serious"), so split at two spaces or " (".
    names = [match.group(1) for match in _VARIANT_FILE.finditer(result.stdout)]
    return sorted(set(names))


def espeak_voice_file(language: str) -> str:
    """The voice file espeak-ng speaks ``language`` with (``"en-gb"`` -> ``"gmw/en"``), from its
    ``--voices=<language>`` table: the first non-MBROLA voice whose language is exactly ``language``;
    ``language`` itself when no voice is listed for it (a file or voice name already).

    Why: ``-v name+variant`` looks ``name`` up among the voice files and names first, then by language,
    and a voice found by its language loses the variant (espeak-ng 1.51 and 1.52: ``-v en-gb+f3`` speaks
    plain ``en-gb``, as no file is called ``en-gb``). Naming the file keeps the variant.

    Raises:
        TTSNotAvailableError: espeak-ng is not installed.
        NeuroError: espeak-ng failed to list its voices.
    """
    return _voice_file(tuple(espeak_command()), language)


@functools.lru_cache(maxsize=64)  # per command line: one listing per language and espeak-ng install
def _voice_file(command: tuple[str, ...], language: str) -> str:
    listing = [*command, f"--voices={language}"]
    result = subprocess.run(listing, capture_output=True, text=True, check=False, timeout=30)
    if result.returncode != 0:
        raise NeuroError(f"espeak-ng could not list its voices ({' '.join(listing)}): {result.stderr.strip()}")
    # Columns: Pty Language Age/Gender VoiceName File [Other Languages]; names have "_" for spaces.
    for row in result.stdout.splitlines()[1:]:
        fields = row.split()
        if len(fields) >= 5 and fields[1].lower() == language.lower() and not fields[4].startswith("mb/"):
            return fields[4]
    return language


def synthesize(text: str, voice: str, variant: str = "", speed: int = 160, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Speak ``text`` with espeak-ng in a subprocess.

    Args:
        text: what to say.
        voice: espeak-ng voice/accent (e.g. ``"en-us"``).
        variant: voice variant (e.g. ``"f3"``, ``"klatt2"``), "" for the default. With a variant the
            voice is named by its file (:func:`espeak_voice_file`), so that the variant is applied.
        speed: words per minute (espeak-ng accepts 80..450).
        pitch: base pitch 0..99.

    Returns:
        ``(audio, sample_rate)``: float64 waveform in [-1, 1] and its rate in Hz.
    """
    if not 80 <= speed <= 450:
        raise ValueError(f"speed must be within 80..450 words per minute, got {speed}")
    if not 0 <= pitch <= 99:
        raise ValueError(f"pitch must be within 0..99, got {pitch}")
    name = f"{espeak_voice_file(voice)}+{variant}" if variant else voice
    command = [*espeak_command(), "-v", name, "-s", str(speed), "-p", str(pitch), "--stdout", text]
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

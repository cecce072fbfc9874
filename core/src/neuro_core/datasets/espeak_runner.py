"""A stand-in for the ``espeak-ng`` command, built on the library of the PyPI wheel ``espeakng-loader``.

Run only as a separate process, never imported by neuro-core: espeak-ng is GPL-3.0 and neuro-core is
Apache-2.0, so the library is loaded (through ctypes) into this short-lived process alone, and the core
reads what it prints, exactly as it reads the ``espeak-ng`` command's output. :mod:`.tts` starts it as
``python -P .../espeak_runner.py ARGS`` (by path, so the child does not import the neuro_core package and
torch; ``python -m neuro_core.datasets.espeak_runner ARGS`` works too). It accepts the subset of
espeak-ng's command line that :mod:`.tts` and the data tools use, and prints the same bytes:

- ``-v VOICE[+VARIANT] [-s WPM] [-p PITCH] --stdout TEXT``: a WAV stream on stdout (16-bit mono at the
  library's rate, 22,050 Hz), with the command's placeholder size fields.
- ``--voices[=LANGUAGE]``: the voice table (``--voices=variant``: the files in ``espeak-ng-data/voices/!v``).
- ``--version``: ``eSpeak NG text-to-speech: VERSION  Data at: PATH``.

Unlike the command, an unknown variant is an error rather than silently the plain voice. Errors go to
stderr with a non-zero exit status: 1 for a failure (library, data or voice), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# speak_lib.h
AUDIO_OUTPUT_SYNCHRONOUS = 2  # like AUDIO_OUTPUT_RETRIEVAL (audio handed to the callback), returns when done
POS_CHARACTER = 1
ESPEAK_CHARS_AUTO, ESPEAK_PHONEMES, ESPEAK_ENDPAUSE = 0, 0x100, 0x1000
ESPEAK_RATE, ESPEAK_PITCH = 1, 3
EE_OK = 0
EVENT_LIST_TERMINATED, EVENT_SAMPLERATE = 0, 8
#: The command's flags for text given on its command line.
SYNTH_FLAGS = ESPEAK_CHARS_AUTO | ESPEAK_PHONEMES | ESPEAK_ENDPAUSE
VARIANT_FOLDER = "!v"


class RunnerError(Exception):
    """A failure reported on stderr with exit status 1."""


class _EventId(ctypes.Union):
    _fields_ = (("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8))


class _Event(ctypes.Structure):
    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


class _Voice(ctypes.Structure):
    _fields_ = (
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, zero-terminated name) pairs, then a zero byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(_Event))


def locate() -> tuple[str, str]:
    """``(library, data)``: the espeak-ng shared library and ``espeak-ng-data`` folder of ``espeakng_loader``.

    Raises:
        RunnerError: the wheel is not installed or incomplete.
    """
    try:
        import espeakng_loader
    except ImportError:
        raise RunnerError(
            f"espeakng-loader is not installed for {sys.executable} (pip install neuro-core[tts])"
        ) from None
    try:
        return str(espeakng_loader.get_library_path()), str(espeakng_loader.get_data_path())
    except Exception as error:  # the wheel's own check: RuntimeError when its data folder is missing
        raise RunnerError(f"espeakng-loader is incomplete: {error}") from None


class Engine:
    """The espeak-ng library, loaded into this process and initialised for synchronous retrieval.

    Args:
        library: path (or soname) of the shared library.
        data: the ``espeak-ng-data`` folder, or the folder that contains one.

    Raises:
        RunnerError: the library does not load or the data folder lacks espeak-ng's phoneme tables.
    """

    def __init__(self, library: str, data: str) -> None:
        folder = Path(data)
        if (folder / "espeak-ng-data").is_dir():
            folder = folder / "espeak-ng-data"
        if not (folder / "phontab").is_file():
            raise RunnerError(f"no espeak-ng data at {data} (expected its phontab file)")
        self.data = folder
        try:
            self.lib: Any = ctypes.CDLL(library)
            self._declare()
        except (OSError, AttributeError) as error:
            raise RunnerError(f"cannot load the espeak-ng library {library}: {error}") from None
        self._samples: list[bytes] = []
        self._callback = _SynthCallback(self._collect)  # kept referenced while the library may call it
        # Exits the process (status 1, message on stderr) if the data cannot be read, like the command.
        self.sample_rate: int = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, os.fsencode(folder), 0)
        if self.sample_rate <= 0:
            raise RunnerError(f"espeak_Initialize failed for the data at {folder}")
        self.lib.espeak_SetSynthCallback(self._callback)

    def _declare(self) -> None:
        lib = self.lib
        lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = (_SynthCallback,)
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByProperties.argtypes = (ctypes.POINTER(_Voice),)
        lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = (
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        )
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = ()
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = (ctypes.POINTER(_Voice),)
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_Info.argtypes = (ctypes.POINTER(ctypes.c_char_p),)
        lib.espeak_Info.restype = ctypes.c_char_p

    def _collect(self, wav: int | None, count: int, events: Any) -> int:
        if wav and count > 0:
            self._samples.append(ctypes.string_at(wav, 2 * count))
        return 0  # 0: go on synthesising

    def version(self) -> str:
        """The ``--version`` line: library version and data folder."""
        path = ctypes.c_char_p()
        version = self.lib.espeak_Info(ctypes.byref(path))
        return f"eSpeak NG text-to-speech: {_text(version)}  Data at: {_text(path.value)}"

    def voices(self, language: str = "") -> str:
        """The ``--voices[=language]`` table, in the command's layout (``language="variant"``: the variants)."""
        if language:
            wanted = ctypes.create_string_buffer(language.encode())
            spec = _Voice(languages=ctypes.addressof(wanted))
            listed = self.lib.espeak_ListVoices(ctypes.byref(spec))
        else:
            listed = self.lib.espeak_ListVoices(None)
        lines = ["Pty Language       Age/Gender VoiceName          File                 Other Languages"]
        index = 0
        while listed[index]:
            voice = listed[index].contents
            age = " --" if voice.age == 0 else f"{voice.age:3d}"
            gender = "-MF-"[voice.gender] if voice.gender < 4 else "-"
            name = _text(voice.name).replace(" ", "_")
            line = ""
            for count, (priority, language_name) in enumerate(_languages(voice.languages)):
                if count == 0:
                    line = f"{priority:2d}  {_pad(language_name, 15)}{age}/{gender}      {_pad(name, 18)} "
                    line += f"{_pad(_text(voice.identifier), 20)} "
                else:
                    line += f"({language_name} {priority})"
            lines.append(line)
            index += 1
        return "\n".join(lines) + "\n"

    def variants(self) -> list[str]:
        """Names of the installed voice variants (the files in ``voices/!v``), sorted."""
        folder = self.data / "voices" / VARIANT_FOLDER
        return sorted(path.name for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []

    def synthesize(self, text: str, voice: str, speed: int | None = None, pitch: int | None = None) -> bytes:
        """The WAV stream for ``text``, as ``espeak-ng -v voice -s speed -p pitch --stdout text`` writes it.

        Args:
            text: what to say.
            voice: ``accent`` or ``accent+variant`` (e.g. ``"en-us+f3"``).
            speed: words per minute, None for the voice's default.
            pitch: base pitch 0..99, None for the voice's default.

        Raises:
            RunnerError: unknown voice or variant, or the synthesis failed.
        """
        accent, _, variant = voice.partition("+")
        if variant and variant not in self.variants():
            raise RunnerError(
                f"unknown voice variant {variant!r} in {voice!r}: no file {variant!r} in "
                f"{self.data / 'voices' / VARIANT_FOLDER}"
            )
        # Like the command: by name (or file), else by language ("en-gb" is the language of the file "gmw/en").
        if self.lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
            wanted = ctypes.create_string_buffer(voice.encode())
            spec = _Voice(languages=ctypes.addressof(wanted))
            if self.lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) != EE_OK:
                raise RunnerError(f"the espeak-ng voice {accent!r} does not exist (data at {self.data})")
        # Like the command: parameters after the voice, each only when given.
        if speed is not None and speed > 0:
            self.lib.espeak_SetParameter(ESPEAK_RATE, speed, 0)
        if pitch is not None and pitch >= 0:
            self.lib.espeak_SetParameter(ESPEAK_PITCH, pitch, 0)
        encoded = os.fsencode(text)
        buffer = ctypes.create_string_buffer(encoded)
        self._samples = []
        status = self.lib.espeak_Synth(buffer, len(encoded) + 1, 0, POS_CHARACTER, 0, SYNTH_FLAGS, None, None)
        if status != EE_OK or self.lib.espeak_Synchronize() != EE_OK:
            raise RunnerError(f"espeak-ng synthesis failed (status {status}) for voice {voice!r}")
        return wav_header(self.sample_rate) + b"".join(self._samples)


def wav_header(rate: int) -> bytes:
    """The 44-byte header the command streams before 16-bit mono samples at ``rate`` Hz.

    Its RIFF and data sizes are placeholders (0x7ffff024, 0x7ffff000): the stream's length is not known
    when the header is written.
    """
    riff = b"RIFF\x24\xf0\xff\x7fWAVE"
    fmt = b"fmt \x10\x00\x00\x00\x01\x00\x01\x00" + rate.to_bytes(4, "little") + (2 * rate).to_bytes(4, "little")
    return riff + fmt + b"\x02\x00\x10\x00" + b"data\x00\xf0\xff\x7f"  # 2 bytes a frame, 16 bits; data size


def _text(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", errors="replace")


def _pad(text: str, width: int) -> str:
    # C's printf pads to a width in bytes, not characters ("Māori" is 6 bytes of UTF-8)
    return text + " " * max(0, width - len(text.encode()))


def _languages(pointer: int | None) -> list[tuple[int, str]]:
    pairs = []
    position = pointer or 0
    while position and ctypes.string_at(position, 1) != b"\x00":
        priority = ctypes.string_at(position, 1)[0]
        name = ctypes.string_at(position + 1)
        pairs.append((priority, _text(name)))
        position += len(name) + 2
    return pairs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m neuro_core.datasets.espeak_runner",
        description="espeak-ng's command line (the subset neuro-core uses) on the espeakng-loader wheel's library",
    )
    parser.add_argument("-v", dest="voice", default="default", help="voice, e.g. en-us or en-us+f3")
    parser.add_argument("-s", dest="speed", type=int, help="speed, words per minute (80..450)")
    parser.add_argument("-p", dest="pitch", type=int, help="base pitch 0..99")
    parser.add_argument("--stdout", action="store_true", help="write the WAV stream to stdout (required)")
    parser.add_argument("--voices", nargs="?", const="", metavar="LANGUAGE", help="list the voices and exit")
    parser.add_argument("--version", action="store_true", help="print the version and data folder and exit")
    parser.add_argument("text", nargs="?", help="the words to say")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one espeak-ng command line (see the module docstring); returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.voices is None and not args.version:
        if not args.stdout:
            parser.error("only --stdout output is supported")
        if args.text is None:
            parser.error("give the text to speak on the command line")
    try:
        engine = Engine(*locate())
        if args.version:
            output = (engine.version() + "\n").encode()
        elif args.voices is not None:
            output = engine.voices(args.voices).encode()
        else:
            output = engine.synthesize(args.text, args.voice, args.speed, args.pitch)
    except RunnerError as error:
        print(f"espeak_runner: {error}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(output)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

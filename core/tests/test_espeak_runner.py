"""The espeakng-loader runner: espeak-ng's command line on the wheel's library, always in another process.

The wheel is never imported here: whether it is installed is looked up with ``importlib.util.find_spec``.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from neuro_core.datasets import tts
from neuro_core.datasets.speech import VARIANTS
from neuro_core.errors import NeuroError

HAS_LOADER = importlib.util.find_spec("espeakng_loader") is not None
needs_loader = pytest.mark.skipif(not HAS_LOADER, reason="needs the espeakng-loader wheel (neuro-core[tts])")
_spec = importlib.util.find_spec("neuro_core.datasets.espeak_runner")  # located, not imported
assert _spec is not None and _spec.origin is not None
RUNNER = Path(_spec.origin)


@pytest.fixture
def runner_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Hide the espeak-ng command, so tts falls back to the runner; returns the command it uses."""
    monkeypatch.delenv("NEURO_ESPEAK", raising=False)
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    command = tts.espeak_command()
    assert command[0] == sys.executable and Path(command[-1]) == RUNNER
    return command


def pitch_hz(audio: np.ndarray, rate: int) -> float:
    """Median autocorrelation pitch (Hz, 60..400) of the loud 40 ms frames of ``audio``."""
    frame = int(0.04 * rate)
    frames = [audio[i : i + frame] for i in range(0, len(audio) - frame, frame // 2)]
    energy = np.array([np.sum(f**2) for f in frames])
    lo, hi = int(rate / 400), int(rate / 60)
    lags = []
    for f in (f - f.mean() for f, e in zip(frames, energy, strict=True) if e > 0.3 * energy.max()):
        correlation = np.correlate(f, f, "full")[frame - 1 :]
        lags.append(lo + int(np.argmax(correlation[lo:hi])))
    return float(rate / np.median(lags))


@needs_loader
def test_runner_speaks_seven_in_a_separate_process(runner_only: list[str]) -> None:
    audio, rate = tts.synthesize("seven", "en-us", "f3")
    assert rate == 22050
    assert audio.ndim == 1 and audio.dtype == np.float64
    assert 0.3 * rate < len(audio) < 2.0 * rate  # one word at 160 words per minute
    assert 0.05 < np.abs(audio).max() <= 1.0
    assert "espeakng_loader" not in sys.modules  # the GPL library never entered this process


@needs_loader
def test_runner_speed_and_pitch(runner_only: list[str]) -> None:
    slow, rate = tts.synthesize("seven", "en-us", "f3", speed=100)
    fast, _ = tts.synthesize("seven", "en-us", "f3", speed=300)
    assert len(fast) < 0.5 * len(slow)
    low, _ = tts.synthesize("seven", "en-us", "f3", pitch=10)
    high, _ = tts.synthesize("seven", "en-us", "f3", pitch=90)
    assert pitch_hz(high, rate) > 1.5 * pitch_hz(low, rate)
    plain, _ = tts.synthesize("seven", "en-us")
    assert not np.array_equal(plain, tts.synthesize("seven", "en-us", "f3")[0])  # the variant is applied
    assert "espeakng_loader" not in sys.modules


@needs_loader
def test_runner_lists_the_variants_and_its_version(runner_only: list[str]) -> None:
    variants = tts.espeak_variants()
    assert {"f3", "m3", "klatt2", "Alex"} <= set(variants)
    assert set(VARIANTS) <= set(variants)  # every variant the generator draws from
    version = subprocess.run([*runner_only, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("eSpeak NG text-to-speech: ") and "Data at: " in version
    data = Path(version.split("Data at: ")[-1].strip())  # the wheel's espeak-ng-data folder
    assert variants == sorted(path.name for path in (data / "voices" / "!v").iterdir())
    assert "espeakng_loader" not in sys.modules


@needs_loader
def test_runner_rejects_unknown_voices_by_name(runner_only: list[str]) -> None:
    with pytest.raises(NeuroError, match=r"espeak-ng failed for voice 'xx-nowhere'.*'xx-nowhere' does not exist"):
        tts.synthesize("seven", "xx-nowhere")
    # The command silently speaks the plain voice for an unknown variant; the runner says so instead.
    with pytest.raises(NeuroError, match=r"unknown voice variant 'nosuch'"):
        tts.synthesize("seven", "en-us", "nosuch")
    result = subprocess.run([*runner_only, "-v", "en-us", "seven"], capture_output=True, text=True)
    assert result.returncode == 2 and "only --stdout" in result.stderr


def _fake_loader(folder: Path, library: str, data: str) -> dict[str, str]:
    """A stand-in ``espeakng_loader`` package in ``folder``; returns the environment that puts it first."""
    (folder / "espeakng_loader").mkdir()
    (folder / "espeakng_loader" / "__init__.py").write_text(
        f"def get_library_path():\n    return {library!r}\n\ndef get_data_path():\n    return {data!r}\n"
    )
    return {**os.environ, "PYTHONPATH": str(folder)}


def test_runner_failures_are_reported_on_stderr(tmp_path: Path) -> None:
    env = _fake_loader(tmp_path, str(tmp_path / "libmissing.so"), str(tmp_path))
    (tmp_path / "phontab").write_bytes(b"")
    result = subprocess.run([sys.executable, "-P", str(RUNNER), "--version"], capture_output=True, env=env)
    assert result.returncode == 1 and result.stdout == b""
    assert b"cannot load the espeak-ng library" in result.stderr and b"libmissing.so" in result.stderr
    (tmp_path / "phontab").unlink()
    result = subprocess.run([sys.executable, "-P", str(RUNNER), "--version"], capture_output=True, env=env)
    assert result.returncode == 1 and b"no espeak-ng data at" in result.stderr
    # No site-packages at all (-S): the wheel cannot be found.
    result = subprocess.run([sys.executable, "-S", "-P", str(RUNNER), "--version"], capture_output=True)
    assert result.returncode == 1 and b"pip install neuro-core[tts]" in result.stderr


def test_without_either_the_error_names_both_install_routes(no_tts: None) -> None:
    with pytest.raises(tts.TTSNotAvailableError, match="apt-get install espeak-ng") as error:
        tts.espeak_command()
    assert "pip install neuro-core[tts]" in str(error.value) and "espeakng-loader" in str(error.value)
    with pytest.raises(tts.TTSNotAvailableError):
        tts.synthesize("seven", "en-us")


def test_espeak_command_prefers_the_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEURO_ESPEAK", str(tmp_path / "my-espeak"))
    assert tts.espeak_command() == [str(tmp_path / "my-espeak")]
    monkeypatch.delenv("NEURO_ESPEAK")
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: f"/opt/bin/{name}")
    assert tts.espeak_command() == ["/opt/bin/espeak-ng"]


def _debian_espeak() -> tuple[str, str] | None:
    """``(library, data)`` of the installed espeak-ng command's own library, if there is one."""
    command, library = shutil.which("espeak-ng"), ctypes.util.find_library("espeak-ng")
    if command is None or library is None:
        return None
    version = subprocess.run([command, "--version"], capture_output=True, text=True).stdout
    return (library, version.split("Data at:")[-1].strip()) if "Data at:" in version else None


@pytest.mark.skipif(_debian_espeak() is None, reason="needs the espeak-ng command and its shared library")
def test_runner_matches_the_command_byte_for_byte_on_the_same_library(tmp_path: Path) -> None:
    """On the command's own library, the runner prints exactly what the command prints."""
    library, data = _debian_espeak() or ("", "")
    env = _fake_loader(tmp_path, library, data)

    def both(*args: str) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
        runner = subprocess.run([sys.executable, "-P", str(RUNNER), *args], capture_output=True, env=env)
        return runner, subprocess.run(["espeak-ng", *args], capture_output=True)

    runner, command = both("--version")
    if runner.stdout != command.stdout:
        pytest.skip(f"the command and {library} differ: {command.stdout!r} vs {runner.stdout!r}")
    for args in (
        ("--voices=variant",),
        ("--voices=en",),
        ("-v", "en-us+f3", "-s", "160", "-p", "50", "--stdout", "seven"),
        ("-v", "en-gb", "-s", "450", "-p", "0", "--stdout", "a lot"),
        ("-v", "en-gb-scotland+klatt2", "-s", "80", "-p", "99", "--stdout", "aloha"),
        ("-v", "en-029+Alex", "--stdout", "zero"),
    ):
        runner, command = both(*args)
        assert runner.returncode == command.returncode == 0, runner.stderr
        assert runner.stdout == command.stdout, args
    runner, command = both("-v", "xx-nowhere", "--stdout", "seven")
    assert runner.returncode == command.returncode == 1 and runner.stdout == command.stdout == b""

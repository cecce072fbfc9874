"""neuro_core.datasets.tts: which voice espeak-ng is asked for, and that every accent keeps its variant."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from neuro_core.datasets import tts
from neuro_core.errors import NeuroError

# The head of `espeak-ng --voices=en-gb` (1.51): the language's own voice, an MBROLA voice listed first
# for it, and another accent that also lists en-gb.
EN_GB_TABLE = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 2  en-gb           --/M      mbrola-first       mb/mb-en1            (en 2)
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 5  en-gb-x-gbclan  --/M      English_(Lancaster) gmw/en-GB-x-gbclan   (en-gb 3)(en 5)
"""


@pytest.fixture
def voice_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """A fake espeak-ng that lists EN_GB_TABLE for en-gb (any case, like espeak-ng) and no voice
    otherwise; returns its calls."""
    calls: list[list[str]] = []
    tts._voice_file.cache_clear()
    monkeypatch.setenv("NEURO_ESPEAK", "/fake/espeak-ng")

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        listing = EN_GB_TABLE if command[-1].lower() == "--voices=en-gb" else EN_GB_TABLE.splitlines()[0] + "\n"
        return subprocess.CompletedProcess(command, 0, listing, "")

    monkeypatch.setattr(subprocess, "run", run)
    yield calls
    tts._voice_file.cache_clear()


def test_voice_file_is_the_languages_own_non_mbrola_voice(voice_table: list[list[str]]) -> None:
    assert tts.espeak_voice_file("en-gb") == "gmw/en"
    assert tts.espeak_voice_file("EN-GB") == "gmw/en"  # espeak-ng matches languages case-insensitively
    assert tts.espeak_voice_file("gmw/en-US") == "gmw/en-US"  # nothing listed: already a file name
    tts.espeak_voice_file("en-gb")
    assert voice_table == [
        ["/fake/espeak-ng", "--voices=en-gb"],
        ["/fake/espeak-ng", "--voices=EN-GB"],
        ["/fake/espeak-ng", "--voices=gmw/en-US"],
    ]  # one listing per language: the repeated lookup came from the cache


def test_a_failing_voice_listing_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    tts._voice_file.cache_clear()
    monkeypatch.setenv("NEURO_ESPEAK", "/fake/espeak-ng")
    failed = subprocess.CompletedProcess(["x"], 1, "", "no voices folder")
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: failed)
    with pytest.raises(NeuroError, match=r"could not list its voices \(/fake/espeak-ng --voices=en-gb\): no voices"):
        tts.espeak_voice_file("en-gb")
    tts._voice_file.cache_clear()


ROUTES = {
    "command": shutil.which("espeak-ng") is not None,
    "runner": importlib.util.find_spec("espeakng_loader") is not None,
}


@pytest.fixture(params=sorted(ROUTES))
def tts_route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each installed espeak-ng route in turn: the command, or the espeakng-loader runner."""
    if not ROUTES[request.param]:
        pytest.skip(f"the espeak-ng {request.param} is not installed")
    monkeypatch.delenv("NEURO_ESPEAK", raising=False)
    if request.param == "runner":
        monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    return str(request.param)


@pytest.mark.parametrize("accent", tts.ENGLISH_ACCENTS)
def test_every_accent_keeps_its_variant(tts_route: str, accent: str) -> None:
    # Named by its language, en-gb lost the variant: "en-gb+f3" spoke plain en-gb (generator revision 1).
    plain, _ = tts.synthesize("seven", accent)
    female, _ = tts.synthesize("seven", accent, "f3")
    male, _ = tts.synthesize("seven", accent, "m3")
    assert not np.array_equal(plain, female) and not np.array_equal(female, male)

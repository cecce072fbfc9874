"""Shared fixtures of the core tests: a fresh plugin registry and a clean environment per test."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from neuro_core import plugins

sys.path.insert(0, str(Path(__file__).parent))  # so tests can import core_helpers and fakedist


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from an undiscovered registry and without the NEURO_* switches set."""
    for name in ("NEURO_STRICT_PLUGINS", "NEURO_DISABLE_PLUGIN_AUTOLOAD", "NEURO_TRACE_HOOKS"):
        monkeypatch.delenv(name, raising=False)
    plugins.reset_registry()
    yield
    plugins.reset_registry()


@pytest.fixture
def no_tts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide every text-to-speech route: the espeak-ng command ($NEURO_ESPEAK, PATH) and the
    espeakng-loader wheel (neuro-core[tts])."""
    monkeypatch.delenv("NEURO_ESPEAK", raising=False)
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a, **k: None if name == "espeakng_loader" else find_spec(name, *a, **k),
    )

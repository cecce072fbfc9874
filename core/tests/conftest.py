"""Shared fixtures of the core tests: a fresh plugin registry and a clean environment per test."""

from __future__ import annotations

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

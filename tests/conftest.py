"""Cross-package tests: run with neuro-core and every plugin installed (tox env ``cross``)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes seconds to tens of seconds (venvs, pip installs); run by default in tox"
    )

"""Fake installed distributions for discovery tests.

``install(tmp_path, ...)`` writes ``<module>.py`` files and a ``<dist>-<version>.dist-info`` folder
(METADATA + entry_points.txt) into a folder put on ``sys.path``: exactly what pip leaves behind,
so ``importlib.metadata`` finds the entry points as it finds real ones.
"""

from __future__ import annotations

import itertools
import sys
import textwrap
from pathlib import Path

import pytest

_counter = itertools.count()

DEVICE_PLUGIN = """
import numpy as np
from neuro_core import Target, hookimpl, SimResult

CALLS = []

@hookimpl
def neuro_register_devices(register):
    for name in DEVICES:
        register(name, Target(name, "fake", "digital", 1, 8), "a fake chip for tests")

@hookimpl
def neuro_simulate(device, target, program, inputs, record, chip_id, seed):
    CALLS.append(device)
    return SimResult(device, 1e-3, np.zeros(inputs.shape))
"""


def unique(prefix: str) -> str:
    """A module name not used before in this process (sys.modules caches imports)."""
    return f"{prefix}_{next(_counter)}_{id(object())}"


def device_plugin_source(*devices: str) -> str:
    """Source of a plugin module that registers ``devices`` and implements neuro_simulate."""
    return f"DEVICES = {list(devices)!r}\n" + textwrap.dedent(DEVICE_PLUGIN)


def install(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    distribution: str,
    version: str,
    modules: dict[str, str],
    entry_points: dict[str, str],
) -> Path:
    """Install a fake distribution into ``root`` (added to sys.path); return the dist-info folder."""
    root.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (root / f"{module}.py").write_text(source)
    info = root / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[neuro.devices]\n{lines}\n")
    monkeypatch.syspath_prepend(str(root))
    for module in modules:
        monkeypatch.delitem(sys.modules, module, raising=False)  # forget it again after the test
    return info

"""Discovery of really installed distributions, and isolation of a broken one in a fresh venv.

Run in the tox env ``cross``, where neuro-core, the example plugin and the chip plugins are
installed as ordinary (non-editable) distributions.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import neuro_core
import pytest
from neuro_core.plugins import ENTRY_POINT_GROUP, get_registry, reset_registry

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "neuro-broken-plugin"
# distribution -> a device it must provide when installed
KNOWN_PLUGINS = {
    "neuro-example-plugin": "example-if8",
    "neuro-xylo": "xylo-audio2",
    "neuro-loihi": "loihi",
    "neuro-dynapse2": "dynapse2",
}


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def test_installed_distributions_are_discovered_with_distribution_and_version() -> None:
    reset_registry()
    found = neuro_core.devices()
    plugins = get_registry().plugins
    assert installed_version("neuro-example-plugin"), "the cross env installs examples/neuro-example-plugin"
    checked = 0
    for distribution, device in KNOWN_PLUGINS.items():
        version = installed_version(distribution)
        if version is None:
            continue
        assert device in found, f"{distribution} {version} is installed but {device!r} was not discovered"
        info = found[device]
        assert (info.distribution, info.version) == (distribution, version)
        owner = plugins[info.plugin]
        assert owner.error is None and device in owner.devices
        assert "neuro_simulate" in owner.hooks
        checked += 1
    assert checked >= 1
    # every entry point in the group is accounted for: loaded, or reported with its error
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        assert entry_point.name in plugins
        assert plugins[entry_point.name].distribution == entry_point.dist.metadata["Name"]  # type: ignore[union-attr]


def run(argv: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def copy_project(source: Path, destination: Path) -> Path:
    """Copy a project without build leftovers, so building it never writes into the repository."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests"))
    return destination


@pytest.mark.slow
def test_a_broken_distribution_leaves_neuro_working_in_a_fresh_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    site = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], {**os.environ}
        ).stdout.strip()
    )
    # --system-site-packages exposes the *base* interpreter's packages; when this test itself runs
    # in a venv (tox), expose that venv's packages too (neuro-core's dependencies, pip, setuptools).
    here = sysconfig.get_paths()["purelib"]
    (site / "_running_env.pth").write_text(f"import site; site.addsitedir({here!r})\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEURO_", "PYTHON"))}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    offline = ["--no-deps", "--ignore-installed", "--quiet"]
    if importlib.util.find_spec("setuptools") is not None:  # build with it, without any download
        offline += ["--no-build-isolation", "--no-index"]

    # pip install ./core, then `neuro devices --json` lists ideal
    run([str(python), "-m", "pip", "install", *offline, str(copy_project(ROOT / "core", tmp_path / "core"))], env)
    neuro = bindir / "neuro"
    assert neuro.exists(), "installing neuro-core must install the `neuro` command"
    before = json.loads(run([str(neuro), "devices", "--json"], env).stdout)
    assert "ideal" in before

    # install a distribution whose entry point raises on import
    broken = copy_project(FIXTURE, tmp_path / "neuro-broken-plugin")
    run([str(python), "-m", "pip", "install", *offline, str(broken)], env)
    after = json.loads(run([str(neuro), "devices", "--json"], env).stdout)
    assert after.keys() == before.keys()  # every device still there, nothing added or lost
    assert after["ideal"]["distribution"] == "neuro-core"

    report = json.loads(run([str(neuro), "plugins", "--json"], env).stdout)
    failed = {p["distribution"]: p for p in report["plugins"] if p["error"]}
    assert list(failed) == ["neuro-broken-plugin"]
    entry = failed["neuro-broken-plugin"]
    assert entry["version"] == "0.0.1" and entry["name"] == "broken"
    assert entry["error"].startswith("ImportError: neuro_broken_plugin is broken on purpose")
    assert "neuro-broken-plugin" in entry["hint"]
    text = run([str(neuro), "plugins"], env).stdout
    assert "broken  (neuro-broken-plugin 0.0.1)  FAILED" in text

    # strict mode turns the report into an error, on one line, exit status 2
    strict = subprocess.run(
        [str(neuro), "devices"], capture_output=True, text=True, env={**env, "NEURO_STRICT_PLUGINS": "1"}, timeout=300
    )
    assert strict.returncode == 2
    assert strict.stderr.startswith("neuro: error: plugin 'broken' from neuro-broken-plugin 0.0.1 failed to load")

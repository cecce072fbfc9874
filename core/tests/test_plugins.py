"""Discovery and the registry: real entry points of fake installed distributions, broken and
misspelt plugins, duplicate device names, environment switches, routing to the owning plugin."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import neuro_core
import numpy as np
import pytest
from core_helpers import lif_chain
from fakedist import device_plugin_source, install, unique
from neuro_core import (
    DeviceNotFoundError,
    PluginError,
    PowerReport,
    Program,
    SimResult,
    Target,
    hookimpl,
    register_plugin,
)
from neuro_core.ideal import ideal_target
from neuro_core.plugins import get_registry, reset_registry


def test_entry_points_of_an_installed_distribution_are_discovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = unique("neuro_fake")
    install(
        tmp_path,
        monkeypatch,
        "neuro-fake",
        "1.2.3",
        {module: device_plugin_source("fake-a", "fake-b")},
        {"fake": module},
    )
    reset_registry()
    found = neuro_core.devices()
    assert {"ideal", "fake-a", "fake-b"} <= set(found)
    info = found["fake-a"]
    assert (info.distribution, info.version, info.plugin, info.summary) == (
        "neuro-fake",
        "1.2.3",
        "fake",
        "a fake chip for tests",
    )
    plugin = get_registry().plugins["fake"]
    assert plugin.error is None and plugin.devices == ["fake-a", "fake-b"]
    assert plugin.hooks == ["neuro_register_devices", "neuro_simulate"]
    assert found["ideal"].distribution == "neuro-core"


def broken_and_good(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error_line: str) -> tuple[str, str]:
    broken, good = unique("neuro_broken"), unique("neuro_good")
    install(tmp_path / "a", monkeypatch, "neuro-broken", "0.9.0", {broken: error_line}, {"broken": broken})
    install(
        tmp_path / "b", monkeypatch, "neuro-good", "2.0.0", {good: device_plugin_source("good-chip")}, {"good": good}
    )
    reset_registry()
    return broken, good


def test_a_plugin_that_fails_to_import_is_reported_and_the_others_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_and_good(tmp_path, monkeypatch, "raise RuntimeError('the vendor SDK exploded')\n")
    registry = get_registry()
    report = registry.plugins["broken"]
    assert (report.distribution, report.version) == ("neuro-broken", "0.9.0")
    assert report.error == "RuntimeError: the vendor SDK exploded"
    assert report.hint is not None and "pip install -U neuro-broken" in report.hint and "pip uninstall" in report.hint
    assert report.devices == []
    assert {"ideal", "good-chip"} <= set(neuro_core.devices())  # the others still load and work
    program = Program("good-chip", 1, {})
    assert neuro_core.device("good-chip").simulate(program, np.zeros((1, 2, 3))).outputs.shape == (1, 2, 3)


def test_a_missing_dependency_gets_a_pip_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken_and_good(tmp_path, monkeypatch, "import vendor_sdk_that_is_not_installed\n")
    report = get_registry().plugins["broken"]
    assert report.error == "ModuleNotFoundError: No module named 'vendor_sdk_that_is_not_installed'"
    assert report.hint is not None and report.hint.startswith("a module it needs is missing: pip install vendor_sdk")


def test_strict_mode_raises_on_a_broken_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken_and_good(tmp_path, monkeypatch, "raise ImportError('boom')\n")
    monkeypatch.setenv("NEURO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match=r"plugin 'broken' from neuro-broken 0\.9\.0 failed to load: boom"):
        neuro_core.devices()


def test_autoload_can_be_disabled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = unique("neuro_fake")
    install(tmp_path, monkeypatch, "neuro-fake", "1.0", {module: device_plugin_source("fake-c")}, {"fake": module})
    monkeypatch.setenv("NEURO_DISABLE_PLUGIN_AUTOLOAD", "1")
    reset_registry()
    assert list(neuro_core.devices()) == ["ideal"]  # entry points were not even imported
    assert module not in sys.modules
    manual = unique("manual")
    exec_module = type(sys)(manual)
    exec(device_plugin_source("manual-chip"), exec_module.__dict__)
    register_plugin(exec_module, name="manual")
    assert list(neuro_core.devices()) == ["ideal", "manual-chip"]  # explicit registration still works


class Misspelt:
    @hookimpl
    def neuro_simulat(self, device: str) -> None:  # a typo of neuro_simulate
        raise AssertionError("never called")


def test_a_misspelt_hook_is_an_error_naming_plugin_and_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PluginError, match=r"plugin 'typo' \(neuro-typo 1\.0\) implements a hook that does not exist"):
        get_registry().register(Misspelt(), "typo", "neuro-typo", "1.0")
    assert "typo" not in get_registry().plugins  # nothing stays half-registered
    assert get_registry().pm.get_plugin("typo") is None
    # the same through an entry point: reported as that distribution's load error
    module = unique("neuro_typo")
    source = (
        "from neuro_core import hookimpl\n@hookimpl\ndef neuro_quantise(device, target, graph, options):\n    pass\n"
    )
    install(tmp_path, monkeypatch, "neuro-typo", "3.1", {module: source}, {"typo": module})
    reset_registry()
    report = get_registry().plugins["typo"]
    assert "neuro_quantise" in (report.error or "") and "neuro-typo 3.1" in (report.error or "")
    assert report.hint is not None and "incompatible with this neuro-core" in report.hint


class WrongArguments:
    @hookimpl
    def neuro_map(self, device: str, target: Target, graf: Any) -> None:  # 'graf' is no argument of the spec
        raise AssertionError("never called")


def test_a_hook_with_wrong_arguments_is_a_plugin_error() -> None:
    with pytest.raises(PluginError, match=r"(?s)plugin 'args' \(neuro-args 1\.0\) has an invalid hook.*graf"):
        get_registry().register(WrongArguments(), "args", "neuro-args", "1.0")


def test_two_plugins_claiming_one_device_name_is_an_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = unique("neuro_one"), unique("neuro_two")
    install(tmp_path / "1", monkeypatch, "neuro-one", "1.0", {first: device_plugin_source("twin")}, {"one": first})
    install(tmp_path / "2", monkeypatch, "neuro-two", "2.0", {second: device_plugin_source("twin")}, {"two": second})
    reset_registry()
    assert "twin" not in neuro_core.devices()  # neither may serve it silently
    with pytest.raises(PluginError, match=r"'twin' is registered by more than one plugin:.*neuro-(one|two).*neuro-"):
        neuro_core.device("twin")
    with pytest.raises(PluginError) as caught:
        neuro_core.device("twin")
    message = str(caught.value)
    assert "neuro-one" in message and "neuro-two" in message and "uninstall one" in message


def test_claiming_the_builtin_ideal_device_is_a_conflict_too() -> None:
    class Impostor:
        @hookimpl
        def neuro_register_devices(self, register: Any) -> None:
            register("ideal", ideal_target(), "a second ideal")

    register_plugin(Impostor(), name="impostor", distribution="neuro-impostor", version="0.1")
    with pytest.raises(PluginError, match=r"neuro-core.*neuro-impostor"):
        neuro_core.device("ideal")


def test_a_device_registered_with_a_mismatched_target_is_refused() -> None:
    class Mislabelled:
        @hookimpl
        def neuro_register_devices(self, register: Any) -> None:
            register("chip-x", Target("chip-y", "x", "digital", 1, 1), "wrong target")

    with pytest.raises(PluginError, match="registered device 'chip-x' with a Target named 'chip-y'"):
        get_registry().register(Mislabelled(), "mis", "neuro-mis", "1")
    assert "chip-x" not in get_registry().devices and get_registry().pm.get_plugin("mis") is None


def test_the_not_found_message_lists_devices_and_suggests_a_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEURO_DISABLE_PLUGIN_AUTOLOAD", "1")  # whatever is installed: only ideal
    register_plugin(Recorder("rec-z"), name="z", distribution="neuro-z", version="1")
    with pytest.raises(DeviceNotFoundError) as caught:
        neuro_core.device("akida-1000")
    assert str(caught.value) == (
        "no device named 'akida-1000'; installed devices: ideal, rec-z. "
        "If it is provided by a plugin, install it: pip install neuro-akida"
    )
    assert isinstance(caught.value, LookupError)  # callers may catch it as a lookup failure


def test_trace_hooks_prints_every_hook_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEURO_TRACE_HOOKS", "1")
    reset_registry()
    neuro_core.device("ideal").quantize(lif_chain())
    err = capsys.readouterr().err
    assert "neuro_register_devices" in err
    assert "neuro_quantize [hook]" in err and "device: ideal" in err
    assert "finish neuro_quantize -->" in err


class Recorder:
    """A device plugin owning ``name`` whose hooks record their calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[str, str]] = []

    @hookimpl
    def neuro_register_devices(self, register: Any) -> None:
        register(self.name, Target(self.name, "rec", "digital", 1, 4), f"recorder {self.name}")

    @hookimpl
    def neuro_simulate(self, device: str, target: Target, program: Program, inputs: np.ndarray) -> SimResult:
        self.calls.append(("simulate", device))
        return SimResult(device, 1e-3, np.zeros(inputs.shape))


class EnergyLogger:
    """A plugin with no device: it wraps neuro_measure_power and neuro_simulate of every device."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    @hookimpl(wrapper=True)
    def neuro_simulate(self, device: str) -> Any:
        result = yield
        self.seen.append(("simulate", device))
        return result

    @hookimpl(wrapper=True)
    def neuro_measure_power(self, device: str) -> Any:
        report = yield
        self.seen.append(("power", f"{device}:{report.energy_per_inference_j}"))
        return report


def test_the_core_calls_only_the_owner_while_wrappers_observe_every_device() -> None:
    a, b, logger = Recorder("rec-a"), Recorder("rec-b"), EnergyLogger()
    for plugin, name in ((a, "a"), (b, "b"), (logger, "logger")):
        register_plugin(plugin, name=name, distribution=f"neuro-{name}", version="1")
    x = np.zeros((1, 3, 2))
    neuro_core.device("rec-a").simulate(Program("rec-a", 1, {}), x)
    neuro_core.device("rec-b").simulate(Program("rec-b", 1, {}), x)
    assert a.calls == [("simulate", "rec-a")] and b.calls == [("simulate", "rec-b")]  # never the other device's
    ideal = neuro_core.device("ideal")
    program = ideal.compile(lif_chain())
    result = ideal.simulate(program, np.zeros((1, 3, 3)))
    report = ideal.measure_power(program, result)
    assert isinstance(report, PowerReport)
    assert logger.seen == [("simulate", "rec-a"), ("simulate", "rec-b"), ("simulate", "ideal"), ("power", "ideal:0.0")]
    assert get_registry().plugins["logger"].devices == []


def test_a_hook_the_owner_lacks_is_an_error_not_another_plugins_answer() -> None:
    register_plugin(Recorder("rec-c"), name="c", distribution="neuro-c", version="1")
    device = neuro_core.device("rec-c")
    result = SimResult("rec-c", 1e-3, np.zeros((1, 1, 1)))
    # ideal implements neuro_measure_power, but only the owner of rec-c may answer for it
    with pytest.raises(PluginError, match=r"plugin 'c' \(neuro-c\) does not implement neuro_measure_power for 'rec-c'"):
        device.measure_power(Program("rec-c", 1, {}), result)
    assert get_registry().implements("neuro_simulate", "rec-c")
    assert not get_registry().implements("neuro_measure_power", "rec-c")


def test_a_plugin_failing_while_declaring_devices_is_unregistered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = unique("neuro_half")
    source = "from neuro_core import hookimpl\n@hookimpl\ndef neuro_register_devices(register):\n    1 / 0\n"
    install(tmp_path, monkeypatch, "neuro-half", "1.0", {module: source}, {"half": module})
    reset_registry()
    registry = get_registry()
    assert registry.plugins["half"].error == "ZeroDivisionError: division by zero"
    assert registry.pm.get_plugin("half") is None
    assert "ideal" in registry.devices

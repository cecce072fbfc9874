"""The ``neuro`` command, run in-process through ``main()`` (plus one real subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import neuro_core
import numpy as np
import pytest
from core_helpers import lif_chain, spike_inputs
from fakedist import install, unique
from neuro_core import MappingError, Program, Target, Violation, hookimpl, register_plugin
from neuro_core.cli import main, save_npz_atomic
from neuro_core.ideal import ideal_target


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("neuro: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    graph = lif_chain()
    paths = {"graph": tmp_path / "model.ngraph", "x": tmp_path / "x.npy", "x2d": tmp_path / "x2d.npy"}
    graph.save(paths["graph"])
    x = spike_inputs(graph)
    np.save(paths["x"], x)
    np.save(paths["x2d"], x[0])
    paths["program"] = tmp_path / "model.prog"
    return paths


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"neuro-core {neuro_core.__version__}"


def test_devices(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "devices", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["ideal"]["distribution"] == "neuro-core" and data["ideal"]["target"]["name"] == "ideal"
    code, out, _ = run(capsys, "devices")
    assert code == 0 and any(line.startswith("ideal ") and "neuro-core" in line for line in out.splitlines())


def test_plugins_reports_hooks_devices_and_load_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = unique("neuro_broken")
    install(tmp_path, monkeypatch, "neuro-broken", "0.3.0", {module: "import not_installed_sdk\n"}, {"broken": module})
    code, out, _ = run(capsys, "plugins", "--json")
    assert code == 0
    by_name = {p["name"]: p for p in json.loads(out)["plugins"]}
    assert by_name["ideal"]["devices"] == ["ideal"] and "neuro_simulate" in by_name["ideal"]["hooks"]
    broken = by_name["broken"]
    assert (broken["distribution"], broken["version"]) == ("neuro-broken", "0.3.0")
    assert broken["error"] == "ModuleNotFoundError: No module named 'not_installed_sdk'"
    assert "pip install not_installed_sdk" in broken["hint"]
    code, out, _ = run(capsys, "plugins")
    assert "broken  (neuro-broken 0.3.0)  FAILED" in out
    assert "error: ModuleNotFoundError" in out and "hint:  a module it needs is missing" in out
    code, out, _ = run(capsys, "devices", "--json")
    assert code == 0 and "ideal" in json.loads(out)  # the broken plugin does not break the others


def test_plugins_and_devices_show_a_device_name_conflict(capsys: pytest.CaptureFixture[str]) -> None:
    class Twin:
        @hookimpl
        def neuro_register_devices(self, register: Any) -> None:
            register("ideal", ideal_target(), "a second ideal")

    register_plugin(Twin(), name="twin", distribution="neuro-twin", version="1")
    code, out, _ = run(capsys, "plugins", "--json")
    conflicts = json.loads(out)["conflicts"]
    assert [c["distribution"] for c in conflicts["ideal"]] == ["neuro-core", "neuro-twin"]
    code, out, _ = run(capsys, "devices")
    assert any(
        line.startswith("ideal ") and line.endswith("UNUSABLE: claimed by neuro-core and neuro-twin")
        for line in out.splitlines()
    )
    code, _, err = run(capsys, "target", "ideal")
    assert_one_line_error(code, err, "registered by more than one plugin", "neuro-twin")


def test_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "target", "ideal", "--json")
    assert code == 0 and Target.from_dict(json.loads(out)) == ideal_target()
    code, out, _ = run(capsys, "target", "ideal")
    assert code == 0 and "name: ideal" in out and "kind: float" in out and "source *: definition" in out


def test_unknown_device_is_one_line(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    code, _, err = run(capsys, "compile", str(files["graph"]), "--device", "akida", "-o", str(files["program"]))
    assert_one_line_error(code, err, "no device named 'akida'", "pip install neuro-akida")
    assert not files["program"].exists()


def test_compile_then_simulate_a_program(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    device = neuro_core.device("ideal")
    code, out, _ = run(capsys, "compile", str(files["graph"]), "--device", "ideal", "-o", str(files["program"]))
    assert code == 0 and "wrote" in out
    program = Program.load(files["program"], device="ideal")
    assert program.same_image(device.compile(lif_chain()))
    out_path = files["program"].with_suffix(".npz")
    argv = ["simulate", str(files["program"]), "--device", "ideal", "--input", str(files["x"]), "-o", str(out_path)]
    code, _, _ = run(capsys, *argv, "--record", "--chip-id", "3", "--seed", "5")
    assert code == 0
    expected = device.simulate(program, np.load(files["x"]), record=True)
    with np.load(out_path) as saved:
        np.testing.assert_array_equal(saved["outputs"], expected.outputs)
        np.testing.assert_array_equal(saved["counters/spikes"], expected.counters["spikes"])
        np.testing.assert_array_equal(saved["spikes/lif1"], expected.spikes["lif1"])
        np.testing.assert_array_equal(saved["states/lif1.v"], expected.states["lif1.v"])
        assert (float(saved["dt"]), str(saved["device"]), int(saved["chip_id"])) == (1e-3, "ideal", 3)


def test_simulate_a_model_directly_with_2d_inputs(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    out_path = files["graph"].parent / "direct.npz"
    argv = ["simulate", str(files["graph"]), "--device", "ideal", "--input", str(files["x2d"]), "-o", str(out_path)]
    code, _, _ = run(capsys, *argv)
    assert code == 0
    with np.load(out_path) as saved:
        assert saved["outputs"].shape == (1, 20, 2)
        assert "states/lif1.v" not in saved  # not recorded unless asked
        assert int(saved["chip_id"]) == -1  # the nominal chip
        device = neuro_core.device("ideal")
        expected = device.simulate(device.compile(lif_chain()), np.load(files["x2d"]))
        np.testing.assert_array_equal(saved["outputs"], expected.outputs)


def test_per_channel_reaches_the_quantizer(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    seen: list[Any] = []

    class Logger:
        @hookimpl(wrapper=True)
        def neuro_quantize(self, options: Any) -> Any:
            seen.append(dict(options))
            return (yield)

    register_plugin(Logger(), name="logger")
    code, _, _ = run(capsys, "compile", str(files["graph"]), "--device", "ideal", "-o", str(files["program"]))
    code, _, _ = run(
        capsys, "compile", str(files["graph"]), "--device", "ideal", "-o", str(files["program"]), "--per-channel"
    )
    assert code == 0 and seen == [{}, {"per_channel": True}]


def test_nir_models_get_dt_and_reset_passed_through(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from neuro_core import nir as neuro_nir

    calls: list[tuple[Any, ...]] = []

    def fake_load(path: Any, dt: float | None = None, reset: str | None = None) -> Any:
        calls.append((Path(path).name, dt, reset))
        return lif_chain()

    monkeypatch.setattr(neuro_nir, "load", fake_load)
    model = files["graph"].parent / "model.nir"
    model.write_bytes(b"placeholder: the loader is replaced")
    argv = ["compile", str(model), "--device", "ideal", "-o", str(files["program"])]
    code, _, _ = run(capsys, *argv, "--dt", "0.002", "--reset", "subtract")
    assert code == 0 and calls == [("model.nir", 0.002, "subtract")]
    code, _, _ = run(capsys, *argv)
    assert calls[-1] == ("model.nir", None, None)
    code, _, err = run(capsys, "compile", str(files["graph"]), "--device", "ideal", "-o", "x", "--dt", "0.1")
    assert_one_line_error(code, err, "--dt and --reset apply only to .nir models")
    with pytest.raises(SystemExit):
        main([*argv, "--reset", "halfway"])  # argparse refuses a reset mode that does not exist
    capsys.readouterr()


def test_a_real_nir_file_compiles(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("nir")
    pytest.importorskip("h5py")
    from neuro_core import nir as neuro_nir

    neuro_nir.save(lif_chain(), tmp_path / "model.nir")
    argv = ["compile", str(tmp_path / "model.nir"), "--device", "ideal", "-o", str(tmp_path / "p.prog"), "--dt", "1e-3"]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    program = Program.load(tmp_path / "p.prog", device="ideal")
    result = neuro_core.device("ideal").simulate(program, spike_inputs(lif_chain()))
    assert result.outputs.shape == (3, 20, 2)


def test_power(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    run(capsys, "compile", str(files["graph"]), "--device", "ideal", "-o", str(files["program"]))
    code, out, _ = run(capsys, "power", str(files["program"]), "--input", str(files["x"]), "--json")
    data = json.loads(out)
    assert code == 0 and data["device"] == "ideal" and data["batch"] == 3 and data["steps"] == 20
    assert data["energy_per_inference_j"] == 0.0 and "not physical" in data["source"] and data["measured"] is False
    code, out, _ = run(capsys, "power", str(files["program"]), "--input", str(files["x"]))
    assert code == 0 and "energy per inference: 0 J" in out and "(modelled)" in out and "source:" in out
    code, _, err = run(capsys, "power", str(files["program"]), "--input", str(files["x"]), "--device", "xylo-audio2")
    assert_one_line_error(code, err, "for device 'ideal', not 'xylo-audio2'")


def test_bad_files_are_one_line_errors(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    run(capsys, "compile", str(files["graph"]), "--device", "ideal", "-o", str(files["program"]))
    folder = files["graph"].parent
    np.save(folder / "flat.npy", np.zeros(5))
    np.save(folder / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(folder / "many.npz", a=np.zeros(2))
    np.save(folder / "wide.npy", np.zeros((1, 4, 9)))
    (folder / "junk.prog").write_bytes(b"\x00" * 100)
    out_path = str(folder / "o.npz")

    def simulate(model: Path, x: Path) -> tuple[int, str, str]:
        return run(capsys, "simulate", str(model), "--device", "ideal", "--input", str(x), "-o", out_path)

    assert_one_line_error(*simulate(files["program"], folder / "flat.npy")[::2], "got shape (5,)")
    assert_one_line_error(*simulate(files["program"], folder / "objects.npy")[::2], "cannot read inputs")
    assert_one_line_error(*simulate(files["program"], folder / "many.npz")[::2], "found an .npz archive")
    assert_one_line_error(*simulate(files["program"], folder / "missing.npy")[::2], "cannot read inputs")
    assert_one_line_error(*simulate(files["program"], folder / "wide.npy")[::2], "has 9 channels")
    assert_one_line_error(*simulate(folder / "junk.prog", files["x"])[::2], "corrupt or truncated neuro program")
    assert_one_line_error(*simulate(folder / "none.prog", files["x"])[::2], "no such file")
    assert_one_line_error(*simulate(files["graph"].with_name("x.ngraph"), files["x"])[::2], "no such file")
    code, _, err = run(capsys, "simulate", str(files["graph"]), "--device", "ideal", "--input", str(files["x"]), "-o",
                       str(folder / "no-such-folder" / "o.npz"))  # fmt: skip
    assert_one_line_error(code, err, "No such file or directory")
    assert not Path(out_path).exists()


def test_a_mapping_error_lists_every_violation_on_one_line(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    class Tiny:
        @hookimpl
        def neuro_register_devices(self, register: Any) -> None:
            register("tiny", Target("tiny", "t", "digital", 1, 1), "too small for anything")

        @hookimpl
        def neuro_quantize(self, graph: Any) -> Any:
            return graph

        @hookimpl
        def neuro_map(self, device: str, target: Target, graph: Any) -> Any:
            raise MappingError(device, [*target.check(graph), Violation("cores", "whole network", 1, 2)])

    register_plugin(Tiny(), name="tiny")
    code, _, err = run(capsys, "compile", str(files["graph"]), "--device", "tiny", "-o", str(files["program"]))
    assert_one_line_error(
        code, err, "does not fit device 'tiny': 2 violation(s); neurons at whole network: limit 1, got 6; cores at"
    )


def test_output_files_are_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.npz"
    save_npz_atomic(path, {"a": np.arange(3)})
    before = path.read_bytes()

    def broken_savez(handle: Any, *args: Any, **kwargs: Any) -> None:
        handle.write(b"PK half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_npz_atomic(path, {"a": np.arange(4)})
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["out.npz"]
    with pytest.raises(OSError, match="disk full"):
        save_npz_atomic(tmp_path / "new.npz", {"a": np.arange(4)})
    assert os.listdir(tmp_path) == ["out.npz"]


def neuro_executable() -> str:
    beside_python = Path(sys.executable).parent / "neuro"
    found = str(beside_python) if beside_python.exists() else shutil.which("neuro")
    assert found, "the `neuro` console script is not installed (neuro-core declares it in [project.scripts])"
    return found


def test_the_installed_neuro_command_lists_devices_as_json() -> None:
    env = {**os.environ, "NEURO_DISABLE_PLUGIN_AUTOLOAD": "1"}  # whatever else is installed here
    done = subprocess.run(
        [neuro_executable(), "devices", "--json"], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert list(json.loads(done.stdout)) == ["ideal"]
    failed = subprocess.run(
        [neuro_executable(), "target", "no-such-chip"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert failed.returncode == 2 and failed.stderr.startswith("neuro: error: no device named 'no-such-chip'")
    assert "Traceback" not in failed.stderr


def test_the_cli_and_the_conformance_suite_do_not_import_torch() -> None:
    code = (
        "import sys, neuro_core.cli, neuro_core.testing\n"
        "neuro_core.cli.build_parser()\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    env = {**os.environ, "NEURO_DISABLE_PLUGIN_AUTOLOAD": "1"}
    argv = [sys.executable, "-c", code]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr

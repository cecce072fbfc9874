"""One test per hook: the Device method reaches the owning plugin's hook with the documented
arguments and returns its answer. And the meta-test: every hook is documented and tested."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

import neuro_core
import numpy as np
import pytest
from core_helpers import lif_chain
from neuro_core import Placement, PowerReport, Program, ProgrammingError, SimResult, Target, hookimpl, register_plugin
from neuro_core.plugins import HOOK_NAMES

ROOT = Path(__file__).resolve().parents[2]
DEVICE = "spy-chip"


class Spy:
    """A plugin implementing every hook; records each call's arguments and returns a marker."""

    def __init__(self) -> None:
        self.target = Target(DEVICE, "spy", "digital", 2, 16)
        self.calls: dict[str, dict[str, Any]] = {}

    def _record(self, hook: str, **kwargs: Any) -> None:
        self.calls[hook] = kwargs

    @hookimpl
    def neuro_register_devices(self, register: Any) -> None:
        register(DEVICE, self.target, "records every call")

    @hookimpl
    def neuro_quantize(self, device: str, target: Target, graph: Any, options: Any) -> Any:
        self._record("neuro_quantize", device=device, target=target, graph=graph, options=options)
        return graph.replace_nodes()  # a new graph, as the spec demands

    @hookimpl
    def neuro_map(self, device: str, target: Target, graph: Any) -> Placement:
        self._record("neuro_map", device=device, target=target, graph=graph)
        return Placement(device, graph, {}, {"cores_used": 1})

    @hookimpl
    def neuro_program(self, device: str, target: Target, placement: Placement) -> Program:
        self._record("neuro_program", device=device, target=target, placement=placement)
        return Program(device, 1, {"w": np.zeros(1)}, {"dt": placement.graph.dt})

    @hookimpl
    def neuro_simulate(
        self, device: str, target: Target, program: Program, inputs: np.ndarray, record: bool, chip_id: Any, seed: int
    ) -> SimResult:
        self._record(
            "neuro_simulate", device=device, program=program, inputs=inputs, record=record, chip_id=chip_id, seed=seed
        )
        return SimResult(device, 1e-3, np.zeros((*inputs.shape[:2], 1)), chip_id=chip_id)

    @hookimpl
    def neuro_measure_power(self, device: str, target: Target, program: Program, result: SimResult) -> PowerReport:
        self._record("neuro_measure_power", device=device, program=program, result=result)
        return PowerReport(device, 1.0, 0.0, 1e-3, 0.0, {}, "spy", False)

    @hookimpl
    def neuro_chip_model(self, device: str, target: Target, graph: Any, options: Any) -> Any:
        self._record("neuro_chip_model", device=device, graph=graph, options=options)
        return ("model", options)

    @hookimpl
    def neuro_connect(self, device: str, target: Target, chip_id: int, options: Any) -> Any:
        self._record("neuro_connect", device=device, chip_id=chip_id, options=options)
        return ("connection", chip_id)


@pytest.fixture
def spy() -> Spy:
    plugin = Spy()
    register_plugin(plugin, name="spy", distribution="neuro-spy", version="0.0.1")
    return plugin


def test_hook_neuro_register_devices(spy: Spy) -> None:
    info = neuro_core.devices()[DEVICE]
    assert (info.summary, info.distribution, info.version, info.plugin) == (
        "records every call",
        "neuro-spy",
        "0.0.1",
        "spy",
    )
    assert info.target is spy.target
    assert neuro_core.device(DEVICE).target is spy.target
    assert info.to_dict()["target"]["cores"] == 2


def test_hook_neuro_quantize(spy: Spy) -> None:
    graph = lif_chain()
    quantized = neuro_core.device(DEVICE).quantize(graph, per_channel=True)
    call = spy.calls["neuro_quantize"]
    assert call["device"] == DEVICE and call["target"] is spy.target and call["graph"] is graph
    assert call["options"] == {"per_channel": True}
    assert quantized is not graph and quantized.allclose(graph)


def test_hook_neuro_map(spy: Spy) -> None:
    graph = lif_chain()
    placement = neuro_core.device(DEVICE).map(graph)
    assert spy.calls["neuro_map"] == {"device": DEVICE, "target": spy.target, "graph": graph}
    assert placement.device == DEVICE and placement.graph is graph


def test_hook_neuro_program(spy: Spy) -> None:
    device = neuro_core.device(DEVICE)
    placement = Placement(DEVICE, lif_chain())
    program = device.program(placement)
    assert spy.calls["neuro_program"]["placement"] is placement
    assert program.device == DEVICE and program.meta["dt"] == placement.graph.dt
    spy.calls.clear()
    with pytest.raises(ProgrammingError, match="made for 'ideal', not 'spy-chip'"):
        device.program(Placement("ideal", lif_chain()))
    assert "neuro_program" not in spy.calls  # refused before the plugin is asked
    # compile chains quantize -> map -> program and forwards the quantizer options
    device.compile(lif_chain(), per_channel=False)
    assert spy.calls["neuro_quantize"]["options"] == {"per_channel": False}
    assert spy.calls["neuro_program"]["placement"].graph is not None


def test_hook_neuro_simulate(spy: Spy) -> None:
    device = neuro_core.device(DEVICE)
    program = Program(DEVICE, 1, {})
    result = device.simulate(program, np.ones((5, 3)), record=True, chip_id=4, seed=9)
    call = spy.calls["neuro_simulate"]
    assert call["inputs"].shape == (1, 5, 3)  # (time, channels) became one sample
    assert (call["record"], call["chip_id"], call["seed"], call["program"]) == (True, 4, 9, program)
    assert result.chip_id == 4 and result.outputs.shape == (1, 5, 1)
    device.simulate(program, np.ones((2, 5, 3)))
    assert spy.calls["neuro_simulate"]["record"] is False and spy.calls["neuro_simulate"]["chip_id"] is None
    assert spy.calls["neuro_simulate"]["seed"] == 0
    spy.calls.clear()
    with pytest.raises(ProgrammingError, match="built for 'ideal', not 'spy-chip'"):
        device.simulate(Program("ideal", 1, {}), np.ones((1, 5, 3)))
    with pytest.raises(ValueError, match=r"\(batch, time, channels\) or \(time, channels\), got shape \(5,\)"):
        device.simulate(program, np.ones(5))
    assert "neuro_simulate" not in spy.calls


def test_hook_neuro_measure_power(spy: Spy) -> None:
    program = Program(DEVICE, 1, {})
    result = SimResult(DEVICE, 1e-3, np.zeros((1, 2, 1)))
    report = neuro_core.device(DEVICE).measure_power(program, result)
    assert spy.calls["neuro_measure_power"] == {"device": DEVICE, "program": program, "result": result}
    assert report.source == "spy" and report.total_w == 1.0


def test_hook_neuro_chip_model(spy: Spy) -> None:
    graph = lif_chain()
    model = neuro_core.device(DEVICE).chip_model(graph, surrogate="fast_sigmoid")
    assert spy.calls["neuro_chip_model"] == {"device": DEVICE, "graph": graph, "options": {"surrogate": "fast_sigmoid"}}
    assert model == ("model", {"surrogate": "fast_sigmoid"})


def test_hook_neuro_connect(spy: Spy) -> None:
    connection = neuro_core.device(DEVICE).connect(chip_id=7, backend="virtual")
    assert spy.calls["neuro_connect"] == {"device": DEVICE, "chip_id": 7, "options": {"backend": "virtual"}}
    assert connection == ("connection", 7)
    neuro_core.device(DEVICE).connect()
    assert spy.calls["neuro_connect"]["chip_id"] == 0 and spy.calls["neuro_connect"]["options"] == {}


# -- the meta-test --------------------------------------------------------------------------------------
def _load_doc_generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_hooks_doc", ROOT / "core" / "tools" / "gen_hooks_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _test_names() -> set[str]:
    names = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def test_every_hook_is_documented_and_has_its_own_test() -> None:
    generator = _load_doc_generator()
    specs = list(generator.hook_specs())
    assert sorted(specs) == sorted(HOOK_NAMES), "plugins.HOOK_NAMES and the hookspecs disagree"
    assert len(specs) >= 8
    doc = (ROOT / "docs" / "hooks.md").read_text()
    assert doc == generator.render(), "docs/hooks.md is out of date: run python core/tools/gen_hooks_doc.py"
    tests = _test_names()
    for hook in specs:
        assert f"\n## `{hook}`\n" in doc, f"{hook} has no section in docs/hooks.md"
        assert f"test_hook_{hook}" in tests, f"{hook} has no test named test_hook_{hook} in core/tests"


def test_every_hookspec_docstring_documents_its_arguments() -> None:
    import inspect

    for name, spec in _load_doc_generator().hook_specs().items():
        doc = inspect.getdoc(spec) or ""
        for argument in inspect.signature(spec).parameters:
            assert f"{argument}" in doc, f"{name}: argument {argument!r} is not documented"
        if name != "neuro_register_devices":
            assert "Returns:" in doc and "Args:" in doc, f"{name} lacks an Args or Returns section"

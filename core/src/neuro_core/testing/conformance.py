"""``DeviceConformance``: the pytest test class every device plugin runs against itself.

Subclass it in a test module (the class name must start with ``Test``) and give it a device name,
a graph that fits the chip, one that does not and valid inputs. Each inherited ``test_*`` method
then checks one promise of the device API (``neuro_core.hookspecs``) on the installed plugin:

- the device is registered, with a Target that survives JSON and cites its sources;
- ``quantize`` returns a new graph whose integer parameters fit ``target.formats`` and refuses
  unknown options;
- ``map`` places every neuron on an existing core, and raises a ``MappingError`` that lists every
  generic violation (``target.check``) of the oversized graph, several of them;
- a Program records its device, image version and dt, compiles deterministically, round-trips
  through save/load and is refused when corrupt, truncated, for another device or of an unknown
  image version;
- ``simulate`` returns (batch, time, outputs) with the ``spikes`` and ``synaptic_events``
  counters, is a function of (program, inputs, chip_id, seed), treats batch samples independently,
  records without changing outputs and rejects inputs with the wrong channel count;
- ``measure_power`` returns a consistent PowerReport with a non-empty source;
- a connection refuses ``run`` before ``write``, verifies the written image by read-back, runs it
  like the simulator, refuses another device's Program and is unusable once closed;
- where the plugin implements ``neuro_chip_model``, the torch model maps (batch, time, in) to
  (batch, time, out) and exports a graph the same device quantizes.

Switches (class attributes):

- ``temporal_noise``: set True if ``simulate`` adds seeded temporal noise (analog chips). The
  suite then still checks determinism for a fixed seed, but not that a sample simulated alone
  equals the same sample in a batch, nor that a connection reproduces ``simulate`` exactly.
"""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar

import numpy as np
import pytest

import neuro_core
from neuro_core.connection import Connection
from neuro_core.device import Device
from neuro_core.errors import ChipConnectionError, FileFormatError, MappingError, ProgrammingError
from neuro_core.graph import Graph
from neuro_core.plugins import get_registry
from neuro_core.program import Program
from neuro_core.results import Placement, PowerReport, SimResult
from neuro_core.target import Target

from .files import corrupt_file, truncate_file


def _output_channels(graph: Graph) -> int:
    return sum(graph.nodes[name].in_size for name in graph.outputs())


def _input_channels(graph: Graph) -> int:
    return sum(graph.nodes[name].out_size for name in graph.inputs())


def _close(a: float, b: float) -> bool:
    # Energies are ~1e-12..1e-3 J: a relative tolerance plus an absolute floor far below one event.
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-24)


class DeviceConformance:
    """Inherit from this in a ``Test*`` class and implement the three methods below."""

    device_name: ClassVar[str] = ""
    temporal_noise: ClassVar[bool] = False

    # -- what the plugin author provides ----------------------------------------------------------
    def small_graph(self) -> Graph:
        """A float graph (not quantized) that fits the chip: every stage must succeed on it.

        Build it deterministically (fixed seeds): the suite calls it more than once and compares.
        """
        raise NotImplementedError("implement small_graph() in your conformance test class")

    def oversized_graph(self) -> Graph | None:
        """A float graph that the device quantizes but that violates several of its limits.

        Return ``None`` only for a device without finite limits (like ``ideal``); the suite then
        checks that the Target indeed declares none.
        """
        raise NotImplementedError("implement oversized_graph() in your conformance test class")

    def sample_inputs(self, graph: Graph) -> np.ndarray:
        """Valid inputs for ``graph`` on this chip: (batch >= 2, time, input channels)."""
        raise NotImplementedError("implement sample_inputs(graph) in your conformance test class")

    # -- shared, computed once per test class (class-scoped fixtures must be classmethods) ---------
    @pytest.fixture(scope="class")
    @classmethod
    def chip(cls) -> Device:
        assert cls.device_name, "set device_name on your conformance test class"
        return neuro_core.device(cls.device_name)

    @pytest.fixture(scope="class")
    @classmethod
    def graph(cls) -> Graph:
        graph = cls().small_graph()
        assert isinstance(graph, Graph), f"small_graph() must return a Graph, got {type(graph).__name__}"
        return graph

    @pytest.fixture(scope="class")
    @classmethod
    def inputs(cls, graph: Graph) -> np.ndarray:
        return np.asarray(cls().sample_inputs(graph))

    @pytest.fixture(scope="class")
    @classmethod
    def quantized(cls, chip: Device, graph: Graph) -> Graph:
        return chip.quantize(graph)

    @pytest.fixture(scope="class")
    @classmethod
    def placement(cls, chip: Device, quantized: Graph) -> Placement:
        return chip.map(quantized)

    @pytest.fixture(scope="class")
    @classmethod
    def program(cls, chip: Device, placement: Placement) -> Program:
        return chip.program(placement)

    @pytest.fixture(scope="class")
    @classmethod
    def result(cls, chip: Device, program: Program, inputs: np.ndarray) -> SimResult:
        return chip.simulate(program, inputs, seed=0)

    # -- registration and Target ------------------------------------------------------------------
    def test_device_is_registered_with_its_distribution(self, chip: Device) -> None:
        info = neuro_core.devices()[self.device_name]
        assert info.name == self.device_name
        assert info.distribution and info.version, "the owning distribution and its version must be known"
        assert info.summary.strip(), "register(name, target, summary): give a one-line summary"
        assert info.target.name == self.device_name

    def test_target_survives_json(self, chip: Device) -> None:
        text = chip.target.to_json()
        again = Target.from_dict(json.loads(text))
        assert again.to_json() == text
        assert again.formats == chip.target.formats
        assert again.time == chip.target.time

    def test_target_is_sane_and_cites_sources(self, chip: Device) -> None:
        target = chip.target
        assert target.cores >= 1 and target.neurons_per_core >= 1
        assert target.sources, "Target.sources must cite where the limits come from"
        for key, source in target.sources.items():
            assert isinstance(source, str) and source.strip(), f"source of {key!r} is empty"
        for key, fmt in target.formats.items():
            assert fmt.bits >= 1, f"format {key!r} has {fmt.bits} bits"
            assert fmt.min < fmt.max, f"format {key!r} holds a single value"
        for key, constant in target.energy.items():
            assert constant.unit in ("J", "W"), f"energy constant {key!r} has unit {constant.unit!r}"
            assert math.isfinite(constant.value) and constant.value >= 0, f"energy constant {key!r}"
            assert constant.source.strip(), f"energy constant {key!r} has no source"
        for key, sigma in target.mismatch.items():
            assert sigma >= 0, f"mismatch sigma of {key!r} is negative"

    def test_sample_inputs_match_the_graph(self, graph: Graph, inputs: np.ndarray) -> None:
        assert inputs.ndim == 3, f"sample_inputs must be (batch, time, channels), got shape {inputs.shape}"
        assert inputs.shape[0] >= 2, "give at least two samples so batch independence is tested"
        assert inputs.shape[1] >= 1
        assert inputs.shape[2] == _input_channels(graph)

    # -- quantize ---------------------------------------------------------------------------------
    def test_quantize_returns_a_new_graph_and_leaves_its_input_alone(self, graph: Graph, quantized: Graph) -> None:
        assert isinstance(quantized, Graph)
        assert quantized is not graph
        assert graph.allclose(self.small_graph()), "quantize modified the graph it was given"
        assert _output_channels(quantized) == _output_channels(graph)
        assert _input_channels(quantized) == _input_channels(graph)

    def test_quantized_values_fit_the_target_formats(self, chip: Device, quantized: Graph) -> None:
        formats = chip.target.formats
        checked = 0
        for name, node in quantized.nodes.items():
            for key, values in node.int_params.items():
                assert np.issubdtype(values.dtype, np.integer), f"{name}.int_params[{key!r}] is not integer"
                if key in node.scales:
                    assert math.isfinite(node.scales[key]), f"{name}.scales[{key!r}] is not finite"
                fmt = formats.get(key)
                if fmt is None or values.size == 0:
                    continue
                lo, hi = int(values.min()), int(values.max())
                assert fmt.min <= lo and hi <= fmt.max, (
                    f"node {name!r} int_params[{key!r}] spans [{lo}, {hi}], format allows [{fmt.min}, {fmt.max}]"
                )
                checked += 1
        if chip.target.kind != "float" and formats:
            assert checked, "a chip with number formats must write int_params named as in target.formats"

    def test_quantize_refuses_unknown_options(self, chip: Device, graph: Graph) -> None:
        with pytest.raises(ValueError, match="no_such_option"):
            chip.quantize(graph, no_such_option=True)

    # -- map ---------------------------------------------------------------------------------------
    def test_small_graph_violates_no_limit(self, chip: Device, quantized: Graph) -> None:
        violations = chip.target.check(quantized)
        assert violations == [], "small_graph() does not fit: " + "; ".join(map(str, violations))

    def test_map_places_every_neuron_on_a_core(self, chip: Device, placement: Placement) -> None:
        assert isinstance(placement, Placement)
        assert placement.device == self.device_name
        for name in placement.graph.neuron_nodes():
            assert name in placement.cores, f"neuron node {name!r} has no core assignment"
            cores = np.asarray(placement.cores[name])
            assert cores.shape == (placement.graph.nodes[name].out_size,), f"cores[{name!r}] shape {cores.shape}"
            assert cores.min(initial=0) >= 0 and cores.max(initial=0) < chip.target.cores
        used = placement.resources.get("cores_used")
        assert isinstance(used, int) and 1 <= used <= chip.target.cores, f"resources['cores_used'] = {used!r}"

    def test_map_lists_every_violation_of_the_oversized_graph(self, chip: Device) -> None:
        big = self.oversized_graph()
        if big is None:
            target = chip.target
            bounded = [
                key
                for key in ("input_channels", "output_channels", "max_fan_in", "max_fan_out")
                if getattr(target, key) is not None
            ]
            assert not bounded, f"oversized_graph() returned None but the Target limits {bounded}"
            return
        quantized = chip.quantize(big)
        expected = chip.target.check(quantized)
        assert len(expected) >= 2, f"oversized_graph() should violate several limits, violates {expected}"
        with pytest.raises(MappingError) as caught:
            chip.map(quantized)
        error = caught.value
        assert error.device == self.device_name
        for violation in expected:
            assert violation in error.violations, f"MappingError leaves out {violation}"
            assert violation.constraint in str(error)
        for violation in error.violations:
            assert violation.constraint and violation.where, f"incomplete violation {violation!r}"

    # -- program -----------------------------------------------------------------------------------
    def test_program_records_device_version_and_dt(self, program: Program) -> None:
        assert isinstance(program, Program)
        assert program.device == self.device_name
        assert isinstance(program.format_version, int) and program.format_version >= 1
        assert float(program.meta["dt"]) > 0, "Program.meta['dt'] must be the step in seconds"
        json.dumps(dict(program.meta))  # raises if meta is not JSON

    def test_compile_is_deterministic(self, chip: Device, graph: Graph, program: Program) -> None:
        assert chip.compile(graph).same_image(program)

    def test_program_round_trips_through_a_file(
        self, tmp_path: Any, chip: Device, program: Program, inputs: np.ndarray, result: SimResult
    ) -> None:
        path = tmp_path / "chip.program"
        checksum = program.save(path)
        loaded = Program.load(path, device=self.device_name)
        assert loaded.checksum == checksum and loaded.same_image(program)
        again = chip.simulate(loaded, inputs, seed=0)
        np.testing.assert_array_equal(again.outputs, result.outputs)

    def test_corrupt_or_truncated_program_files_are_refused(self, tmp_path: Any, program: Program) -> None:
        for damage in (corrupt_file, truncate_file):
            path = tmp_path / f"{damage.__name__}.program"
            program.save(path)
            damage(path)
            with pytest.raises(FileFormatError):
                Program.load(path, device=self.device_name)

    def test_another_devices_program_is_refused(self, tmp_path: Any, chip: Device, program: Program) -> None:
        other = f"{self.device_name}-other"
        forged = Program(other, program.format_version, program.arrays, program.meta)
        path = tmp_path / "other.program"
        forged.save(path)
        with pytest.raises(FileFormatError, match=other):
            Program.load(path, device=self.device_name)
        with pytest.raises(ProgrammingError):
            chip.simulate(forged, self.sample_inputs(self.small_graph()))

    def test_simulate_hook_checks_the_program_it_is_given(self, program: Program, inputs: np.ndarray) -> None:
        # Device.simulate checks the device name itself; the plugin's hook must check it too,
        # and refuse an image layout newer than it knows.
        call = get_registry().call
        forged = Program(f"{self.device_name}-other", program.format_version, program.arrays, program.meta)
        newer = Program(self.device_name, program.format_version + 1000, program.arrays, program.meta)
        for bad in (forged, newer):
            with pytest.raises(ProgrammingError):
                call("neuro_simulate", self.device_name, program=bad, inputs=inputs, record=False, chip_id=None, seed=0)

    # -- simulate ----------------------------------------------------------------------------------
    def test_simulate_returns_outputs_and_counters(self, graph: Graph, inputs: np.ndarray, result: SimResult) -> None:
        assert isinstance(result, SimResult)
        assert result.device == self.device_name
        assert result.dt > 0
        assert result.outputs.shape == (inputs.shape[0], inputs.shape[1], _output_channels(graph))
        assert np.all(np.isfinite(result.outputs))
        for name in ("spikes", "synaptic_events"):
            assert name in result.counters, f"counter {name!r} is missing"
            counter = np.asarray(result.counters[name])
            assert counter.shape == (inputs.shape[0],), f"counter {name!r} has shape {counter.shape}"
            assert np.all(np.isfinite(counter)) and np.all(counter >= 0)

    def test_simulate_is_deterministic_for_a_seed(self, chip: Device, program: Program, inputs: np.ndarray) -> None:
        for chip_id in (None, 1):
            first = chip.simulate(program, inputs, chip_id=chip_id, seed=7)
            second = chip.simulate(program, inputs, chip_id=chip_id, seed=7)
            np.testing.assert_array_equal(first.outputs, second.outputs)
            for name, counter in first.counters.items():
                np.testing.assert_array_equal(counter, second.counters[name], err_msg=f"counter {name!r}")

    def test_batch_samples_are_independent(
        self, chip: Device, program: Program, inputs: np.ndarray, result: SimResult
    ) -> None:
        if self.temporal_noise:
            pytest.skip("temporal_noise: a sample's noise depends on its place in the batch")
        for b in range(inputs.shape[0]):
            alone = chip.simulate(program, inputs[b], seed=0)  # (time, channels) is accepted too
            np.testing.assert_array_equal(alone.outputs[0], result.outputs[b], err_msg=f"sample {b}")

    def test_recording_does_not_change_outputs(
        self, chip: Device, program: Program, inputs: np.ndarray, result: SimResult
    ) -> None:
        recorded = chip.simulate(program, inputs, record=True, seed=0)
        np.testing.assert_array_equal(recorded.outputs, result.outputs)
        traces = {**recorded.spikes, **recorded.states}
        assert traces, "record=True must record spikes or states"
        for name, trace in traces.items():
            assert np.shape(trace)[:2] == inputs.shape[:2], f"recorded {name!r} has shape {np.shape(trace)}"

    def test_simulate_rejects_a_wrong_channel_count(self, chip: Device, program: Program, inputs: np.ndarray) -> None:
        wrong = np.concatenate([inputs, inputs[:, :, :1]], axis=2)
        with pytest.raises(ValueError):
            chip.simulate(program, wrong)

    # -- power -------------------------------------------------------------------------------------
    def test_measure_power_returns_a_report_with_its_source(
        self, chip: Device, program: Program, result: SimResult
    ) -> None:
        report = chip.measure_power(program, result)
        assert isinstance(report, PowerReport)
        assert report.device == self.device_name
        assert isinstance(report.source, str) and report.source.strip(), "PowerReport.source must cite the figures"
        assert isinstance(report.measured, bool)
        figures = {
            "static_w": report.static_w,
            "dynamic_w": report.dynamic_w,
            "energy_per_inference_j": report.energy_per_inference_j,
            "dynamic_energy_per_inference_j": report.dynamic_energy_per_inference_j,
            **{f"breakdown_j[{k!r}]": v for k, v in report.breakdown_j.items()},
        }
        for name, value in figures.items():
            assert math.isfinite(value) and value >= 0, f"{name} = {value}"
        json.dumps(report.to_dict())

    def test_power_report_adds_up(self, chip: Device, program: Program, result: SimResult) -> None:
        report = chip.measure_power(program, result)
        duration = result.duration
        assert _close(report.energy_per_inference_j, report.static_w * duration + report.dynamic_energy_per_inference_j)
        assert _close(report.dynamic_w * duration, report.dynamic_energy_per_inference_j)
        if report.breakdown_j:
            assert _close(sum(report.breakdown_j.values()), report.dynamic_energy_per_inference_j)

    # -- connection --------------------------------------------------------------------------------
    def test_connection_writes_verifies_and_runs(self, chip: Device, program: Program, inputs: np.ndarray) -> None:
        with chip.connect(chip_id=0) as connection:
            assert isinstance(connection, Connection)
            assert connection.device == self.device_name
            with pytest.raises(ChipConnectionError, match="write"):
                connection.run(inputs)
            connection.write(program)
            assert connection.read().same_image(program)
            ran = connection.run(inputs)
            assert ran.outputs.shape == (inputs.shape[0], inputs.shape[1], _output_channels(self.small_graph()))
            if not self.temporal_noise:
                simulated = chip.simulate(program, inputs, chip_id=0, seed=0)
                np.testing.assert_array_equal(ran.outputs, simulated.outputs)
        with pytest.raises(ChipConnectionError, match="closed"):
            connection.run(inputs)

    def test_connection_refuses_another_devices_program(self, chip: Device, program: Program) -> None:
        forged = Program(f"{self.device_name}-other", program.format_version, program.arrays, program.meta)
        with chip.connect(chip_id=0) as connection:
            with pytest.raises(ChipConnectionError, match="other"):
                connection.write(forged)
            with pytest.raises(ChipConnectionError):
                connection.run(np.zeros((1, 1, 1)))  # the refused write left nothing behind

    def test_connection_refuses_an_unknown_backend(self, chip: Device) -> None:
        with pytest.raises(ChipConnectionError):
            chip.connect(chip_id=0, backend="no-such-backend")

    # -- differentiable model ----------------------------------------------------------------------
    def test_chip_model_runs_and_exports_a_graph(self, chip: Device, graph: Graph, inputs: np.ndarray) -> None:
        if not get_registry().implements("neuro_chip_model", self.device_name):
            pytest.skip(f"{self.device_name} offers no differentiable model (neuro_chip_model is optional)")
        torch = pytest.importorskip("torch")
        from neuro_core.chipmodel import ChipModel

        model = chip.chip_model(graph)
        assert isinstance(model, ChipModel)
        with torch.no_grad():
            out = model(torch.as_tensor(inputs, dtype=torch.float32))
        assert tuple(out.shape) == (inputs.shape[0], inputs.shape[1], _output_channels(graph))
        exported = model.to_graph()
        assert isinstance(exported, Graph)
        chip.quantize(exported)  # the trained model deploys on the same device
        for name, sigma in model.mismatch_sigma().items():
            assert sigma >= 0, f"mismatch sigma of {name!r} is negative"

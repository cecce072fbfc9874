"""One model, every chip: the same small graph goes through the same calls on each installed device.

A device whose Target cannot hold the graph must say so with the error the API promises (a
``MappingError`` listing at least the generic violations, or a ``GraphError`` at quantize when the
chip has no such neuron type). Chips differ in their reset modes (Xylo subtracts, Loihi resets to
zero), which their Targets declare: the model uses a mode the chip has, and a mode it lacks must be
refused with an error that says "reset".
"""

from __future__ import annotations

import math

import neuro_core
import numpy as np
import pytest
from neuro_core import CubaLIF, Graph, GraphError, Input, Linear, MappingError, Output, QuantizationError

DT = 1e-3
RESETS = ("zero", "subtract")
DEVICES = sorted(neuro_core.devices())


def small_graph(reset: str) -> Graph:
    """4 inputs -> 8 CubaLIF -> 3 CubaLIF (tau_syn 5 ms, tau_mem 20 ms), weights from a fixed seed."""
    rng = np.random.default_rng(42)

    def neurons(n: int) -> CubaLIF:
        return CubaLIF(
            r=np.ones(n),
            v_threshold=np.ones(n),
            tau=np.full(n, 0.02),
            tau_syn=np.full(n, 0.005),
            reset=reset,  # type: ignore[arg-type]
        )

    return Graph.chain(
        DT,
        [
            ("in", Input((4,))),
            ("fc1", Linear(rng.normal(1.5, 0.3, (8, 4)))),
            ("lif1", neurons(8)),
            ("fc2", Linear(rng.normal(4.0, 0.5, (3, 8)))),
            ("lif2", neurons(3)),
            ("out", Output((3,))),
        ],
    )


def spike_inputs() -> np.ndarray:
    """(batch 2, time 40, channels 4) Bernoulli(0.5) spikes, seeded."""
    return (np.random.default_rng(7).random((2, 40, 4)) < 0.5).astype(np.float64)


def supported_reset(chip: neuro_core.Device) -> str:
    """A reset mode the chip has (zero where it has both)."""
    return "zero" if "zero" in chip.target.reset_modes else sorted(chip.target.reset_modes)[0]


def compile_or_explain(chip: neuro_core.Device) -> neuro_core.Program | None:
    """The Program, or None after checking that the refusal is the documented one."""
    graph = small_graph(supported_reset(chip))
    violations = chip.target.check(graph)
    if violations:
        with pytest.raises((MappingError, GraphError)) as caught:
            chip.compile(graph)
        if isinstance(caught.value, MappingError):
            missing = [v for v in violations if v not in caught.value.violations]
            assert not missing, f"{chip.name}: MappingError leaves out {missing}"
        else:
            assert any(v.constraint == "node_types" for v in violations), f"{chip.name}: unexpected {caught.value}"
        return None
    return chip.compile(graph)


@pytest.mark.parametrize("name", DEVICES)
def test_the_same_model_runs_on_every_device_that_can_hold_it(name: str) -> None:
    chip = neuro_core.device(name)
    program = compile_or_explain(chip)
    if program is None:
        pytest.skip(f"{name} cannot hold the model (refused as documented)")
    x = spike_inputs()
    result = chip.simulate(program, x, seed=0)
    assert result.outputs.shape == (2, 40, 3)
    assert np.all(np.isfinite(result.outputs))
    assert np.all(np.asarray(result.counters["spikes"]) >= 0)
    np.testing.assert_array_equal(chip.simulate(program, x, seed=0).outputs, result.outputs)
    report = chip.measure_power(program, result)
    assert report.source.strip() and math.isfinite(report.energy_per_inference_j)


@pytest.mark.parametrize("name", DEVICES)
def test_a_reset_mode_the_chip_lacks_is_refused(name: str) -> None:
    chip = neuro_core.device(name)
    lacking = [reset for reset in RESETS if reset not in chip.target.reset_modes]
    if not lacking:
        pytest.skip(f"{name} has every reset mode")
    if chip.target.check(small_graph(supported_reset(chip))):
        pytest.skip(f"{name}'s Target cannot hold the model whatever its reset")
    for reset in lacking:
        with pytest.raises((MappingError, GraphError, QuantizationError), match="reset"):
            chip.compile(small_graph(reset))


def test_the_ideal_device_reproduces_the_reference_semantics() -> None:
    from neuro_core.reference import simulate

    chip = neuro_core.device("ideal")
    graph, x = small_graph("subtract"), spike_inputs()
    result = chip.simulate(chip.compile(graph), x)
    np.testing.assert_array_equal(result.outputs, simulate(graph, x).outputs["out"])
    assert result.outputs.sum() > 0  # the model is active, so the comparison means something

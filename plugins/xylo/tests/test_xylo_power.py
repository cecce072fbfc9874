"""The power model: calibrated to the published Xylo IMU figures, additive, activity-dependent."""

from __future__ import annotations

import numpy as np
from neuro_core import device
from neuro_xylo.power import cycles_breakdown
from neuro_xylo.program import XyloImage
from xylo_helpers import events, xylo_graph


def test_idle_chip_draws_the_published_idle_power_and_a_busy_one_the_active_power() -> None:
    chip = device("xylo-imu")
    target = chip.target
    program = chip.compile(xylo_graph(16, 24, 4, seed=0))
    silent = chip.simulate(program, np.zeros((1, 100, 16)))
    report = chip.measure_power(program, silent)
    assert report.static_w == 188e-6 and not report.measured
    cycles = sum(cycles_breakdown(XyloImage.from_program(program, target), silent, target).values())
    busy_fraction = cycles / (target.time.clock_hz * silent.duration)
    # the dynamic power is the 13 uW (201 - 188) of a fully busy core, times the fraction of busy cycles
    np.testing.assert_allclose(report.dynamic_w, 13e-6 * busy_fraction, rtol=1e-9)


def test_more_activity_costs_more_energy() -> None:
    chip = device("xylo-audio2")
    program = chip.compile(xylo_graph(16, 24, 4, seed=0))
    quiet = chip.measure_power(program, chip.simulate(program, events(1, 100, 16, seed=1, rate=0.05)))
    busy = chip.measure_power(program, chip.simulate(program, events(1, 100, 16, seed=1, rate=0.8)))
    assert busy.dynamic_energy_per_inference_j > quiet.dynamic_energy_per_inference_j
    assert busy.breakdown_j["input_events"] > quiet.breakdown_j["input_events"]
    assert "Xylo IMU" in busy.source and "cycle model" in busy.source

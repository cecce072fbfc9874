"""The hook implementations of example-if8: thin, each delegates to the module that does the work.

This module is the entry point (``[project.entry-points."neuro.devices"]``); neuro-core imports it,
registers it with pluggy and calls ``neuro_register_devices`` to learn the device names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from neuro_core import Connection, Graph, Placement, PowerReport, Program, SimResult, Target, hookimpl
from neuro_core.hookspecs import RegisterDevice

from . import driver, mapper, power, program, quantize, sim
from .target import DEVICE, example_if8


@hookimpl
def neuro_register_devices(register: RegisterDevice) -> None:
    register(DEVICE, example_if8(), "fictional 4-core integer IF chip, int8 weights (neuro-example-plugin)")


@hookimpl
def neuro_quantize(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> Graph:
    return quantize.quantize(target, graph, options)


@hookimpl
def neuro_map(device: str, target: Target, graph: Graph) -> Placement:
    return mapper.place(target, graph)


@hookimpl
def neuro_program(device: str, target: Target, placement: Placement) -> Program:
    return program.build(target, placement)


@hookimpl
def neuro_simulate(
    device: str, target: Target, program: Program, inputs: np.ndarray, record: bool, chip_id: int | None, seed: int
) -> SimResult:
    return sim.simulate(target, program, inputs, record, chip_id)


@hookimpl
def neuro_measure_power(device: str, target: Target, program: Program, result: SimResult) -> PowerReport:
    return power.estimate(target, program, result)


@hookimpl
def neuro_connect(device: str, target: Target, chip_id: int, options: Mapping[str, Any]) -> Connection:
    return driver.connect(target, chip_id, options)

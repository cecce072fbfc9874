"""The neuro hook implementations of the dynapse2 device: thin wrappers around the modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from neuro_core import Graph, Placement, PowerReport, Program, SimResult, Target, hookimpl
from neuro_core.connection import Connection
from neuro_core.hookspecs import RegisterDevice

from . import driver, mapper, power, program, quantize, sim
from .target import DEVICE, dynapse2

if TYPE_CHECKING:
    import torch


@hookimpl
def neuro_register_devices(register: RegisterDevice) -> None:
    register(DEVICE, dynapse2(), "SynSense DYNAP-SE2: mixed-signal, 4 cores x 256 DPI neurons, 64 CAMs/neuron")


@hookimpl
def neuro_quantize(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> Graph:
    return quantize.quantize_graph(target, graph, options)


@hookimpl
def neuro_map(device: str, target: Target, graph: Graph) -> Placement:
    return mapper.map_graph(target, graph)


@hookimpl
def neuro_program(device: str, target: Target, placement: Placement) -> Program:
    return program.build_program(target, placement)


@hookimpl
def neuro_simulate(
    device: str, target: Target, program: Program, inputs: np.ndarray, record: bool, chip_id: int | None, seed: int
) -> SimResult:
    return sim.simulate(target, program, inputs, record, chip_id, seed)


@hookimpl
def neuro_measure_power(device: str, target: Target, program: Program, result: SimResult) -> PowerReport:
    return power.measure_power(target, program, result)


@hookimpl
def neuro_chip_model(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> torch.nn.Module:
    from .model import build_model

    return build_model(target, graph, options)


@hookimpl
def neuro_connect(device: str, target: Target, chip_id: int, options: Mapping[str, Any]) -> Connection:
    return driver.connect(target, chip_id, options)

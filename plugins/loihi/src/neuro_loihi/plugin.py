"""The neuro hook implementations of the Loihi plugin: thin delegations to the modules that do the work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from neuro_core.connection import Connection
from neuro_core.graph import Graph
from neuro_core.hookspecs import RegisterDevice, hookimpl
from neuro_core.program import Program
from neuro_core.results import Placement, PowerReport, SimResult
from neuro_core.target import Target

from . import driver, mapper, power, program, quantize
from .target import TARGETS

if TYPE_CHECKING:
    import torch

SUMMARIES = {
    "loihi": "Intel Loihi: CUBA LIF in 24-bit fixed point, 8-bit weights x 2**exp, delays 0..62 (Lava bit-exact)",
    "loihi2": "Intel Loihi 2: Loihi's CUBA LIF semantics (Lava bit-exact), 8,192 neurons per core, graded input spikes",
}


def _owned(device: str) -> bool:
    return device in TARGETS


@hookimpl
def neuro_register_devices(register: RegisterDevice) -> None:
    for name, make in TARGETS.items():
        register(name, make(), SUMMARIES[name])


@hookimpl
def neuro_quantize(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> Graph | None:
    return quantize.quantize_graph(device, target, graph, options) if _owned(device) else None


@hookimpl
def neuro_map(device: str, target: Target, graph: Graph) -> Placement | None:
    return mapper.map_graph(device, target, graph) if _owned(device) else None


@hookimpl
def neuro_program(device: str, target: Target, placement: Placement) -> Program | None:
    return program.build_program(device, placement) if _owned(device) else None


@hookimpl
def neuro_simulate(
    device: str, target: Target, program: Program, inputs: np.ndarray, record: bool, chip_id: int | None, seed: int
) -> SimResult | None:
    return driver.simulate_program(target, program, inputs, record, chip_id) if _owned(device) else None


@hookimpl
def neuro_measure_power(device: str, target: Target, program: Program, result: SimResult) -> PowerReport | None:
    return power.measure_power(device, target, program, result) if _owned(device) else None


@hookimpl
def neuro_connect(device: str, target: Target, chip_id: int, options: Mapping[str, Any]) -> Connection | None:
    return driver.connect(target, chip_id, options) if _owned(device) else None


@hookimpl
def neuro_chip_model(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> torch.nn.Module | None:
    if not _owned(device):
        return None
    from .model import LoihiModel

    return LoihiModel.from_graph(target, graph, **dict(options))

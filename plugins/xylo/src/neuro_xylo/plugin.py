"""The neuro-xylo hook implementations: thin wrappers over the plugin's modules."""

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

from . import __version__
from .driver import connect, result_of
from .mapper import map_graph
from .power import measure_power
from .program import XyloImage, program_from_placement
from .quantize import quantize_graph
from .target import TARGETS

if TYPE_CHECKING:
    import torch

SUMMARIES = {
    "xylo-audio2": "SynSense Xylo Audio 2 (SYNS61201): 16 in / 1000 hidden (2 synaptic states) / 8 out, bit-exact",
    "xylo-imu": "SynSense Xylo IMU (SYNS63300): 16 in / 496 hidden / 16 out, bit-exact",
    "xylo-audio3": "SynSense Xylo Audio 3 (SYNS65302): 16 in / 992 hidden / 32 out, bit-exact",
}


def _owned(device: str) -> bool:
    return device in TARGETS


@hookimpl
def neuro_register_devices(register: RegisterDevice) -> None:
    for name, make in TARGETS.items():
        register(name, make(), SUMMARIES[name])


@hookimpl
def neuro_quantize(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> Graph | None:
    return quantize_graph(graph, target, options) if _owned(device) else None


@hookimpl
def neuro_map(device: str, target: Target, graph: Graph) -> Placement | None:
    return map_graph(device, target, graph) if _owned(device) else None


@hookimpl
def neuro_program(device: str, target: Target, placement: Placement) -> Program | None:
    return program_from_placement(device, target, placement, __version__) if _owned(device) else None


@hookimpl
def neuro_simulate(
    device: str, target: Target, program: Program, inputs: np.ndarray, record: bool, chip_id: int | None, seed: int
) -> SimResult | None:
    if not _owned(device):
        return None
    # digital and deterministic: seed and chip_id change nothing (every Xylo computes the same integers)
    return result_of(target, XyloImage.from_program(program, target), inputs, record, chip_id)


@hookimpl
def neuro_measure_power(device: str, target: Target, program: Program, result: SimResult) -> PowerReport | None:
    return measure_power(target, program, result) if _owned(device) else None


@hookimpl
def neuro_connect(device: str, target: Target, chip_id: int, options: Mapping[str, Any]) -> Connection | None:
    return connect(target, chip_id, options) if _owned(device) else None


@hookimpl
def neuro_chip_model(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> torch.nn.Module | None:
    if not _owned(device):
        return None
    from .model import XyloModel

    return XyloModel.from_graph(target, graph, **dict(options))

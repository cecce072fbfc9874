"""The built-in ``ideal`` device: float, unconstrained, the reference every chip is compared with.

It is also the worked example of a device plugin: every hook of ``neuro_core.hookspecs`` is
implemented here in a few lines, the same way a chip plugin's ``plugin.py`` does it (a real plugin
keeps the work in ``quantize.py``, ``mapper.py``, ``program.py``, ``sim.py``, ``driver.py`` and
``power.py`` and only delegates here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .connection import VirtualChip
from .errors import MappingError, ProgrammingError
from .graph import NODE_TYPES, Graph
from .hookspecs import RegisterDevice, hookimpl
from .program import Program
from .reference import simulate as reference_simulate
from .results import Placement, PowerReport, SimResult
from .target import Target, TimeModel

if TYPE_CHECKING:
    import torch

DEVICE = "ideal"
IMAGE_FORMAT = 1


def ideal_target() -> Target:
    """The Target of the ideal device: float arithmetic, no resource limits, every node type."""
    return Target(
        name=DEVICE,
        family="ideal",
        kind="float",
        cores=1,
        neurons_per_core=2**31 - 1,
        max_delay=2**31 - 1,
        node_types=frozenset(NODE_TYPES),
        time=TimeModel(dt=None),
        sources={"*": "definition: the float semantics of the neuro graph IR (docs/graph.md)"},
    )


def _check_options(options: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} for device {DEVICE!r}; allowed: {sorted(allowed)}")


def graph_of(program: Program) -> Graph:
    """The graph stored in an ideal-device Program."""
    if program.device != DEVICE:
        raise ProgrammingError(f"this Program is for {program.device!r}, not {DEVICE!r}")
    if program.format_version != IMAGE_FORMAT:
        raise ProgrammingError(f"ideal image format {program.format_version} is unknown (expected {IMAGE_FORMAT})")
    return Graph.from_arrays(program.meta["graph"], program.arrays)


@hookimpl
def neuro_register_devices(register: RegisterDevice) -> None:
    register(DEVICE, ideal_target(), "float reference model with no hardware limits (built in)")


@hookimpl
def neuro_quantize(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> Graph:
    _check_options(options, {"per_channel"})
    return Graph(graph.nodes, graph.edges, graph.dt, graph.metadata)  # float is the ideal format


@hookimpl
def neuro_map(device: str, target: Target, graph: Graph) -> Placement:
    violations = target.check(graph)
    if violations:
        raise MappingError(device, violations)
    cores = {n: np.zeros(graph.nodes[n].out_size, dtype=np.int64) for n in graph.neuron_nodes()}
    return Placement(device, graph, cores, {"cores_used": 1})


@hookimpl
def neuro_program(device: str, target: Target, placement: Placement) -> Program:
    meta, arrays = placement.graph.to_arrays()
    return Program(device, IMAGE_FORMAT, arrays, {"graph": meta, "dt": placement.graph.dt})


@hookimpl
def neuro_simulate(
    device: str, target: Target, program: Program, inputs: np.ndarray, record: bool, chip_id: int | None, seed: int
) -> SimResult:
    graph = graph_of(program)
    result = reference_simulate(graph, inputs, record=record)
    outputs = np.concatenate([result.outputs[n] for n in graph.outputs()], axis=-1)
    states = {f"{n}.v": v for n, v in result.states.items()}
    return SimResult(device, graph.dt, outputs, result.spikes, states, result.counters, chip_id)


@hookimpl
def neuro_measure_power(device: str, target: Target, program: Program, result: SimResult) -> PowerReport:
    return PowerReport(
        device,
        0.0,
        0.0,
        0.0,
        0.0,
        {"synaptic_events": 0.0, "spikes": 0.0},
        source="the ideal device is not physical: it consumes no energy by definition",
        measured=False,
    )


class IdealVirtualChip(VirtualChip):
    """A virtual ideal chip: runs the reference simulator."""

    def execute(self, program: Program, inputs: np.ndarray, record: bool) -> SimResult:
        return neuro_simulate(DEVICE, self.target, program, inputs, record, self.chip_id, 0)


@hookimpl
def neuro_connect(device: str, target: Target, chip_id: int, options: Mapping[str, Any]) -> VirtualChip:
    _check_options(options, {"backend"})
    if options.get("backend", "virtual") != "virtual":
        from .errors import ChipConnectionError

        raise ChipConnectionError(f"device {DEVICE!r} has only the 'virtual' backend, not {options['backend']!r}")
    return IdealVirtualChip(target, chip_id)


@hookimpl
def neuro_chip_model(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> torch.nn.Module:
    from .nn import from_graph

    return from_graph(graph, **options)

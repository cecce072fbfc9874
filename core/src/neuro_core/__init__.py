"""neuro-core: train spiking networks for neuromorphic chips and deploy them through device plugins.

Public API::

    import neuro_core
    neuro_core.devices()                 # name -> DeviceInfo of every installed device
    chip = neuro_core.device("ideal")    # a Device: quantize, map, program, simulate, ...
    program = chip.compile(graph)
    result = chip.simulate(program, x)   # x: (batch, time, channels)
    report = chip.measure_power(program, result)

Heavy modules (``neuro_core.nn``, ``neuro_core.training``, ``neuro_core.datasets``) import torch
and are imported on demand, so ``import neuro_core`` and the CLI stay fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .connection import Connection, VirtualChip
from .device import Device, device, devices
from .errors import (
    ChipConnectionError,
    DeviceNotFoundError,
    FileFormatError,
    GraphError,
    MappingError,
    NeuroError,
    PluginError,
    ProgrammingError,
    QuantizationError,
    Violation,
)
from .graph import IF, LI, LIF, Affine, CubaLIF, Delay, Graph, Input, Linear, Node, Output, Scale, Threshold
from .hookspecs import hookimpl
from .plugins import DeviceInfo, PluginInfo, get_registry, register_plugin
from .program import Program
from .results import Placement, PowerReport, SimResult
from .target import EnergyConstant, NumberFormat, Target, TimeModel

__all__ = [
    "IF",
    "LI",
    "LIF",
    "Affine",
    "ChipConnectionError",
    "Connection",
    "CubaLIF",
    "Delay",
    "Device",
    "DeviceInfo",
    "DeviceNotFoundError",
    "EnergyConstant",
    "FileFormatError",
    "Graph",
    "GraphError",
    "Input",
    "Linear",
    "MappingError",
    "NeuroError",
    "Node",
    "NumberFormat",
    "Output",
    "Placement",
    "PluginError",
    "PluginInfo",
    "PowerReport",
    "Program",
    "ProgrammingError",
    "QuantizationError",
    "Scale",
    "SimResult",
    "Target",
    "Threshold",
    "TimeModel",
    "Violation",
    "VirtualChip",
    "__version__",
    "device",
    "devices",
    "get_registry",
    "hookimpl",
    "register_plugin",
]

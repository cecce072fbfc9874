"""The plain data objects passed between device hooks: Placement, SimResult, PowerReport."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .graph import Graph


@dataclass(frozen=True)
class Placement:
    """Where every neuron and synapse of a quantized graph sits on the chip (``neuro_map``'s result).

    Attributes:
        device: the device name.
        graph: the quantized graph that was placed.
        cores: per neuron node, the core index of each neuron, an int array (n,).
        resources: what the placement uses, JSON-serialisable (cores used, memory per core, ...).
        tables: chip-specific routing tables the programmer needs (arrays by name).
    """

    device: str
    graph: Graph
    cores: Mapping[str, np.ndarray] = field(default_factory=dict)
    resources: Mapping[str, Any] = field(default_factory=dict)
    tables: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class SimResult:
    """What a simulation or a connection's run returns.

    Attributes:
        device: the device name.
        dt: the step in seconds (the chip's emulated step, for accelerated chips).
        outputs: the chip's output channels, (batch, time, channels): spike counts for spiking
            outputs, or read-out potentials where the chip reads out potentials.
        spikes: spike counts per population, (batch, time, n) (if recorded).
        states: recorded state variables by name (``"hidden.v"``, ...), (batch, time, n).
        counters: activity counters by name, each (batch,) summed over time: at least
            ``"spikes"`` (all neurons) and ``"synaptic_events"``; chip-specific ones may follow.
        chip_id: which chip instance produced this (analog chips), or ``None``.
    """

    device: str
    dt: float
    outputs: np.ndarray
    spikes: Mapping[str, np.ndarray] = field(default_factory=dict)
    states: Mapping[str, np.ndarray] = field(default_factory=dict)
    counters: Mapping[str, np.ndarray] = field(default_factory=dict)
    chip_id: int | None = None

    @property
    def steps(self) -> int:
        """Number of time steps simulated."""
        return int(self.outputs.shape[1])

    @property
    def duration(self) -> float:
        """Simulated duration of one sample in seconds."""
        return self.steps * self.dt


@dataclass(frozen=True)
class PowerReport:
    """Power and energy of running a Program on some input (``neuro_measure_power``'s result).

    Attributes:
        device: the device name.
        static_w: static (idle) power in W.
        dynamic_w: activity-dependent power in W, averaged over the run.
        energy_per_inference_j: total (static + dynamic) energy of one sample in J.
        dynamic_energy_per_inference_j: dynamic energy of one sample in J.
        breakdown_j: dynamic energy per sample in J by contribution (synaptic ops, spikes, ...).
        source: the publications the constants come from.
        measured: True only if the figures were read off real silicon; modelled figures say False.
    """

    device: str
    static_w: float
    dynamic_w: float
    energy_per_inference_j: float
    dynamic_energy_per_inference_j: float
    breakdown_j: Mapping[str, float]
    source: str
    measured: bool = False

    @property
    def total_w(self) -> float:
        """Static plus dynamic power in W."""
        return self.static_w + self.dynamic_w

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dictionary."""
        return {
            "device": self.device,
            "static_w": self.static_w,
            "dynamic_w": self.dynamic_w,
            "total_w": self.total_w,
            "energy_per_inference_j": self.energy_per_inference_j,
            "dynamic_energy_per_inference_j": self.dynamic_energy_per_inference_j,
            "breakdown_j": dict(self.breakdown_j),
            "source": self.source,
            "measured": self.measured,
        }

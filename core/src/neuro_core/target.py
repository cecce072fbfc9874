"""``Target``: a plain, frozen description of a chip that generic passes read.

A Target says what a chip can hold and how it computes: cores, neurons per core, fan-in and fan-out,
synapse memory, the number format of every parameter, the time model, delays, I/O channels, device
mismatch and energy constants, each with the published source it came from. Passes (quantization,
mapping, checks, the CLI) read it; they never ask the plugin. Plugins build Targets with constructor
functions (``xylo_audio2()``), not subclasses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from .errors import Violation

if TYPE_CHECKING:
    from .graph import Graph

Kind = Literal["digital", "mixed-signal", "analog", "float"]


@dataclass(frozen=True)
class NumberFormat:
    """An integer format of one parameter: ``bits`` wide, ``signed`` or not, times ``2**shift``.

    ``shift_bits`` > 0 means the format carries a per-matrix (or per-synapse) exponent of that many
    bits, as Xylo's weight shifts or Loihi's weight exponent; ``shift_range`` bounds it.
    ``saturating`` tells whether overflow clips (True) or wraps (False) on the chip.
    """

    bits: int
    signed: bool = True
    shift_bits: int = 0
    shift_range: tuple[int, int] = (0, 0)
    saturating: bool = True
    note: str = ""

    @property
    def min(self) -> int:
        """The smallest representable integer mantissa."""
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        """The largest representable integer mantissa."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1


@dataclass(frozen=True)
class TimeModel:
    """How the chip advances time.

    Attributes:
        dt: the step in seconds for synchronous chips (``None`` for continuous-time chips).
        continuous: True for analog/mixed-signal chips that integrate in continuous time.
        acceleration: emulated time runs this many times faster than biological time (1000 on
            BrainScaleS-2, 1 elsewhere).
        clock_hz: the digital clock frequency in Hz, where it matters for power (0 if not).
    """

    dt: float | None = None
    continuous: bool = False
    acceleration: float = 1.0
    clock_hz: float = 0.0


@dataclass(frozen=True)
class EnergyConstant:
    """One energy or power figure of the chip, with where it comes from.

    Attributes:
        value: the figure in SI units (J for energies, W for powers).
        unit: ``"J"`` or ``"W"`` (per event for J, as the name says).
        source: the publication, datasheet or measurement it comes from.
        measured: True if measured on silicon, False if modelled or derived.
    """

    value: float
    unit: str
    source: str
    measured: bool = True


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Target:
    """A chip, as the compiler passes see it. All limits are per chip unless named otherwise.

    Attributes:
        name: the device name (``"xylo-audio2"``).
        family: the chip family (``"xylo"``).
        kind: ``"digital"``, ``"mixed-signal"``, ``"analog"`` or ``"float"``.
        cores: number of cores (neuron groups that share resources).
        neurons_per_core: neurons one core holds.
        input_channels: input channels the chip accepts (``None``: unlimited).
        output_channels: output channels the chip can read out (``None``: unlimited).
        max_fan_in: most synapses into one neuron (``None``: unlimited).
        max_fan_out: most synapses out of one neuron (``None``: unlimited).
        synapse_memory_bits_per_core: synaptic memory of one core in bits (``None``: unlimited).
        formats: number format per parameter name (``"weight"``, ``"threshold"``, ...).
        time: the time model.
        max_delay: the largest per-synapse delay in steps (0: no programmable delays).
        recurrent: whether recurrent connections are supported.
        node_types: the graph node types the chip implements.
        reset_modes: the reset modes its spiking neurons implement (``"zero"``, ``"subtract"``).
        mismatch: relative standard deviation of device mismatch per parameter (0 for digital).
        energy: energy and power constants, each with its source.
        sources: where each limit comes from (limit name -> citation).
        extra: chip-specific facts that generic passes do not read.
    """

    name: str
    family: str
    kind: Kind
    cores: int
    neurons_per_core: int
    input_channels: int | None = None
    output_channels: int | None = None
    max_fan_in: int | None = None
    max_fan_out: int | None = None
    synapse_memory_bits_per_core: int | None = None
    formats: Mapping[str, NumberFormat] = field(default_factory=dict)
    time: TimeModel = field(default_factory=TimeModel)
    max_delay: int = 0
    recurrent: bool = True
    node_types: frozenset[str] = frozenset()
    reset_modes: frozenset[str] = frozenset({"zero", "subtract"})
    mismatch: Mapping[str, float] = field(default_factory=dict)
    energy: Mapping[str, EnergyConstant] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("formats", "mismatch", "energy", "sources", "extra"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "node_types", frozenset(self.node_types))
        object.__setattr__(self, "reset_modes", frozenset(self.reset_modes))

    @property
    def max_neurons(self) -> int:
        """Neurons the whole chip holds: ``cores * neurons_per_core``."""
        return self.cores * self.neurons_per_core

    def check(self, graph: Graph) -> list[Violation]:
        """Every generic limit that ``graph`` violates on this chip (empty list: it fits).

        Checks node types, reset modes, neuron count, input and output channels, fan-in and fan-out per neuron,
        recurrence, per-synapse delays and, for integer parameters stored in the graph, their
        formats. Chip-specific rules are the plugin's ``neuro_map`` to add.
        """
        from .checks import check_graph_against_target

        return check_graph_against_target(self, graph)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dictionary of every field."""
        # asdict() would deep-copy the mappingproxy fields, which cannot be copied: convert by hand
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["time"] = asdict(self.time)
        data["formats"] = {k: asdict(v) for k, v in self.formats.items()}
        data["energy"] = {k: asdict(v) for k, v in self.energy.items()}
        data["mismatch"] = dict(self.mismatch)
        data["sources"] = dict(self.sources)
        data["extra"] = dict(self.extra)
        data["node_types"] = sorted(self.node_types)
        data["reset_modes"] = sorted(self.reset_modes)
        return data

    def to_json(self, indent: int | None = 2) -> str:
        """This Target as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, default=_json_default)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Target:
        """Rebuild a Target from :meth:`to_dict` output."""
        data = dict(data)
        data["formats"] = {
            k: NumberFormat(**{**v, "shift_range": tuple(v["shift_range"])}) for k, v in data.get("formats", {}).items()
        }
        data["energy"] = {k: EnergyConstant(**v) for k, v in data.get("energy", {}).items()}
        data["time"] = TimeModel(**data.get("time", {}))
        data["node_types"] = frozenset(data.get("node_types", ()))
        data["reset_modes"] = frozenset(data.get("reset_modes", ("zero", "subtract")))
        return cls(**data)


def _json_default(value: Any) -> Any:
    if isinstance(value, (frozenset, set, tuple)):
        return sorted(value) if isinstance(value, (frozenset, set)) else list(value)
    if isinstance(value, MappingProxyType):
        return dict(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")

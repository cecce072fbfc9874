"""The one exception hierarchy of neuro.

Every error the toolchain raises on purpose derives from :class:`NeuroError`, so a caller can catch
all of them at once, or one stage at a time. Messages name the field or constraint, the limit and
the value, so that a user can fix the input without reading the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class NeuroError(Exception):
    """Base class of every error raised deliberately by neuro."""


class DeviceNotFoundError(NeuroError, LookupError):
    """No installed plugin provides the requested device name."""


class PluginError(NeuroError):
    """A plugin failed to load, declared a misspelt hook, or clashes with another plugin."""


class GraphError(NeuroError, ValueError):
    """A graph is malformed: unknown node type, dangling edge, shape mismatch, NaN/inf parameter."""


class FileFormatError(NeuroError, ValueError):
    """A file written by neuro is corrupt, truncated, of another kind or version, or for another device."""


class QuantizationError(NeuroError, ValueError):
    """A parameter cannot be represented in the chip's number format."""


class ProgrammingError(NeuroError):
    """A configuration image cannot be built, or does not belong to this device."""


class ChipConnectionError(NeuroError):
    """A connection was used out of order (run before write), or read-back verification failed."""


@dataclass(frozen=True)
class Violation:
    """One violated hardware limit.

    Attributes:
        constraint: the limit's name, as in the Target (e.g. ``"neurons_per_core"``, ``"max_fan_in"``).
        where: what violates it (e.g. ``"node 'hidden', neuron 17"``, ``"core 3"``).
        limit: the limit's value.
        value: the offending value.
    """

    constraint: str
    where: str
    limit: Any
    value: Any

    def __str__(self) -> str:
        return f"{self.constraint} at {self.where}: limit {self.limit}, got {self.value}"


class MappingError(NeuroError):
    """A network does not fit the chip. ``violations`` lists every violated limit, none left out."""

    def __init__(self, device: str, violations: list[Violation]) -> None:
        self.device = device
        self.violations = list(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(f"the network does not fit device {device!r}: {len(self.violations)} violation(s)\n{lines}")

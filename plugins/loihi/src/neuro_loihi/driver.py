"""Connections to Loihi: the VirtualChip (default) and, where Lava is installed, a Lava backend.

The VirtualChip runs the exact simulator on the image read back from its configuration memory.
The ``"lava"`` backend builds Lava processes (Dense/DelayDense + LIF, bit-accurate CPU models) from
the same image and runs them; Lava is imported only inside it, so nothing else depends on Lava.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np
from neuro_core.connection import Connection, VirtualChip
from neuro_core.errors import ChipConnectionError, ProgrammingError
from neuro_core.program import Program
from neuro_core.results import SimResult
from neuro_core.target import Target

from .program import read_program
from .sim import CompiledNetwork, check_inputs, simulate_network

BACKENDS = ("virtual", "lava")


_COMPILED: OrderedDict[tuple[str, str], CompiledNetwork] = OrderedDict()
_CACHE_SIZE = 8


def compiled_program(target: Target, program: Program) -> CompiledNetwork:
    """The simulator's tables of ``program``, built once per image (Programs are immutable; keyed by checksum)."""
    net = read_program(program, target.name)  # validates device, version and layout every time
    key = (target.name, program.checksum)
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
        return _COMPILED[key]
    compiled = CompiledNetwork(net)
    _COMPILED[key] = compiled
    while len(_COMPILED) > _CACHE_SIZE:
        _COMPILED.popitem(last=False)
    return compiled


def simulate_program(
    target: Target, program: Program, inputs: np.ndarray, record: bool, chip_id: int | None
) -> SimResult:
    """Run ``program`` in the exact simulator (what ``neuro_simulate`` and the VirtualChip call)."""
    compiled = compiled_program(target, program)
    payload = int(target.extra.get("max_input_payload", 1))
    result = simulate_network(compiled.net, inputs, record, target.name, payload, compiled)
    return SimResult(result.device, result.dt, result.outputs, result.spikes, result.states, result.counters, chip_id)


class LoihiVirtualChip(VirtualChip):
    """A virtual Loihi: a digital chip has no mismatch, so every ``chip_id`` computes the same."""

    def validate(self, program: Program) -> None:
        read_program(program, self.target.name)

    def execute(self, program: Program, inputs: np.ndarray, record: bool) -> SimResult:
        return simulate_program(self.target, program, inputs, record, self.chip_id)


class LavaConnection(Connection):
    """Runs a Program through Lava's bit-accurate CPU models (needs ``pip install lava-nc``, Python 3.10)."""

    def __init__(self, target: Target, chip_id: int = 0) -> None:
        super().__init__(target, chip_id)
        try:
            import lava  # noqa: F401
        except ImportError as exc:
            raise ChipConnectionError(
                "the 'lava' backend needs Lava: pip install lava-nc==0.10.0 (Python 3.10, numpy 1)"
            ) from exc
        self._program: Program | None = None

    def validate(self, program: Program) -> None:
        read_program(program, self.target.name)

    def _write(self, program: Program) -> None:
        self._program = program

    def _read(self) -> Program:
        if self._program is None:
            raise ChipConnectionError(f"{self.device!r} (lava) holds no configuration")
        return self._program

    def _run(self, program: Program, inputs: np.ndarray, record: bool) -> SimResult:
        from .lava_backend import run_network_in_lava

        net = read_program(program, self.target.name)
        x = check_inputs(inputs, net.input_channels, int(self.target.extra.get("max_input_payload", 1)))
        return run_network_in_lava(net, x, self.target.name, self.chip_id)


def connect(target: Target, chip_id: int, options: Mapping[str, Any]) -> Connection:
    """A connection for ``options["backend"]`` (``"virtual"`` by default, or ``"lava"``)."""
    unknown = set(options) - {"backend"}
    if unknown:
        raise ChipConnectionError(f"unknown connection option(s) {sorted(unknown)}; allowed: ['backend']")
    backend = options.get("backend", "virtual")
    if backend == "virtual":
        return LoihiVirtualChip(target, chip_id)
    if backend == "lava":
        return LavaConnection(target, chip_id)
    raise ChipConnectionError(f"device {target.name!r} has no backend {backend!r}; available: {list(BACKENDS)}")


__all__ = ["LavaConnection", "LoihiVirtualChip", "ProgrammingError", "connect", "simulate_program"]

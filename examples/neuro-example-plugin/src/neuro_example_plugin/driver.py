"""Connections to example-if8: a VirtualChip that runs the exact simulator.

A real plugin adds vendor backends here, importing the vendor SDK only inside the class that
uses it, so nothing else depends on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from neuro_core import ChipConnectionError, Program, SimResult, Target, VirtualChip

from . import sim
from .program import unpack

BACKENDS = ("virtual",)


class ExampleVirtualChip(VirtualChip):
    """One virtual example-if8 chip. Digital: every chip_id computes the same."""

    def validate(self, program: Program) -> None:
        unpack(program)  # raises ProgrammingError before anything is written

    def execute(self, program: Program, inputs: np.ndarray, record: bool) -> SimResult:
        return sim.simulate(self.target, program, inputs, record, self.chip_id)


def connect(target: Target, chip_id: int, options: Mapping[str, Any]) -> ExampleVirtualChip:
    """A connection to chip ``chip_id``; ``options["backend"]`` must be ``"virtual"`` (the default).

    Raises:
        ChipConnectionError: an unknown backend or option.
    """
    unknown = set(options) - {"backend"}
    if unknown:
        raise ChipConnectionError(f"unknown connection option(s) {sorted(unknown)} for {target.name!r}")
    backend = options.get("backend", "virtual")
    if backend not in BACKENDS:
        raise ChipConnectionError(f"{target.name!r} has no backend {backend!r}; available: {list(BACKENDS)}")
    return ExampleVirtualChip(target, chip_id)

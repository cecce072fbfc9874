"""Connections to DYNAP-SE2: the VirtualChip (default) and the vendor (samna) backend's entry.

A :class:`DynapseVirtualChip` is one physical chip: its mismatch is drawn once from its
``chip_id`` (see :class:`~neuro_dynapse2.sim.ChipMismatch`) and kept for its lifetime; every run
draws fresh temporal noise from a counter seeded by ``chip_id`` and the run index, so repeated
runs differ as on silicon while a fresh connection replays the same sequence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from neuro_core import ChipConnectionError, Program, SimResult, Target, VirtualChip

from .program import validate_image
from .sim import ChipMismatch, simulate


class DynapseVirtualChip(VirtualChip):
    """A virtual DYNAP-SE2 chip with its own frozen mismatch (``chip_id``) and temporal noise."""

    def __init__(self, target: Target, chip_id: int = 0) -> None:
        super().__init__(target, chip_id)
        self.mismatch = ChipMismatch.draw(target, chip_id)
        self._runs = 0

    def validate(self, program: Program) -> None:
        """Refuse an image the chip cannot hold (ProgrammingError) before anything is written."""
        validate_image(program)

    def execute(self, program: Program, inputs: np.ndarray, record: bool) -> SimResult:
        """Run ``program`` on this chip: its mismatch, and noise seeded by (chip_id, run index)."""
        seed = int(np.random.SeedSequence([self.chip_id, self._runs]).generate_state(1)[0])
        self._runs += 1
        return simulate(self.target, program, inputs, record, self.chip_id, seed, mismatch=self.mismatch)


def connect(target: Target, chip_id: int, options: Mapping[str, Any]) -> VirtualChip:
    """``neuro_connect``: ``backend="virtual"`` (default) or ``"samna"``.

    Raises:
        ChipConnectionError: unknown option or backend; samna not installed; samna installed but
            this plugin has no samna adapter yet (it is not implemented: said plainly).
    """
    unknown = set(options) - {"backend"}
    if unknown:
        raise ChipConnectionError(f"unknown option(s) {sorted(unknown)} for dynapse2 connect; allowed: ['backend']")
    backend = options.get("backend", "virtual")
    if backend == "virtual":
        return DynapseVirtualChip(target, chip_id)
    if backend == "samna":
        try:
            import samna  # noqa: F401  (the vendor SDK is imported only here)
        except ImportError as exc:
            raise ChipConnectionError("backend 'samna' needs SynSense's samna package: pip install samna") from exc
        raise ChipConnectionError("the samna adapter for DYNAP-SE2 is not implemented in neuro-dynapse2 0.1.0")
    raise ChipConnectionError(f"dynapse2 has backends 'virtual' and 'samna', not {backend!r}")

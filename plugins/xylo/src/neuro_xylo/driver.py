"""Connections to Xylo: the VirtualChip (default) and a samna adapter when samna is installed.

``XyloVirtualChip.validate`` refuses, before anything is written, an image for another variant,
of an unknown format, with values out of range, or breaking a design rule (recurrent fan-out): the
base class calls it first in ``write``, then writes, reads back and verifies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from neuro_core.connection import Connection, VirtualChip
from neuro_core.errors import ChipConnectionError, ProgrammingError
from neuro_core.program import Program
from neuro_core.results import SimResult
from neuro_core.target import Target

from .program import XyloImage
from .sim import simulate_image

BACKENDS = ("virtual", "samna")


def result_of(target: Target, image: XyloImage, inputs: np.ndarray, record: bool, chip_id: int | None) -> SimResult:
    """Simulate ``image`` and package the run as a SimResult (outputs = output spike counts)."""
    run = simulate_image(image, inputs, record=record)
    counters = dict(run.counters)
    counters["spikes"] = run.counters["hidden_spikes"] + run.counters["output_spikes"]
    counters["synaptic_events"] = (
        run.counters["synaptic_ops_input"]
        + run.counters["synaptic_ops_recurrent"]
        + run.counters["synaptic_ops_output"]
    )
    spikes = {"hidden": run.hidden_spikes, "output": run.output_spikes} if record else {}
    dt = float(image.meta.get("dt", target.time.dt))
    return SimResult(target.name, dt, run.output_spikes.astype(np.float64), spikes, run.states, counters, chip_id)


class XyloVirtualChip(VirtualChip):
    """A virtual Xylo chip of one variant: runs written images on the bit-exact simulator."""

    def validate(self, program: Program) -> None:
        """Refuse an image this chip cannot hold (ProgrammingError listing every problem); writes nothing."""
        image = XyloImage.from_program(program, self.target)  # device, format, structure, ranges
        problems = image.problems(self.target, design_rules=True)
        if problems:
            raise ProgrammingError(f"image refused by {self.target.name!r}:\n  - " + "\n  - ".join(problems))

    def execute(self, program: Program, inputs: np.ndarray, record: bool) -> SimResult:
        image = XyloImage.from_program(program, self.target)
        return result_of(self.target, image, inputs, record, self.chip_id)


def connect(target: Target, chip_id: int, options: Mapping[str, Any]) -> Connection:
    """``neuro_connect`` for Xylo: ``backend="virtual"`` (default) or ``"samna"`` (needs samna and a board).

    Raises:
        ChipConnectionError: an unknown backend or option, or samna unavailable (naming what to install).
    """
    unknown = set(options) - {"backend"}
    if unknown:
        raise ChipConnectionError(
            f"unknown connection option(s) {sorted(unknown)} for {target.name!r}; allowed: ['backend']"
        )
    backend = options.get("backend", "virtual")
    if backend == "virtual":
        return XyloVirtualChip(target, chip_id)
    if backend == "samna":
        return _samna_connection(target, chip_id)
    raise ChipConnectionError(f"unknown backend {backend!r} for {target.name!r}; available: {list(BACKENDS)}")


def _samna_connection(target: Target, chip_id: int) -> Connection:
    # samna is imported only here: nothing else in neuro-xylo depends on the vendor SDK
    try:
        import samna  # noqa: F401
    except Exception as exc:  # samna's PyPI stub may fail in many ways at import
        raise ChipConnectionError(
            f"backend 'samna' needs SynSense's samna SDK and a connected {target.name} board: "
            f"`pip install samna` ({type(exc).__name__}: {exc})"
        ) from exc
    raise ChipConnectionError(
        f"samna imported, but the samna adapter of neuro-xylo is not implemented yet: no board is driven for "
        f"{target.name!r} chip {chip_id}; use backend='virtual'"
    )

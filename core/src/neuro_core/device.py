"""``Device``: one chip, as users drive it. ``neuro_core.device(name)`` returns one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ProgrammingError
from .graph import Graph
from .plugins import DeviceInfo, get_registry
from .program import Program
from .results import Placement, PowerReport, SimResult
from .target import Target

if TYPE_CHECKING:
    import torch

    from .connection import Connection


class Device:
    """A handle on one installed device. Every method calls the owning plugin's hook.

    The stages chain: ``quantize -> map -> program -> simulate -> measure_power``; ``compile`` runs
    the first three. Each returns a new object and leaves its argument untouched.
    """

    def __init__(self, name: str) -> None:
        self._registry = get_registry()
        self.info: DeviceInfo = self._registry.info(name)
        self.name = name

    def __repr__(self) -> str:
        return f"Device({self.name!r}, plugin={self.info.distribution} {self.info.version})"

    @property
    def target(self) -> Target:
        """The chip's :class:`~neuro_core.target.Target`."""
        return self.info.target

    def _call(self, hook: str, **kwargs: Any) -> Any:
        return self._registry.call(hook, self.name, **kwargs)

    def quantize(self, graph: Graph, **options: Any) -> Graph:
        """The graph in the chip's number formats (see ``neuro_quantize``)."""
        return self._call("neuro_quantize", graph=graph, options=dict(options))

    def map(self, graph: Graph) -> Placement:
        """Place a quantized graph; raises MappingError listing every violation (``neuro_map``)."""
        return self._call("neuro_map", graph=graph)

    def program(self, placement: Placement) -> Program:
        """The configuration image of a placement (``neuro_program``)."""
        if placement.device != self.name:
            raise ProgrammingError(f"this Placement was made for {placement.device!r}, not {self.name!r}")
        return self._call("neuro_program", placement=placement)

    def compile(self, graph: Graph, **quantize_options: Any) -> Program:
        """quantize, map and program in one call."""
        return self.program(self.map(self.quantize(graph, **quantize_options)))

    def simulate(
        self,
        program: Program,
        inputs: np.ndarray,
        record: bool = False,
        chip_id: int | None = None,
        seed: int = 0,
    ) -> SimResult:
        """Run ``program`` on ``inputs`` (batch, time, channels) or (time, channels) (``neuro_simulate``)."""
        if program.device != self.name:
            raise ProgrammingError(f"this Program was built for {program.device!r}, not {self.name!r}")
        x = np.asarray(inputs)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3:
            raise ValueError(f"inputs must be (batch, time, channels) or (time, channels), got shape {x.shape}")
        return self._call("neuro_simulate", program=program, inputs=x, record=record, chip_id=chip_id, seed=seed)

    def measure_power(self, program: Program, result: SimResult) -> PowerReport:
        """Power and energy of the run that produced ``result`` (``neuro_measure_power``)."""
        return self._call("neuro_measure_power", program=program, result=result)

    def connect(self, chip_id: int = 0, **options: Any) -> Connection:
        """A connection to chip ``chip_id``: a VirtualChip unless ``backend=`` names a vendor SDK."""
        return self._call("neuro_connect", chip_id=chip_id, options=dict(options))

    def chip_model(self, graph: Graph, **options: Any) -> torch.nn.Module:
        """The differentiable torch model of this chip, initialised from ``graph``."""
        return self._call("neuro_chip_model", graph=graph, options=dict(options))


def device(name: str) -> Device:
    """The installed device called ``name``.

    Raises:
        DeviceNotFoundError: lists the installed devices and suggests ``pip install neuro-<family>``.
    """
    return Device(name)


def devices() -> Mapping[str, DeviceInfo]:
    """Every installed device by name: distribution, version, summary and Target."""
    registry = get_registry()
    return {name: registry.devices[name] for name in registry}

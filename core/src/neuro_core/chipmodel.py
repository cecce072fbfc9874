"""``ChipModel``: the base class of every differentiable chip model (``neuro_chip_model``'s result).

Hardware-aware training reads only this interface, so it works for any chip:

- ``forward(x)``: (batch, time, in) float tensor -> (batch, time, out) tensor (output spikes, or
  read-out potentials for a readout layer).
- ``to_graph()``: the trained parameters as a float :class:`~neuro_core.graph.Graph` that the same
  device's ``quantize`` accepts; deploying it gives the network the model computed.
- ``quantization_aware``: when True, forward passes weights and neuron parameters through the
  chip's quantizer with straight-through gradients (quantization-aware training).
- ``mismatch_sigma()``: relative standard deviation of device mismatch per parameter name
  (``named_parameters`` names, or names of floating-point buffers such as neuron time constants);
  mismatch injection multiplies each by ``1 + sigma * N(0, 1)``.
"""

from __future__ import annotations

from abc import abstractmethod

import torch

from .graph import Graph
from .target import Target


class ChipModel(torch.nn.Module):
    """Base class of differentiable chip models. See the module docstring for the contract."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.quantization_aware = False

    @abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, in) -> (batch, time, out)."""

    @abstractmethod
    def to_graph(self) -> Graph:
        """The trained parameters as a float Graph."""

    def mismatch_sigma(self) -> dict[str, float]:
        """Relative mismatch per parameter name; default: none (digital chips)."""
        return {}

"""``neuro_core.nn``: spiking layers for PyTorch with fused time scans, and their IR conversions.

Layers take and return (batch, time, channels) tensors and start from zero state on every call:

- :class:`Linear` (one matmul over all steps, optional fixed per-synapse delays),
  :class:`DelayLinear` (learnable per-synapse delays, roundable and prunable);
- neurons :class:`LIF`, :class:`CubaLIF`, :class:`IF`, :class:`LI` (readout: outputs the potential),
  :class:`RecurrentLIF` (input Linear + recurrent weights + LIF);
- :class:`Sequential`, :class:`Network` (a ChipModel), :func:`to_graph`, :func:`from_graph`;
- :mod:`~neuro_core.nn.surrogate`: the surrogate gradients; :mod:`~neuro_core.nn.functional`: the
  fused scans with hand-written backward passes. See docs/nn.md.
"""

from __future__ import annotations

from . import functional, surrogate
from .delay import DelayLinear, PruneReport
from .kernels import set_backend
from .layers import IF, LI, LIF, CubaLIF, Linear, RecurrentLIF
from .network import Network, Sequential, from_graph, to_graph

__all__ = [
    "IF",
    "LI",
    "LIF",
    "CubaLIF",
    "DelayLinear",
    "Linear",
    "Network",
    "PruneReport",
    "RecurrentLIF",
    "Sequential",
    "from_graph",
    "functional",
    "set_backend",
    "surrogate",
    "to_graph",
]

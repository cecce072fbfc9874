"""neuro-loihi: the Intel Loihi / Loihi 2 device plugin of neuro.

Devices ``"loihi"`` and ``"loihi2"``: quantization to Loihi's integer formats, mapping onto cores with
every per-core limit checked, a configuration image, an exact simulator bit-for-bit equal to Lava's
bit-accurate models (delays included), an energy model, a differentiable CUBA LIF model with
learnable per-synapse delays, and import/export of lava-dl netx HDF5 networks (``neuro_loihi.netx``).
"""

from __future__ import annotations

__version__ = "0.1.0"

from .target import loihi1, loihi2

__all__ = ["__version__", "loihi1", "loihi2"]

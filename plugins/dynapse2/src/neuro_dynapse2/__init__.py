"""neuro-dynapse2: the SynSense DYNAP-SE2 device plugin for neuro.

Device ``"dynapse2"``: one chip, 4 cores x 256 DPI neurons, 64 CAM synapses per neuron, four base
weight currents per core selected by 4-bit masks, device mismatch. See docs/dynapse2.md.
"""

from __future__ import annotations

from .target import DEVICE, dynapse2

__version__ = "0.1.0"
__all__ = ["DEVICE", "__version__", "dynapse2"]

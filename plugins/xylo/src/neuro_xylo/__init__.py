"""neuro-xylo: the SynSense Xylo plugin of neuro (Xylo Audio 2, Xylo IMU, Xylo Audio 3).

Devices ``"xylo-audio2"``, ``"xylo-imu"`` and ``"xylo-audio3"``: a bit-exact batched simulator of the
chip's integer arithmetic (``sim.py``), quantization to its formats, mapping with every design rule,
the configuration image, a virtual chip, a power model and a differentiable model for
quantization-aware training. See docs/xylo.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

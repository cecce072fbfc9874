"""neuro-example-plugin: the device ``example-if8``, a small fictional integer IF chip.

A complete third-party device plugin in a few hundred lines, written as the tutorial of
``docs/plugins.md``. The chip does not exist; its semantics are defined in :mod:`.sim`, its limits in
:mod:`.target`. The module layout is the one every neuro chip plugin uses.
"""

from __future__ import annotations

from .target import DEVICE, example_if8

__version__ = "0.1.0"
__all__ = ["DEVICE", "__version__", "example_if8"]

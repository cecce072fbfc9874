"""Testing helpers for neuro and its plugins: the device conformance suite and file-damage helpers.

A plugin proves it honours the device API by subclassing :class:`DeviceConformance` in its
``tests/test_conformance.py``::

    from neuro_core.testing import DeviceConformance

    class TestConformance(DeviceConformance):
        device_name = "example-if8"

        def small_graph(self) -> Graph: ...          # a float graph that fits the chip
        def oversized_graph(self) -> Graph: ...      # one that violates several limits
        def sample_inputs(self, graph) -> np.ndarray:  # (batch, time, channels) valid inputs

This package needs pytest (install ``neuro-core[test]``) but never imports torch: the one test
that needs the differentiable chip model imports it inside the test.
"""

from __future__ import annotations

import pytest

# Plain asserts in the suite get pytest's detailed failure messages only if rewritten at import.
pytest.register_assert_rewrite("neuro_core.testing.conformance")

from .conformance import DeviceConformance  # noqa: E402 - after register_assert_rewrite
from .files import corrupt_file, truncate_file  # noqa: E402

__all__ = ["DeviceConformance", "corrupt_file", "truncate_file"]

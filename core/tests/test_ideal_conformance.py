"""The built-in ideal device through the conformance suite every plugin runs."""

from __future__ import annotations

import numpy as np
from core_helpers import lif_chain, spike_inputs
from neuro_core import Graph
from neuro_core.testing import DeviceConformance


class TestIdealConformance(DeviceConformance):
    device_name = "ideal"

    def small_graph(self) -> Graph:
        return lif_chain()

    def oversized_graph(self) -> None:
        return None  # the ideal device has no limit a graph can exceed

    def sample_inputs(self, graph: Graph) -> np.ndarray:
        return spike_inputs(graph)

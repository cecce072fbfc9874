"""example-if8 through neuro-core's conformance suite: the one test file every plugin must have."""

from __future__ import annotations

import numpy as np
from if8_graphs import event_counts, if_chain
from neuro_core import Graph
from neuro_core.testing import DeviceConformance


class TestConformance(DeviceConformance):
    device_name = "example-if8"

    def small_graph(self) -> Graph:
        return if_chain([6, 10, 4])

    def oversized_graph(self) -> Graph:
        # 40 inputs > 32 channels, 300 + 20 neurons > 256, fan-in 300 > 64, 20 outputs > 16.
        return if_chain([40, 300, 20])

    def sample_inputs(self, graph: Graph) -> np.ndarray:
        return event_counts(graph.nodes["in"].out_size)

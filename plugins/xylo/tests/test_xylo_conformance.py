"""The neuro conformance suite, run against every Xylo variant."""

from __future__ import annotations

import numpy as np
from neuro_core.graph import Graph
from neuro_core.testing import DeviceConformance
from xylo_helpers import events, xylo_graph


class _XyloConformance(DeviceConformance):
    def small_graph(self) -> Graph:
        return xylo_graph(16, 24, 4, seed=1)

    def oversized_graph(self) -> Graph:
        # 20 inputs > 16, 1100 hidden > every variant's hidden neurons, 40 outputs > every variant's outputs
        return xylo_graph(20, 1100, 40, seed=2, recurrent=False)

    def sample_inputs(self, graph: Graph) -> np.ndarray:
        return events(3, 40, graph.nodes["input"].out_size, seed=3)


class TestAudio2Conformance(_XyloConformance):
    device_name = "xylo-audio2"


class TestImuConformance(_XyloConformance):
    device_name = "xylo-imu"


class TestAudio3Conformance(_XyloConformance):
    device_name = "xylo-audio3"

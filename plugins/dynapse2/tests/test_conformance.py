"""The neuro device conformance suite, run on the dynapse2 plugin."""

from __future__ import annotations

import numpy as np
from conftest import fan_in_graph, poisson, strong_network
from neuro_core import Graph
from neuro_core.testing import DeviceConformance


class TestDynapse2Conformance(DeviceConformance):
    device_name = "dynapse2"
    temporal_noise = True  # the simulator adds seeded membrane noise

    def small_graph(self) -> Graph:
        return strong_network()

    def oversized_graph(self) -> Graph:
        # 1030 neurons (> 1024 per chip) with 70 inputs each (> 64 CAMs per neuron)
        return fan_in_graph(70, 1030)

    def sample_inputs(self, graph: Graph) -> np.ndarray:
        return poisson((3, 60, graph.nodes["input"].out_size), 0.3, seed=1)

"""The neuro device conformance suite, run against both Loihi devices."""

from __future__ import annotations

import numpy as np
from conftest import chain_graph, spikes
from neuro_core.graph import CubaLIF, Graph, Input, Linear, Output
from neuro_core.testing import DeviceConformance


def _oversized() -> Graph:
    # 5,000 inputs into 2 neurons (fan-in > 4,096 twice) through delays up to 70 (> 62)
    n_in, n = 5000, 2
    weight = np.full((n, n_in), 0.01)
    delay = np.zeros((n, n_in))
    delay[0, 0] = 70
    ones = np.ones(n)
    lif = CubaLIF(r=ones, v_threshold=ones, tau=ones * 1e-2, tau_syn=ones * 5e-3, w_in=ones, v_leak=ones * 0)
    return Graph.chain(
        1e-3, [("in", Input((n_in,))), ("fc", Linear(weight, delay)), ("lif", lif), ("out", Output((n,)))]
    )


class TestLoihiConformance(DeviceConformance):
    device_name = "loihi"

    def small_graph(self) -> Graph:
        return chain_graph()

    def oversized_graph(self) -> Graph:
        return _oversized()

    def sample_inputs(self, graph: Graph) -> np.ndarray:
        return spikes(3, 30, graph.nodes["in"].out_size)


class TestLoihi2Conformance(TestLoihiConformance):
    device_name = "loihi2"

    def sample_inputs(self, graph: Graph) -> np.ndarray:
        x = spikes(3, 30, graph.nodes["in"].out_size)
        return x * np.random.default_rng(1).integers(1, 5, x.shape)  # graded input spikes

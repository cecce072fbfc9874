"""The reference simulator = the IR's semantics, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from core_helpers import DT, lif_chain, spike_inputs
from neuro_core import IF, LI, LIF, Affine, CubaLIF, Delay, Graph, Input, Linear, Node, Output, Scale, Threshold
from neuro_core.reference import simulate


def run_node(node: Node, x: list[list[float]], record: bool = False) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Simulate Input -> node -> Output on one sample ``x`` (time, channels); return (outputs, states)."""
    array = np.asarray(x, dtype=float)
    graph = Graph.chain(DT, [("in", Input((array.shape[1],))), ("n", node), ("out", Output((node.out_size,)))])
    result = simulate(graph, array, record=record)
    return result.outputs["out"][0], {k: v[0] for k, v in result.states.items()}


def test_lif_forward_euler_and_reset_to_zero() -> None:
    # dt/tau = 0.1, constant input 3: v = 0.3, 0.57, 0.813, 1.0317 > 1 -> spike, reset to 0, 0.3, ...
    lif = LIF(r=np.ones(1), v_threshold=np.ones(1), tau=np.full(1, 0.01))
    out, states = run_node(lif, [[3.0]] * 6, record=True)
    np.testing.assert_array_equal(out[:, 0], [0, 0, 0, 1, 0, 0])
    np.testing.assert_allclose(states["n"][:, 0], [0.3, 0.57, 0.813, 0.0, 0.3, 0.57])


def test_lif_reset_by_subtraction_keeps_the_excess() -> None:
    lif = LIF(r=np.ones(1), v_threshold=np.ones(1), tau=np.full(1, 0.01), reset="subtract")
    _, states = run_node(lif, [[3.0]] * 5, record=True)
    v3 = 0.813 + 0.1 * (3 - 0.813) - 1.0  # 0.0317
    np.testing.assert_allclose(states["n"][:, 0], [0.3, 0.57, 0.813, v3, v3 + 0.1 * (3 - v3)])


def test_lif_leaks_towards_v_leak_and_scales_input_by_r() -> None:
    lif = LIF(r=np.array([0.0, 2.0]), v_threshold=np.full(2, 100.0), tau=np.full(2, 0.01), v_leak=np.array([2.0, 0.0]))
    _, states = run_node(lif, [[1.0, 1.0]] * 2, record=True)
    np.testing.assert_allclose(states["n"][:, 0], [0.2, 0.38])  # drifts to v_leak = 2, input ignored (r = 0)
    np.testing.assert_allclose(states["n"][:, 1], [0.2, 0.38])  # r * I = 2


def test_if_integrates_without_leak_and_resets_to_v_reset() -> None:
    neuron = IF(r=np.full(1, 0.5), v_threshold=np.ones(1), v_reset=np.full(1, 0.25))
    out, states = run_node(neuron, [[1.0]] * 5, record=True)
    # 0.5, 1.0 (not > 1), 1.5 -> spike -> 0.25, 0.75, 1.25 -> spike -> 0.25
    np.testing.assert_array_equal(out[:, 0], [0, 0, 1, 0, 1])
    np.testing.assert_allclose(states["n"][:, 0], [0.5, 1.0, 0.25, 0.75, 0.25])


def test_cuba_lif_updates_the_current_first_then_the_membrane() -> None:
    # dt/tau_syn = 0.2, dt/tau = 0.1, w_in = 2, one input pulse at t = 0.
    cuba = CubaLIF(
        r=np.ones(1),
        v_threshold=np.full(1, 10.0),
        tau=np.full(1, 0.01),
        tau_syn=np.full(1, 0.005),
        w_in=np.full(1, 2.0),
    )
    _, states = run_node(cuba, [[1.0], [0.0], [0.0]], record=True)
    i = [0.4, 0.32, 0.256]  # i += 0.2 * (-i + 2 I)
    v0 = 0.1 * i[0]
    v1 = v0 + 0.1 * (-v0 + i[1])
    v2 = v1 + 0.1 * (-v1 + i[2])
    np.testing.assert_allclose(states["n"][:, 0], [v0, v1, v2])


def test_li_outputs_its_potential() -> None:
    li = LI(tau=np.full(1, 0.01), r=np.full(1, 2.0), v_leak=np.zeros(1))
    out, _ = run_node(li, [[1.0], [1.0], [0.0]])
    np.testing.assert_allclose(out[:, 0], [0.2, 0.38, 0.342])


def test_delay_node_shifts_each_channel_by_its_delay() -> None:
    out, _ = run_node(Delay(np.array([0.0, 2.0])), [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]])
    np.testing.assert_array_equal(out, [[1, 0], [2, 0], [3, 1], [4, 2]])


def test_per_synapse_delays_on_linear() -> None:
    node = Linear(np.array([[1.0, 10.0]]), delay=np.array([[0, 1]]))
    out, _ = run_node(node, [[1.0, 1.0], [0.0, 2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(out[:, 0], [1.0, 10.0, 20.0])  # y[t] = x0[t] + 10 x1[t-1]


def test_affine_scale_threshold() -> None:
    out, _ = run_node(Affine(np.array([[1.0, -1.0]]), bias=np.array([0.5])), [[2.0, 1.0]])
    assert out[0, 0] == 1.5
    out, _ = run_node(Scale(np.array([2.0, -3.0])), [[1.0, 1.0]])
    np.testing.assert_array_equal(out[0], [2.0, -3.0])
    out, _ = run_node(Threshold(np.array([0.5, 0.5])), [[0.5, 0.6]])
    np.testing.assert_array_equal(out[0], [0.0, 1.0])  # strictly greater


def test_recurrence_carries_the_previous_step() -> None:
    # a[t] = in[t] + b[t-1], b[t] = 2 a[t]: the back edge b -> a delivers last step's value.
    graph = Graph(
        {"in": Input((1,)), "a": Scale(np.ones(1)), "b": Scale(np.full(1, 2.0)), "out": Output((1,))},
        (("in", "a"), ("a", "b"), ("b", "a"), ("a", "out")),
        DT,
    )
    result = simulate(graph, np.array([[1.0], [0.0], [0.0], [0.0]]))
    np.testing.assert_array_equal(result.outputs["out"][0, :, 0], [1, 2, 4, 8])


def test_edges_into_one_node_are_summed() -> None:
    graph = Graph(
        {"in": Input((1,)), "x2": Scale(np.full(1, 2.0)), "x3": Scale(np.full(1, 3.0)), "out": Output((1,))},
        (("in", "x2"), ("in", "x3"), ("x2", "out"), ("x3", "out")),
        DT,
    )
    assert simulate(graph, np.ones((1, 1))).outputs["out"][0, 0, 0] == 5.0


def test_counters_count_spikes_and_synaptic_events() -> None:
    node = Linear(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]))  # input 0 reaches 2 synapses, input 1 one
    graph = Graph.chain(
        DT,
        [
            ("in", Input((2,))),
            ("fc", node),
            ("if", IF(r=np.ones(3), v_threshold=np.full(3, 0.5))),
            ("out", Output((3,))),
        ],
    )
    result = simulate(graph, np.array([[[1.0, 0.0], [2.0, 1.0]]]))
    assert result.counters["synaptic_events"].tolist() == [1 * 2 + 2 * 2 + 1 * 1]
    # t = 0: currents (1, 1, 0) -> 2 spikes; t = 1: (2, 3, 0) -> 2 spikes.
    assert result.counters["spikes"].tolist() == [result.spikes["if"].sum()] == [4.0]


def test_batch_samples_are_independent_and_2d_inputs_are_one_sample() -> None:
    graph = lif_chain()
    x = spike_inputs(graph, batch=3)
    batch = simulate(graph, x).outputs["out"]
    for b in range(3):
        np.testing.assert_array_equal(simulate(graph, x[b]).outputs["out"][0], batch[b])


def test_bad_inputs_name_the_problem() -> None:
    graph = lif_chain(n_in=3)
    with pytest.raises(ValueError, match="has 4 channels, the Input node takes 3"):
        simulate(graph, np.zeros((1, 5, 4)))
    with pytest.raises(ValueError, match=r"\(batch, time, channels\)"):
        simulate(graph, np.zeros(5))
    with pytest.raises(ValueError, match="no input given"):
        simulate(graph, {"wrong": np.zeros((1, 5, 3))})

"""neuro -> NIR -> neuro is exact for every node type (property-based), in memory and through files."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neuro_core.errors import GraphError
from neuro_core.graph import IF, LI, LIF, Affine, CubaLIF, Delay, Graph, Input, Linear, Node, Output, Scale, Threshold
from neuro_core.reference import simulate

nir = pytest.importorskip("nir")
from neuro_core import nir as neuro_nir  # noqa: E402

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_subnormal=False)
positive = st.floats(min_value=1e-5, max_value=10.0, allow_nan=False)


def _vector(draw: Any, n: int, elements: Any = finite) -> np.ndarray:
    return np.array(draw(st.lists(elements, min_size=n, max_size=n)), dtype=np.float64)


def _quantized(draw: Any, kwargs: dict[str, Any], key: str) -> dict[str, Any]:
    """Sometimes attach int_params/scales for ``key``, as a quantizer would."""
    if draw(st.booleans()):
        ints = np.asarray(draw(st.lists(st.integers(-128, 127), min_size=kwargs[key].size, max_size=kwargs[key].size)))
        kwargs["int_params"] = {key: ints.reshape(kwargs[key].shape)}
        kwargs["scales"] = {key: draw(positive)}
    return kwargs


@st.composite
def elementwise_node(draw: Any, n: int) -> Node:
    kind = draw(st.sampled_from(["Scale", "Threshold", "Delay", "LI", "IF", "LIF", "CubaLIF"]))
    reset = draw(st.sampled_from(["zero", "subtract"]))
    if kind == "Scale":
        return Scale(**_quantized(draw, {"scale": _vector(draw, n)}, "scale"))
    if kind == "Threshold":
        return Threshold(threshold=_vector(draw, n))
    if kind == "Delay":
        return Delay(delay=_vector(draw, n, st.integers(0, 5)))
    if kind == "LI":
        return LI(tau=_vector(draw, n, positive), r=_vector(draw, n), v_leak=_vector(draw, n))
    spiking = {"v_threshold": _vector(draw, n), "v_reset": _vector(draw, n), "reset": reset}
    if kind == "IF":
        return IF(**_quantized(draw, {"r": _vector(draw, n), **spiking}, "v_threshold"))
    leaky = {"tau": _vector(draw, n, positive), "r": _vector(draw, n), "v_leak": _vector(draw, n), **spiking}
    if kind == "LIF":
        return LIF(**_quantized(draw, leaky, "v_threshold"))
    return CubaLIF(tau_syn=_vector(draw, n, positive), w_in=_vector(draw, n), **leaky)


@st.composite
def graphs(draw: Any) -> Graph:
    """A random chain of 1-4 (weights, elementwise) stages, sometimes with recurrent edges, of every node type."""
    size = draw(st.integers(1, 4))
    nodes: dict[str, Node] = {"in": Input(shape=(size,))}
    edges: list[tuple[str, str]] = []
    previous = "in"
    for stage in range(draw(st.integers(1, 4))):
        n = draw(st.integers(1, 4))
        weight = np.array(draw(st.lists(finite, min_size=n * size, max_size=n * size))).reshape(n, size)
        delay = np.array(draw(st.lists(st.integers(0, 4), min_size=n * size, max_size=n * size))).reshape(n, size)
        kwargs: dict[str, Any] = {"weight": weight, "delay": delay if draw(st.booleans()) else None}
        kwargs = _quantized(draw, kwargs, "weight")
        if draw(st.booleans()):
            nodes[f"w{stage}"] = Affine(bias=_vector(draw, n), **kwargs)
        else:
            nodes[f"w{stage}"] = Linear(**kwargs)
        nodes[f"n{stage}"] = draw(elementwise_node(n))
        edges += [(previous, f"w{stage}"), (f"w{stage}", f"n{stage}")]
        if draw(st.booleans()):  # recurrence: a weight matrix back onto the same population
            recurrent = np.array(draw(st.lists(finite, min_size=n * n, max_size=n * n))).reshape(n, n)
            nodes[f"rec{stage}"] = Linear(weight=recurrent)
            edges += [(f"n{stage}", f"rec{stage}"), (f"rec{stage}", f"n{stage}")]
        previous, size = f"n{stage}", n
    nodes["out"] = Output(shape=(size,))
    edges.append((previous, "out"))
    dt = draw(st.floats(min_value=1e-6, max_value=0.1))
    metadata = draw(st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(-5, 5), max_size=2))
    names = list(nodes)
    order = draw(st.permutations(names))  # node order matters (schedule roots): it must survive
    return Graph({k: nodes[k] for k in order}, tuple(edges), dt, metadata)


def assert_identical(a: Graph, b: Graph) -> None:
    assert b.allclose(a, rtol=0.0, atol=0.0)
    assert list(b.nodes) == list(a.nodes)
    assert b.edges == a.edges
    assert b.dt == a.dt
    assert dict(b.metadata) == dict(a.metadata)
    for name, node in a.nodes.items():
        other = b.nodes[name]
        assert type(other) is type(node)
        assert dict(other.scales) == dict(node.scales)
        for key, value in node.int_params.items():
            assert other.int_params[key].dtype == np.int64 and np.array_equal(other.int_params[key], value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_round_trip_in_memory_is_exact(graph: Graph) -> None:
    assert_identical(graph, neuro_nir.from_nir(neuro_nir.to_nir(graph)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_round_trip_through_a_file_is_exact(graph: Graph) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "graph.nir")
        neuro_nir.save(graph, path)
        assert_identical(graph, neuro_nir.load(path))
        assert os.listdir(directory) == ["graph.nir"]  # the atomic write left no temporary file


def test_export_is_standard_nir_readable_by_nir_read(tmp_path) -> None:
    """Other tools read neuro's files with plain nir.read; values are in NIR's units."""
    dt = 1e-3
    graph = Graph.chain(
        dt,
        [
            ("in", Input(shape=(2,))),
            ("fc", Linear(weight=np.eye(2))),
            ("if", IF(r=np.array([0.5, 2.0]), v_threshold=np.ones(2), reset="subtract")),
            ("d", Delay(delay=np.array([0, 3]))),
            ("out", Output(shape=(2,))),
        ],
    )
    neuro_nir.save(graph, tmp_path / "g.nir")
    read = nir.read(tmp_path / "g.nir")
    assert isinstance(read.nodes["if"], nir.IF)
    np.testing.assert_allclose(read.nodes["if"].r, [0.5 / dt, 2.0 / dt])  # NIR: dv/dt = r I
    np.testing.assert_allclose(read.nodes["d"].delay, [0.0, 3 * dt])  # NIR delays are in seconds
    assert read.nodes["if"].metadata["neuro"]["reset"] == "subtract"


def test_round_trip_keeps_the_simulation(tmp_path) -> None:
    """Same spikes before and after, for a recurrent graph whose schedule depends on node order."""
    rng = np.random.default_rng(0)
    nodes = {
        "rec": Linear(weight=rng.normal(0, 1, (4, 4))),
        "in": Input(shape=(3,)),
        "fc": Affine(weight=rng.normal(1, 1, (4, 3)), bias=rng.normal(0, 0.1, 4), delay=rng.integers(0, 3, (4, 3))),
        "lif": CubaLIF(
            r=np.ones(4), v_threshold=np.ones(4), tau=np.full(4, 0.01), tau_syn=np.full(4, 5e-3), reset="subtract"
        ),
        "out": Output(shape=(4,)),
    }
    graph = Graph(nodes, (("in", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out")), 1e-3)
    neuro_nir.save(graph, tmp_path / "g.nir")
    again = neuro_nir.load(tmp_path / "g.nir")
    x = (rng.random((2, 40, 3)) < 0.4).astype(float)
    ours, theirs = simulate(graph, x).outputs["out"], simulate(again, x).outputs["out"]
    assert ours.sum() > 0
    np.testing.assert_array_equal(ours, theirs)


def test_load_of_a_neuro_file_refuses_a_contradicting_dt(tmp_path) -> None:
    graph = Graph.chain(1e-3, [("in", Input(shape=(1,))), ("s", Scale(scale=np.ones(1))), ("out", Output(shape=(1,)))])
    neuro_nir.save(graph, tmp_path / "g.nir")
    assert neuro_nir.load(tmp_path / "g.nir", dt=1e-3).dt == 1e-3
    with pytest.raises(GraphError, match=r"dt=0\.002 was given"):
        neuro_nir.load(tmp_path / "g.nir", dt=2e-3)


def test_to_nir_for_another_step_keeps_the_spikes() -> None:
    """to_nir(graph, dt=...) scales time constants with dt: same dynamics per step (for snnTorch's 1e-4)."""
    rng = np.random.default_rng(1)
    graph = Graph.chain(
        1e-3,
        [
            ("in", Input(shape=(3,))),
            ("fc", Linear(weight=rng.normal(1, 1, (4, 3)))),
            (
                "lif",
                CubaLIF(r=np.ones(4), v_threshold=np.full(4, 0.05), tau=np.full(4, 0.01), tau_syn=np.full(4, 0.004)),
            ),
            ("li", LI(tau=np.full(4, 0.02), r=np.ones(4), v_leak=np.zeros(4))),
            ("out", Output(shape=(4,))),
        ],
    )
    written = neuro_nir.from_nir(neuro_nir.to_nir(graph, dt=1e-4))
    assert written.dt == 1e-4
    np.testing.assert_allclose(written.nodes["lif"].tau, np.full(4, 1e-3))
    x = (rng.random((2, 50, 3)) < 0.5).astype(float)
    np.testing.assert_allclose(simulate(written, x).outputs["out"], simulate(graph, x).outputs["out"], rtol=1e-9)
    with pytest.raises(GraphError, match="dt must be a positive number"):
        neuro_nir.rescale_time(graph, 0.0)

"""Malformed or unsupported NIR input gives a clear GraphError / FileFormatError naming the problem."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from neuro_core.errors import FileFormatError, GraphError

nir = pytest.importorskip("nir")
from neuro_core import nir as neuro_nir  # noqa: E402


def lif_graph(n: int = 3) -> object:
    """A plain-NIR Input -> Affine -> LIF -> Output graph."""
    return nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([2])}),
            "fc": nir.Affine(weight=np.ones((n, 2)), bias=np.zeros(n)),
            "lif": nir.LIF(tau=np.full(n, 0.02), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n)),
            "output": nir.Output(output_type={"output": np.array([n])}),
        },
        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")],
        type_check=False,
    )


@pytest.fixture
def nir_file(tmp_path):
    path = tmp_path / "net.nir"
    nir.write(path, lif_graph())
    return path


def test_plain_nir_file_loads_with_dt(nir_file) -> None:
    graph = neuro_nir.load(nir_file, dt=1e-3)
    assert graph.metadata["nir_producer"] == "nir"
    assert graph.nodes["lif"].reset == "zero"  # NIR's only reset
    np.testing.assert_array_equal(graph.nodes["lif"].tau, np.full(3, 0.02))


def test_missing_dt_is_named(nir_file) -> None:
    with pytest.raises(GraphError, match="dt is missing: NIR files store no time step"):
        neuro_nir.load(nir_file)


def test_unknown_node_type(nir_file) -> None:
    with h5py.File(nir_file, "r+") as f:
        del f["node/nodes/lif/type"]
        f["node/nodes/lif"].create_dataset("type", data="Spiky", dtype=h5py.string_dtype())
    with pytest.raises(GraphError, match="NIR node 'lif' has unknown type 'Spiky'"):
        neuro_nir.load(nir_file, dt=1e-3)


def test_missing_parameter(nir_file) -> None:
    with h5py.File(nir_file, "r+") as f:
        del f["node/nodes/lif/tau"]
    with pytest.raises(GraphError, match=r"NIR node 'lif' \(LIF\) is malformed \(missing or extra parameter\).*tau"):
        neuro_nir.load(nir_file, dt=1e-3)


def test_nan_parameter(nir_file) -> None:
    with h5py.File(nir_file, "r+") as f:
        f["node/nodes/lif/v_threshold"][1] = np.nan
    with pytest.raises(GraphError, match=r"'lif' \(LIF\) parameter 'v_threshold' contains NaN or inf"):
        neuro_nir.load(nir_file, dt=1e-3)


def test_shape_mismatch(tmp_path) -> None:
    graph = lif_graph()
    graph.nodes["fc"] = nir.Affine(weight=np.ones((4, 2)), bias=np.zeros(4))  # 4 channels into a 3-neuron LIF
    with pytest.raises(GraphError, match="shape mismatch on edge"):
        neuro_nir.from_nir(graph, dt=1e-3)


def test_parameter_size_mismatch(tmp_path) -> None:
    graph = lif_graph()
    lif = graph.nodes["lif"]
    lif.v_threshold = np.ones(5)  # nir checks shapes only in its constructor
    with pytest.raises(GraphError, match=r"'lif' \(LIF\) parameters disagree in size: .*'tau': 3.*'v_threshold': 5"):
        neuro_nir.from_nir(graph, dt=1e-3)


def test_not_a_nir_file(tmp_path) -> None:
    path = tmp_path / "junk.nir"
    path.write_bytes(b"this is not HDF5 at all" * 10)
    with pytest.raises(FileFormatError, match="not a readable NIR"):
        neuro_nir.load(path, dt=1e-3)


def test_hdf5_file_that_is_not_nir(tmp_path) -> None:
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.arange(3))
    with pytest.raises(FileFormatError, match="no 'node' group"):
        neuro_nir.load(path, dt=1e-3)


@pytest.mark.parametrize(
    ("node", "what"),
    [
        (lambda: nir.Conv2d(None, np.ones((2, 1, 3, 3)), 1, 1, 1, 1, np.zeros(2)), "convolution"),
        (lambda: nir.SumPool2d(np.array([2, 2]), np.array([2, 2]), np.array([0, 0])), "pooling"),
        (lambda: nir.I(r=np.ones(2)), "integrator"),
    ],
)
def test_unsupported_nodes_are_named(node, what) -> None:
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([2])}),
            "bad": node(),
            "output": nir.Output(np.array([2])),
        },
        edges=[("input", "bad"), ("bad", "output")],
        type_check=False,
    )
    with pytest.raises(GraphError, match=f"NIR node 'bad' is a .*{what}.*does not support"):
        neuro_nir.from_nir(graph, dt=1e-3)


def test_bad_arguments() -> None:
    with pytest.raises(GraphError, match="reset must be one of"):
        neuro_nir.from_nir(lif_graph(), dt=1e-3, reset="bounce")
    with pytest.raises(GraphError, match="producer must be one of"):
        neuro_nir.from_nir(lif_graph(), dt=1e-3, producer="keras")
    with pytest.raises(GraphError, match="dt must be a positive number"):
        neuro_nir.from_nir(lif_graph(), dt=-1.0)
    with pytest.raises(GraphError, match=r"expects a nir\.NIRGraph"):
        neuro_nir.from_nir({"nodes": {}}, dt=1e-3)


def test_delay_not_a_multiple_of_dt() -> None:
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([2])}),
            "d": nir.Delay(delay=np.array([1e-3, 1.5e-3])),
            "output": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[("input", "d"), ("d", "output")],
        type_check=False,
    )
    np.testing.assert_array_equal(neuro_nir.from_nir(graph, dt=0.5e-3).nodes["d"].delay, [2, 3])
    with pytest.raises(GraphError, match="not whole multiples of dt"):
        neuro_nir.from_nir(graph, dt=1e-3)


def test_dangling_edge_and_ambiguous_subgraph() -> None:
    graph = lif_graph()
    graph.edges.append(("lif", "nowhere"))
    with pytest.raises(GraphError, match="'nowhere' names no node"):
        neuro_nir.from_nir(graph, dt=1e-3)
    sub = nir.NIRGraph(
        nodes={
            "a": nir.Input(input_type={"input": np.array([2])}),
            "b": nir.Input(input_type={"input": np.array([2])}),
            "o": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[("a", "o"), ("b", "o")],
        type_check=False,
    )
    outer = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([2])}),
            "sub": sub,
            "output": nir.Output(np.array([2])),
        },
        edges=[("input", "sub"), ("sub", "output")],
        type_check=False,
    )
    with pytest.raises(GraphError, match="subgraph with 2 Input nodes"):
        neuro_nir.from_nir(outer, dt=1e-3)


def test_no_input_node() -> None:
    graph = nir.NIRGraph(nodes={"s": nir.Scale(scale=np.ones(2))}, edges=[], type_check=False)
    with pytest.raises(GraphError, match="no Input node"):
        neuro_nir.from_nir(graph, dt=1e-3)


def test_a_layer_the_exporter_could_not_convert() -> None:
    """Norse's exporter puts None in the graph for layers it cannot convert (LIFRecurrentCell)."""
    graph = lif_graph()
    graph.nodes["lif"] = None
    with pytest.raises(GraphError, match="'lif' is NoneType, not a NIR node"):
        neuro_nir.from_nir(graph, dt=1e-3)

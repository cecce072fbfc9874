"""The graph IR: validation errors, immutability, schedule, save/load and refused files."""

from __future__ import annotations

import dataclasses
import itertools
import zipfile
from pathlib import Path

import numpy as np
import pytest
from core_helpers import DT, lif_chain
from neuro_core import (
    IF,
    LI,
    LIF,
    Affine,
    CubaLIF,
    Delay,
    FileFormatError,
    Graph,
    GraphError,
    Input,
    Linear,
    Node,
    Output,
    Program,
    Scale,
    Threshold,
)
from neuro_core.testing import corrupt_file, truncate_file


def two_node(node: Node, n_in: int = 2) -> Graph:
    """Input(n_in) -> node -> Output(node.out_size)."""
    return Graph.chain(DT, [("in", Input((n_in,))), ("x", node), ("out", Output((node.out_size,)))])


def test_shape_mismatch_names_the_edge_and_both_sizes() -> None:
    with pytest.raises(GraphError, match=r"shape mismatch on edge \('in' -> 'x'\): 'in' gives 3 channels, 'x' takes 2"):
        two_node(Linear(np.ones((4, 2))), n_in=3)


def test_dangling_edge_names_the_missing_node() -> None:
    with pytest.raises(GraphError, match="dangling: no node named 'ghost'"):
        Graph({"in": Input((2,)), "out": Output((2,))}, (("in", "ghost"),), DT)


def test_unknown_node_type_is_refused() -> None:
    @dataclasses.dataclass(frozen=True, eq=False)
    class Sigmoid(Scale):
        kind = "Sigmoid"

    with pytest.raises(GraphError, match="unknown type Sigmoid"):
        two_node(Sigmoid(np.ones(2)))
    with pytest.raises(GraphError, match="unknown type"):
        Graph({"in": Input((2,)), "x": "not a node"}, (), DT)  # type: ignore[dict-item]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_parameters_are_refused(bad: float) -> None:
    with pytest.raises(GraphError, match="'weight' contains NaN or inf"):
        two_node(Linear(np.array([[1.0, bad]])))
    with pytest.raises(GraphError, match="'v_threshold' contains NaN or inf"):
        two_node(LIF(r=np.ones(2), v_threshold=np.array([1.0, bad]), tau=np.ones(2)))


@pytest.mark.parametrize("dt", [0.0, -1e-3, float("nan"), float("inf"), "1ms"])
def test_bad_dt_is_refused(dt: object) -> None:
    with pytest.raises(GraphError, match="dt must be a positive finite number of seconds"):
        Graph({"in": Input((1,))}, (), dt)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (Delay(np.array([1.0, -1.0])), "integers >= 0"),
        (Delay(np.array([1.5, 0.0])), "integers >= 0"),
        (Linear(np.ones((2, 2)), delay=np.ones((2, 3))), r"delay shape \(2, 3\) != \(2, 2\)"),
        (Linear(np.ones((2, 2)), delay=np.full((2, 2), -2)), "integers >= 0"),
    ],
)
def test_bad_delays_are_refused(node: Node, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        two_node(node)


def test_other_node_errors_name_node_and_parameter() -> None:
    with pytest.raises(GraphError, match="'tau' must be > 0 seconds"):
        two_node(LIF(r=np.ones(2), v_threshold=np.ones(2), tau=np.array([0.01, 0.0])))
    with pytest.raises(GraphError, match="'tau_syn' must be > 0 seconds"):
        two_node(CubaLIF(r=np.ones(2), v_threshold=np.ones(2), tau=np.ones(2), tau_syn=np.array([-1.0, 1.0])))
    with pytest.raises(GraphError, match=r"parameter 'r' has shape \(3,\), expected \(2,\)"):
        two_node(LI(tau=np.ones(2), r=np.ones(3), v_leak=np.zeros(2)))
    with pytest.raises(GraphError, match=r"bias shape \(3,\) != \(2,\)"):
        two_node(Affine(np.ones((2, 2)), bias=np.ones(3)))
    with pytest.raises(GraphError, match="weight must be 2-D"):
        two_node(Linear(np.ones(2)))
    with pytest.raises(GraphError, match="reset must be one of"):
        IF(r=np.ones(1), v_threshold=np.ones(1), reset="halfway")  # type: ignore[arg-type]
    with pytest.raises(GraphError, match="enters Input node"):
        Graph({"a": Input((1,)), "b": Input((1,))}, (("a", "b"),), DT)
    with pytest.raises(GraphError, match="leaves Output node"):
        Graph({"a": Input((1,)), "o": Output((1,)), "s": Scale(np.ones(1))}, (("a", "o"), ("o", "s")), DT)
    with pytest.raises(GraphError, match="must be non-empty and contain no '/'"):
        Graph({"a/b": Input((1,))}, (), DT)


def test_nodes_and_graphs_are_immutable() -> None:
    graph = lif_chain()
    with pytest.raises(ValueError, match="read-only"):
        graph.nodes["fc1"].weight[0, 0] = 5.0  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        graph.nodes["x"] = Scale(np.ones(1))  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        graph.dt = 1.0  # type: ignore[misc]
    source = np.ones((2, 2))
    node = Linear(source)
    source[0, 0] = 9.0  # the node copied its array: the caller's later edits do not leak in
    assert node.weight[0, 0] == 1.0


def test_schedule_orders_feed_forward_and_finds_back_edges() -> None:
    graph = lif_chain()
    order, back = graph.schedule()
    assert order == ["in", "fc1", "lif1", "fc2", "lif2", "out"]
    assert back == set()
    recurrent = Graph(
        {
            "in": Input((1,)),
            "fc": Linear(np.ones((1, 1))),
            "lif": LIF(r=np.ones(1), v_threshold=np.ones(1), tau=np.ones(1)),
            "rec": Linear(np.ones((1, 1))),
            "out": Output((1,)),
        },
        (("in", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out")),
        DT,
    )
    order, back = recurrent.schedule()
    assert back == {("rec", "lif")}
    assert order.index("fc") < order.index("lif") < order.index("rec")


def every_node_kind_graph() -> Graph:
    """A graph with one node of every type, int params and scales, and metadata: for round trips."""
    rng = np.random.default_rng(1)
    nodes: dict[str, Node] = {
        "in": Input((3,)),
        "aff": Affine(rng.normal(size=(3, 3)), delay=rng.integers(0, 3, (3, 3)), bias=rng.normal(size=3)),
        "scale": Scale(rng.normal(size=3)),
        "delay": Delay(np.array([0.0, 1.0, 2.0])),
        "lin": Linear(
            rng.normal(size=(3, 3)), int_params={"weight": rng.integers(-8, 8, (3, 3))}, scales={"weight": 0.5}
        ),
        "li": LI(tau=np.full(3, 0.02), r=np.ones(3), v_leak=np.zeros(3)),
        "if": IF(r=np.ones(3), v_threshold=np.ones(3), reset="subtract"),
        "lif": LIF(r=np.ones(3), v_threshold=np.ones(3), tau=np.full(3, 0.01), v_leak=np.full(3, 0.1)),
        "cuba": CubaLIF(r=np.ones(3), v_threshold=np.ones(3), tau=np.full(3, 0.01), tau_syn=np.full(3, 0.005)),
        "thr": Threshold(np.full(3, 0.5)),
        "out": Output((3,)),
    }
    names = list(nodes)
    return Graph(nodes, tuple(itertools.pairwise(names)), 2e-3, {"trained_by": "test", "epochs": 3})


def test_graph_save_load_round_trip_keeps_everything(tmp_path: Path) -> None:
    graph = every_node_kind_graph()
    checksum = graph.save(tmp_path / "g.ngraph")
    assert len(checksum) == 64
    loaded = Graph.load(tmp_path / "g.ngraph")
    assert loaded.allclose(graph)
    assert loaded.dt == 2e-3 and dict(loaded.metadata) == {"trained_by": "test", "epochs": 3}
    assert loaded.nodes["if"].reset == "subtract"  # type: ignore[attr-defined]
    np.testing.assert_array_equal(loaded.nodes["lin"].int_params["weight"], graph.nodes["lin"].int_params["weight"])
    assert loaded.nodes["lin"].scales == {"weight": 0.5}
    assert not loaded.allclose(graph.replace_nodes(scale=Scale(np.zeros(3))))


def test_allclose_notices_a_changed_structure() -> None:
    assert lif_chain().allclose(lif_chain())
    assert not lif_chain().allclose(lif_chain(n_hidden=5))
    assert not lif_chain(seed=0).allclose(lif_chain(seed=1))


@pytest.mark.parametrize("damage", [corrupt_file, truncate_file])
def test_corrupt_or_truncated_graph_files_are_refused(tmp_path: Path, damage: object) -> None:
    path = tmp_path / "g.ngraph"
    lif_chain().save(path)
    damage(path)  # type: ignore[operator]
    with pytest.raises(FileFormatError, match=r"corrupt|truncated|checksum"):
        Graph.load(path)


def test_other_files_are_refused_as_graphs(tmp_path: Path) -> None:
    program = Program("ideal", 1, {"a": np.zeros(2)})
    program.save(tmp_path / "p.prog")
    with pytest.raises(FileFormatError, match="expected a neuro graph file, found a 'program' file"):
        Graph.load(tmp_path / "p.prog")
    (tmp_path / "text.ngraph").write_text("hello")
    with pytest.raises(FileFormatError, match="corrupt or truncated"):
        Graph.load(tmp_path / "text.ngraph")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "not neuro")
    with pytest.raises(FileFormatError, match=r"no header\.json"):
        Graph.load(tmp_path / "other.zip")
    with pytest.raises(FileFormatError, match="no such file"):
        Graph.load(tmp_path / "missing.ngraph")


def test_newer_graph_format_is_refused(tmp_path: Path) -> None:
    from neuro_core.container import write_container

    meta, arrays = lif_chain().to_arrays()
    write_container(tmp_path / "future.ngraph", "graph", 99, meta, arrays)
    with pytest.raises(FileFormatError, match="format version 99 is not supported"):
        Graph.load(tmp_path / "future.ngraph")


def test_graph_files_never_unpickle(tmp_path: Path) -> None:
    from neuro_core.container import write_container

    with pytest.raises(FileFormatError, match="dtype object"):
        write_container(tmp_path / "x", "graph", 1, {}, {"evil": np.array([object()], dtype=object)})
    assert not list(tmp_path.iterdir())  # nothing was left behind

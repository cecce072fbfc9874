"""Norse <-> neuro through NIR, spike for spike (Norse's own exporter and importer)."""

from __future__ import annotations

import numpy as np
import pytest
from neuro_core import nir as neuro_nir
from neuro_core.graph import LIF, Affine, CubaLIF, Graph, Input, Output
from neuro_core.reference import simulate

from .helpers import assert_same_spikes, spike_inputs

torch = pytest.importorskip("torch")
norse = pytest.importorskip("norse.torch")

DT = 1e-3  # Norse's default step, used by its cells and passed to its exporter


def run_norse(net: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """Norse's own simulation: SequentialState over time steps, state carried by Norse."""
    state = None
    out = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            y, state = net(torch.from_numpy(x[:, t]), state)
            out.append(y.numpy())
    return np.stack(out, axis=1)


def full(n: int, value: float) -> torch.Tensor:
    # per-neuron parameters: Norse writes 0-d tensors for scalars, which nir.write cannot store (h5py
    # refuses compressed scalar datasets); neuro's from_nir accepts them in memory (tested in core)
    return torch.full((n,), value)


def make_net(kind: str) -> torch.nn.Module:
    torch.manual_seed(2)
    if kind == "lif":  # LIFCell: current-based (NIR CubaLIF)
        p1 = norse.LIFParameters(
            tau_syn_inv=full(6, 200.0), tau_mem_inv=full(6, 100.0), v_th=full(6, 0.3), v_leak=full(6, 0.0)
        )
        p2 = norse.LIFParameters(
            tau_syn_inv=full(3, 250.0), tau_mem_inv=full(3, 50.0), v_th=full(3, 0.2), v_leak=full(3, 0.0)
        )
        cells = [norse.LIFCell(p1, dt=DT), norse.LIFCell(p2, dt=DT)]
    else:  # LIFBoxCell: no synapse (NIR LIF)
        p1 = norse.LIFBoxParameters(tau_mem_inv=full(6, 100.0), v_th=full(6, 0.3), v_leak=full(6, 0.0))
        p2 = norse.LIFBoxParameters(tau_mem_inv=full(3, 50.0), v_th=full(3, 0.2), v_leak=full(3, 0.0))
        cells = [norse.LIFBoxCell(p1, dt=DT), norse.LIFBoxCell(p2, dt=DT)]
    net = norse.SequentialState(torch.nn.Linear(5, 6), cells[0], torch.nn.Linear(6, 3), cells[1])
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(8.0)
                m.bias.mul_(4.0)
    return net


@pytest.mark.parametrize("kind", ["lif", "lifbox"])
def test_norse_export_imports_spike_for_spike(kind: str, tmp_path) -> None:
    import nir

    net = make_net(kind)
    path = tmp_path / "norse.nir"
    nir.write(path, norse.to_nir(net, torch.zeros(1, 5), dt=DT))
    graph = neuro_nir.load(path, dt=DT)
    assert graph.metadata["nir_producer"] == "norse"
    x = spike_inputs(1, 60, 5)
    ours = next(iter(simulate(graph, x).outputs.values()))
    assert_same_spikes(ours, run_norse(net, x))


def test_neuro_export_runs_in_norse() -> None:
    """A feed-forward LIF + CubaLIF graph (LIF r = 1, v_leak = 0, v_reset = 0, reset to zero) loads into
    Norse's from_nir (LIFBoxCell; CubaLIF as w_in -> LIBoxCell -> r -> LIFBoxCell) with the same spikes."""
    rng = np.random.default_rng(3)
    n_in, n_hid, n_out = 5, 6, 3
    graph = Graph.chain(
        DT,
        [
            ("in", Input(shape=(n_in,))),
            ("fc1", Affine(weight=rng.normal(0, 8, (n_hid, n_in)), bias=rng.normal(0, 1, n_hid))),
            ("lif1", LIF(r=np.ones(n_hid), v_threshold=np.full(n_hid, 0.3), tau=np.full(n_hid, 0.01))),
            ("fc2", Affine(weight=rng.normal(0, 8, (n_out, n_hid)), bias=rng.normal(0, 1, n_out))),
            (
                "lif2",
                CubaLIF(
                    r=np.full(n_out, 2.0),
                    w_in=np.full(n_out, 1.5),
                    v_threshold=np.full(n_out, 0.2),
                    tau=np.full(n_out, 0.02),
                    tau_syn=np.full(n_out, 0.005),
                ),
            ),
            ("out", Output(shape=(n_out,))),
        ],
    )
    module = norse.from_nir(neuro_nir.to_nir(graph), dt=DT)
    x = spike_inputs(4, 60, n_in)
    state = None
    theirs = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            y, state = module(torch.from_numpy(x[:, t]), state)
            theirs.append(y.numpy())
    assert_same_spikes(simulate(graph, x).outputs["out"], np.stack(theirs, axis=1))


def test_norse_recurrent_cell_is_refused_clearly() -> None:
    """Norse's exporter cannot convert LIFRecurrentCell (it writes None): neuro says so."""
    net = norse.SequentialState(torch.nn.Linear(3, 4), norse.LIFRecurrentCell(4, 4))
    with pytest.raises(neuro_nir.GraphError, match="not a NIR node"):
        neuro_nir.from_nir(norse.to_nir(net, torch.zeros(1, 3), dt=DT), dt=DT)

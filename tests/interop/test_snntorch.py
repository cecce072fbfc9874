"""snnTorch <-> neuro through NIR, spike for spike (snnTorch's own exporter and importer)."""

from __future__ import annotations

import numpy as np
import pytest
from neuro_core import nir as neuro_nir
from neuro_core.reference import simulate

from .helpers import assert_same_spikes, spike_inputs

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
export_nir = pytest.importorskip("snntorch.export_nir")
snn_utils = pytest.importorskip("snntorch.utils")

DT = 1e-3  # the step the network runs at; snnTorch's exporter writes 1e-4 regardless


def full(n: int, value: float) -> torch.Tensor:
    # snnTorch's exporter (with nir 1.0.8) needs per-neuron beta/threshold: scalars give 0-d NIR shapes
    return torch.full((n,), value)


def run_snntorch(net: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """snnTorch's own simulation: one forward call per step, hidden state reset per batch."""
    snn_utils.reset(net)
    out = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            y = net(torch.from_numpy(x[:, t]))
            out.append((y[0] if isinstance(y, tuple) else y).numpy())
    return np.stack(out, axis=1)


def make_net(kind: str, reset: str) -> torch.nn.Module:
    torch.manual_seed(1)
    common = {"init_hidden": True, "reset_mechanism": reset}
    if kind == "leaky":
        layers = [
            torch.nn.Linear(5, 6),
            snn.Leaky(beta=full(6, 0.9), threshold=full(6, 0.5), **common),
            torch.nn.Linear(6, 3),
            snn.Leaky(beta=full(3, 0.8), threshold=full(3, 0.4), output=True, **common),
        ]
    elif kind == "synaptic":
        layers = [
            torch.nn.Linear(5, 6),
            snn.Synaptic(alpha=full(6, 0.7), beta=full(6, 0.9), threshold=full(6, 0.5), **common),
            torch.nn.Linear(6, 3),
            snn.Synaptic(alpha=full(3, 0.6), beta=full(3, 0.8), threshold=full(3, 0.4), output=True, **common),
        ]
    elif kind == "rleaky":
        layers = [
            torch.nn.Linear(5, 6),
            snn.RLeaky(beta=full(6, 0.9), threshold=full(6, 0.5), linear_features=6, **common),
            torch.nn.Linear(6, 3),
            snn.Leaky(beta=full(3, 0.8), threshold=full(3, 0.4), output=True, **common),
        ]
    else:  # rsynaptic
        layers = [
            torch.nn.Linear(5, 6),
            snn.RSynaptic(alpha=full(6, 0.7), beta=full(6, 0.9), threshold=full(6, 0.5), linear_features=6, **common),
            torch.nn.Linear(6, 3),
            snn.Leaky(beta=full(3, 0.8), threshold=full(3, 0.4), output=True, **common),
        ]
    net = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(2.0)  # livelier network: more spikes to compare
    return net


@pytest.mark.parametrize("kind", ["leaky", "synaptic", "rleaky", "rsynaptic"])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_snntorch_export_imports_spike_for_spike(kind: str, reset: str, tmp_path) -> None:
    net = make_net(kind, reset)
    if reset == "zero" and kind != "leaky":
        # snnTorch's zero reset of Synaptic/RLeaky/RSynaptic also drops the next step's input: refused clearly
        with pytest.raises(neuro_nir.GraphError, match="cannot be imported with reset='zero'"):
            neuro_nir.from_nir(export_nir.export_to_nir(net, torch.zeros(5)), dt=DT, reset=reset)
        return
    nir_graph = export_nir.export_to_nir(net, torch.zeros(5))
    path = tmp_path / "snntorch.nir"
    import nir

    nir.write(path, nir_graph)
    graph = neuro_nir.load(path, dt=DT, reset=reset)
    assert graph.metadata["nir_producer"] == "snntorch"
    x = spike_inputs(0, 60, 5)
    ours = next(iter(simulate(graph, x).outputs.values()))
    assert_same_spikes(ours, run_snntorch(net, x))


def test_snntorch_file_without_dt_or_reset_is_refused(tmp_path) -> None:
    nir_graph = export_nir.export_to_nir(make_net("leaky", "subtract"), torch.zeros(5))
    with pytest.raises(Exception, match="dt is missing"):
        neuro_nir.from_nir(nir_graph, reset="subtract")
    with pytest.raises(Exception, match="reset is missing"):
        neuro_nir.from_nir(nir_graph, dt=DT)


def test_neuro_export_runs_in_snntorch() -> None:
    """snnTorch's importer fixes dt = 1e-4 and resets to zero at once (reset_delay=False): a feed-forward
    neuro graph with zero reset, v_leak = 0, one threshold per layer and unit input gains, written with
    to_nir(graph, dt=1e-4), loads into it with the same spikes."""
    from neuro_core.graph import LIF, Affine, CubaLIF, Graph, Input, Output

    import_nir = pytest.importorskip("snntorch.import_nir")
    dt = 1e-3  # written for snnTorch with to_nir(graph, dt=1e-4): same dynamics per step
    rng = np.random.default_rng(5)
    tau1, tau2, tau_syn = np.full(6, dt / (1 - 0.9)), np.full(3, dt / (1 - 0.8)), np.full(3, dt / (1 - 0.6))
    # unit input gain (dt/tau * r = 1, w_in likewise), as snnTorch's Leaky/Synaptic add their input
    graph = Graph.chain(
        dt,
        [
            ("input", Input(shape=(5,))),
            ("fc1", Affine(weight=rng.normal(0.5, 1, (6, 5)), bias=rng.normal(0, 0.1, 6))),
            ("lif1", LIF(r=tau1 / dt, v_threshold=np.full(6, 0.5), tau=tau1)),
            ("fc2", Affine(weight=rng.normal(0.5, 1, (3, 6)), bias=rng.normal(0, 0.1, 3))),
            ("lif2", CubaLIF(r=tau2 / dt, v_threshold=np.full(3, 0.4), tau=tau2, tau_syn=tau_syn, w_in=tau_syn / dt)),
            ("output", Output(shape=(3,))),
        ],
    )
    module = import_nir.import_from_nir(neuro_nir.to_nir(graph, dt=neuro_nir.SNNTORCH_DT))
    x = spike_inputs(6, 60, 5)
    snn_utils.reset(module)
    theirs = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            y = module(torch.from_numpy(x[:, t]))
            theirs.append((y[0] if isinstance(y, tuple) else y).numpy())
    assert_same_spikes(simulate(graph, x).outputs["output"], np.stack(theirs, axis=1))

"""Rockpool -> neuro through NIR, spike for spike (Rockpool's own exporter)."""

from __future__ import annotations

import pytest
from neuro_core import nir as neuro_nir
from neuro_core.reference import simulate

from .helpers import assert_same_spikes, spike_inputs

torch = pytest.importorskip("torch")
rockpool_torch = pytest.importorskip("rockpool.nn.modules.torch")
combinators = pytest.importorskip("rockpool.nn.combinators")
rockpool_nir = pytest.importorskip("rockpool.nn.modules.torch.nir")

DT = 1e-3


def make_net(kind: str) -> torch.nn.Module:
    torch.manual_seed(3)
    # max_spikes_per_dt=1: one spike per step, as NIR and the IR (Rockpool's default allows 2**16)
    if kind == "lif":  # LIFTorch: current-based (NIR CubaLIF)
        hidden = rockpool_torch.LIFTorch(6, tau_mem=0.02, tau_syn=0.01, threshold=0.5, dt=DT, max_spikes_per_dt=1)
        out = rockpool_torch.LIFTorch(3, tau_mem=0.03, tau_syn=0.005, threshold=0.4, dt=DT, max_spikes_per_dt=1)
    else:  # LIFNeuronTorch (NIR LIF)
        hidden = rockpool_torch.LIFNeuronTorch(6, tau_mem=0.02, threshold=0.5, dt=DT, max_spikes_per_dt=1)
        out = rockpool_torch.LIFNeuronTorch(3, tau_mem=0.03, threshold=0.4, dt=DT, max_spikes_per_dt=1)
    net = combinators.Sequential(
        rockpool_torch.LinearTorch((5, 6), has_bias=True),
        hidden,
        rockpool_torch.LinearTorch((6, 3), has_bias=True),
        out,
    )
    with torch.no_grad():
        for name, p in net.named_parameters():
            if "weight" in name:
                p.mul_(2.0)
    return net


@pytest.mark.parametrize("kind", ["lif", "lifneuron"])
def test_rockpool_export_imports_spike_for_spike(kind: str, tmp_path) -> None:
    import nir

    net = make_net(kind)
    path = tmp_path / "rockpool.nir"
    nir.write(path, rockpool_nir.to_nir(net))
    graph = neuro_nir.load(path)  # dt is recovered from Rockpool's r
    assert graph.metadata["nir_producer"] == "rockpool"
    assert graph.dt == pytest.approx(DT, rel=1e-6)
    x = spike_inputs(2, 60, 5)
    ours = next(iter(simulate(graph, x).outputs.values()))
    net.reset_state()  # the exporter ran the network on a sample, which left state behind
    with torch.no_grad():
        theirs, _, _ = net(torch.from_numpy(x))
    assert_same_spikes(ours, theirs.numpy())


def test_rockpool_recurrent_weights_are_lost_by_its_exporter() -> None:
    """Rockpool's exporter drops LIFTorch's w_rec (and the neuron bias): the file holds no recurrence, so no
    importer can reproduce a recurrent Rockpool network. neuro imports what is there, without a cycle."""
    torch.manual_seed(4)
    net = combinators.Sequential(
        rockpool_torch.LinearTorch((5, 6), has_bias=True),
        rockpool_torch.LIFTorch(6, tau_mem=0.02, tau_syn=0.01, has_rec=True, dt=DT, max_spikes_per_dt=1),
    )
    graph = neuro_nir.from_nir(rockpool_nir.to_nir(net))
    _, back_edges = graph.schedule()
    assert back_edges == set()

"""Sinabs <-> neuro through NIR, spike for spike (Sinabs' own exporter ``sinabs.to_nir`` and importer
``sinabs.from_nir``), and what Sinabs' importer cannot represent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from neuro_core import nir as neuro_nir
from neuro_core.graph import IF, LI, LIF, Affine, CubaLIF, Graph, Input, Linear, Output
from neuro_core.reference import simulate

from .helpers import assert_same_spikes, spike_inputs

if TYPE_CHECKING:
    import torch
else:
    torch = pytest.importorskip("torch")
sinabs = pytest.importorskip("sinabs")
sl = pytest.importorskip("sinabs.layers")
activation = pytest.importorskip("sinabs.activation")

DT = 1e-3  # Sinabs has no dt (tau counts steps); any dt gives the same spikes, this one the time constants
SAMPLE = torch.zeros(2, 4, 5)  # (batch, time, channels): Sinabs' exporter runs the network on it


def per_neuron(values: list[float]) -> torch.Tensor:
    # per-neuron parameters: Sinabs writes 0-d tensors for scalars, which nir.write cannot store (h5py refuses
    # compressed scalar datasets), and a LIF with a vector tau but a scalar threshold fails NIR's shape check
    return torch.tensor(values, dtype=torch.float32)


def make_net(kind: str, reset: str) -> torch.nn.Sequential:
    """Two layers, 5 -> 6 -> 3, with biases; one spike per step at most (SingleSpike), as NIR and the IR."""
    torch.manual_seed(7)
    spiking = {
        "spike_fn": activation.SingleSpike,
        "reset_fn": activation.MembraneSubtract() if reset == "subtract" else activation.MembraneReset(),
    }
    lif_hidden = sl.LIF(
        tau_mem=per_neuron([4.0, 6.0, 8.0, 10.0, 12.0, 15.0]), spike_threshold=per_neuron([0.3] * 6), **spiking
    )
    if kind == "lif":  # LIF (norm_input=True, Sinabs' default) -> NIR LIF
        layers = [
            lif_hidden,
            sl.LIF(tau_mem=per_neuron([5.0, 8.0, 20.0]), spike_threshold=per_neuron([0.2] * 3), **spiking),
        ]
    elif kind == "iaf_lif":  # IAF -> NIR IF
        iaf = sl.IAF(spike_threshold=per_neuron([1.0, 1.2, 0.8, 1.0, 1.5, 1.1]), **spiking)
        layers = [iaf, sl.LIF(tau_mem=per_neuron([5.0, 8.0, 20.0]), spike_threshold=per_neuron([0.2] * 3), **spiking)]
    else:  # "lif_expleak": ExpLeak (norm_input=False, its default) -> NIR LI; the output is v
        layers = [lif_hidden, sl.ExpLeak(tau_mem=per_neuron([3.0, 6.0, 9.0]))]
    fc1, fc2 = torch.nn.Linear(5, 6), torch.nn.Linear(6, 3)
    with torch.no_grad():
        fc1.weight.mul_(6.0 if kind != "iaf_lif" else 2.0)  # livelier network: more spikes to compare
        fc1.bias.add_(0.1)
        fc2.weight.mul_(4.0)
    return torch.nn.Sequential(fc1, layers[0], fc2, layers[1])


def run_sinabs(net: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """Sinabs' own simulation of (batch, time, channels); the export left state behind, so reset it first."""
    sinabs.reset_states(net)
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("kind", ["lif", "iaf_lif", "lif_expleak"])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_sinabs_export_imports_spike_for_spike(kind: str, reset: str, tmp_path: Path) -> None:
    import nir

    net = make_net(kind, reset)
    path = tmp_path / "sinabs.nir"
    nir.write(path, sinabs.to_nir(net, SAMPLE))
    graph = neuro_nir.load(path, dt=DT, reset=reset)
    assert graph.metadata["nir_producer"] == "sinabs"
    inp = graph.nodes["input"]
    assert graph.inputs() == ["input"] and isinstance(inp, Input) and inp.shape == (5,)  # Sinabs wrote (time, 5)
    # tau counted in steps with Sinabs' exact decay a = exp(-1/tau) -> the IR's Euler tau = dt / (1 - a)
    hidden = graph.nodes["1"]
    if kind == "iaf_lif":
        assert isinstance(hidden, IF) and np.array_equal(hidden.r, np.ones(6))  # IAF adds its input per step
    else:
        a = np.exp(-1.0 / np.array([4.0, 6.0, 8.0, 10.0, 12.0, 15.0]))
        assert isinstance(hidden, LIF) and np.allclose(hidden.tau, DT / (1 - a), rtol=1e-6)
        assert np.array_equal(hidden.r, np.ones(6))  # norm_input=True: gain 1 - a = dt/tau * 1
    assert hidden.reset == reset
    out_steps = np.array([3.0, 6.0, 9.0] if kind == "lif_expleak" else [5.0, 8.0, 20.0])
    out_decay = np.exp(-1.0 / out_steps)
    out = graph.nodes["3"]
    assert isinstance(out, (LIF, LI)) and np.allclose(out.tau, DT / (1 - out_decay), rtol=1e-6)
    # ExpLeak (norm_input=False) adds its input with gain 1: dt/tau * r = (1 - a) r = 1
    out_r = 1 / (1 - out_decay) if kind == "lif_expleak" else np.ones(3)
    assert np.allclose(out.r, out_r, rtol=1e-6)
    x = spike_inputs(11, 80, 5)
    result = simulate(graph, x)
    ours = result.outputs["output"]
    theirs = run_sinabs(net, x)
    if kind == "lif_expleak":  # the output is ExpLeak's membrane potential: compare the hidden spikes exactly
        assert_same_spikes(result.spikes["1"], run_sinabs(net[:2], x))
        assert np.abs(theirs).max() > 0.1  # a signal worth comparing
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)  # Sinabs computes in float32
    else:
        assert_same_spikes(ours, theirs)


def test_sinabs_scalar_parameters_import_in_memory() -> None:
    """Scalar tau/threshold give 0-d NIR parameters (not writable to a file, see per_neuron); in memory they are
    broadcast to the layer size taken from the neighbouring weights."""
    torch.manual_seed(8)
    fc = torch.nn.Linear(5, 4)
    with torch.no_grad():
        fc.weight.mul_(6.0)
    net = torch.nn.Sequential(fc, sl.LIF(tau_mem=10.0, spike_threshold=0.25, spike_fn=activation.SingleSpike))
    graph = neuro_nir.from_nir(sinabs.to_nir(net, SAMPLE), dt=DT, reset="subtract")
    lif = graph.nodes["1"]
    assert graph.metadata["nir_producer"] == "sinabs" and isinstance(lif, LIF) and lif.tau.shape == (4,)
    x = spike_inputs(12, 80, 5)
    assert_same_spikes(simulate(graph, x).outputs["output"], run_sinabs(net, x))


def test_sinabs_iaf_only_file_needs_producer() -> None:
    """Without a leaky layer nothing in the file says Sinabs (r = 1 and a time axis in the Input shape look like
    Norse's): producer='sinabs' reads it exactly; the detected Norse reading of IF is the same but defaults to
    Norse's zero reset, so the reset must then be given."""
    net = make_net("iaf_lif", "subtract")[:2]
    nir_graph = sinabs.to_nir(net, SAMPLE)
    x = spike_inputs(13, 80, 5)
    theirs = run_sinabs(net, x)
    graph = neuro_nir.from_nir(nir_graph, dt=DT, reset="subtract", producer="sinabs")
    assert_same_spikes(simulate(graph, x).outputs["output"], theirs)
    with pytest.raises(neuro_nir.GraphError, match="reset is missing: Sinabs"):
        neuro_nir.from_nir(nir_graph, dt=DT, producer="sinabs")
    detected = neuro_nir.from_nir(nir_graph, dt=DT, reset="subtract")
    assert detected.metadata["nir_producer"] == "norse"
    assert_same_spikes(simulate(detected, x).outputs["output"], theirs)


def test_sinabs_file_without_dt_or_reset_is_refused() -> None:
    nir_graph = sinabs.to_nir(make_net("lif", "subtract"), SAMPLE)
    with pytest.raises(neuro_nir.GraphError, match="dt is missing: Sinabs' NIR exporter writes tau_mem in time steps"):
        neuro_nir.from_nir(nir_graph, reset="subtract")
    with pytest.raises(neuro_nir.GraphError, match="reset is missing: Sinabs' default reset_fn is MembraneSubtract"):
        neuro_nir.from_nir(nir_graph, dt=DT)
    # no spiking layer, no reset to ask for
    leak_only = torch.nn.Sequential(torch.nn.Linear(5, 3), sl.ExpLeak(tau_mem=per_neuron([3.0, 6.0, 9.0])))
    graph = neuro_nir.from_nir(sinabs.to_nir(leak_only, SAMPLE), dt=DT)
    assert graph.metadata["nir_producer"] == "sinabs" and isinstance(graph.nodes["1"], LI)


def test_sinabs_exporter_drops_synapse_and_norm_input() -> None:
    """sinabs.to_nir writes a LIF with tau_syn, and a LIF with norm_input=False, exactly as the plain default LIF:
    the synaptic time constant and the input normalisation are lost in the file, so neuro reads Sinabs' defaults
    (LIF: norm_input=True, no synapse)."""

    def exported(**options: object) -> dict[str, np.ndarray]:
        torch.manual_seed(9)
        net = torch.nn.Sequential(
            torch.nn.Linear(5, 3),
            sl.LIF(tau_mem=per_neuron([5.0, 8.0, 20.0]), spike_threshold=per_neuron([0.2] * 3), **options),
        )
        node = sinabs.to_nir(net, SAMPLE).nodes["1"]
        return {k: np.asarray(getattr(node, k)) for k in ("tau", "r", "v_leak", "v_threshold", "v_reset")}

    plain = exported()
    for options in ({"tau_syn": per_neuron([2.0, 3.0, 4.0])}, {"norm_input": False}):
        lossy = exported(**options)
        assert all(np.array_equal(plain[k], lossy[k]) for k in plain), options
    with_synapse = torch.nn.Sequential(
        torch.nn.Linear(5, 3),
        sl.LIF(
            tau_mem=per_neuron([5.0, 8.0, 20.0]),
            tau_syn=per_neuron([2.0, 3.0, 4.0]),
            spike_threshold=per_neuron([0.2] * 3),
        ),
    )
    graph = neuro_nir.from_nir(sinabs.to_nir(with_synapse, SAMPLE), dt=DT, reset="subtract")
    assert type(graph.nodes["1"]) is LIF  # no CubaLIF: the file has no tau_syn


def test_sinabs_exporter_refuses_recurrent_layers() -> None:
    """Sinabs' exporter has no rule for LIFRecurrent, so no recurrent Sinabs network reaches a NIR file."""
    net = torch.nn.Sequential(
        torch.nn.Linear(5, 3), sl.LIFRecurrent(tau_mem=per_neuron([5.0, 8.0, 20.0]), rec_connect=torch.nn.Linear(3, 3))
    )
    with pytest.raises(NotImplementedError, match="LIFRecurrent"):
        sinabs.to_nir(net, SAMPLE)


# ---- neuro -> Sinabs ------------------------------------------------------------------------------------
BATCH, STEPS = 2, 80


def if_graph(seed: int, recurrent: bool = False) -> Graph:
    """An Affine + IF network that Sinabs' importer represents exactly: IF with r = 1 per step, v_reset = 0,
    reset by subtraction (IAFSqueeze's only mode), and non-negative inputs below one threshold per step, so v
    stays in [0, 2 thr): Sinabs' default MultiSpike then emits at most one spike and its min_v_mem = -thr never
    clamps."""
    rng = np.random.default_rng(seed)
    weight = rng.random((4, 5))
    weight *= 0.45 / weight.sum(axis=1, keepdims=True)  # all five inputs at once stay below thr = 0.5
    neuron = IF(r=np.ones(4), v_threshold=np.full(4, 0.5), v_reset=np.zeros(4), reset="subtract")
    nodes = {
        "input": Input(shape=(5,)),
        "fc": Affine(weight=weight, bias=np.full(4, 0.02)),
        "if": neuron,
        "output": Output(shape=(4,)),
    }
    edges = [("input", "fc"), ("fc", "if"), ("if", "output")]
    if recurrent:
        nodes["rec"] = Affine(weight=0.02 * rng.random((4, 4)), bias=np.zeros(4))
        edges += [("if", "rec"), ("rec", "if")]
    return Graph(nodes, tuple(edges), DT)


def run_sinabs_import(nir_graph: object, x: np.ndarray, node: str | None = None) -> np.ndarray:
    """sinabs.from_nir builds *Squeeze layers: (batch*time, channels) in; nirtorch returns (output, state), and
    its state caches every node's output of the call (``node``: return that one instead)."""
    module = sinabs.from_nir(nir_graph, batch_size=x.shape[0])
    with torch.no_grad():
        y, state = module(torch.from_numpy(x).reshape(-1, x.shape[2]))
    if node is not None:
        y = state.cache[node]
    return y.reshape(x.shape[0], x.shape[1], -1).numpy()


def test_neuro_export_runs_in_sinabs() -> None:
    graph = if_graph(20)
    x = spike_inputs(21, STEPS, 5, rate=0.5, batch=BATCH)
    assert_same_spikes(run_sinabs_import(neuro_nir.to_nir(graph), x), simulate(graph, x).outputs["output"])


def test_sinabs_iaf_network_round_trips_through_neuro() -> None:
    """Sinabs IAF network -> sinabs.to_nir -> neuro -> neuro_nir.to_nir -> sinabs.from_nir: Sinabs' spikes."""
    torch.manual_seed(22)
    fc = torch.nn.Linear(5, 4)
    reference = if_graph(22).nodes["fc"]
    assert isinstance(reference, Affine)
    with torch.no_grad():
        fc.weight.copy_(torch.from_numpy(np.array(reference.weight)))
        fc.bias.copy_(torch.from_numpy(np.array(reference.bias)))
    net = torch.nn.Sequential(fc, sl.IAF(spike_threshold=per_neuron([0.5] * 4)))
    graph = neuro_nir.from_nir(sinabs.to_nir(net, SAMPLE), dt=DT, reset="subtract", producer="sinabs")
    x = spike_inputs(23, STEPS, 5, rate=0.5, batch=BATCH)
    assert_same_spikes(run_sinabs_import(neuro_nir.to_nir(graph), x), run_sinabs(net, x))


@pytest.mark.parametrize("dropped", ["linear", "cubalif"])
def test_sinabs_importer_drops_linear_and_cubalif(dropped: str) -> None:
    """sinabs.from_nir has no rule for NIR Linear (neuro writes one for an IR Linear without bias) or CubaLIF:
    it leaves those layers out of the module without a warning. Write Affine layers for Sinabs."""
    n = 4
    graph = if_graph(27)
    nodes = dict(graph.nodes)
    fc = nodes["fc"]
    assert isinstance(fc, Affine)
    if dropped == "linear":
        nodes["fc"] = Linear(weight=fc.weight)
    else:
        nodes["if"] = CubaLIF(
            r=np.ones(n), v_threshold=np.full(n, 0.5), tau=np.full(n, 0.01), tau_syn=np.full(n, 0.005)
        )
    children = dict(sinabs.from_nir(neuro_nir.to_nir(Graph(nodes, graph.edges, DT)), batch_size=BATCH).named_children())
    assert set(children) == {"input", "fc", "if", "output"} - {"fc" if dropped == "linear" else "if"}


def test_sinabs_importer_reads_lif_and_li_in_its_own_units() -> None:
    """sinabs.from_nir reads NIR tau as a number of steps with the exact decay exp(-1/tau), ignores r and adds
    the input with gain 1 (norm_input=False). The IR's Euler decay 1 - dt/tau and gain dt/tau r have no such
    form, so no neuro LIF or LI network (written with any dt) simulates the same in Sinabs."""
    n = 4
    tau = np.array([0.004, 0.006, 0.01, 0.02])
    graph = Graph.chain(
        DT,
        [
            ("input", Input(shape=(5,))),
            ("fc", Affine(weight=np.ones((n, 5)), bias=np.zeros(n))),
            ("lif", LIF(r=np.ones(n), v_threshold=np.full(n, 0.5), tau=tau)),
            ("fc2", Affine(weight=np.eye(n), bias=np.zeros(n))),
            ("li", LI(tau=tau, r=np.ones(n), v_leak=np.zeros(n))),
            ("output", Output(shape=(n,))),
        ],
    )
    children = dict(sinabs.from_nir(neuro_nir.to_nir(graph, dt=1.0), batch_size=BATCH).named_children())
    for name in ("lif", "li"):  # to_nir(dt=1): tau written in steps, tau / DT
        layer = children[name]
        assert layer.norm_input is False
        sinabs_decay = layer.alpha_mem_calculated.detach().double().numpy()
        np.testing.assert_allclose(sinabs_decay, np.exp(-DT / tau), rtol=1e-6)
        assert np.all(np.abs(sinabs_decay - (1 - DT / tau)) > 1e-3)  # the IR's decay per step


def test_sinabs_importer_knows_only_subtractive_reset_and_clamps_if() -> None:
    """sinabs.from_nir builds IAFSqueeze with its defaults: reset by subtraction (an IR zero reset is lost),
    min_v_mem = -v_threshold (the IR's IF has no floor) and MultiSpike (several spikes per step when v reaches
    2 thr, the IR emits one)."""
    graph = if_graph(24)
    zero = graph.nodes["if"].with_params(reset="zero")
    nodes = {**graph.nodes, "if": zero}
    children = dict(sinabs.from_nir(neuro_nir.to_nir(Graph(nodes, graph.edges, DT)), batch_size=BATCH).named_children())
    layer = children["if"]
    assert isinstance(layer.reset_fn, activation.MembraneSubtract)
    assert layer.spike_fn is activation.MultiSpike
    np.testing.assert_array_equal(layer.min_v_mem.detach().numpy(), -np.full(4, 0.5))


def test_sinabs_importer_loses_recurrence() -> None:
    """nirtorch 2.6 (under sinabs.from_nir) runs each node once per call, and a Sinabs call covers all time
    steps: a recurrent edge can only carry the previous *call's* output, so within a sequence the recurrence is
    absent and the IF layer spikes as the feed-forward network does. The module also returns the output of the
    node it runs last (here the recurrent Affine), not the Output node's."""
    recurrent = if_graph(25, recurrent=True)
    x = spike_inputs(26, STEPS, 5, rate=0.5, batch=BATCH)
    nir_graph = neuro_nir.to_nir(recurrent)
    ours = simulate(recurrent, x).outputs["output"]
    sinabs_if = run_sinabs_import(nir_graph, x, node="if")
    assert_same_spikes(sinabs_if, simulate(if_graph(25), x).outputs["output"])
    assert not np.array_equal(sinabs_if, ours)
    rec = recurrent.nodes["rec"]
    assert isinstance(rec, Affine)
    np.testing.assert_allclose(run_sinabs_import(nir_graph, x), sinabs_if @ rec.weight.T, rtol=1e-6, atol=1e-7)

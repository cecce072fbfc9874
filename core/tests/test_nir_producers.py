"""NIR graphs built exactly as snnTorch 1.0.0, Norse 1.1.0, Rockpool 3.1.0 and Sinabs 3.1.3 export them import to
graphs whose reference simulation matches each library's documented dynamics spike for spike.

Each ``*_dynamics`` function restates the library's update equations from its source (cited), in
numpy, so these tests need none of the libraries; tests/interop runs the libraries themselves.
"""

from __future__ import annotations

import numpy as np
import pytest
from neuro_core.errors import GraphError
from neuro_core.graph import LIF, CubaLIF
from neuro_core.reference import simulate

nir = pytest.importorskip("nir")
from neuro_core import nir as neuro_nir  # noqa: E402

N_IN, N = 4, 5
STEPS = 80


def inputs(seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((2, STEPS, N_IN)) < 0.35).astype(np.float64)


def weights(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0.6, 0.8, (N, N_IN)).astype(np.float32), rng.normal(0.0, 0.2, N).astype(np.float32)


def spikes_of(graph, x: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    return next(iter(simulate(graph, x).outputs.values()))


def assert_spike_for_spike(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert theirs.sum() >= 10, "the test network is too quiet to compare"
    np.testing.assert_array_equal(ours, theirs)


# ---- snnTorch (snntorch/_neurons/leaky.py, synaptic.py, rleaky.py; export_nir.py) ----------------
def snntorch_dynamics(x, w, b, beta, thr, reset, alpha=None, w_rec=None, b_rec=None):  # type: ignore[no-untyped-def]
    """Leaky / Synaptic / RLeaky with reset_delay=True (snnTorch's default), float64."""
    batch = x.shape[0]
    mem, syn, spk = np.zeros((batch, N)), np.zeros((batch, N)), np.zeros((batch, N))
    out = np.zeros((batch, x.shape[1], N))
    for t in range(x.shape[1]):
        current = x[:, t] @ w.T + b
        if w_rec is not None:
            current = current + spk @ w_rec.T + b_rec  # self.recurrent(self.spk): bias from step 0
        was_over = (mem > thr).astype(float)  # mem_reset() of the previous membrane
        if alpha is not None:
            syn = alpha * syn + current
            current = syn
        subtracted = beta * mem + current - was_over * thr  # _base_sub
        zeroed = beta * (1 - was_over) * mem + current  # _base_zero of Leaky
        mem = subtracted if reset == "subtract" else zeroed
        spk = (mem > thr).astype(float)
        out[:, t] = spk
    return out


def snntorch_lif(beta: np.ndarray, thr: np.ndarray):  # type: ignore[no-untyped-def]
    dt = 1e-4  # exactly as snntorch/export_nir.py: float32 arithmetic on float32 parameters
    tau_mem = dt / (1 - beta)
    return nir.LIF(tau=tau_mem, v_threshold=thr, v_leak=np.zeros_like(beta), r=tau_mem / dt, v_reset=np.zeros_like(thr))


def snntorch_graph(neuron, w, b, rec=None):  # type: ignore[no-untyped-def]
    nodes = {"input": nir.Input(input_type={"input": np.array([N_IN])}), "0": nir.Affine(weight=w, bias=b)}
    if rec is None:
        nodes["1"] = neuron
    else:  # RLeaky: export_nir returns a subgraph (nirtorch may also flatten it to '1.lif', '1.w_rec')
        nodes["1"] = nir.NIRGraph(
            nodes={
                "input": nir.Input(input_type=[N]),
                "lif": neuron,
                "w_rec": nir.Affine(weight=rec[0], bias=rec[1]),
                "output": nir.Output(output_type=[N]),
            },
            edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
            type_check=False,
        )
    nodes["output"] = nir.Output(output_type={"output": np.array([N])})
    return nir.NIRGraph(nodes=nodes, edges=[("input", "0"), ("0", "1"), ("1", "output")], type_check=False)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_snntorch_leaky(reset: str) -> None:
    w, b = weights(0)
    beta = np.linspace(0.7, 0.95, N).astype(np.float32)
    thr = np.full(N, 1.0, np.float32)
    graph = neuro_nir.from_nir(snntorch_graph(snntorch_lif(beta, thr), w, b), dt=1e-3, reset=reset)
    assert graph.metadata["nir_producer"] == "snntorch"
    lif = graph.nodes["1"]
    assert isinstance(lif, LIF) and lif.reset == reset
    np.testing.assert_allclose(1 - graph.dt / lif.tau, beta, rtol=1e-12)  # the exact float32 beta
    x = inputs(1)
    assert_spike_for_spike(spikes_of(graph, x), snntorch_dynamics(x, w, b, beta, thr, reset))


def test_snntorch_subtract_needs_the_correction() -> None:
    """Control: reading snnTorch's subtraction as the IR's (without correction) gives other spikes."""
    w, b = weights(0)
    beta, thr = np.full(N, 0.8, np.float32), np.full(N, 1.0, np.float32)
    graph = neuro_nir.from_nir(snntorch_graph(snntorch_lif(beta, thr), w, b), dt=1e-3, reset="subtract", producer="nir")
    x = inputs(1)
    assert not np.array_equal(spikes_of(graph, x), snntorch_dynamics(x, w, b, beta, thr, "subtract"))


def test_snntorch_synaptic_subtract() -> None:
    w, b = weights(2)
    dt = 1e-4
    alpha = np.linspace(0.5, 0.9, N).astype(np.float32)
    beta = np.linspace(0.8, 0.95, N).astype(np.float32)
    thr = np.full(N, 1.5, np.float32)
    tau_syn, tau_mem = dt / (1 - alpha), dt / (1 - beta)
    neuron = nir.CubaLIF(
        tau_syn=tau_syn,
        tau_mem=tau_mem,
        v_threshold=thr,
        v_leak=np.zeros_like(beta),
        r=tau_mem / dt,
        w_in=tau_syn / dt,
        v_reset=np.zeros_like(thr),
    )
    graph = neuro_nir.from_nir(snntorch_graph(neuron, w, b), dt=2e-3, reset="subtract")
    assert isinstance(graph.nodes["1"], CubaLIF) and graph.dt == 2e-3
    x = inputs(3)
    assert_spike_for_spike(spikes_of(graph, x), snntorch_dynamics(x, w, b, beta, thr, "subtract", alpha=alpha))


def test_snntorch_zero_reset_of_synaptic_is_refused() -> None:
    """Synaptic's zero reset drops the next step's input too (v = 0), which the IR cannot express."""
    dt = 1e-4
    tau = np.full(N, dt / (1 - 0.8), np.float32)
    neuron = nir.CubaLIF(
        tau_syn=tau, tau_mem=tau, v_threshold=np.ones(N), v_leak=np.zeros(N), r=tau / dt, w_in=tau / dt
    )
    w, b = weights(0)
    with pytest.raises(GraphError, match=r"'1' \(Synaptic/RSynaptic\) cannot be imported with reset='zero'"):
        neuro_nir.from_nir(snntorch_graph(neuron, w, b), dt=1e-3, reset="zero")


def test_snntorch_rleaky_subgraph_with_recurrent_bias() -> None:
    w, b = weights(4)
    rng = np.random.default_rng(5)
    w_rec, b_rec = rng.normal(0, 0.5, (N, N)).astype(np.float32), rng.normal(0, 0.2, N).astype(np.float32)
    beta, thr = np.full(N, 0.85, np.float32), np.full(N, 1.0, np.float32)
    graph = neuro_nir.from_nir(
        snntorch_graph(snntorch_lif(beta, thr), w, b, rec=(w_rec, b_rec)), dt=1e-3, reset="subtract"
    )
    assert "1.lif" in graph.nodes and "1.w_rec" in graph.nodes  # the subgraph was flattened
    x = inputs(6)
    theirs = snntorch_dynamics(x, w, b, beta, thr, "subtract", w_rec=w_rec, b_rec=b_rec)
    assert_spike_for_spike(spikes_of(graph, x), theirs)


def test_snntorch_needs_dt_and_reset() -> None:
    w, b = weights(0)
    graph = snntorch_graph(snntorch_lif(np.full(N, 0.9, np.float32), np.ones(N, np.float32)), w, b)
    with pytest.raises(GraphError, match="dt is missing: snnTorch's NIR exporter fixes dt = 1e-4 s"):
        neuro_nir.from_nir(graph, reset="zero")
    with pytest.raises(GraphError, match="reset is missing: snnTorch's default reset_mechanism is 'subtract'"):
        neuro_nir.from_nir(graph, dt=1e-3)


# ---- Norse (norse/torch/functional/lif.py lif_feed_forward_step; utils/export_nir.py) ------------
def norse_dynamics(x, w, b, tau_syn_inv, tau_mem_inv, v_th, dt):  # type: ignore[no-untyped-def]
    batch = x.shape[0]
    v, i = np.zeros((batch, N)), np.zeros((batch, N))
    out = np.zeros((batch, x.shape[1], N))
    for t in range(x.shape[1]):
        i_new = i + (x[:, t] @ w.T + b)  # current jump
        v_decayed = v + dt * tau_mem_inv * ((0.0 - v) + i_new)
        i = i_new - dt * tau_syn_inv * i_new
        z = (v_decayed - v_th > 0).astype(float)
        v = (1 - z) * v_decayed  # v_reset = 0
        out[:, t] = z
    return out


def test_norse_lifcell_with_batch_dims_scalar_params_and_tau_bug() -> None:
    w, b = weights(7)
    dt, tau_syn_inv, tau_mem_inv, v_th = 1e-3, 200.0, 100.0, 0.5
    graph_nir = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([1, N_IN])}),  # the sample batch's shape
            "0": nir.Affine(weight=w, bias=b),
            # exactly export_nir.py: 0-d parameters, tau = dt / tau_inv (issue #411), r = 1
            "1": nir.CubaLIF(
                tau_mem=np.asarray(dt / np.float32(tau_mem_inv)),
                tau_syn=np.asarray(dt / np.float32(tau_syn_inv)),
                v_threshold=np.asarray(np.float32(v_th)),
                v_leak=np.asarray(np.float32(0.0)),
                r=np.asarray(np.float32(1.0)),
            ),
            "output": nir.Output(output_type={"output": np.array([1, N])}),
        },
        edges=[("0", "1"), ("input", "0"), ("1", "output")],
        type_check=False,
    )
    graph = neuro_nir.from_nir(graph_nir, dt=dt)
    assert graph.metadata["nir_producer"] == "norse"
    assert graph.nodes["input"].shape == (N_IN,) and graph.nodes["output"].shape == (N,)
    np.testing.assert_allclose(graph.nodes["1"].tau, np.full(N, 1 / tau_mem_inv), rtol=1e-6)  # 10 ms, not 1e-5 s
    x = inputs(8)
    assert_spike_for_spike(spikes_of(graph, x), norse_dynamics(x, w, b, tau_syn_inv, tau_mem_inv, v_th, dt))
    with pytest.raises(GraphError, match="dt is missing: Norse's NIR exporter writes tau as dt\\*tau"):
        neuro_nir.from_nir(graph_nir)


# ---- Rockpool (rockpool/nn/modules/torch/lif_torch.py LIFTorch.forward; torch/nir.py) -------------
def rockpool_dynamics(x, w, b, tau_mem, tau_syn, thr, dt):  # type: ignore[no-untyped-def]
    alpha, beta = np.exp(-dt / tau_mem), np.exp(-dt / tau_syn)
    batch = x.shape[0]
    v, i = np.zeros((batch, N)), np.zeros((batch, N))
    out = np.zeros((batch, x.shape[1], N))
    for t in range(x.shape[1]):
        i = (i + x[:, t] @ w.T + b) * beta
        v = alpha * v + i  # + bias, which the exporter drops (0 here)
        z = (v >= thr).astype(float)  # max_spikes_per_dt = 1
        v = v - z * thr
        out[:, t] = z
    return out


def test_rockpool_liftorch_recovers_dt_and_exponential_decays() -> None:
    w, b = weights(9)
    dt = 1e-3
    tau_mem = np.linspace(0.01, 0.05, N).astype(np.float32)
    tau_syn = np.full(N, 0.005, np.float32)
    thr = np.full(N, 1.0, np.float32)
    graph_nir = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([1, N_IN])}),
            "0_LinearTorch": nir.Affine(weight=w, bias=b),
            "1_LIFTorch": nir.CubaLIF(  # exactly _extract_rockpool_module
                tau_syn=tau_syn,
                tau_mem=tau_mem,
                r=(tau_mem * np.exp(np.float32(-dt) / tau_mem) / np.float32(dt)).astype(np.float32),
                v_leak=np.zeros(N, np.float32),
                v_threshold=thr,
            ),
            "output": nir.Output(output_type={"output": np.array([1, 1, N])}),
        },
        edges=[("input", "0_LinearTorch"), ("0_LinearTorch", "1_LIFTorch"), ("1_LIFTorch", "output")],
        type_check=False,
    )
    graph = neuro_nir.from_nir(graph_nir)  # dt comes from r
    assert graph.metadata["nir_producer"] == "rockpool" and graph.dt == dt
    assert graph.nodes["1_LIFTorch"].reset == "subtract"
    x = inputs(10)
    assert_spike_for_spike(spikes_of(graph, x), rockpool_dynamics(x, w, b, tau_mem, tau_syn, thr, dt))
    with pytest.raises(GraphError, match=r"says dt=0\.001"):
        neuro_nir.from_nir(graph_nir, dt=2e-3)


# ---- Sinabs (sinabs/layers/lif.py, exp_leak.py; sinabs/nir.py) ---------------------------------
def sinabs_dynamics(x, w, b, tau_steps, thr, reset, leaky_output=False):  # type: ignore[no-untyped-def]
    """Affine -> LIF (norm_input: v = a v + (1 - a) I, a = exp(-1/tau) in float32) spiking at v >= thr,
    or, with ``leaky_output``, Affine -> ExpLeak (v = a v + I, no spikes)."""
    a = np.exp(np.float32(-1.0) / tau_steps.astype(np.float32)).astype(np.float64)
    v = np.zeros((x.shape[0], N))
    out = np.zeros((x.shape[0], x.shape[1], N))
    for t in range(x.shape[1]):
        current = x[:, t] @ w.T + b
        if leaky_output:
            v = a * v + current
            out[:, t] = v
            continue
        v = a * v + (1 - a) * current
        spike = (v >= thr).astype(float)
        v = v - spike * thr if reset == "subtract" else v * (1 - spike)
        out[:, t] = spike
    return out


def sinabs_graph(neuron, w: np.ndarray, b: np.ndarray):  # type: ignore[no-untyped-def]
    """Sinabs' export of Sequential(Linear, neuron): Affine (always), shapes of one sample, no dt."""
    return nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([N_IN])}),
            "0": nir.Affine(weight=w, bias=b),
            "1": neuron,
            "output": nir.Output(output_type={"output": np.array([N])}),
        },
        edges=[("input", "0"), ("0", "1"), ("1", "output")],
        type_check=False,
    )


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_sinabs_lif_in_steps_with_exact_decay(reset: str) -> None:
    tau_steps, thr = np.full(N, 8.0, np.float32), np.full(N, 0.4, np.float32)
    w, b = weights(3)
    lif = nir.LIF(tau=tau_steps, r=np.ones(N), v_leak=np.zeros(N), v_threshold=thr, v_reset=np.zeros(N))
    graph = neuro_nir.from_nir(sinabs_graph(lif, w, b), dt=1e-3, reset=reset)
    assert graph.metadata["nir_producer"] == "sinabs"
    x = inputs(3)
    expected = sinabs_dynamics(x, w.astype(np.float64), b.astype(np.float64), tau_steps, thr, reset)
    assert_spike_for_spike(spikes_of(graph, x), expected)


def test_sinabs_expleak_has_no_input_normalisation() -> None:
    tau_steps = np.full(N, 5.0, np.float32)
    w, b = weights(4)
    li = nir.LI(tau=tau_steps, r=np.ones(N), v_leak=np.zeros(N))
    graph = neuro_nir.from_nir(sinabs_graph(li, w, b), dt=1e-3)  # no spiking layer: no reset needed
    x = inputs(4)
    expected = sinabs_dynamics(x, w.astype(np.float64), b.astype(np.float64), tau_steps, None, None, leaky_output=True)
    # float32 tolerance: the gain r = 1/(1 - a) is derived from Sinabs' float32 decay; without it
    # (input normalised as for LIF) the trace would be 1 - a = 18 % of this
    np.testing.assert_allclose(spikes_of(graph, x), expected, rtol=1e-4)


def test_sinabs_needs_dt_and_reset() -> None:
    lif = nir.LIF(tau=np.full(N, 8.0), r=np.ones(N), v_leak=np.zeros(N), v_threshold=np.ones(N), v_reset=np.zeros(N))
    w, b = weights(5)
    with pytest.raises(GraphError, match="dt is missing: Sinabs"):
        neuro_nir.from_nir(sinabs_graph(lif, w, b), reset="subtract")
    with pytest.raises(GraphError, match="reset is missing: Sinabs"):
        neuro_nir.from_nir(sinabs_graph(lif, w, b), dt=1e-3)


# ---- plain NIR ------------------------------------------------------------------------------------
def test_plain_nir_cubali_and_if_follow_nir_equations() -> None:
    """CubaLI = two leaky integrators; IF integrates dv/dt = r I (r per second, times dt per step)."""
    dt = 1e-3
    graph_nir = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([2])}),
            "cli": nir.CubaLI(
                tau_syn=np.full(2, 0.005), tau_mem=np.full(2, 0.01), r=np.full(2, 2.0), v_leak=np.zeros(2), w_in=3.0
            ),
            "if": nir.IF(r=np.full(2, 100.0), v_threshold=np.full(2, 0.05)),
            "output": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[("input", "cli"), ("cli", "if"), ("if", "output")],
        type_check=False,
    )
    graph = neuro_nir.from_nir(graph_nir, dt=dt)
    assert graph.metadata["nir_producer"] == "nir"
    np.testing.assert_allclose(graph.nodes["if"].r, np.full(2, 0.1))
    x = np.ones((1, 30, 2))
    i = v = u = 0.0
    expected = []
    for _ in range(30):  # NIR's equations, forward Euler
        i += dt / 0.005 * (-i + 3.0 * 1.0)
        v += dt / 0.01 * (-v + 2.0 * i)
        u += dt * 100.0 * v
        spike = u > 0.05
        u = 0.0 if spike else u
        expected.append(float(spike))
    ours = simulate(graph, x).outputs["output"][0, :, 0]
    assert sum(expected) > 2
    np.testing.assert_array_equal(ours, expected)


def test_explicit_producer_overrides_detection() -> None:
    beta, thr = np.full(N, 0.9, np.float32), np.ones(N, np.float32)
    w, b = weights(0)
    graph = neuro_nir.from_nir(snntorch_graph(snntorch_lif(beta, thr), w, b), dt=1e-4, producer="nir")
    assert graph.metadata["nir_producer"] == "nir"
    np.testing.assert_allclose(graph.nodes["1"].tau, 1e-4 / (1 - beta), rtol=1e-6)

"""Behaviour of the DYNAP-SE2 dynamics: inhibition, exact discretisation, mismatch, model = simulator."""

from __future__ import annotations

from types import SimpleNamespace

import neuro_core
import numpy as np
import pytest
import torch
from conftest import poisson, single_neuron, strong_network
from neuro_dynapse2 import sim
from neuro_dynapse2.model import DynapseModel

CHIP = neuro_core.device("dynapse2")


def _drive_with_one_inhibitory_event(weight_inh: float, synapse: str, steps: int = 120, at: int = 40):
    """A neuron driven by an excitatory event every step; sample 1 also gets one inhibitory event."""
    graph = single_neuron([3e-8, -weight_inh])
    if synapse != "gaba":
        meta = dict(graph.metadata["dynapse2"])
        meta["synapse_types"] = {"w": ["ampa", synapse]}
        graph = neuro_core.Graph(graph.nodes, graph.edges, graph.dt, {"dynapse2": meta})
    program = CHIP.compile(graph)
    x = np.zeros((2, steps, 2))
    x[:, :, 0] = 1
    x[1, at, 1] = 1
    result = CHIP.simulate(program, x, record=True)
    return result.outputs[:, :, 0], at


@pytest.mark.parametrize("synapse", ["gaba", "shunt"])
def test_one_inhibitory_event_delays_the_next_spike_by_more_than_one_step(synapse: str) -> None:
    spikes, at = _drive_with_one_inhibitory_event(3e-8, synapse)

    def next_spike(train: np.ndarray) -> int:  # steps from the event to the next spike (window end if none)
        found = np.flatnonzero(train[at:])
        return int(found[0]) if found.size else train.size - at

    control, inhibited = next_spike(spikes[0]), next_spike(spikes[1])
    # the inhibitory current decays with tau_gaba = 10 ms: its effect outlasts the step it arrived in
    assert inhibited - control > 1, f"{synapse}: next spike {control} -> {inhibited} steps after the event"


def test_strong_inhibition_suppresses_spikes_for_many_steps() -> None:
    spikes, at = _drive_with_one_inhibitory_event(3e-7, "gaba")
    window = slice(at, at + 20)
    assert spikes[0][window].sum() >= 1
    assert spikes[1][window].sum() == 0, "a strong GABA event should silence the neuron for > 20 steps"


def _membrane(dt: float, times_s: list[float], steps_1ms: int = 80) -> np.ndarray:
    graph = single_neuron([2e-8, 1.5e-8], ispkthr=1e-6)  # threshold out of reach: subthreshold trace
    program = CHIP.compile(graph)
    factor = round(1e-3 / dt)
    x = np.zeros((1, steps_1ms * factor, 2))
    for k, t in enumerate(times_s):
        x[0, round(t / dt), k % 2] = 1
    trace = sim.simulate(CHIP.target, program, x, record=True, dt=dt).states["n.i_mem"][0, :, 0]
    return trace[factor - 1 :: factor]  # the value at the end of every millisecond


def test_exact_exponential_discretisation_agrees_across_dt() -> None:
    times = [0.0, 0.003, 0.004, 0.010, 0.020, 0.021, 0.022, 0.040]
    coarse = _membrane(1e-3, times)
    fine = _membrane(1e-4, times)
    assert coarse.max() > 1e-8, "the inputs should move the membrane well above the dark current"
    # only the start-of-step leak and NMDA gate are approximated (unused here) and noise differs
    np.testing.assert_allclose(coarse, fine, rtol=0.02, atol=1e-11)
    forward_euler_error = np.abs(np.diff(coarse)).max()  # a sanity scale: the trace changes far more per step
    assert np.abs(coarse - fine).max() < 0.05 * forward_euler_error


def test_mismatch_is_frozen_per_chip_and_differs_between_chips() -> None:
    a = sim.ChipMismatch.draw(CHIP.target, 3)
    again = sim.ChipMismatch.draw(CHIP.target, 3)
    other = sim.ChipMismatch.draw(CHIP.target, 4)
    nominal = sim.ChipMismatch.draw(CHIP.target, None)
    np.testing.assert_array_equal(a.synapse, again.synapse)
    for key in a.neuron:
        np.testing.assert_array_equal(a.neuron[key], again.neuron[key])
        assert not np.allclose(a.neuron[key], other.neuron[key])
        assert np.all(nominal.neuron[key] == 1.0)
    sigma = CHIP.target.mismatch["itau_mem"]
    assert abs(np.std(a.neuron["itau_mem"]) - sigma) < 0.2 * sigma


def test_a_chip_keeps_its_deviates_at_every_mismatch_level() -> None:
    from neuro_dynapse2 import dynapse2

    at_15, at_20 = sim.ChipMismatch.draw(dynapse2(0.15), 7), sim.ChipMismatch.draw(dynapse2(0.2), 7)
    unclipped = at_15.synapse > 0.05
    np.testing.assert_allclose((at_20.synapse - 1)[unclipped], (at_15.synapse - 1)[unclipped] * 0.2 / 0.15)
    assert set(dynapse2(0.2).mismatch.values()) == {0.2}
    assert np.all(sim.ChipMismatch.draw(dynapse2(0.0), 7).synapse == 1.0)
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError, match="mismatch_sigma"):
            dynapse2(bad)


def test_chips_differ_and_one_chip_is_reproducible() -> None:
    program = CHIP.compile(strong_network())
    x = poisson((2, 60, 8), 0.3, seed=2)
    first = CHIP.simulate(program, x, record=True, chip_id=11, seed=0)
    again = CHIP.simulate(program, x, record=True, chip_id=11, seed=0)
    other = CHIP.simulate(program, x, record=True, chip_id=12, seed=0)
    np.testing.assert_array_equal(first.states["hidden.i_mem"], again.states["hidden.i_mem"])
    assert not np.allclose(first.states["hidden.i_mem"], other.states["hidden.i_mem"])
    with CHIP.connect(chip_id=11) as one, CHIP.connect(chip_id=11) as same:
        one.write(program)
        same.write(program)
        np.testing.assert_array_equal(one.run(x).outputs, same.run(x).outputs)


def test_the_model_of_the_quantized_graph_matches_the_nominal_simulator() -> None:
    graph = strong_network()
    quantized = CHIP.quantize(graph)
    program = CHIP.compile(graph)
    x = poisson((3, 60, 8), 0.3, seed=1)
    model = CHIP.chip_model(quantized)
    assert isinstance(model, DynapseModel)
    with torch.no_grad():
        out = model(torch.as_tensor(x, dtype=torch.float32)).numpy()
    simulated = CHIP.simulate(program, x).outputs
    assert simulated.sum() > 0
    assert abs(out.sum() - simulated.sum()) <= 0.1 * simulated.sum()


def test_surrogate_gradients_reach_every_weight() -> None:
    model = CHIP.chip_model(strong_network())
    x = torch.as_tensor(poisson((2, 40, 8), 0.3, seed=3), dtype=torch.float32)
    model(x).sum().backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
    sigma = model.mismatch_sigma()
    assert set(sigma) == {n for n, _ in model.named_parameters()}
    assert all(s == pytest.approx(0.15) for s in sigma.values())


def test_power_grows_with_activity() -> None:
    program = CHIP.compile(strong_network())
    quiet = CHIP.simulate(program, poisson((2, 60, 8), 0.05, seed=4))
    busy = CHIP.simulate(program, poisson((2, 60, 8), 0.5, seed=4))
    e_quiet = CHIP.measure_power(program, quiet)
    e_busy = CHIP.measure_power(program, busy)
    assert e_busy.dynamic_energy_per_inference_j > 2 * e_quiet.dynamic_energy_per_inference_j
    assert busy.counters["synaptic_events"].sum() == pytest.approx(
        sum(busy.counters[f"synaptic_events_{t}"].sum() for t in ("ampa", "nmda", "gaba", "shunt"))
    )
    assert not e_busy.measured and "Moradi" in e_busy.source


def test_nmda_is_voltage_gated_and_ampa_is_not() -> None:
    # the same excitatory drive through NMDA with a high gate threshold moves the membrane far less
    def peak(synapse: str, if_nmda: float) -> float:
        graph = single_neuron([2e-8], ispkthr=1e-6, if_nmda=if_nmda)
        meta = dict(graph.metadata["dynapse2"])
        meta["synapse_types"] = {"w": [synapse, "gaba"]}
        graph = neuro_core.Graph(graph.nodes, graph.edges, graph.dt, {"dynapse2": meta})
        x = np.zeros((1, 40, 1))
        x[0, ::2, 0] = 1
        return float(CHIP.simulate(CHIP.compile(graph), x, record=True).states["n.i_mem"].max())

    assert peak("nmda", 1e-8) < 0.5 * peak("ampa", 1e-8)
    assert peak("nmda", 5e-13) == pytest.approx(peak("ampa", 5e-13), rel=0.1)


def test_the_local_rule_of_the_network_level_method_reduces_the_decoding_error() -> None:
    from neuro_dynapse2.mimic import RateNetwork, last_window_readout, mimic
    from neuro_dynapse2.model import make_network
    from neuro_dynapse2.tasks import make_task

    x, y, window = make_task("delayed_cue", 16, seed=0)
    rate = RateNetwork(8, 4, 2, 1e-3, seed=0)
    model = make_network(CHIP.target, 8, 24, 2, seed=0)
    report = mimic(model, rate, x, y, last_window_readout(window), epochs=3, batch_size=8)
    assert len(report.errors) == 3 and report.errors[-1] < report.errors[0]
    assert model.weights["w_rec"].abs().sum() > 0 and report.output_gain > 0


def test_the_mimic_output_training_lowers_the_loss_and_keeps_only_what_held_out_copies_score_better() -> None:
    from neuro_dynapse2.mimic import last_window_readout, train_readout
    from neuro_dynapse2.model import make_network
    from neuro_dynapse2.robust import _margin_loss, _membrane_readout
    from neuro_dynapse2.tasks import make_task

    x, y, window = make_task("delayed_cue", 16, seed=0)
    model = make_network(CHIP.target, 8, 16, 2, seed=0, weight_scale_a=3e-7)  # its output neurons stay silent
    logits, spikes = _membrane_readout(window), last_window_readout(window)
    report = train_readout(model, x, y, _margin_loss, logits, spikes, chips=1, validation_chips=1, steps=12, lr=0.3)
    assert report.losses[-1] < 0.9 * report.losses[0]
    assert report.start_accuracy == 0.0 and report.trained_accuracy > 0.5 and report.kept  # 0.625 when written
    kept = model.weights["w_out"].detach().clone()

    # a step far too large wrecks the readout: the held-out copy sees it and the start is kept
    again = train_readout(model, x, y, _margin_loss, logits, spikes, chips=1, validation_chips=1, steps=2, lr=10.0)
    assert again.trained_accuracy < again.start_accuracy and not again.kept
    torch.testing.assert_close(model.weights["w_out"].detach(), kept, rtol=0, atol=0)


def test_a_decoder_fitted_over_mismatched_copies_reads_unseen_chips_better() -> None:
    from neuro_dynapse2.mimic import _run_hidden, fit_decoder
    from neuro_dynapse2.model import make_network
    from neuro_dynapse2.tasks import make_task

    x, _, _ = make_task("delayed_cue", 16, seed=0)
    xs = torch.as_tensor(x, dtype=torch.float32)
    model = make_network(CHIP.target, 8, 24, 2, seed=0, weight_scale_a=2e-7)
    with torch.no_grad():  # a state (B, T, 3) that the nominal network codes exactly
        state = _run_hidden(model, xs, model.weights["w_rec"], None) @ torch.randn(
            24, 3, generator=torch.Generator().manual_seed(0)
        )
    nominal, pooled = fit_decoder(model, xs, state, []), fit_decoder(model, xs, state, [1, 2, 3, 4])

    def error(decoder: torch.Tensor) -> float:
        unseen = [model.mismatched(seed) for seed in (11, 12, 13)]
        with torch.no_grad():
            return float(np.mean([((_run_hidden(c, xs, c.weights["w_rec"], None) @ decoder.T - state) ** 2).mean()
                                  for c in unseen]))  # fmt: skip

    assert error(pooled) < 0.6 * error(nominal)  # 0.40 of it when written


def test_the_mimic_output_gain_stops_where_the_chip_can_still_code_the_weights() -> None:
    from neuro_dynapse2.mimic import MAX_BASE_NA, _largest_gain
    from neuro_dynapse2.quantize import quantize_weights

    readout = torch.as_tensor(np.random.default_rng(0).uniform(-1.0, 1.0, (2, 48)))  # nA per unit gain
    top = _largest_gain(readout)

    def error(gain: float) -> float:
        return quantize_weights(np.abs(gain * readout.numpy()).ravel(), "exact", max_base=MAX_BASE_NA).error

    assert error(top) < 0.1 < error(4 * top)


def test_tasks_are_seeded_and_need_memory() -> None:
    from neuro_dynapse2.tasks import TASKS, make_task

    for task in TASKS:
        x, y, window = make_task(task, 64, seed=5)
        again, labels, _ = make_task(task, 64, seed=5)
        np.testing.assert_array_equal(y, labels)
        np.testing.assert_array_equal(x, again)
        assert set(np.unique(y)) == {0, 1}
        # the readout window carries no class information: same rates for both classes
        late = x[:, -window:].mean(axis=(1, 2))
        assert abs(late[y == 0].mean() - late[y == 1].mean()) < 0.02


def test_the_model_draws_a_frozen_mismatch_from_a_seed() -> None:
    model = CHIP.chip_model(strong_network())
    a, again, other = model.mismatched(5), model.mismatched(5), model.mismatched(6)
    for (name, p), (_, q), (_, r), (_, nominal) in zip(
        a.named_parameters(), again.named_parameters(), other.named_parameters(), model.named_parameters(), strict=True
    ):
        torch.testing.assert_close(p, q)
        assert not torch.equal(p, r), name
        ratio = (p / nominal).detach()[nominal.detach() != 0]
        assert 0.3 < float(ratio.std()) / 0.15 < 3 or ratio.numel() < 4, name


def test_every_benchmarked_task_has_a_recipe_and_seeded_data() -> None:
    from neuro_dynapse2.robust import QUICK, RECIPES, TASKS, task_data

    assert set(RECIPES) == set(TASKS)
    x, y, xt, yt, window = task_data("cue_accumulation", QUICK)
    again = task_data("cue_accumulation", QUICK)
    assert len(x) == len(y) == QUICK.train_samples and len(xt) == len(yt) == QUICK.test_samples
    np.testing.assert_array_equal(x, again[0])
    assert not np.array_equal(x[: len(xt)], xt)  # test samples are drawn from another seed
    assert window == again[4] > 0


def test_the_local_rule_runs_the_hidden_population_as_the_chip_model_does() -> None:
    from neuro_dynapse2.mimic import _run_hidden
    from neuro_dynapse2.model import hard_spike, make_network, neuron_constants, run_network
    from neuro_dynapse2.tasks import make_task

    x, _, _ = make_task("delayed_cue", 8, seed=0)
    xs = torch.as_tensor(x, dtype=torch.float32)
    # a mismatched chip: its AMPA and GABA gains differ per neuron, so a signed current cannot be
    # split after summing (cancelling excitation and inhibition do not cancel there)
    chip = make_network(CHIP.target, 8, 24, 2, seed=0, weight_scale_a=1e-7).mismatched(seed=3)

    recorder = SimpleNamespace()  # run_network stores the traces on it
    with torch.no_grad():
        constants = {pop: neuron_constants(chip.population_currents(pop)) for pop, _ in chip.structure.populations}
        weights = {name: w.detach() for name, w in chip.weights.items()}
        run_network(chip.structure, weights, constants, xs, chip.dt, hard_spike, recorder=recorder, record_all=True)
        traces = _run_hidden(chip, xs, weights["w_rec"], None)
    spikes = recorder.trace["hidden.spikes"]
    decay = torch.exp(-chip.dt / constants["hidden"].tau_syn[:, 0])
    expected, r = [], torch.zeros_like(spikes[:, 0])
    for t in range(spikes.shape[1]):
        r = r * decay + spikes[:, t]
        expected.append(r)
    assert spikes.sum() > 100  # the hidden population is active
    torch.testing.assert_close(traces, torch.stack(expected, dim=1), rtol=1e-4, atol=1e-4)


def test_the_mimic_readout_search_reruns_only_the_output_population_and_gets_the_same_spikes() -> None:
    from neuro_dynapse2.mimic import _OutputStage
    from neuro_dynapse2.model import make_network
    from neuro_dynapse2.tasks import make_task

    x, _, _ = make_task("delayed_cue", 16, seed=0)
    xs = torch.as_tensor(x, dtype=torch.float32)
    model = make_network(CHIP.target, 8, 24, 2, seed=0, weight_scale_a=1e-7)
    w_out = 300 * torch.randn(2, 24, generator=torch.Generator().manual_seed(0))  # nA
    with torch.no_grad():
        model.weights["w_out"].copy_(w_out)
        whole = model.mismatched(seed=1)(xs)
        model.weights["w_out"].fill_(1.0)  # the stage's copy holds only its mismatch factors
        staged = _OutputStage(model.mismatched(seed=1), xs)(w_out)
    assert whole.sum() > 5
    torch.testing.assert_close(staged, whole, rtol=0, atol=0)


def test_the_robust_training_example_deploys_each_method_to_every_chip() -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "examples" / "dynapse2_robust.py"
    spec = importlib.util.spec_from_file_location("dynapse2_robust_example", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    results = example.compare(chips=2, quick=True)
    assert set(results) == {"bptt", "mimic"}
    for accuracy in results.values():
        assert accuracy.shape == (2,) and np.all((accuracy >= 0) & (accuracy <= 1))

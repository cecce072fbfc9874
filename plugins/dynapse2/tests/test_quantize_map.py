"""Quantizers, bias conversion, mapping limits and the configuration image."""

from __future__ import annotations

import neuro_core
import numpy as np
import pytest
from conftest import fan_in_graph, single_neuron, strong_network
from neuro_core import (
    CubaLIF,
    Graph,
    GraphError,
    Input,
    Linear,
    MappingError,
    Output,
    Program,
    ProgrammingError,
    QuantizationError,
)
from neuro_dynapse2 import target as hw
from neuro_dynapse2.mapper import assign_cores
from neuro_dynapse2.quantize import _MASKS, best_masks, nrmse, quantize_autoencoder, quantize_exact

CHIP = neuro_core.device("dynapse2")


def test_bias_generator_round_trip_is_within_half_a_fine_step() -> None:
    for current in np.geomspace(1e-12, 2e-6, 50):
        coarse, fine = hw.coarse_fine(current)
        assert 0 <= coarse <= hw.COARSE_MAX and 0 <= fine <= hw.FINE_MAX
        step = hw.COARSE_MAX_CURRENT[coarse] / hw.FINE_MAX
        assert abs(hw.bias_current(coarse, fine) - current) <= 0.5 * step * (1 + 1e-9)
    with pytest.raises(ValueError, match="exceeds the largest"):
        hw.coarse_fine(1e-5)


def test_exact_search_recovers_a_representable_code() -> None:
    rng = np.random.default_rng(0)
    bases = np.array([1.0, 2.5, 4.0, 9.0])
    masks = rng.integers(1, 16, 500)
    values = _MASKS[masks] @ bases
    code = quantize_exact(values)
    np.testing.assert_allclose(code.reconstruct(), values, rtol=1e-9)
    assert code.error < 1e-9


@pytest.mark.parametrize("quantizer", [quantize_exact, quantize_autoencoder])
def test_both_quantizers_approximate_gaussian_weights(quantizer) -> None:
    values = np.abs(np.random.default_rng(1).normal(size=1000))
    code = quantizer(values)
    assert code.bases.shape == (4,) and np.all(code.bases >= 0)
    assert code.masks.min() >= 0 and code.masks.max() <= 15
    np.testing.assert_allclose(code.error, nrmse(values, code.reconstruct()))
    assert code.error < 0.12
    # neither does worse than the uniform binary code (bases max * (1, 2, 4, 8) / 15, nearest masks)
    binary = values.max() * np.array([1, 2, 4, 8]) / 15
    assert code.error <= nrmse(values, _MASKS[best_masks(values, binary)] @ binary) + 1e-12


@pytest.mark.parametrize("quantizer", [quantize_exact, quantize_autoencoder])
def test_quantizers_keep_every_base_within_the_settable_range(quantizer) -> None:
    values = np.abs(np.random.default_rng(2).normal(size=400)) * 3.0  # up to ~10: above 2 x max_base
    code = quantizer(values, max_base=1.0)
    assert np.all(code.bases <= 1.0) and np.all(code.bases >= 0)
    # the largest level reachable is the sum of the four bases (every bit of the mask set)
    assert code.reconstruct().max() <= 4.0 + 1e-12


def test_quantize_writes_masks_cores_and_per_core_biases() -> None:
    quantized = CHIP.quantize(strong_network())
    meta = quantized.metadata["dynapse2"]
    assert len(meta["base_weights_a"]) == 2 and len(meta["quantization"]) == 2
    w = quantized.nodes["w_in"]
    bases = np.array(meta["base_weights_a"][0])  # the hidden population's core
    np.testing.assert_allclose(np.abs(w.weight), _MASKS[w.int_params["weight_mask"]] @ bases)
    assert set(np.unique(quantized.nodes["hidden"].int_params["core"])) == {0}
    assert set(np.unique(quantized.nodes["out"].int_params["core"])) == {1}
    for method in ("exact", "autoencoder"):
        report = CHIP.quantize(strong_network(), method=method).metadata["dynapse2"]["quantization"]
        assert [core["method"] for core in report] == [method, method]  # hidden and output have a core each
        assert all(core["error"] < 0.15 for core in report)


def test_too_many_weight_levels_per_core_is_a_clear_quantization_error() -> None:
    # 16 weight levels over 1.5 decades, each carrying the same share of the weight norm (counts
    # ~ 1 / level^2): 15 sums of 4 base currents cannot follow them all
    levels = np.geomspace(10**-1.5, 1.0, 16)
    values = np.repeat(levels, np.round((levels.min() / levels) ** 2 * 1000).astype(int))
    n_in = 63
    n = -(-values.size // n_in)
    weights = np.resize(values, (n, n_in))  # IR units: 1.0 is ~25 nA on the chip
    graph = fan_in_graph(n_in, n).replace_nodes(w=Linear(weights))
    with pytest.raises(QuantizationError, match=r"core 0: .*16 distinct weight levels.*tolerance 0\.15"):
        CHIP.quantize(graph)
    CHIP.quantize(graph, tolerance=0.3)  # the same network is accepted when the stated tolerance allows it


def test_a_bias_outside_the_generator_range_is_a_quantization_error() -> None:
    with pytest.raises(QuantizationError, match=r"itau_mem.*exceeds the largest settable current"):
        CHIP.quantize(single_neuron([1e-8], tau_mem=1e-9))


def test_cores_group_neurons_that_share_biases() -> None:
    slow = np.zeros((300, 3))
    fast = np.ones((10, 3))
    cores = assign_cores(np.vstack([slow, fast]), 256, 4)
    assert set(cores[:300]) == {0, 1} and set(cores[300:]) == {2}
    # five distinct parameter groups do not fit four cores: the two closest are merged
    groups = np.repeat(np.array([[0.0], [10.0], [20.0], [30.0], [30.5]]), 10, axis=0)
    cores = assign_cores(groups, 256, 4)
    assert cores.max() == 3 and cores[-1] == cores[-11]


def test_more_than_64_cams_and_1024_neurons_are_all_reported() -> None:
    with pytest.raises(MappingError) as caught:
        CHIP.map(CHIP.quantize(fan_in_graph(70, 1030)))
    constraints = [v.constraint for v in caught.value.violations]
    assert "neurons" in constraints and "cores" in constraints
    assert constraints.count("max_fan_in") == 1030
    fan_in = next(v for v in caught.value.violations if v.constraint == "max_fan_in")
    assert fan_in.limit == 64 and fan_in.value == 70 and "neuron 0" in fan_in.where
    with pytest.raises(MappingError, match="max_fan_in"):
        CHIP.map(CHIP.quantize(fan_in_graph(65, 4)))
    CHIP.map(CHIP.quantize(fan_in_graph(64, 4)))  # exactly 64 CAMs fit


def test_map_needs_a_quantized_graph() -> None:
    with pytest.raises(GraphError, match="quantize"):
        CHIP.map(strong_network())


def test_the_image_has_explicit_channel_maps_and_consistent_tables() -> None:
    graph = strong_network()
    program = CHIP.compile(graph)
    a = program.arrays
    n_in, n_out = graph.nodes["input"].out_size, graph.nodes["output"].in_size
    assert program.meta["input_channels"] == list(range(n_in))
    outputs = program.meta["output_channels"]
    assert len(outputs) == n_out
    populations = program.meta["populations"]
    assert all(populations[a["neuron_population"][s]] == "out" for s in outputs)
    assert all(a["sram_host"][s].any() for s in outputs), "every output neuron is routed to the host"
    used = a["cam_tag"] >= 0
    assert used.sum(axis=1).max() <= 64
    # every CAM tag is sent by an input channel or by some neuron's SRAM entry
    sent = set(program.meta["input_channels"]) | set(a["sram_tag"][a["sram_tag"] >= 0].tolist())
    assert set(a["cam_tag"][used].tolist()) <= sent


def test_an_out_of_range_image_is_refused_before_writing() -> None:
    program = CHIP.compile(strong_network())
    arrays = dict(program.arrays)
    coarse = arrays["bias_coarse"].copy()
    coarse[0, 0] = 6
    arrays["bias_coarse"] = coarse
    bad = Program(program.device, program.format_version, arrays, program.meta)
    with pytest.raises(ProgrammingError, match=r"bias_coarse.*0\.\.5.*6"):
        CHIP.simulate(bad, np.zeros((1, 5, 8)))
    with CHIP.connect(0) as connection, pytest.raises(ProgrammingError):
        connection.write(bad)


def test_per_neuron_biases_are_clustered_onto_the_four_cores() -> None:
    # 600 neurons each with its own bias vector (as after training currents per neuron)
    features = np.log(np.random.default_rng(3).uniform(1, 10, (600, 5)))
    cores = assign_cores(features, 256, 4)
    counts = np.bincount(cores)
    assert counts.size <= 4 and counts.max() <= 256 and counts.sum() == 600


def test_tags_and_neurons_per_core_violations_are_reported() -> None:
    # 1500 input channels + 600 sending neurons need 2100 of the 2048 tags (fan-in stays at 3)
    n_in, n = 1500, 600
    lif = CubaLIF(tau=np.full(n, 0.02), tau_syn=np.full(n, 0.01), r=np.ones(n), v_threshold=np.ones(n))
    weight = np.zeros((n, n_in))
    for j in range(n):
        weight[j, [j, (j + 600) % n_in, (j + 1200) % n_in]] = 0.5
    graph = Graph.chain(1e-3, [("input", Input((n_in,))), ("w", Linear(weight)), ("n", lif), ("output", Output((n,)))])
    quantized = CHIP.quantize(graph)
    with pytest.raises(MappingError) as caught:
        CHIP.map(quantized)
    tags = [v for v in caught.value.violations if v.constraint == "tags"]
    assert len(tags) == 1 and tags[0].limit == 2048 and tags[0].value == 2100
    # a core holding more than 256 neurons (a hand-edited placement) is reported too
    crowded = quantized.nodes["n"].with_params(int_params={"core": np.zeros(n, dtype=np.int64)})
    with pytest.raises(MappingError) as caught:
        CHIP.map(quantized.replace_nodes(n=crowded))
    per_core = [v for v in caught.value.violations if v.constraint == "neurons_per_core"]
    assert per_core and per_core[0].where == "core 0" and per_core[0].value == 600

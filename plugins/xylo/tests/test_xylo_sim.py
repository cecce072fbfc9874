"""Unit tests of the simulator's conventions (each derived by hand from docs/xylo.md)."""

from __future__ import annotations

import numpy as np
import pytest
from neuro_xylo import sim
from neuro_xylo.program import XyloImage
from neuro_xylo.sim import simulate_image


def single(**overrides: object) -> XyloImage:
    """One input, one hidden neuron (1 synaptic state), one output; everything else neutral."""
    values = {
        "w_in": np.zeros((1, 1, 1)),
        "w_rec": np.zeros((1, 1, 1)),
        "w_out": np.zeros((1, 1)),
        "weight_shift": [0, 0, 0],
        "dash_mem": [1],
        "dash_syn": [[1]],
        "threshold": [1000],
        "bias": [0],
        "alias": [-1],
        "dash_mem_out": [1],
        "dash_syn_out": [1],
        "threshold_out": [1000],
        "bias_out": [0],
    }
    values.update(overrides)
    return XyloImage.build(**values)


def run(image: XyloImage, inputs: list[list[int]]) -> sim.XyloRun:
    return simulate_image(image, np.array(inputs)[None], record=True)


def test_decay_is_an_arithmetic_shift_with_the_sign_rule() -> None:
    assert sim._decay(100, 2) == 25
    assert sim._decay(3, 2) == 1  # 3 >> 2 == 0: a positive value still decays by 1
    assert sim._decay(-3, 2) == -1  # arithmetic shift rounds toward -inf
    assert sim._decay(-100, 3) == -13
    assert sim._decay(0, 4) == 0
    assert sim._decay(-32768, 0) == -32768


def test_input_is_decayed_in_the_step_it_arrives() -> None:
    result = run(single(w_in=[[[100]]], dash_syn=[[1]]), [[3], [0]])
    # 3 * 100 = 300, then 300 - 300 >> 1 = 150; next step 150 - 75 = 75
    assert result.states["hidden.isyn"][0, :, 0].tolist() == [150, 75]
    # v: 0 - 0 + 150 = 150, then 150 - 75 + 75 = 150
    assert result.states["hidden.v"][0, :, 0].tolist() == [150, 150]


def test_input_events_are_capped_at_15_per_channel() -> None:
    capped = run(single(w_in=[[[10]]], dash_syn=[[15]]), [[200]])
    exact = run(single(w_in=[[[10]]], dash_syn=[[15]]), [[15]])
    assert capped.states["hidden.isyn"][0, 0, 0] == exact.states["hidden.isyn"][0, 0, 0] == 150 - 1
    assert capped.counters["input_events"][0] == 15


def test_states_saturate_at_int16() -> None:
    result = run(
        single(w_in=[[[127]]], weight_shift=[7, 0, 0], dash_syn=[[15]], dash_mem=[15], threshold=[32767]), [[15], [15]]
    )
    assert result.states["hidden.isyn"][0, 0, 0] == 32767 - 1  # saturated, then decayed by the sign rule
    # v: 32766 + 32766 saturates at 32767, which reaches the threshold 32767: one spike, v = 0
    assert result.states["hidden.v"][0, :, 0].tolist() == [32766, 0]
    assert result.hidden_spikes[0, :, 0].tolist() == [0, 1]
    negative = run(single(w_in=[[[-128]]], weight_shift=[7, 0, 0], dash_syn=[[15]], dash_mem=[15]), [[15], [15]])
    assert negative.states["hidden.v"].min() == -32768


def test_hidden_neurons_spike_at_most_31_times_and_keep_the_rest() -> None:
    result = run(single(w_in=[[[100]]], dash_syn=[[15]], dash_mem=[15], threshold=[1]), [[1], [0]])
    assert result.hidden_spikes[0, :, 0].tolist() == [31, 31]
    # v = 99 after decay of isyn (100 - 1); 31 spikes remove 31; the rest carries over
    assert result.states["hidden.v"][0, 0, 0] == 99 - 31


def test_output_neurons_spike_once_per_step_one_step_after_the_hidden_spike() -> None:
    image = single(w_in=[[[100]]], w_out=[[100]], dash_syn=[[15]], threshold=[50], threshold_out=[1])
    result = run(image, [[1], [0], [0]])
    assert result.hidden_spikes[0, 0, 0] == 1
    assert result.output_spikes[0, :, 0].tolist() == [0, 1, 1]  # capped at 1 although v_out >> threshold


def test_recurrent_spikes_arrive_one_step_later() -> None:
    image = single(w_in=[[[100]]], w_rec=[[[-50]]], dash_syn=[[15]], dash_mem=[15], threshold=[90])
    result = run(image, [[1], [0]])
    assert result.hidden_spikes[0, :, 0].tolist() == [1, 0]
    # step 1: isyn 99 - 50 = 49 -> decays to 48
    assert result.states["hidden.isyn"][0, 1, 0] == 48


def test_two_synaptic_states_are_summed_into_the_membrane() -> None:
    image = single(w_in=[[[100, 40]]], w_rec=np.zeros((1, 1, 2)), dash_syn=[[1, 15]], dash_mem=[15], threshold=[10000])
    result = run(image, [[1]])
    assert result.states["hidden.isyn"][0, 0, 0] == 50
    assert result.states["hidden.isyn2"][0, 0, 0] == 39
    assert result.states["hidden.v"][0, 0, 0] == 89


def test_without_numba_the_same_source_gives_the_same_result() -> None:
    if not hasattr(sim._run, "py_func"):
        pytest.skip("the kernel is not compiled (no numba, or NUMBA_DISABLE_JIT): pure Python is the only path")
    rng = np.random.default_rng(5)
    image = XyloImage.build(
        w_in=rng.integers(-128, 128, (3, 5, 2)),
        w_rec=rng.integers(-128, 128, (5, 5, 2)),
        w_out=rng.integers(-128, 128, (5, 2)),
        weight_shift=[3, 2, 1],
        dash_mem=rng.integers(0, 16, 5),
        dash_syn=rng.integers(0, 16, (5, 2)),
        threshold=rng.integers(1, 500, 5),
        bias=rng.integers(-50, 50, 5),
        alias=[1, -1, 0, -1, 2],
        dash_mem_out=[2, 3],
        dash_syn_out=[1, 4],
        threshold_out=[100, 10],
        bias_out=[0, 5],
    )
    x = rng.integers(0, 20, (2, 12, 3))
    compiled = simulate_image(image, x, record=True)
    original = {name: getattr(sim, name) for name in ("_run", "_integrate", "_fire", "_sat16", "_wrap16", "_decay")}
    try:
        for name, function in original.items():
            setattr(sim, name, function.py_func)
        plain = simulate_image(image, x, record=True)
    finally:
        for name, function in original.items():
            setattr(sim, name, function)
    np.testing.assert_array_equal(plain.hidden_spikes, compiled.hidden_spikes)
    for key in compiled.states:
        np.testing.assert_array_equal(plain.states[key], compiled.states[key])


def test_bad_inputs_are_refused_with_the_reason() -> None:
    image = single()
    with pytest.raises(ValueError, match="channels"):
        simulate_image(image, np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match=">= 0"):
        simulate_image(image, -np.ones((1, 3, 1)))
    with pytest.raises(ValueError, match="integer"):
        simulate_image(image, np.full((1, 3, 1), 0.5))


def test_samples_of_a_batch_start_from_reset() -> None:
    image = single(w_in=[[[120]]], w_rec=[[[20]]], threshold=[100])
    x = np.array([[[2], [1], [0]], [[0], [0], [0]]])
    batched = simulate_image(image, x, record=True)
    alone = simulate_image(image, x[1:], record=True)
    np.testing.assert_array_equal(batched.states["hidden.v"][1], alone.states["hidden.v"][0])
    assert not batched.states["hidden.v"][1].any()


def test_counters_count_events_synaptic_operations_and_spikes() -> None:
    image = single(w_in=[[[100]]], w_rec=[[[5]]], w_out=[[7]], dash_syn=[[15]], dash_mem=[15], threshold=[90])
    result = run(image, [[20], [0], [0]])  # 20 events are capped to 15 on the chip
    counters = {name: int(values[0]) for name, values in result.counters.items()}
    spikes = result.hidden_spikes[0, :, 0]
    assert counters["input_events"] == 15 and counters["synaptic_ops_input"] == 15
    assert counters["hidden_spikes"] == spikes.sum() > 0
    # each hidden spike of steps 0 and 1 is delivered at the next step to 1 recurrent and 1 readout synapse
    assert counters["synaptic_ops_recurrent"] == counters["synaptic_ops_output"] == spikes[:-1].sum()
    assert counters["neuron_updates"] == 3 * 2
    assert counters["input_channels_active"] == 1

"""Bit-exactness test vectors: the simulator replays every hand-derived vector in tests/vectors/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from neuro_loihi.program import Connection, Network, Population
from neuro_loihi.sim import simulate_network

VECTORS = Path(__file__).parent / "vectors"
NAMES = sorted(p.stem for p in VECTORS.glob("*.npz"))


def load(name: str) -> dict[str, np.ndarray]:
    with np.load(VECTORS / f"{name}.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def network(spec: dict[str, np.ndarray]) -> Network:
    """The single-connection network a vector describes."""
    n, m = spec["weights"].shape
    pop = Population("pop", n, int(spec["du"]), int(spec["dv"]), int(spec["vth"]), spec["bias_mant"], spec["bias_exp"])
    conn = Connection(
        "conn",
        "input",
        0,
        0,
        spec["weights"],
        spec["delays"],
        int(spec["weight_exp"]),
        int(spec["num_weight_bits"]),
        str(spec["sign_mode"]),
    )
    return Network([("in", m)], [pop], [conn], [("out", 0, "spikes")], 1e-3)


def test_there_are_vectors() -> None:
    assert len(NAMES) >= 12, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_simulator_reproduces_vector(name: str) -> None:
    spec = load(name)
    result = simulate_network(network(spec), spec["inputs"][None], record=True)
    np.testing.assert_array_equal(result.states["pop.u"][0], spec["expected_u"], err_msg=f"{name}: u")
    np.testing.assert_array_equal(result.states["pop.v"][0], spec["expected_v"], err_msg=f"{name}: v")
    np.testing.assert_array_equal(result.spikes["pop"][0], spec["expected_spikes"], err_msg=f"{name}: spikes")
    np.testing.assert_array_equal(result.outputs[0], spec["expected_spikes"])


# The numbers derived by hand in vectors/make_vectors.py, asserted literally (so a wrong generator fails too).
def test_hand_derived_values() -> None:
    assert load("u_overflow_wrap")["expected_u"][1, 0] == 8 * (254 << 7) * 64 - 2**24 == -131072
    sat = load("v_saturation_negative")["expected_v"][:, 0]
    assert sat[14] == -524288 * 15 and sat[15] == sat[19] == -(2**23 - 1)
    pos = load("v_saturation_positive")
    assert pos["expected_v"][15, 0] == 8386560 and pos["expected_spikes"][16, 0] == 1 and pos["expected_v"][16, 0] == 0
    assert list(np.flatnonzero(load("strict_threshold")["expected_spikes"][:, 0])) == [2, 5, 8]
    assert load("strict_threshold")["expected_v"][1, 0] == 64  # equal to vth << 6: no spike
    assert list(load("negative_decay_rounding")["expected_u"][:3, 0]) == [0, -6464, -4884]
    assert load("negative_shift_floor")["expected_u"][1, 0] == -2 * 64
    assert load("shift_after_sum")["expected_u"][1, 0] == 3 * 64
    assert list(load("shift_per_delay_slot")["expected_u"][1:3, 0]) == [64, 64]
    arrivals = load("delays")["expected_u"]
    assert [list(np.flatnonzero(arrivals[:, j])) for j in range(4)] == [
        [1, 4, 71, 101],
        [2, 5, 72, 102],
        [6, 9, 76, 106],
        [63, 66, 133],
    ]
    assert list(load("weight_exp_and_truncation")["expected_u"][1]) == [80 * 64, 32 * 64, 80 * 64]
    assert load("weight_bits_6_mixed")["expected_u"][1, 0] == (8 - 16) * 64
    assert load("weight_clip")["expected_u"][1, 0] == 255 * 64

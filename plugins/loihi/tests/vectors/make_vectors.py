"""Write the Loihi test vectors (``*.npz``) from the documented semantics (docs/loihi.md).

Each vector is a tiny network (inputs -> one connection -> one population of a few compartments)
with input spikes and the expected u, v and spikes of every step. The expected traces come from
:func:`reference`, a deliberately plain scalar transcription of the documented rules with Python
integers (no numpy arithmetic, no shared code with the simulator); the numbers that matter are
also derived by hand in the comments and asserted literally in ``test_vectors.py``. The same
vectors are replayed through Lava in ``tests_lava/`` to prove the transcription right.

Run from this folder: ``python make_vectors.py`` (rewrites every ``*.npz``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def trunc_div_4096(p: int) -> int:
    """sign(p) * (|p| >> 12): division by 4096 truncated toward zero."""
    return -((-p) >> 12) if p < 0 else p >> 12


def wrap32(x: int) -> int:
    return ((x + 2**31) % 2**32) - 2**31


def reference(case: dict) -> dict[str, np.ndarray]:
    """Expected u, v, spikes (time, n) of a single-connection, single-population case."""
    w = [list(map(int, row)) for row in case["weights"]]
    d = [list(map(int, row)) for row in case["delays"]]
    n, m = len(w), len(w[0])
    mode, bits, e = str(case["sign_mode"]), int(case["num_weight_bits"]), int(case["weight_exp"])
    # Lava: clip to 8 bits by sign mode, then drop 8 - bits + mixed LSBs (arithmetic shifts)
    drop = 8 - bits + (1 if mode == "mixed" else 0)
    for j in range(n):
        for i in range(m):
            x = -w[j][i] if mode == "inhibitory" else w[j][i]
            x = max(-256 if mode == "mixed" else 0, min(255, x))
            x = (x >> drop) << drop
            w[j][i] = -x if mode == "inhibitory" else x
    du, dv, vth = int(case["du"]), int(case["dv"]), int(case["vth"])
    bias = [int(b) << int(be) for b, be in zip(case["bias_mant"], case["bias_exp"], strict=True)]
    x_in = [list(map(int, row)) for row in case["inputs"]]
    steps = len(x_in)
    arrivals: dict[tuple[int, int], int] = {}  # (step, neuron) -> dendritic input
    u, v = [0] * n, [0] * n
    out_u, out_v, out_s = [], [], []
    for t in range(steps):
        row_u, row_v, row_s = [], [], []
        for j in range(n):
            a = wrap32(arrivals.pop((t, j), 0))
            uu = wrap32(trunc_div_4096(u[j] * (4096 - du - 1)) + a * 64)
            if uu > 2**23:
                uu -= 2**24
            elif uu <= -(2**23):
                uu += 2**24
            vv = wrap32(trunc_div_4096(v[j] * (4096 - dv)) + uu + bias[j])
            vv = max(-(2**23) + 1, min(2**23 - 1, vv))
            s = int(vv > (vth << 6))
            if s:
                vv = 0
            u[j], v[j] = uu, vv
            row_u.append(uu)
            row_v.append(vv)
            row_s.append(s)
        out_u.append(row_u)
        out_v.append(row_v)
        out_s.append(row_s)
        # this step's input spikes: per destination and delay, sum payload * weight, then shift
        for j in range(n):
            per_delay: dict[int, int] = {}
            for i in range(m):
                if x_in[t][i]:
                    per_delay[d[j][i]] = per_delay.get(d[j][i], 0) + w[j][i] * x_in[t][i]
            for delay, acc in per_delay.items():
                shifted = acc << e if e >= 0 else acc >> (-e)
                key = (t + 1 + delay, j)
                arrivals[key] = arrivals.get(key, 0) + shifted
    return {"u": np.array(out_u, np.int64), "v": np.array(out_v, np.int64), "spikes": np.array(out_s, np.int64)}


def case(
    inputs: np.ndarray,
    weights: list[list[int]],
    *,
    delays: list[list[int]] | None = None,
    weight_exp: int = 0,
    sign_mode: str = "mixed",
    num_weight_bits: int = 8,
    du: int = 4095,
    dv: int = 0,
    vth: int = 131071,
    bias_mant: list[int] | None = None,
    bias_exp: list[int] | None = None,
) -> dict:
    n = len(weights)
    return {
        "inputs": np.asarray(inputs, np.int64),
        "weights": np.asarray(weights, np.int64),
        "delays": np.asarray(delays if delays is not None else np.zeros_like(weights), np.int64),
        "weight_exp": np.int64(weight_exp),
        "sign_mode": np.str_(sign_mode),
        "num_weight_bits": np.int64(num_weight_bits),
        "du": np.int64(du),
        "dv": np.int64(dv),
        "vth": np.int64(vth),
        "bias_mant": np.asarray(bias_mant or [0] * n, np.int64),
        "bias_exp": np.asarray(bias_exp or [0] * n, np.int64),
    }


def cases() -> dict[str, dict]:
    one = np.zeros((6, 8), np.int64)
    one[0, :] = 1  # eight inputs spike at step 0
    train = np.zeros((150, 1), np.int64)
    train[[0, 3, 70, 100], 0] = 1
    pair = np.zeros((5, 2), np.int64)
    pair[0, :] = 1
    single = np.zeros((6, 1), np.int64)
    single[0, 0] = 1
    return {
        # a_in = 8 * (254 << 7) = 260096 at step 1; 64 * 260096 = 16646144 > 2**23: u = 16646144 - 2**24 = -131072
        "u_overflow_wrap": case(one, [[254] * 8], weight_exp=7),
        # v += -4096 << 7 = -524288 per step (dv = 0): from step 16 on v saturates at -(2**23 - 1) = -8388607
        "v_saturation_negative": case(np.zeros((20, 1)), [[0]], bias_mant=[-4096], bias_exp=[7]),
        # v += 4095 << 7 = 524160 per step: step 16 gives 8910720 -> clipped to 8388607 > 8388544 = vth << 6: spike
        "v_saturation_positive": case(np.zeros((20, 1)), [[0]], bias_mant=[4095], bias_exp=[7]),
        # vth = 1: threshold 64; v = 32, 64 (equal: no spike), 96 -> spike, reset: spikes at steps 2, 5, 8
        "strict_threshold": case(np.zeros((10, 1)), [[0]], vth=1, bias_mant=[32]),
        # u = -101 * 64 = -6464 at step 1; step 2: -6464 * 3095 / 4096 = -4884.29.. -> -4884 (toward zero)
        "negative_decay_rounding": case(single, [[-101]], sign_mode="inhibitory", du=1000),
        # inhibitory -3 with weight_exp -1: a_in = floor(-3 / 2) = -2 (arithmetic shift floors): u = -128
        "negative_shift_floor": case(single, [[-3]], sign_mode="inhibitory", weight_exp=-1),
        # two weights 3, same step and delay, exp -1: floor(6 / 2) = 3 (the sum is shifted, not each weight)
        "shift_after_sum": case(pair, [[3, 3]], sign_mode="excitatory", weight_exp=-1),
        # same but different delays: floor(3/2) + floor(3/2) arrive separately: 1 at step 1 and 1 at step 2
        "shift_per_delay_slot": case(pair, [[3, 3]], delays=[[0, 1]], sign_mode="excitatory", weight_exp=-1),
        # delays 0, 1, 5, 62 on four neurons; spikes at 0, 3, 70, 100 arrive at t + 1 + d (ring wraps at 64)
        "delays": case(train, [[10], [10], [10], [10]], delays=[[0], [1], [5], [62]], sign_mode="excitatory"),
        # weight_exp 3: 10 << 3 = 80; mixed 7 -> 6 (LSB dropped); 6-bit mixed 13 -> 8 (3 LSBs dropped)
        "weight_exp_and_truncation": case(pair, [[10, 0], [7, -1], [13, -1]], weight_exp=3),
        "weight_bits_6_mixed": case(pair, [[13, -9]], num_weight_bits=6),
        # weights beyond 8 bits are clipped by Lava: 300 -> 255 (excitatory)
        "weight_clip": case(single, [[300]], sign_mode="excitatory"),
        # CUBA dynamics with leak: du = 409 (tau_syn ~ 10 steps), dv = 410, vth = 100, bias 0
        "cuba_lif": case(
            (np.random.default_rng(0).random((40, 4)) < 0.4).astype(np.int64),
            [[120, -80, 60, 200], [-30, 254, 254, 100]],
            delays=[[0, 2, 4, 6], [1, 1, 0, 3]],
            du=409,
            dv=410,
            vth=100,
        ),
    }


def main() -> None:
    for name, spec in cases().items():
        expected = reference(spec)
        arrays = {**spec, **{f"expected_{k}": v for k, v in expected.items()}}
        np.savez(HERE / f"{name}.npz", **arrays)  # type: ignore[arg-type]
        print(f"{name}: {int(expected['spikes'].sum())} spikes")


if __name__ == "__main__":
    main()

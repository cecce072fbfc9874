"""Bit-exact cross-check of neuro-loihi's simulator against Lava itself (lava-nc 0.10.0, Python 3.10).

Random networks (feed-forward, recurrent, with per-synapse delays, with positive and negative
weight exponents, with every sign mode, with weights beyond 8 bits that Lava clips) are run through
Lava's bit-accurate process models (``Loihi2SimCfg(select_tag="fixed_pt")``: PyDenseModelBitAcc,
PyDelayDenseModelBitAcc, PyLifModelBitAcc) and through :func:`neuro_loihi.sim.simulate_network`;
u, v and spikes of every population must match at every step: 0 mismatches. The random draws are
tuned so that u wraps around 24 bits and v saturates in a good share of the networks, and the test
asserts that both really happened.

Run with the optional tox env ``lava``, or directly:
``PYTHONPATH=core/src:plugins/loihi/src /path/to/py310/bin/python -m pytest plugins/loihi/tests_lava``
"""

from __future__ import annotations

import numpy as np
import pytest

lava = pytest.importorskip("lava")

from neuro_loihi.lava_backend import run_lava_sample  # noqa: E402
from neuro_loihi.program import Connection, Network, Population  # noqa: E402
from neuro_loihi.sim import simulate_network  # noqa: E402


def random_network(seed: int) -> tuple[Network, np.ndarray, bool]:
    """A random 1- to 3-population network, inputs and whether inputs are graded."""
    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(3, 12))
    sizes = [int(rng.integers(2, 9)) for _ in range(int(rng.integers(1, 4)))]
    graded = bool(rng.random() < 0.25)
    pops = []
    for p, n in enumerate(sizes):
        pops.append(
            Population(
                f"pop{p}",
                n,
                du=int(rng.choice([0, 1, 100, 2048, 4095, int(rng.integers(0, 4096))])),
                dv=int(rng.choice([0, 1, 300, 4095, int(rng.integers(0, 4096))])),
                vth=int(rng.choice([1, 10, 1000, 131071, int(rng.integers(0, 1 << 17))])),
                bias_mant=rng.integers(-4096, 4096, n) * (rng.random(n) < 0.5),
                bias_exp=rng.integers(0, 8, n),
            )
        )
    conns: list[Connection] = []
    for p, n in enumerate(sizes):
        sources = [("input", 0, n_in)] if p == 0 else [("pop", p - 1, sizes[p - 1])]
        if rng.random() < 0.4:
            sources.append(("pop", p, n))  # recurrence
        for kind, src, m in sources:
            mode = str(rng.choice(["mixed", "mixed", "excitatory", "inhibitory"]))
            w = rng.integers(-300, 301, (n, m))  # beyond 8 bits on purpose: Lava clips
            w = np.abs(w) if mode == "excitatory" else -np.abs(w) if mode == "inhibitory" else w
            w = w * (rng.random((n, m)) < 0.7)
            delays = rng.integers(0, 63, (n, m)) if rng.random() < 0.6 else np.zeros((n, m), int)
            if rng.random() < 0.5:
                delays = np.minimum(delays, int(rng.integers(0, 8)))
            conns.append(
                Connection(
                    f"c{len(conns)}",
                    kind,
                    src,
                    p,
                    w.astype(np.int64),
                    delays.astype(np.int64),
                    weight_exp=int(rng.integers(-8, 8)),
                    num_weight_bits=int(rng.choice([8, 8, 6, 3])),
                    sign_mode=mode,
                )
            )
    net = Network([("in", n_in)], pops, conns, [("out", len(sizes) - 1, "spikes")], 1e-3)
    steps = int(rng.integers(40, 90))
    rate = float(rng.choice([0.1, 0.3, 0.7]))
    x = (rng.random((steps, n_in)) < rate).astype(np.int64)
    if graded:
        x = x * rng.integers(1, 256, (steps, n_in))
    return net, x, graded


@pytest.mark.parametrize("seed", range(24))
def test_random_network_matches_lava_bit_for_bit(seed: int) -> None:
    net, x, graded = random_network(seed)
    expected = run_lava_sample(net, x, graded)
    got = simulate_network(net, x[None], record=True, max_payload=255 if graded else 1)
    mismatches = 0
    for pop in net.populations:
        for var in ("u", "v"):
            mine = got.states[f"{pop.name}.{var}"][0].astype(np.int64)
            mismatches += int(np.sum(mine != expected[pop.name][var]))
    assert mismatches == 0


def test_the_random_networks_exercise_u_wrap_and_v_saturation() -> None:
    wrapped = saturated = 0
    for seed in range(24):
        net, x, graded = random_network(seed)
        got = simulate_network(net, x[None], record=True, max_payload=255 if graded else 1)
        for pop in net.populations:
            u = got.states[f"{pop.name}.u"][0].astype(np.int64)
            v = got.states[f"{pop.name}.v"][0].astype(np.int64)
            du = np.diff(u, axis=0)
            wrapped += int(np.any(np.abs(du) > (1 << 23)))
            saturated += int(np.any(np.abs(v) == (1 << 23) - 1))
    assert wrapped >= 2 and saturated >= 2, (wrapped, saturated)


def test_the_hand_derived_vectors_match_lava() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
    from test_vectors import NAMES, load, network

    for name in NAMES:
        spec = load(name)
        got = run_lava_sample(network(spec), spec["inputs"])["pop"]
        np.testing.assert_array_equal(got["u"], spec["expected_u"], err_msg=f"{name}: u")
        np.testing.assert_array_equal(got["v"], spec["expected_v"], err_msg=f"{name}: v")


def test_the_lava_connection_backend_runs_a_program_as_the_simulator_does() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
    from conftest import chain_graph, spikes
    from neuro_loihi.driver import LavaConnection, simulate_program
    from neuro_loihi.mapper import map_graph
    from neuro_loihi.program import build_program
    from neuro_loihi.quantize import quantize_graph
    from neuro_loihi.target import loihi1

    target = loihi1()
    graph = quantize_graph("loihi", target, chain_graph((10, 8, 4), seed=1), {})
    program = build_program("loihi", map_graph("loihi", target, graph))
    x = spikes(2, 40, 10, seed=2)
    with LavaConnection(target, 0) as connection:
        connection.write(program)
        ran = connection.run(x)
    expected = simulate_program(target, program, x, False, 0)
    assert expected.outputs.sum() > 10
    np.testing.assert_array_equal(ran.outputs, expected.outputs)

"""Speed of the bit-exact Loihi simulator (neuro-loihi) on a 700-128-20 network, against Lava.

Network (issue 6): 700 inputs -> 128 CUBA LIF -> 20 CUBA LIF, dense random weights (seeded),
with no delays and with per-synapse delays drawn uniformly from 0..62. Inputs: random binary spikes,
5 % of the 700 channels per step (SHD-like sparsity), seeded. Measured: steps per second for one
sample (kernel only, and end to end through ``Device.simulate`` once the Program's tables are
built), and batched throughput (samples x steps per second). Lava (lava-nc 0.10.0, bit-accurate
CPU models, ``Loihi2SimCfg(select_tag="fixed_pt")``) is timed on the same network when a Python
with Lava is given in ``NEURO_LAVA_PYTHON`` (Lava needs Python 3.10; it runs in that interpreter
as a subprocess, and only its ``run`` after a 5-step warm-up run is timed, without monitors);
otherwise the issue's figures for Lava (~575 and ~20 steps/s on this kind of machine) are the
reference, marked "issue figure".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import neuro_core
from harness import Section, main
from neuro_core.accel import HAVE_NUMBA
from neuro_loihi.program import read_program
from neuro_loihi.sim import CompiledNetwork

N_IN, N_HID, N_OUT = 700, 128, 20
LAVA_STEPS_PER_S = {False: 575.0, True: 20.0}  # issue 6's figures for Lava on this kind of machine


def network(delays: bool, seed: int = 0) -> neuro_core.Graph:
    """The 700-128-20 CUBA network as a float graph (quantized by the device)."""
    rng = np.random.default_rng(seed)
    layers: list = [("in", neuro_core.Input((N_IN,)))]
    for k, (n_in, n_out) in enumerate([(N_IN, N_HID), (N_HID, N_OUT)]):
        weight = rng.normal(0.3, 1.0, (n_out, n_in)) * 12.0 / np.sqrt(n_in)
        delay = rng.integers(0, 63, (n_out, n_in)) if delays else None
        ones = np.ones(n_out)
        layers.append((f"fc{k}", neuro_core.Linear(weight, delay)))
        layers.append(
            (f"lif{k}", neuro_core.CubaLIF(r=ones, v_threshold=ones, tau=ones * 2e-2, tau_syn=ones * 5e-3, w_in=ones))
        )
    layers.append(("out", neuro_core.Output((N_OUT,))))
    return neuro_core.Graph.chain(1e-3, layers)


def spikes(batch: int, steps: int, seed: int = 1) -> np.ndarray:
    """Binary input spikes (batch, steps, 700), 5 % active per step."""
    return (np.random.default_rng(seed).random((batch, steps, N_IN)) < 0.05).astype(np.int64)


def lava_rate(program: neuro_core.Program, x: np.ndarray) -> float | None:
    """Lava's steps/s on one sample ``x`` (steps, 700), in NEURO_LAVA_PYTHON; None if not configured."""
    python = os.environ.get("NEURO_LAVA_PYTHON")
    if not python:
        return None
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        program.save(Path(tmp) / "net.program")
        np.save(Path(tmp) / "x.npy", x)
        script = (
            "import json, numpy as np\n"
            "from neuro_core.program import Program\n"
            "from neuro_loihi.program import read_program\n"
            "from neuro_loihi import lava_backend as lb\n"
            f"p = Program.load({str(Path(tmp) / 'net.program')!r})\n"
            "net = read_program(p, p.device)\n"
            f"x = np.load({str(Path(tmp) / 'x.npy')!r})\n"
            "print(json.dumps({'rate': lb.lava_steps_per_second(net, x)}))\n"
        )
        env = {**os.environ, "PYTHONPATH": f"{root / 'core' / 'src'}:{root / 'plugins' / 'loihi' / 'src'}"}
        done = subprocess.run([python, "-c", script], capture_output=True, text=True, env=env, timeout=3600)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return None
        return float(json.loads(done.stdout.strip().splitlines()[-1])["rate"])


def run(quick: bool = False) -> Section:
    chip = neuro_core.device("loihi")
    steps = 200 if quick else 2000
    batch = 4 if quick else 64
    lava_steps = 30 if quick else 300
    rows = []
    for delays in (False, True):
        program = chip.compile(network(delays))
        compiled = CompiledNetwork(read_program(program, "loihi"))
        compiled.run(spikes(1, 5))  # numba compiles on first call (cached on disk afterwards)
        x1 = spikes(1, steps)
        wall, cpu = time.perf_counter(), time.process_time()
        compiled.run(x1)
        kernel, kernel_cpu = steps / (time.perf_counter() - wall), steps / (time.process_time() - cpu)
        chip.simulate(program, x1[:, :5])  # the first call builds the image's tables (cached per Program)
        start = time.perf_counter()
        result = chip.simulate(program, x1)
        end_to_end = steps / (time.perf_counter() - start)
        xb = spikes(batch, steps, seed=2)
        start = time.perf_counter()
        chip.simulate(program, xb)
        batched = batch * steps / (time.perf_counter() - start)
        measured = lava_rate(program, x1[0, :lava_steps])
        lava = measured if measured is not None else LAVA_STEPS_PER_S[delays]
        rows.append(
            {
                "network": "700-128-20" + (", delays 0..62" if delays else ""),
                "synapses": int(compiled.synapses),
                "steps/s, 1 sample (kernel, wall)": kernel,
                "steps/s, 1 sample (kernel, CPU time)": kernel_cpu,
                "steps/s, 1 sample (Device.simulate, programmed)": end_to_end,
                f"sample-steps/s, batch {batch}": batched,
                "Lava steps/s": lava,
                "Lava source": "measured here" if measured is not None else "issue figure",
                "speed-up vs Lava (1 sample)": end_to_end / lava,
                "output spikes": int(result.outputs.sum()),
            }
        )
    return Section(
        name="loihi_sim_speed",
        title="Loihi simulator speed (700-128-20, bit-exact to Lava)",
        command="python benchmarks/loihi_sim_speed.py",
        rows=rows,
        notes=[
            f"numba {'on' if HAVE_NUMBA else 'OFF (pure Python kernel)'}; one thread; {steps} steps per sample. "
            "Wall-clock rates unless marked CPU time (process time: the fair figure on a shared machine).",
            "Event-driven kernel: cost per step = active inputs x fan-out + neurons; delays cost a 64-slot ring, "
            "not a (max_delay + 1) x n weight stack as in Lava's DelayDense.",
            "Bit-exactness against Lava is tested in plugins/loihi/tests_lava (0 mismatches); see docs/loihi.md.",
            "Set NEURO_LAVA_PYTHON to a Python 3.10 with lava-nc 0.10.0 to time Lava on this machine.",
        ],
    )


if __name__ == "__main__":
    main(run)

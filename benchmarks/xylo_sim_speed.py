"""Speed of the bit-exact Xylo simulator (neuro-xylo) against SynSense's xylosim, side by side.

Configuration (issue #4): 16 inputs, 1000 hidden neurons with 2 synaptic states and a DENSE
1000 x 1000 recurrent matrix (both synapses), 8 outputs; random int8 weights (seeded) tuned for
sparse, sustained activity; random input events. (Dense recurrence breaks Xylo Audio 2's fan-out
rule of 64: the simulator runs any image; the chip would refuse it. It is the issue's stress case.)
A feed-forward variant (no recurrent weights) is measured too.

Measured: time steps per second for one sample (ours and xylosim, same image and inputs, outputs
checked equal on the steps xylosim ran), and batched throughput (samples x steps per second).
xylosim is timed on ``evolve`` only (building its layer is excluded); neuro-xylo after a warm-up run
on the same image (numba compilation and the once-per-image preparation are excluded likewise).
Needs ``pip install xylosim`` for the side-by-side rows; numba (``neuro-xylo[fast]``) for the fast rows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "plugins" / "xylo" / "tests_xylosim"))
from harness import Section, main  # noqa: E402 - benchmarks are scripts next to harness.py
from neuro_core.accel import HAVE_NUMBA  # noqa: E402
from neuro_xylo.program import XyloImage  # noqa: E402
from neuro_xylo.sim import simulate_image  # noqa: E402

N_IN, N_HID, N_OUT, N_SYN = 16, 1000, 8, 2


def stress_image(recurrent: bool, seed: int = 0) -> XyloImage:
    """The 16-1000-8 image with dense recurrence (or none), seeded."""
    rng = np.random.default_rng(seed)
    w_rec = rng.integers(-12, 9, (N_HID, N_HID, N_SYN)) if recurrent else np.zeros((N_HID, N_HID, N_SYN))
    return XyloImage.build(
        w_in=rng.integers(-20, 30, (N_IN, N_HID, N_SYN)),
        w_rec=w_rec,
        w_out=rng.integers(-60, 60, (N_HID, N_OUT)),
        weight_shift=[2, 1, 2],
        dash_mem=np.full(N_HID, 4),
        dash_syn=np.full((N_HID, N_SYN), 3),
        threshold=rng.integers(3000, 6000, N_HID),
        bias=np.zeros(N_HID),
        alias=np.full(N_HID, -1),
        dash_mem_out=np.full(N_OUT, 4),
        dash_syn_out=np.full(N_OUT, 3),
        threshold_out=np.full(N_OUT, 2000),
        bias_out=np.zeros(N_OUT),
    )


def inputs(batch: int, steps: int, seed: int = 1) -> np.ndarray:
    """Random input event counts (batch, steps, 16): ~20 % of channels active per step, 1-3 events."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 4, (batch, steps, N_IN)) * (rng.random((batch, steps, N_IN)) < 0.2)


def timed(function: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - start, value


def xylosim_rate(image: XyloImage, x: np.ndarray) -> tuple[float, np.ndarray] | None:
    """xylosim steps/s on one sample (evolve only) and its output spikes; None if xylosim is absent."""
    try:
        from xylosim_driver import build_layer
    except ImportError:
        return None
    try:
        layer, keep = build_layer(image)
    except ImportError:
        return None
    raster = [[int(v) for v in row] for row in x]
    seconds, out = timed(layer.evolve, raster)
    del keep
    return len(raster) / seconds, np.asarray(out, np.int64).reshape(len(raster), N_OUT)


def run(quick: bool = False) -> Section:
    steps = 300 if quick else 5000
    batch, batch_steps = (4, 100) if quick else (32, 1000)
    xylosim_steps = 10 if quick else 200
    rows = []
    for recurrent in (True, False):
        image = stress_image(recurrent)
        simulate_image(image, inputs(1, 5))  # compile (numba) outside the timing
        x = inputs(1, steps)
        seconds, result = timed(simulate_image, image, x)
        ours = steps / seconds
        activity = float(result.hidden_spikes.astype(bool).mean())
        xb = inputs(batch, batch_steps, seed=2)
        batch_seconds, _ = timed(simulate_image, image, xb)
        reference = xylosim_rate(image, x[0, :xylosim_steps])
        row: dict[str, Any] = {
            "network": f"16-1000-8, {'dense 1000x1000 recurrent' if recurrent else 'feed-forward'}, 2 syn",
            "hidden neurons active per step": f"{100 * activity:.1f} %",
            "neuro-xylo steps/s (1 sample)": ours,
            "neuro-xylo samples x steps/s (batch)": batch * batch_steps / batch_seconds,
            "xylosim steps/s (1 sample)": "not installed",
            "speed-up": "",
            "outputs equal": "",
        }
        if reference is not None:
            rate, spikes = reference
            row["xylosim steps/s (1 sample)"] = rate
            row["speed-up"] = f"{ours / rate:.0f}x"
            row["outputs equal"] = bool(np.array_equal(spikes, result.output_spikes[0, :xylosim_steps]))
        rows.append(row)
    return Section(
        name="xylo_sim_speed",
        title="Xylo simulator speed (neuro-xylo vs SynSense xylosim)",
        command="python benchmarks/xylo_sim_speed.py",
        rows=rows,
        notes=[
            f"numba {'on' if HAVE_NUMBA else 'OFF (pure-Python fallback)'}; single thread; "
            f"{steps} steps for one sample, batch {batch} x {batch_steps} steps, xylosim on {xylosim_steps} steps.",
            "Both simulators are bit-exact to each other (tests_xylosim: 200 random configurations, 0 mismatches); "
            "'outputs equal' re-checks it on the timed run.",
            "xylosim copies every synapse list on every step (deliver_spikes takes them by value), so its cost "
            "grows with the synapse count whatever the activity; neuro-xylo adds only the rows of neurons that spiked.",
        ],
    )


if __name__ == "__main__":
    main(run)

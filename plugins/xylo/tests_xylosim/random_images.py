"""Random Xylo images that stress every corner of the semantics (shared by the cross-check and the
test-vector generator)."""

from __future__ import annotations

import numpy as np
from neuro_xylo.program import XyloImage


def random_image(seed: int) -> tuple[XyloImage, np.ndarray]:
    """A random configuration and a random input raster (time, n_in), both from ``seed``.

    Covers: 1 or 2 synaptic states, saturation (large weights and shifts, high input counts above
    the 15-event cap), spike caps (tiny thresholds reach 31 hidden / 1 output spike), zero and large
    dashes (0..15), recurrence (dense or sparse, excitatory or inhibitory), biases, aliases, a readout
    from the last n_oen hidden neurons and inputs to the first n_ien.
    """
    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(1, 17))
    n_hid = int(rng.integers(1, 40))
    n_out = int(rng.integers(1, 9))
    n_syn = int(rng.integers(1, 3))
    n_ien = int(rng.integers(1, n_hid + 1))
    n_oen = int(rng.integers(1, n_hid + 1))
    density = rng.choice([0.1, 0.5, 1.0])
    regime = rng.integers(0, 3)  # 0: moderate, 1: saturating, 2: tiny thresholds (spike caps)

    def weights(shape: tuple[int, ...]) -> np.ndarray:
        w = rng.integers(-128, 128, size=shape)
        return np.where(rng.random(shape) < density, w, 0)

    low_th = {0: 50, 1: 200, 2: 0}[int(regime)]
    high_th = {0: 2000, 1: 32767, 2: 20}[int(regime)]
    image = XyloImage.build(
        w_in=weights((n_in, n_ien, n_syn)),
        w_rec=weights((n_hid, n_hid, n_syn)) * (rng.random() < 0.8),
        w_out=weights((n_oen, n_out)),
        weight_shift=rng.integers(0, 8, size=3) if regime == 1 else rng.integers(0, 4, size=3),
        dash_mem=rng.integers(0, 16, size=n_hid),
        dash_syn=rng.integers(0, 16, size=(n_hid, n_syn)),
        threshold=rng.integers(max(low_th, 1), max(high_th, 2), size=n_hid),
        bias=rng.integers(-300, 300, size=n_hid) * (rng.random() < 0.5),
        alias=np.where(rng.random(n_hid) < 0.2, rng.integers(0, n_hid, size=n_hid), -1),
        dash_mem_out=rng.integers(0, 16, size=n_out),
        dash_syn_out=rng.integers(0, 16, size=n_out),
        threshold_out=rng.integers(max(low_th, 1), max(high_th, 2), size=n_out),
        bias_out=rng.integers(-300, 300, size=n_out) * (rng.random() < 0.5),
    )
    steps = int(rng.integers(5, 60))
    max_events = 40 if regime == 1 else 4
    inputs = rng.integers(0, max_events, size=(steps, n_in)) * (rng.random((steps, n_in)) < 0.5)
    return image, inputs

"""Energy model of example-if8: static power plus a fixed energy per synaptic event and per spike.

The constants are FICTIONAL (see ``target.py``): the report says so in ``source`` and sets
``measured=False``. Energies are per inference, i.e. averaged over the samples of the batch.
"""

from __future__ import annotations

import numpy as np
from neuro_core import PowerReport, Program, SimResult, Target


def estimate(target: Target, program: Program, result: SimResult) -> PowerReport:
    """Static W, dynamic W and J per inference of the run that produced ``result``."""
    energy = target.energy
    duration = result.duration  # s per sample
    breakdown = {
        "synaptic_events": float(np.mean(result.counters["synaptic_events"])) * energy["synaptic_event"].value,
        "spikes": float(np.mean(result.counters["spikes"])) * energy["spike"].value,
    }
    dynamic = sum(breakdown.values())
    static_w = energy["static"].value
    return PowerReport(
        device=target.name,
        static_w=static_w,
        dynamic_w=dynamic / duration if duration > 0 else 0.0,
        energy_per_inference_j=static_w * duration + dynamic,
        dynamic_energy_per_inference_j=dynamic,
        breakdown_j=breakdown,
        source="; ".join(sorted({c.source for c in energy.values()})),
        measured=False,
    )

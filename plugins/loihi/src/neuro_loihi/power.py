"""Energy model of Loihi from published per-operation energies (Davies et al. 2018, Table 2).

Dynamic energy of one sample = synaptic ops x 23.6 pJ + active neuron updates x 52 pJ + inactive
neuron updates x 1.7 pJ + spike messages within a tile x 1.7 pJ + tile hops x 3.5 pJ. The counters
come from the exact simulator (``SimResult.counters``). Static power is not modelled (0 W): Davies
et al. publish no leakage figure, and the inactive-update energy already charges idle compartments
every step. All figures are modelled (``measured=False``): they are the paper's pre-silicon
characterisation, not a measurement of this network.
"""

from __future__ import annotations

import numpy as np
from neuro_core.program import Program
from neuro_core.results import PowerReport, SimResult
from neuro_core.target import Target

#: counter name -> energy constant name in ``Target.energy``
CHARGES = {
    "synaptic_ops": "synaptic_op",
    "neuron_updates_active": "neuron_update_active",
    "neuron_updates_inactive": "neuron_update_inactive",
    "messages_within_tile": "spike_within_tile",
    "tile_hops": "spike_per_tile_hop",
}


def measure_power(device: str, target: Target, program: Program, result: SimResult) -> PowerReport:
    """PowerReport of the run behind ``result`` (energies per sample averaged over the batch)."""
    breakdown: dict[str, float] = {}
    for counter, constant in CHARGES.items():
        counts = np.asarray(result.counters.get(counter, np.zeros(1)), float)
        breakdown[counter] = float(counts.mean() if counts.size else 0.0) * target.energy[constant].value
    dynamic = float(sum(breakdown.values()))
    duration = result.duration
    static_w = target.energy["static_chip"].value  # one chip: a Target describes one
    sources = sorted({target.energy[c].source.split(":")[0] for c in (*CHARGES.values(), "static_chip")})
    return PowerReport(
        device,
        static_w,
        dynamic / duration if duration > 0 else 0.0,
        static_w * duration + dynamic,
        dynamic,
        breakdown,
        source="; ".join(sources),
        measured=False,
    )

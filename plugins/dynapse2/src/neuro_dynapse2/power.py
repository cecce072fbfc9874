"""DYNAP-SE2 energy from activity counters and per-event energies (``target.energy``).

Per inference (one sample):

- every neuron spike: generation + encoding with its destinations (``spike_generation``,
  ``spike_encode``);
- every event broadcast to a core, input events included (``core_broadcasts`` counter): one CAM
  search of that core (``broadcast_core``); events delivered to a core other than the sender's
  also pay ``route_core`` (we charge it for every broadcast of a neuron event: an upper bound);
- every matched synapse (``synaptic_events``): one pulse-extender/DPI charge (``synaptic_event``).

The constants are DYNAP-SE figures (Moradi et al. 2018) used as a proxy, so the report says
``measured=False``. Static power: no published figure was found; it is reported as 0 W and the
source says so.
"""

from __future__ import annotations

import numpy as np
from neuro_core import PowerReport, Program, SimResult, Target


def measure_power(target: Target, program: Program, result: SimResult) -> PowerReport:
    """``neuro_measure_power``: mean energy per sample of the run in ``result``."""
    e = target.energy
    c = {k: float(np.mean(v)) for k, v in result.counters.items()}
    neuron_broadcasts = max(c.get("core_broadcasts", 0.0) - c.get("input_events", 0.0), 0.0)
    breakdown = {
        "spikes": c.get("spikes", 0.0) * (e["spike_generation"].value + e["spike_encode"].value),
        "core_broadcasts": c.get("core_broadcasts", 0.0) * e["broadcast_core"].value,
        "routing": neuron_broadcasts * e["route_core"].value,
        "synaptic_events": c.get("synaptic_events", 0.0) * e["synaptic_event"].value,
    }
    dynamic = float(sum(breakdown.values()))
    duration = result.duration
    static_w = e["static"].value
    sources = f"{target.sources.get('energy', 'target.energy')}; static power: {e['static'].source}"
    return PowerReport(
        target.name,
        static_w,
        dynamic / duration if duration > 0 else 0.0,
        dynamic + static_w * duration,
        dynamic,
        breakdown,
        source=sources,
        measured=False,
    )

"""Power and energy of a Xylo run: static power plus activity-dependent dynamic energy (modelled).

Model (documented with its sources in docs/xylo.md):

- Clock cycles the SNN core spends per run, from the simulator's activity counters with the
  coefficients of Rockpool's Xylo cycle model (``target.extra["cycle_model"]``)::

      cycles = steps * (n_in + (3 + 19) * n_hidden + 12 * n_out)       # fixed work every step
             + 3.5 * n_ien * input_channels_active                     # input events
             + 7 * recurrent_row_ops                                    # recurrent synapses of active neurons
             + (1 + 8 * n_out) * readout_neurons_active                 # readout of active neurons

- Dynamic energy = cycles * ``energy_per_cycle``; ``energy_per_cycle`` is calibrated to the Xylo IMU
  measurement (201 uW active - 188 uW idle at 6.25 MHz, i.e. 2.08 pJ per busy cycle), so a core busy
  on every clock cycle draws exactly the published 201 uW, and an idle one 188 uW.
- Static power = the published idle power (188 uW, Xylo IMU; used for all variants: no idle figure
  of Xylo Audio 2 or 3 was found).

Everything here is modelled (``measured=False``); the published measured Aloha figures for Xylo
Audio 2 (291 uW dynamic, 6.6 uJ per inference) are kept in the Target for comparison.
"""

from __future__ import annotations

import numpy as np
from neuro_core.program import Program
from neuro_core.results import PowerReport, SimResult
from neuro_core.target import Target

from .program import XyloImage


def cycles_breakdown(image: XyloImage, result: SimResult, target: Target) -> dict[str, float]:
    """Mean clock cycles per sample by stage, from ``result.counters`` (see the module docstring)."""
    c = target.extra["cycle_model"]
    counters = {k: float(np.mean(v)) for k, v in result.counters.items()}
    steps = result.steps
    n_in, n_hid, n_out = image.n_in, image.n_hidden, image.n_out
    return {
        "neuron_updates": steps
        * (
            c["per_input_channel"] * n_in
            + (c["per_hidden_neuron_isyn"] + c["per_hidden_neuron_spike_stage"]) * n_hid
            + c["per_output_neuron"] * n_out
        ),
        "input_events": c["per_active_input_channel_per_ien"] * image.n_ien * counters["input_channels_active"],
        "recurrent_synapses": c["per_recurrent_synapse_of_active_neuron"] * counters["recurrent_row_ops"],
        "readout_synapses": (c["per_active_oen"] + c["per_active_oen_per_output"] * n_out)
        * counters["readout_neurons_active"],
    }


def measure_power(target: Target, program: Program, result: SimResult) -> PowerReport:
    """``neuro_measure_power`` for Xylo: a modelled PowerReport of the run in ``result`` (per sample)."""
    image = XyloImage.from_program(program, target)
    energy_per_cycle = target.energy["energy_per_cycle"].value
    static_w = target.energy["idle_power"].value
    cycles = cycles_breakdown(image, result, target)
    breakdown = {stage: n * energy_per_cycle for stage, n in cycles.items()}
    dynamic_j = float(sum(breakdown.values()))
    duration = result.duration
    dynamic_w = dynamic_j / duration if duration > 0 else 0.0
    available = target.time.clock_hz * result.dt
    per_step = sum(cycles.values()) / max(result.steps, 1)
    source = (
        f"modelled: Rockpool Xylo cycle model x {energy_per_cycle:.3g} J/cycle calibrated to "
        f"{target.energy['active_power'].source}; static = idle power from the same source. "
        f"Load: {per_step:.0f} cycles/step of {available:.0f} available at {target.time.clock_hz / 1e6:g} MHz "
        f"and dt = {result.dt:g} s{' (NOT real-time at this clock)' if per_step > available else ''}."
    )
    return PowerReport(
        device=target.name,
        static_w=static_w,
        dynamic_w=dynamic_w,
        energy_per_inference_j=static_w * duration + dynamic_j,
        dynamic_energy_per_inference_j=dynamic_j,
        breakdown_j=breakdown,
        source=source,
        measured=False,
    )

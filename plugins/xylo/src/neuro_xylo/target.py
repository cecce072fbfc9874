"""Targets of the Xylo family: Xylo Audio 2, Xylo IMU and Xylo Audio 3, every limit with its source.

Sources (abbreviations used below; full list in docs/xylo.md):

- ``XYLOSIM``: SynSense's bit-exact simulator xylosim 0.1.3 (PyPI sdist), ``src/v2/cpp/XyloIAFNeuron.h``
  (``BITS_STATE 16``, ``BITS_WEIGHT 8``, ``MAX_NUM_INP_SPIKES 15``, ``MAX_NUM_SPIKES 31``,
  ``MAX_NUM_OUT_SPIKES 1``) and ``XyloLayer.cpp`` (order of operations, 4-bit ``dash`` fields as uint8).
- ``RP-A2``: Rockpool ``rockpool/devices/xylo/syns61201/xylo_mapper.py`` (``max_hidden_neurons=1000``,
  ``max_output_neurons=8``, up to 2 synapses per hidden neuron) and ``xylo_sim.py`` (xylosim.v2 back end).
- ``RP-IMU``: Rockpool ``rockpool/devices/xylo/syns63300/xylo_mapper.py`` (``max_hidden_neurons=496``,
  ``max_output_neurons=16``, ``max_synapses_per_neuron`` 1, ``le_128_input_expansion_neurons``,
  ``le_128_output_expansion_neurons``) and samna's Xylo-IMU page ("16 input neurons, 128 input
  expansion neurons, 496 recurrent neurons, 128 output expansion neurons, 16 output neurons").
- ``RP-A3``: Rockpool ``rockpool/devices/xylo/syns63300/xylo_sim.py`` ("XyloSim-backed module
  compatible with Xylo IMU and Xylo Audio 3": same core, one synaptic state) and
  ``syns65302`` (Audio 3 HDK); sizes 16 / 992 / 32 and the 128-neuron input/output windows as
  stated in the project's issue #4 (not re-verified against a SynSense datasheet).
- ``ALOHA``: H. Bos, D. R. Muir, "Micro-power spoken keyword spotting on Xylo Audio 2",
  arXiv:2406.15112 (2024): 95 % deployed accuracy, 291 uW dynamic inference power, 6.6 uJ per
  inference, measured on silicon.
- ``IMU-POWER``: Xylo IMU 188 uW idle / 201 uW active at a 6.25 MHz clock, as quoted in the project's
  issue #4 (SynSense measurement; the original document was not found with the search tools).
- ``CYCLES``: Rockpool ``rockpool/devices/xylo/syns61201/power_cycles_model.py``: clock cycles the
  SNN core needs per time step (used by power.py).
"""

from __future__ import annotations

from neuro_core.target import EnergyConstant, NumberFormat, Target, TimeModel

FAMILY = "xylo"
AUDIO2 = "xylo-audio2"
IMU = "xylo-imu"
AUDIO3 = "xylo-audio3"
DEFAULT_DT = 1e-3  # s: Rockpool XyloSim's default dt; the chip's dt is set by its clock divider

_XYLOSIM = "xylosim 0.1.3 src/v2/cpp/XyloIAFNeuron.h and XyloLayer.cpp (SynSense)"
_ALOHA = "Bos & Muir, 'Micro-power spoken keyword spotting on Xylo Audio 2', arXiv:2406.15112 (2024)"
_IMU_POWER = "Xylo IMU 188 uW idle / 201 uW active at 6.25 MHz (SynSense measurement quoted in issue #4)"

# Clock cycles per step of the SNN core, from Rockpool's cycle model (CYCLES); power.py reads them.
CYCLE_MODEL = {
    "per_input_channel": 1.0,
    "per_active_input_channel_per_ien": 3.5,
    "per_hidden_neuron_isyn": 3.0,
    "per_recurrent_synapse_of_active_neuron": 7.0,
    "per_active_oen": 1.0,
    "per_active_oen_per_output": 8.0,
    "per_hidden_neuron_spike_stage": 19.0,
    "per_output_neuron": 12.0,
}


def _formats(weight_shift_max: int) -> dict[str, NumberFormat]:
    return {
        "weight": NumberFormat(
            8, True, shift_bits=3, shift_range=(0, weight_shift_max), note="int8 weights, left shift per matrix"
        ),
        "weight_shift": NumberFormat(4, False, note="left shift of one weight matrix (w_in, w_rec or w_out)"),
        "threshold": NumberFormat(16, True, note="int16 firing threshold; spike while v >= threshold"),
        "bias": NumberFormat(16, True, note="int16 membrane bias added every step"),
        "dash": NumberFormat(4, False, note="bit-shift decay: x -= x >> dash (or sign(x) when that is 0)"),
        "dash_mem": NumberFormat(4, False, note="membrane bit-shift decay (4 bits)"),
        "dash_syn": NumberFormat(4, False, note="synaptic bit-shift decay (4 bits)"),
        "state": NumberFormat(16, True, saturating=True, note="int16 synaptic and membrane states, saturating"),
    }


def _energy(static_measured: bool) -> dict[str, EnergyConstant]:
    active_minus_idle = 201e-6 - 188e-6
    return {
        "idle_power": EnergyConstant(188e-6, "W", _IMU_POWER, measured=static_measured),
        "active_power": EnergyConstant(201e-6, "W", _IMU_POWER, measured=static_measured),
        "energy_per_cycle": EnergyConstant(
            active_minus_idle / 6.25e6,
            "J",
            f"derived: (201 uW - 188 uW) / 6.25 MHz from {_IMU_POWER}, i.e. the energy of one busy core "
            "clock cycle assuming the core is busy every cycle when active (modelled)",
            measured=False,
        ),
        "aloha_dynamic_power": EnergyConstant(291e-6, "W", _ALOHA + ": dynamic inference power", measured=True),
        "aloha_energy_per_inference": EnergyConstant(6.6e-6, "J", _ALOHA + ": energy per inference", measured=True),
    }


def _target(
    name: str,
    summary_source: str,
    n_hidden: int,
    n_out: int,
    n_syn: int,
    input_window: int,
    output_window: int,
    max_fan_out: int | None,
    clock_hz: float,
    imu_power_is_own: bool,
) -> Target:
    window_note = (
        f"inputs reach hidden neurons 0..{input_window - 1} only; outputs read the last {output_window} hidden neurons"
    )
    return Target(
        name=name,
        family=FAMILY,
        kind="digital",
        cores=1,
        neurons_per_core=n_hidden,
        input_channels=16,
        output_channels=n_out,
        max_fan_in=None,
        max_fan_out=None,  # the input and readout matrices are dense: only the recurrent one is bounded
        formats=_formats(weight_shift_max=7),
        time=TimeModel(dt=DEFAULT_DT, continuous=False, acceleration=1.0, clock_hz=clock_hz),
        max_delay=0,
        recurrent=True,
        node_types=frozenset({"Input", "Output", "Linear", "CubaLIF"}),
        reset_modes=frozenset({"subtract"}),  # xylosim: v -= threshold while v >= threshold
        energy=_energy(static_measured=imu_power_is_own),
        sources={
            "neurons_per_core": summary_source,
            "input_channels": summary_source,
            "output_channels": summary_source,
            "synapses_per_hidden_neuron": summary_source,
            "input_window": summary_source,
            "output_window": summary_source,
            "max_recurrent_fan_out": (
                "issue #4 ('fan-out limits per hidden neuron (64 on Audio 2)'); the Xylo Audio 2 recurrent weights "
                "are stored as a per-neuron fan-out list (xylosim tools.py writes rforam/refocram)"
                if max_fan_out
                else "no fan-out limit: the hidden weights are a dense matrix on this variant (RP-IMU)"
            ),
            "weight": _XYLOSIM + ": BITS_WEIGHT 8; weight << weight_shift passed as int16",
            "weight_shift": "this plugin limits shifts to 0..7 so that int8 << shift always fits xylosim's int16 "
            "weight path (a shift of 8+ would wrap there)",
            "state": _XYLOSIM + ": BITS_STATE 16, safe_add saturates",
            "dash": _XYLOSIM + ": dash_mem / dash_syns are 4-bit fields (uint8 in the simulator)",
            "max_input_events": _XYLOSIM + ": MAX_NUM_INP_SPIKES 15",
            "max_hidden_spikes": _XYLOSIM + ": MAX_NUM_SPIKES 31",
            "max_output_spikes": _XYLOSIM + ": MAX_NUM_OUT_SPIKES 1",
            "clock_hz": "IMU-POWER (6.25 MHz) for IMU; the same clock is assumed for the audio variants (modelled)",
        },
        extra={
            "synapses_per_hidden_neuron": n_syn,
            "synapses_per_output_neuron": 1,
            "input_window": input_window,
            "output_window": output_window,
            "window_rule": window_note,
            "max_input_events": 15,
            "max_hidden_spikes": 31,
            "max_output_spikes": 1,
            "max_aliases_per_neuron": 1,
            "max_recurrent_fan_out": max_fan_out,
            "cycle_model": dict(CYCLE_MODEL),
        },
    )


def xylo_audio2() -> Target:
    """Xylo Audio 2 (SYNS61201): 16 in / 1000 hidden (2 synaptic states) / 8 out, fan-out 64."""
    return _target(AUDIO2, "RP-A2 (Rockpool syns61201 mapper)", 1000, 8, 2, 1000, 1000, 64, 6.25e6, False)


def xylo_imu() -> Target:
    """Xylo IMU (SYNS63300): 16 in / 496 hidden (1 synaptic state) / 16 out, 128-neuron I/O windows."""
    return _target(
        IMU, "RP-IMU (Rockpool syns63300 mapper, samna Xylo-IMU page)", 496, 16, 1, 128, 128, None, 6.25e6, True
    )


def xylo_audio3() -> Target:
    """Xylo Audio 3 (SYNS65302): 16 in / 992 hidden (1 synaptic state) / 32 out, 128-neuron I/O windows."""
    return _target(
        AUDIO3, "RP-A3 (issue #4 sizes; Rockpool syns63300/syns65302)", 992, 32, 1, 128, 128, None, 6.25e6, False
    )


TARGETS = {AUDIO2: xylo_audio2, IMU: xylo_imu, AUDIO3: xylo_audio3}

"""The Target of ``example-if8``: every limit and energy figure, with where it comes from.

example-if8 is a *fictional* teaching chip: its figures are defined here, not measured on
silicon, and every source says so. A real plugin cites a datasheet or paper per limit instead.
"""

from __future__ import annotations

from neuro_core import EnergyConstant, NumberFormat, Target, TimeModel

DEVICE = "example-if8"
DEFINITION = "definition of the fictional example-if8 chip (neuro-example-plugin, docs/plugins.md); not silicon"
FICTIONAL_ENERGY = (
    "FICTIONAL figure invented for the neuro plugin tutorial, chosen to be of the order of published "
    "digital neuromorphic chips; not measured, not a property of any real chip"
)

NEURONS_PER_CORE = 64
WEIGHT_BITS = 8
MEMBRANE_BITS = 16
INPUT_BITS = 4  # input event count per channel and step: 0..15


def example_if8() -> Target:
    """The example-if8 chip: 4 cores x 64 integer IF neurons, int8 weights, int16 saturating membrane.

    Every core stores a dense int8 weight matrix of its 64 neurons x up to 64 inputs (32 kbit) and
    serves one layer only, so a layer of n neurons takes ceil(n / 64) whole cores.
    """
    return Target(
        name=DEVICE,
        family="example",
        kind="digital",
        cores=4,
        neurons_per_core=NEURONS_PER_CORE,
        input_channels=32,
        output_channels=16,
        max_fan_in=64,
        max_fan_out=None,
        synapse_memory_bits_per_core=NEURONS_PER_CORE * 64 * WEIGHT_BITS,
        formats={
            "weight": NumberFormat(WEIGHT_BITS, signed=True, note="one power-of-two scale per layer"),
            "threshold": NumberFormat(MEMBRANE_BITS, signed=True, note="compared with the membrane"),
            "membrane": NumberFormat(MEMBRANE_BITS, signed=True, saturating=True),
            "input": NumberFormat(INPUT_BITS, signed=False, note="input events per channel per step"),
        },
        time=TimeModel(dt=1e-3, continuous=False, acceleration=1.0, clock_hz=1e6),
        max_delay=0,
        recurrent=False,
        node_types=frozenset({"Input", "Output", "Linear", "IF"}),
        reset_modes=frozenset({"zero"}),
        mismatch={},
        energy={
            "synaptic_event": EnergyConstant(2e-12, "J", FICTIONAL_ENERGY, measured=False),
            "spike": EnergyConstant(10e-12, "J", FICTIONAL_ENERGY, measured=False),
            "static": EnergyConstant(10e-6, "W", FICTIONAL_ENERGY, measured=False),
        },
        sources={
            key: DEFINITION
            for key in (
                "cores",
                "neurons_per_core",
                "input_channels",
                "output_channels",
                "max_fan_in",
                "synapse_memory_bits_per_core",
                "formats",
                "time",
                "max_delay",
                "recurrent",
                "node_types",
            )
        },
        extra={"reset": "zero", "one_layer_per_core": True},
    )

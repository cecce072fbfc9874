"""Targets of Intel Loihi (``"loihi"``) and Loihi 2 (``"loihi2"``), every figure with its source.

The integer semantics are those of Lava's bit-accurate process models (lava-nc 0.10.0:
``PyDenseModelBitAcc``, ``PyDelayDenseModelBitAcc``, ``PyLifModelBitAcc``); see docs/loihi.md.
Resource limits come from Davies et al. 2018 and the core validation rules of Nengo Loihi (which
encode Intel's NxSDK limits); Loihi 2 figures from Intel's technology brief and Orchard et al. 2021.
Energies are Davies et al. 2018, Table 2 (pre-silicon characterisation published by Intel, so
``measured=False``: nobody here measured them, and the paper reports them from circuit simulation).
"""

from __future__ import annotations

from neuro_core.target import EnergyConstant, NumberFormat, Target, TimeModel

LAVA = (
    "lava-nc 0.10.0 bit-accurate models (src/lava/proc/dense/models.py, src/lava/proc/lif/models.py, "
    "src/lava/utils/weightutils.py)"
)
LAVA_DL = "lava-nc/lava-dl, src/lava/lib/dl/netx/utils.py: num_delay_bits ('Max delay exceeded limit of 62')"
DAVIES_2018 = (
    "M. Davies et al., 'Loihi: A Neuromorphic Manycore Processor with On-Chip Learning', IEEE Micro 38(1):82-99, 2018"
)
NENGO_LOIHI = (
    "nengo/nengo-loihi, nengo_loihi/block.py and validate.py "
    "(NxSDK core limits: N_CX_MAX, IN_AXONS_MAX, OUT_AXONS_MAX, MAX_SYNAPSE_BITS)"
)
BLOUW_2019 = (
    "P. Blouw et al., 'Benchmarking Keyword Spotting Efficiency on Neuromorphic Hardware', NICE 2019, arXiv:1812.01739"
)
LOIHI2_BRIEF = "Intel Labs, 'Taking Neuromorphic Computing to the Next Level with Loihi 2', technology brief, 2021"
ORCHARD_2021 = (
    "G. Orchard et al., 'Efficient Neuromorphic Signal Processing with Loihi 2', IEEE SiPS 2021, arXiv:2111.03746"
)

#: Lava constants (PyLifModelBitAcc / AbstractPyLifModelFixed): state width, decay and MSB-alignment shifts.
STATE_BITS = 24
DECAY_SHIFT = 12
DECAY_UNITY = 1 << DECAY_SHIFT
ACT_SHIFT = 6
VTH_SHIFT = 6
MAX_DELAY = 62
#: Ring size of the simulator's dendritic accumulator: arrival slots t+1 .. t+63 plus the slot being read.
RING_SLOTS = 64


def _formats() -> dict[str, NumberFormat]:
    return {
        # Lava clips mixed-sign weights to [-256, 255] and drops 8 - num_weight_bits + 1 LSBs (weightutils).
        "weight": NumberFormat(
            9,
            True,
            shift_bits=4,
            shift_range=(-8, 7),
            saturating=True,
            note="8-bit magnitude + sign (mixed sign: the LSB is dropped, values even in [-256, 254]; "
            "excitatory [0, 255]; inhibitory [-255, 0]); times 2**weight_exp",
        ),
        "weight_exp": NumberFormat(4, True, note="shared weight exponent of one connection, -8..7"),
        "delay": NumberFormat(6, False, note="per-synapse delay in steps; 0..62 usable (0 arrives on the next step)"),
        "du": NumberFormat(12, False, note="current decay: u *= (4096 - (du + 1)) / 4096, truncated toward zero"),
        "dv": NumberFormat(12, False, note="voltage decay: v *= (4096 - dv) / 4096, truncated toward zero"),
        "vth": NumberFormat(17, False, note="threshold mantissa: spike if v > vth << 6"),
        "bias_mant": NumberFormat(13, True, note="bias mantissa, added to v every step as bias_mant << bias_exp"),
        "bias_exp": NumberFormat(3, False, note="bias exponent 0..7"),
    }


def _energy(loihi2: bool) -> dict[str, EnergyConstant]:
    note = ""
    if loihi2:
        note = (
            "; Loihi 1 figure reused for Loihi 2: Intel has published no per-operation energies for Loihi 2 "
            f"({LOIHI2_BRIEF}), so this is an upper-bound model, not a measurement"
        )
    table = f"{DAVIES_2018}, Table 2 (pre-silicon characterisation)"
    return {
        "synaptic_op": EnergyConstant(23.6e-12, "J", f"{table}: energy per synaptic spike op (min){note}", False),
        "synaptic_update": EnergyConstant(
            120e-12, "J", f"{table}: energy per synaptic update (pairwise STDP){note}", False
        ),
        "neuron_update_active": EnergyConstant(52e-12, "J", f"{table}: energy per neuron update, active{note}", False),
        "neuron_update_inactive": EnergyConstant(
            1.7e-12, "J", f"{table}: energy per neuron update, inactive{note}", False
        ),
        "spike_within_tile": EnergyConstant(1.7e-12, "J", f"{table}: within-tile spike energy{note}", False),
        "spike_per_tile_hop": EnergyConstant(
            3.5e-12, "J", f"{table}: energy per tile hop, mean of E-W 3.0 pJ and N-S 4.0 pJ{note}", False
        ),
        # Measured on a Loihi 1 board; for Loihi 2 it is a stand-in, hence not marked measured there.
        "static_chip": EnergyConstant(
            0.029, "W", f"{BLOUW_2019}, Table 1: idle power of one Loihi chip, measured{note}", not loihi2
        ),
    }


def _target(name: str, loihi2: bool) -> Target:
    neurons_per_core = 8192 if loihi2 else 1024
    core_src = (
        f"{LOIHI2_BRIEF}: up to 8,192 neurons per core, 128 cores, 1M neurons per chip; {ORCHARD_2021}"
        if loihi2
        else f"{DAVIES_2018}: 128 neuromorphic cores of 1,024 compartments; {NENGO_LOIHI}: N_CX_MAX = 1024"
    )
    memory_src = (
        f"{LOIHI2_BRIEF}: 128 KB of flexibly partitioned SRAM per core (synaptic share modelled as 128 KB)"
        if loihi2
        else f"{NENGO_LOIHI}: MAX_SYNAPSE_BITS = 16384*64 = 1 Mbit (128 KB) per core; "
        f"{DAVIES_2018}: 16 MB synaptic memory over 128 cores"
    )
    return Target(
        name=name,
        family="loihi",
        kind="digital",
        cores=128,
        neurons_per_core=neurons_per_core,
        input_channels=None,
        output_channels=None,
        max_fan_in=4096,
        max_fan_out=None,
        synapse_memory_bits_per_core=16384 * 64,
        formats=_formats(),
        time=TimeModel(dt=1e-3, continuous=False, acceleration=1.0, clock_hz=0.0),
        max_delay=MAX_DELAY,
        recurrent=True,
        node_types=frozenset({"Input", "Output", "Linear", "Affine", "CubaLIF", "LIF", "IF", "LI"}),
        reset_modes=frozenset({"zero"}),  # PyLifModelBitAcc: v = 0 after a spike
        mismatch={},
        energy=_energy(loihi2),
        sources={
            "semantics": LAVA,
            "cores": f"{DAVIES_2018} (Loihi: 128 neuromorphic cores)"
            if not loihi2
            else f"{LOIHI2_BRIEF}; {ORCHARD_2021}",
            "neurons_per_core": core_src,
            "max_fan_in": f"{NENGO_LOIHI}: IN_AXONS_MAX = 4096 input axons per core bound one neuron's inputs",
            "input_axons_per_core": f"{NENGO_LOIHI}: IN_AXONS_MAX = 4096",
            "output_axons_per_core": f"{NENGO_LOIHI}: OUT_AXONS_MAX = 4096",
            "synapse_memory_bits_per_core": memory_src,
            "synapse_encoding": f"{NENGO_LOIHI}: SynapseConfig.bits_per_axon (groups of <= 64 synapses, "
            "4 + 6 header bits, rounded up to 64-bit words; index bits only for sparse groups)",
            "max_delay": f"{LAVA_DL}; {LAVA}: PyDelayDenseModelBitAcc (6-bit delays, refuses > 63)",
            "formats": LAVA,
            "weight_exp": f"{NENGO_LOIHI}: SynapseConfig wgtExp (real exponent 6 + wgtExp, wgtExp in -8..7)",
            "dt": "Loihi has no physical step length: the chip advances on a barrier; 1 ms is the convention "
            "of Lava and lava-dl and is only used to convert time constants",
            "tiles": f"{DAVIES_2018}: mesh of tiles with 4 cores per tile (figure 2); routing energy per tile hop"
            + ("; Loihi 2 modelled with the same 4 cores per tile and an 8 x 4 tile mesh" if loihi2 else ""),
            "energy": f"{DAVIES_2018}, Table 2",
            "static_power": f"{BLOUW_2019}, Table 1: 0.029 W idle power of one Loihi chip (measured); "
            "charged for the run's duration in model time (steps x dt), i.e. a chip paced in real time",
        },
        extra={
            "variant": "loihi2" if loihi2 else "loihi1",
            "cores_per_tile": 4,
            "tile_mesh": [8, 4],
            "input_axons_per_core": 4096,
            "output_axons_per_core": 4096,
            "max_synapses_per_group": 64,
            "graded_input_spikes": loihi2,
            "max_input_payload": (1 << 24) - 1 if loihi2 else 1,
            "state_bits": STATE_BITS,
            "decay_unity": DECAY_UNITY,
            "act_shift": ACT_SHIFT,
            "vth_shift": VTH_SHIFT,
            "latency_per_stage_steps": 1,
        },
    )


def loihi1() -> Target:
    """Intel Loihi (2018, Intel 14 nm): 128 cores x 1,024 compartments."""
    return _target("loihi", loihi2=False)


def loihi2() -> Target:
    """Intel Loihi 2 (2021, Intel 4): 128 cores x 8,192 neurons, graded input spikes."""
    return _target("loihi2", loihi2=True)


TARGETS = {"loihi": loihi1, "loihi2": loihi2}

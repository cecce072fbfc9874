"""The DYNAP-SE2 Target and every chip constant the plugin uses, each with its source.

Sources (short names used below):

- ``[Rockpool]``: SynSense Rockpool, ``rockpool/devices/dynapse/lookup/defaults.py`` (constants
  ``NUM_CORES=4``, ``NUM_NEURONS=256``, ``NUM_SYNAPSES=64``, ``NUM_DEST=4``, ``NUM_TAGS=2048``,
  ``NUM_CHIPS=4``; the default capacitances, Io, kappa, Ut, Vth, time constants and gain ratios),
  ``rockpool/devices/dynapse/lookup/paramgen.py`` (the bias generator's current for every
  (coarse 0..5, fine 0..255) pair, *measured* on silicon per its header), and
  ``rockpool/devices/dynapse/dynapsim.py`` (DPI synapse and neuron
  equations, pulse-width and time-constant formulas).
- ``[Richter2023]``: O. Richter et al., "DYNAP-SE2: a scalable multi-core dynamic neuromorphic
  asynchronous spiking neural network processor", Neuromorph. Comput. Eng. 4 014003 (2024),
  arXiv:2310.00564: 4 cores x 256 neurons, 64 CAM synapses per neuron, 4 synapse types (AMPA,
  NMDA, GABA, SHUNT), 4 base weights per core selected by a 4-bit mask, 180 nm CMOS.
- ``[Cakal2024]``: U. Cakal et al., "Gradient-descent hardware-aware training and deployment for
  mixed-signal neuromorphic processors", Neuromorph. Comput. Eng. 4 014011 (2024),
  arXiv:2303.12167 (the issue cites it as arXiv:2311.14641): DynapSim, mismatch model
  ``p -> p (1 + sigma N(0,1))``, autoencoder weight quantization.
- ``[Buchel2021]``: J. Buchel et al., "Supervised training of spiking neural networks for robust
  deployment on mixed-signal neuromorphic processors", Sci. Rep. 11, 23376 (2021),
  arXiv:2102.06408: mismatch levels used to evaluate robustness.
- ``[Moradi2018]``: S. Moradi, N. Qiao, F. Stefanini, G. Indiveri, "A scalable multicore
  architecture with heterogeneous memory structures for Dynamic Neuromorphic Asynchronous
  Processors (DYNAPs)", IEEE TBioCAS 12(1):106-122, 2018 (DYNAP-SE, the predecessor in the same
  180 nm process): per-event energies measured at 1.8 V.

Measured vs modelled: the bias-generator table and the per-event energies were measured on
silicon (the energies on DYNAP-SE, and applied to DYNAP-SE2 as a proxy, so as DYNAP-SE2 figures
they are *modelled*). The capacitances, Io, kappa and the time-constant formulas are circuit
design values (modelled). The mismatch sigma is a modelling choice inside the range the issue and
[Buchel2021]/[Cakal2024] use. See docs/dynapse2.md.
"""

from __future__ import annotations

import math
from types import MappingProxyType

from neuro_core import EnergyConstant, NumberFormat, Target, TimeModel

DEVICE = "dynapse2"

# -- architecture [Rockpool defaults.py; Richter2023] ---------------------------------------------
CORES = 4
NEURONS_PER_CORE = 256
CAMS_PER_NEURON = 64
TAGS = 2048
DESTINATIONS_PER_NEURON = 4
CHIPS_PER_BOARD = 4
BASE_WEIGHTS = 4  # Iw_0..Iw_3 per core
MASK_BITS = 4
COARSE_MAX = 5
FINE_MAX = 255
SYNAPSE_TYPES = ("ampa", "nmda", "gaba", "shunt")
EXCITATORY = ("ampa", "nmda")
INHIBITORY = ("gaba", "shunt")

# -- circuit constants [Rockpool defaults.py: default_layout] (design values, modelled) -----------
C_MEM = 3e-12  # F
C_SYN = {"ampa": 24.5e-12, "nmda": 25e-12, "gaba": 25e-12, "shunt": 24.5e-12}  # F
C_AHP = 40e-12  # F
C_REF = 1.5e-12  # F
C_PULSE = 0.5e-12  # F
C_PULSE_AHP = 0.5e-12  # F
IO = 5e-13  # A, dark current (floor of every DPI current)
KAPPA = (0.75 + 0.66) / 2  # mean of kappa_n, kappa_p
UT = 25e-3  # V, thermal voltage
VTH = 0.7  # V, the pulse circuits' switching voltage

# -- default operating point [Rockpool defaults.py: default_time_constants, default_gain_ratios] --
DEFAULTS = MappingProxyType(
    {
        "tau_mem": 20e-3,
        "tau_ampa": 10e-3,
        "tau_nmda": 10e-3,
        "tau_gaba": 10e-3,
        "tau_shunt": 10e-3,
        "tau_ahp": 50e-3,
        "t_ref": 1e-3,
        "t_pulse": 10e-6,
        "t_pulse_ahp": 1e-6,
        "gain_mem": 4.0,  # Igain_mem / Itau_mem
        "gain_syn": 100.0,  # Igain_syn / Itau_syn
        "gain_ahp": 1.0,
        "ispkthr": 1e-7,  # A
        "iw_ahp": 5e-13,  # A (AHP effectively off)
        "if_nmda": 5e-13,  # A (NMDA gate threshold current; Io: gate open once Imem >> Io)
        "idc": 5e-13,  # A
    }
)

# -- bias generator [Rockpool lookup/paramgen.py, measured] ---------------------------------------
# Largest current of each coarse range (fine = 255), N-type table: coarse 0 -> 7.18e-11 A,
# coarse 4 -> 2.90e-7 A, coarse 5 -> 2.28e-6 A (read off the table); the ranges step by a
# factor ~7.95 (= (2.28e-6 / 7.18e-11) ** (1/5)), which also fits coarse 1..3 of the table.
# The plugin models I(coarse, fine) = COARSE_MAX_CURRENT[coarse] * fine / 255 (the measured
# table is linear in fine to within a few percent, with small non-monotonic steps).
_COARSE_STEP = (2.28e-6 / 7.18e-11) ** (1 / 5)
COARSE_MAX_CURRENT = tuple(7.18e-11 * _COARSE_STEP**c for c in range(COARSE_MAX + 1))

# -- bias currents held per core (one (coarse, fine) pair each) -----------------------------------
# The pulse-width biases (Ipulse, Ipulse_ahp) are left at their defaults (t_pulse 10 us, 1 us) and
# not part of the image: they only scale the synaptic gains, which Igain_* already set.
BIAS_NAMES = (
    "itau_mem",
    "igain_mem",
    "ispkthr",
    "iref",
    "itau_ampa",
    "itau_nmda",
    "itau_gaba",
    "itau_shunt",
    "igain_ampa",
    "igain_nmda",
    "igain_gaba",
    "igain_shunt",
    "itau_ahp",
    "igain_ahp",
    "iw_ahp",
    "if_nmda",
    "idc",
    "iw_0",
    "iw_1",
    "iw_2",
    "iw_3",
)

# -- mismatch (relative sigma of p -> p (1 + sigma N(0,1)), frozen per chip) ----------------------
# The issue and [Cakal2024]/[Buchel2021] model DYNAP-SE2 mismatch as a relative Gaussian of
# about 10-20 %; we take 15 % for every current and for each synapse's weight (modelled).
MISMATCH_SIGMA = 0.15
#: the parameters that mismatch perturbs (``dynapse2(mismatch_sigma)`` gives each its sigma)
MISMATCH_PARAMETERS = (
    "weight",  # each synapse's (CAM entry's) weight current
    "itau_mem",
    "igain_mem",
    "ispkthr",
    "iref",
    "itau_syn",
    "igain_syn",
    "itau_ahp",
    "igain_ahp",
    "iw_ahp",
    "if_nmda",
    "idc",
)
# Temporal (thermal/shot) noise on the membrane current, relative sigma per sqrt(second):
# a modelling choice (no published DYNAP-SE2 figure found); small next to mismatch.
MEMBRANE_NOISE = 0.01

# -- energy [Moradi2018, DYNAP-SE at 1.8 V, measured on DYNAP-SE; a proxy for DYNAP-SE2] -----------
_MORADI = (
    "Moradi et al. 2018, IEEE TBioCAS 12(1):106-122, energy table (DYNAP-SE, 180 nm, 1.8 V); "
    "used for DYNAP-SE2 (same process and router architecture) as a proxy"
)
ENERGY = MappingProxyType(
    {
        "spike_generation": EnergyConstant(883e-12, "J", _MORADI + ": generate one spike", measured=False),
        "spike_encode": EnergyConstant(883e-12, "J", _MORADI + ": encode a spike and append destinations", False),
        "broadcast_core": EnergyConstant(6.84e-9, "J", _MORADI + ": broadcast an event to a core (CAM search)", False),
        "route_core": EnergyConstant(360e-12, "J", _MORADI + ": route an event to another core", False),
        "synaptic_event": EnergyConstant(324e-12, "J", _MORADI + ": pulse extender of one matched synapse", False),
        "static": EnergyConstant(
            0.0,
            "W",
            "no published DYNAP-SE2 static power was found in the sources read; reported as 0 W (unknown)",
            measured=False,
        ),
    }
)


def tau_from_current(current: float, capacitance: float) -> float:
    """DPI time constant in s of a leak current in A: ``tau = Ut / kappa * C / I`` [Rockpool]."""
    return UT / KAPPA * capacitance / current


def current_from_tau(tau: float, capacitance: float) -> float:
    """Inverse of :func:`tau_from_current`: the leak current in A that sets ``tau`` seconds."""
    return UT / KAPPA * capacitance / tau


def pulse_from_current(current: float, capacitance: float) -> float:
    """Width in s of a pulse circuit (refractory, pulse extender): ``t = Vth * C / I`` [Rockpool]."""
    return VTH * capacitance / current


def current_from_pulse(width: float, capacitance: float) -> float:
    """Inverse of :func:`pulse_from_current`."""
    return VTH * capacitance / width


def dynapse2(mismatch_sigma: float = MISMATCH_SIGMA) -> Target:
    """The Target of one DYNAP-SE2 chip (4 cores x 256 neurons), every limit with its source.

    Args:
        mismatch_sigma: relative mismatch sigma of every current and synapse weight (default 15 %);
            another level models a better or worse chip (robustness curves).
    """
    if not 0.0 <= mismatch_sigma < 1.0:  # also refuses NaN
        raise ValueError(f"mismatch_sigma must be in [0, 1) (a relative standard deviation), got {mismatch_sigma}")
    rockpool = "Rockpool rockpool/devices/dynapse/lookup/defaults.py"
    return Target(
        name=DEVICE,
        family="dynapse",
        kind="mixed-signal",
        cores=CORES,
        neurons_per_core=NEURONS_PER_CORE,
        input_channels=None,  # inputs share the 2048-tag space with neurons: checked by the mapper
        output_channels=None,  # any neuron can be routed to the host: checked by the mapper
        max_fan_in=CAMS_PER_NEURON,
        max_fan_out=None,  # fan-out is by tag broadcast, limited by destinations (mapper)
        synapse_memory_bits_per_core=NEURONS_PER_CORE * CAMS_PER_NEURON * (11 + 2 + MASK_BITS),
        formats={
            "weight_mask": NumberFormat(MASK_BITS, signed=False, note="selects a sum of the core's Iw_0..Iw_3"),
            "coarse": NumberFormat(3, signed=False, note="bias coarse value; the chip accepts 0..5"),
            "fine": NumberFormat(8, signed=False, note="bias fine value 0..255"),
            "core": NumberFormat(2, signed=False, note="core index of each neuron"),
        },
        time=TimeModel(dt=None, continuous=True, acceleration=1.0, clock_hz=0.0),
        max_delay=0,
        recurrent=True,
        node_types=frozenset({"Input", "Output", "Linear", "LIF", "CubaLIF"}),
        reset_modes=frozenset({"zero"}),  # the DPI neuron resets its membrane to a reset level, never by subtraction
        mismatch=dict.fromkeys(MISMATCH_PARAMETERS, float(mismatch_sigma)),
        energy=dict(ENERGY),
        sources={
            "cores": f"{rockpool} NUM_CORES=4; Richter2023 (arXiv:2310.00564)",
            "neurons_per_core": f"{rockpool} NUM_NEURONS=256; Richter2023",
            "max_fan_in": f"{rockpool} NUM_SYNAPSES=64 CAM entries per neuron; Richter2023",
            "tags": f"{rockpool} NUM_TAGS=2048 (11-bit tags)",
            "destinations": f"{rockpool} NUM_DEST=4 SRAM entries per neuron",
            "chips_per_board": f"{rockpool} NUM_CHIPS=4",
            "weights": "Richter2023; Rockpool config/weights.py: 4 base currents Iw_0..Iw_3 per core, 4-bit mask",
            "bias_generator": "Rockpool rockpool/devices/dynapse/lookup/paramgen.py (measured table)",
            "circuit_constants": f"{rockpool} default_layout (C_mem 3 pF, C_syn ~25 pF, Io 0.5 pA, Ut 25 mV)",
            "dynamics": "Rockpool dynapsim.py (DPI synapse/neuron); Chicca et al. Proc. IEEE 102(9) 2014",
            "mismatch": "modelled: sigma 15 % (issue #5; Cakal2024 arXiv:2303.12167; Buchel2021 arXiv:2102.06408)",
            "energy": _MORADI,
            "time": "continuous-time analog circuits (Richter2023); the simulator discretises with any dt",
        },
        extra={
            "cams_per_neuron": CAMS_PER_NEURON,
            "tags": TAGS,
            "destinations_per_neuron": DESTINATIONS_PER_NEURON,
            "chips_per_board": CHIPS_PER_BOARD,
            "base_weights": BASE_WEIGHTS,
            "coarse_max": COARSE_MAX,
            "fine_max": FINE_MAX,
            "coarse_max_current_a": list(COARSE_MAX_CURRENT),
            "synapse_types": list(SYNAPSE_TYPES),
            "bias_names": list(BIAS_NAMES),
            "io_a": IO,
            "kappa": KAPPA,
            "ut_v": UT,
            "c_mem_f": C_MEM,
            "membrane_noise": MEMBRANE_NOISE,
            "defaults": dict(DEFAULTS),
        },
    )


def bias_current(coarse: int, fine: int) -> float:
    """The nominal current in A of a (coarse 0..5, fine 0..255) bias setting (see module notes)."""
    if not (0 <= coarse <= COARSE_MAX and 0 <= fine <= FINE_MAX):
        raise ValueError(f"bias (coarse {coarse}, fine {fine}) out of range (0..{COARSE_MAX}, 0..{FINE_MAX})")
    return COARSE_MAX_CURRENT[coarse] * fine / FINE_MAX


def coarse_fine(current: float) -> tuple[int, int]:
    """The (coarse, fine) pair whose current is nearest to ``current`` A (relative error).

    The smallest coarse range that holds the current gives the finest resolution.

    Raises:
        ValueError: the current is negative, not finite, or above the largest settable current.
    """
    if not math.isfinite(current) or current < 0:
        raise ValueError(f"bias current must be finite and >= 0 A, got {current!r}")
    top = COARSE_MAX_CURRENT[-1]
    if current > top * (1 + 0.5 / FINE_MAX):
        raise ValueError(f"bias current {current:.3g} A exceeds the largest settable current {top:.3g} A")
    for coarse, cmax in enumerate(COARSE_MAX_CURRENT):
        if current <= cmax * (1 + 0.5 / FINE_MAX):
            return coarse, min(FINE_MAX, round(current / cmax * FINE_MAX))
    raise AssertionError("unreachable")  # pragma: no cover

"""The DYNAP-SE2 configuration image: per-core biases, CAM and SRAM tables, channel maps.

Arrays of the image (1024 neuron slots = core * 256 + position, 64 CAMs, 4 SRAM entries):

- ``bias_coarse``, ``bias_fine`` (4, len(BIAS_NAMES)): every per-core bias as (coarse 0..5,
  fine 0..255), columns in ``meta["bias_names"]`` order (the base weights ``iw_0..iw_3`` among them).
- ``cam_tag`` (1024, 64): the tag each CAM entry listens to (-1: unused); ``cam_type``: synapse
  type 0..3 (AMPA, NMDA, GABA, SHUNT); ``cam_mask``: 4-bit weight mask.
- ``sram_tag`` (1024, 4): the tag a neuron's events carry on each destination (-1: unused);
  ``sram_cores``: bit c set = deliver to core c of this chip; ``sram_host``: 1 = send to the host.
- ``neuron_population`` (1024,): index into ``meta["populations"]`` (-1: unused slot); the
  simulator evaluates populations in that order within a step (later or same populations'
  spikes arrive one step later, as on the graph's back edges).
- ``input_tags`` (n_in,): input channel i is injected as events with tag ``input_tags[i]``.
- ``output_slots`` (n_out,): output channel j is the neuron in slot ``output_slots[j]``.
  The channel maps are explicit so outputs can always be found (Rockpool issue: output neurons
  could not be located in its generated configuration).
"""

from __future__ import annotations

import numpy as np
from neuro_core import Placement, Program, ProgrammingError, Target

from . import target as hw

IMAGE_FORMAT = 1
ARRAYS = {
    "bias_coarse": (hw.CORES, len(hw.BIAS_NAMES)),
    "bias_fine": (hw.CORES, len(hw.BIAS_NAMES)),
    "cam_tag": (hw.CORES * hw.NEURONS_PER_CORE, hw.CAMS_PER_NEURON),
    "cam_type": (hw.CORES * hw.NEURONS_PER_CORE, hw.CAMS_PER_NEURON),
    "cam_mask": (hw.CORES * hw.NEURONS_PER_CORE, hw.CAMS_PER_NEURON),
    "sram_tag": (hw.CORES * hw.NEURONS_PER_CORE, hw.DESTINATIONS_PER_NEURON),
    "sram_cores": (hw.CORES * hw.NEURONS_PER_CORE, hw.DESTINATIONS_PER_NEURON),
    "sram_host": (hw.CORES * hw.NEURONS_PER_CORE, hw.DESTINATIONS_PER_NEURON),
    "neuron_population": (hw.CORES * hw.NEURONS_PER_CORE,),
}
# (smallest, largest) value of each table entry
RANGES = {
    "bias_coarse": (0, hw.COARSE_MAX),
    "bias_fine": (0, hw.FINE_MAX),
    "cam_tag": (-1, hw.TAGS - 1),
    "cam_type": (0, 3),
    "cam_mask": (0, 15),
    "sram_tag": (-1, hw.TAGS - 1),
    "sram_cores": (0, 15),
    "sram_host": (0, 1),
    "input_tags": (0, hw.TAGS - 1),
    "output_slots": (0, hw.CORES * hw.NEURONS_PER_CORE - 1),
}
_DTYPES = {
    "bias_coarse": np.uint8,
    "bias_fine": np.uint8,
    "cam_type": np.uint8,
    "cam_mask": np.uint8,
    "sram_cores": np.uint8,
    "sram_host": np.uint8,
}


def build_program(target: Target, placement: Placement) -> Program:
    """``neuro_program``: the image of a dynapse2 placement (see the module docstring).

    Raises:
        ProgrammingError: the placement is for another device or lacks a table.
    """
    if placement.device != target.name:
        raise ProgrammingError(f"this Placement was made for {placement.device!r}, not {target.name!r}")
    missing = (set(ARRAYS) | {"input_tags", "output_slots"}) - set(placement.tables)
    if missing:
        raise ProgrammingError(f"the placement lacks table(s) {sorted(missing)}: was it made by the dynapse2 mapper?")
    arrays = {k: np.asarray(v).astype(_DTYPES.get(k, np.int16)) for k, v in placement.tables.items()}
    meta = {
        "dt": placement.graph.dt,
        "populations": list(placement.resources["populations"]),
        "bias_names": list(hw.BIAS_NAMES),
        "input_channels": [int(t) for t in placement.tables["input_tags"]],
        "output_channels": [int(s) for s in placement.tables["output_slots"]],
        "resources": dict(placement.resources),
    }
    program = Program(target.name, IMAGE_FORMAT, arrays, meta)
    validate_image(program)
    return program


def validate_image(program: Program) -> None:
    """Refuse an image the chip cannot hold: wrong device or format, missing or misshaped table,
    or an entry out of range (naming the table, the limit and the value).

    Raises:
        ProgrammingError
    """
    if program.device != hw.DEVICE:
        raise ProgrammingError(f"this Program is for {program.device!r}, not {hw.DEVICE!r}")
    if program.format_version != IMAGE_FORMAT:
        raise ProgrammingError(f"dynapse2 image format {program.format_version} is unknown (expected {IMAGE_FORMAT})")
    for name, shape in ARRAYS.items():
        if name not in program.arrays:
            raise ProgrammingError(f"dynapse2 image lacks table {name!r}")
        if program.arrays[name].shape != shape:
            raise ProgrammingError(f"dynapse2 table {name!r} has shape {program.arrays[name].shape}, expected {shape}")
    for name, (lo, hi) in RANGES.items():
        values = np.asarray(program.arrays[name]).astype(np.int64)
        if values.size and (values.min() < lo or values.max() > hi):
            bad = int(values.min()) if values.min() < lo else int(values.max())
            raise ProgrammingError(f"dynapse2 table {name!r}: entries must be in {lo}..{hi}, found {bad}")
    if list(program.meta.get("bias_names", [])) != list(hw.BIAS_NAMES):
        raise ProgrammingError("dynapse2 image has a different bias layout (meta['bias_names'])")
    n_pops = len(program.meta.get("populations", []))
    if int(np.asarray(program.arrays["neuron_population"]).max(initial=-1)) >= n_pops:
        raise ProgrammingError("dynapse2 table 'neuron_population' names a population the image does not list")
    for key in ("dt", "input_channels", "output_channels"):
        if key not in program.meta:
            raise ProgrammingError(f"dynapse2 image meta lacks {key!r}")

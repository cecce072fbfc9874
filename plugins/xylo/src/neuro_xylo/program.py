"""The Xylo configuration image: register-like integer arrays, and its validation.

A :class:`XyloImage` holds exactly what the chip's configuration memory holds (the layout follows
SynSense's own simulator xylosim and Rockpool's ``XyloSim.from_specification``; see docs/xylo.md):

=================  =======  ============================  ============================================
array              dtype    shape                         meaning
=================  =======  ============================  ============================================
``w_in``           int8     (n_in, n_ien, n_syn)          input weights to the first ``n_ien`` hidden
``w_rec``          int8     (n_hidden, n_hidden, n_syn)   recurrent weights ``[pre, post, synapse]``
``w_out``          int8     (n_oen, n_out)                readout from the LAST ``n_oen`` hidden
``weight_shift``   int8     (3,)                          left shifts of w_in, w_rec, w_out
``dash_mem``       uint8    (n_hidden,)                   membrane bit-shift decay of hidden neurons
``dash_syn``       uint8    (n_hidden, n_syn)             synaptic bit-shift decays of hidden neurons
``threshold``      int16    (n_hidden,)                   firing thresholds of hidden neurons
``bias``           int16    (n_hidden,)                   membrane biases of hidden neurons
``alias``          int16    (n_hidden,)                   alias target of each hidden neuron (-1: none)
``dash_mem_out``   uint8    (n_out,)                      membrane decay of output neurons
``dash_syn_out``   uint8    (n_out,)                      synaptic decay of output neurons
``threshold_out``  int16    (n_out,)                      thresholds of output neurons
``bias_out``       int16    (n_out,)                      biases of output neurons
=================  =======  ============================  ============================================

``meta`` records the variant, ``dt`` (s), and the input and output channel maps (graph channel ->
chip channel). ``IMAGE_FORMAT`` is bumped whenever this layout changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from neuro_core.errors import ProgrammingError
from neuro_core.program import Program
from neuro_core.target import Target

IMAGE_FORMAT = 1

# name -> (dtype, number of dimensions)
_LAYOUT: dict[str, tuple[str, int]] = {
    "w_in": ("int8", 3),
    "w_rec": ("int8", 3),
    "w_out": ("int8", 2),
    "weight_shift": ("int8", 1),
    "dash_mem": ("uint8", 1),
    "dash_syn": ("uint8", 2),
    "threshold": ("int16", 1),
    "bias": ("int16", 1),
    "alias": ("int16", 1),
    "dash_mem_out": ("uint8", 1),
    "dash_syn_out": ("uint8", 1),
    "threshold_out": ("int16", 1),
    "bias_out": ("int16", 1),
}


@dataclass(frozen=True, eq=False)
class XyloImage:
    """One Xylo configuration, as integer arrays (see the module docstring for the layout)."""

    w_in: np.ndarray
    w_rec: np.ndarray
    w_out: np.ndarray
    weight_shift: np.ndarray
    dash_mem: np.ndarray
    dash_syn: np.ndarray
    threshold: np.ndarray
    bias: np.ndarray
    alias: np.ndarray
    dash_mem_out: np.ndarray
    dash_syn_out: np.ndarray
    threshold_out: np.ndarray
    bias_out: np.ndarray
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # immutable like a Program: the simulator caches its view of an image (sim._prepare)
        for name in _LAYOUT:
            array = np.array(getattr(self, name), copy=True)
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def n_in(self) -> int:
        """Input channels."""
        return int(self.w_in.shape[0])

    @property
    def n_hidden(self) -> int:
        """Hidden neurons."""
        return int(self.w_rec.shape[0])

    @property
    def n_out(self) -> int:
        """Output neurons."""
        return int(self.w_out.shape[1])

    @property
    def n_syn(self) -> int:
        """Synaptic states per hidden neuron (1 or 2)."""
        return int(self.w_rec.shape[2])

    @property
    def n_ien(self) -> int:
        """Input expansion neurons: hidden neurons 0..n_ien-1 receive input weights."""
        return int(self.w_in.shape[1])

    @property
    def n_oen(self) -> int:
        """Output expansion neurons: the last n_oen hidden neurons project to the outputs."""
        return int(self.w_out.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The image arrays by name, in their chip dtypes."""
        return {name: np.asarray(getattr(self, name)).astype(dtype) for name, (dtype, _) in _LAYOUT.items()}

    @classmethod
    def build(cls, meta: Mapping[str, Any] | None = None, **values: Any) -> XyloImage:
        """An image from integer arrays; refuses values that do not fit their register type.

        Raises:
            ProgrammingError: a value does not fit its dtype (never wrapped silently), or an array is missing.
        """
        problems = []
        arrays: dict[str, np.ndarray] = {}
        for name, (dtype, ndim) in _LAYOUT.items():
            if name not in values:
                problems.append(f"missing array {name!r}")
                continue
            raw = np.asarray(values[name])
            if (raw.size and not np.all(np.isfinite(raw))) or (raw.size and np.any(raw != np.round(raw))):
                problems.append(f"{name}: values must be integers")
                continue
            info = np.iinfo(np.dtype(dtype))
            if raw.size and (raw.min() < info.min or raw.max() > info.max):
                problems.append(f"{name}: range [{info.min}, {info.max}] of {dtype}, got [{raw.min()}, {raw.max()}]")
                continue
            if raw.ndim != ndim:
                problems.append(f"{name}: expected {ndim} dimensions, got shape {raw.shape}")
                continue
            arrays[name] = raw.astype(dtype)
        if problems:
            raise ProgrammingError("invalid Xylo image: " + "; ".join(problems))
        return cls(**arrays, meta=dict(meta or {}))

    def to_program(self, device: str) -> Program:
        """The Program (versioned, checksummed container payload) of this image for ``device``."""
        return Program(device, IMAGE_FORMAT, self.arrays(), dict(self.meta))

    @classmethod
    def from_program(cls, program: Program, target: Target) -> XyloImage:
        """Read an image out of ``program`` and check it against ``target`` (structure and ranges).

        Raises:
            ProgrammingError: another device, an unknown format version, missing or malformed arrays,
                or values out of the chip's ranges (all problems listed).
        """
        if program.device != target.name:
            raise ProgrammingError(f"this Program is for {program.device!r}, not {target.name!r}")
        if program.format_version != IMAGE_FORMAT:
            raise ProgrammingError(
                f"Xylo image format {program.format_version} is unknown to this plugin (it reads {IMAGE_FORMAT})"
            )
        problems = []
        for name, (dtype, ndim) in _LAYOUT.items():
            array = program.arrays.get(name)
            if array is None:
                problems.append(f"missing array {name!r}")
            elif array.dtype != np.dtype(dtype) or array.ndim != ndim:
                problems.append(f"{name}: expected {dtype} with {ndim} dims, got {array.dtype} shape {array.shape}")
        if problems:
            raise ProgrammingError(f"malformed Xylo image for {target.name!r}: " + "; ".join(problems))
        image = cls(**{name: program.arrays[name] for name in _LAYOUT}, meta=dict(program.meta))
        problems = image.problems(target, design_rules=False)
        if problems:
            raise ProgrammingError(f"Xylo image refused for {target.name!r}:\n  - " + "\n  - ".join(problems))
        return image

    def problems(self, target: Target, design_rules: bool = True) -> list[str]:
        """Every way this image does not fit ``target`` (empty: it fits).

        Always checked: consistent shapes, sizes within the chip, value ranges of every field.
        With ``design_rules``: also the recurrent fan-out per hidden neuron, which the chip's sparse
        recurrent memory bounds (the simulator itself runs any fan-out).
        """
        extra = target.extra
        found: list[str] = []
        n_in, n_hid, n_out, n_syn = self.n_in, self.n_hidden, self.n_out, self.n_syn
        shapes = {
            "w_in": (n_in, self.n_ien, n_syn),
            "w_rec": (n_hid, n_hid, n_syn),
            "weight_shift": (3,),
            "dash_mem": (n_hid,),
            "dash_syn": (n_hid, n_syn),
            "threshold": (n_hid,),
            "bias": (n_hid,),
            "alias": (n_hid,),
            "dash_mem_out": (n_out,),
            "dash_syn_out": (n_out,),
            "threshold_out": (n_out,),
            "bias_out": (n_out,),
        }
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                found.append(f"{name}: shape {getattr(self, name).shape}, expected {shape}")
        limits = [
            ("input channels", n_in, target.input_channels),
            ("hidden neurons", n_hid, target.neurons_per_core),
            ("output neurons", n_out, target.output_channels),
            ("synaptic states per hidden neuron", n_syn, extra["synapses_per_hidden_neuron"]),
            ("input expansion neurons (hidden neurons reached by inputs)", self.n_ien, extra["input_window"]),
            ("output expansion neurons (hidden neurons read out)", self.n_oen, extra["output_window"]),
            ("output expansion neurons vs hidden neurons", self.n_oen, n_hid),
            ("input expansion neurons vs hidden neurons", self.n_ien, n_hid),
        ]
        for what, value, limit in limits:
            if limit is not None and value > limit:
                found.append(f"{what}: limit {limit}, got {value}")
        lo, hi = target.formats["weight_shift"].min, target.formats["weight_shift"].max
        if self.weight_shift.size and (self.weight_shift.min() < lo or self.weight_shift.max() > hi):
            found.append(f"weight_shift: range [{lo}, {hi}], got {self.weight_shift.tolist()}")
        dash = target.formats["dash"]
        for name in ("dash_mem", "dash_syn", "dash_mem_out", "dash_syn_out"):
            value = getattr(self, name)
            if value.size and int(value.max()) > dash.max:
                found.append(f"{name}: range [0, {dash.max}], got max {int(value.max())}")
        if self.alias.size and (self.alias.min() < -1 or self.alias.max() >= n_hid):
            found.append(f"alias: targets must be -1 (none) or a hidden neuron 0..{n_hid - 1}")
        limit = extra.get("max_recurrent_fan_out")
        if design_rules and limit is not None and n_hid:
            fan_out = np.any(self.w_rec != 0, axis=2).sum(axis=1)
            for pre in np.flatnonzero(fan_out > limit):
                found.append(f"recurrent fan-out of hidden neuron {pre}: limit {limit}, got {int(fan_out[pre])}")
        return found


def program_from_placement(device: str, target: Target, placement: Any, plugin_version: str) -> Program:
    """``neuro_program`` for Xylo: the Placement's image tables plus meta (variant, dt, channel maps).

    Raises:
        ProgrammingError: the placement was made for another device, or its tables are not a Xylo image.
    """
    if placement.device != device:
        raise ProgrammingError(f"this Placement was made for {placement.device!r}, not {device!r}")
    image = XyloImage.build(**dict(placement.tables))
    meta = {
        "variant": target.name,
        "dt": float(placement.graph.dt),
        "input_map": list(range(image.n_in)),
        "output_map": list(range(image.n_out)),
        "hidden_offsets": dict(placement.resources.get("hidden_offsets", {})),
        "plugin_version": plugin_version,
        "image_format": IMAGE_FORMAT,
    }
    return XyloImage(**{k: getattr(image, k) for k in _LAYOUT}, meta=meta).to_program(device)

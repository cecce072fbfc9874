"""The example-if8 configuration image: per layer an int8 weight matrix and int16 thresholds.

Image format 1 (``Program.format_version``): arrays ``layer{k}.weight`` (int8, neurons x inputs) and
``layer{k}.threshold`` (int16, neurons) for k = 0, 1, ...; meta ``dt`` (s), ``layers`` (node names
and sizes), ``input_channels``, ``output_channels``.
"""

from __future__ import annotations

import numpy as np
from neuro_core import Placement, Program, ProgrammingError, Target

from .quantize import layers_of
from .target import DEVICE

IMAGE_FORMAT = 1


def build(target: Target, placement: Placement) -> Program:
    """The image of ``placement``.

    Raises:
        ProgrammingError: the placement was made for another device.
    """
    if placement.device != target.name:
        raise ProgrammingError(f"this Placement was made for {placement.device!r}, not {target.name!r}")
    graph = placement.graph
    arrays: dict[str, np.ndarray] = {}
    layers = []
    for k, (linear_name, neuron_name) in enumerate(layers_of(graph)):
        arrays[f"layer{k}.weight"] = graph.nodes[linear_name].int_params["weight"].astype(np.int8)
        arrays[f"layer{k}.threshold"] = graph.nodes[neuron_name].int_params["threshold"].astype(np.int16)
        layers.append({"linear": linear_name, "neuron": neuron_name, "size": graph.nodes[neuron_name].out_size})
    meta = {
        "dt": graph.dt,
        "layers": layers,
        "input_channels": int(arrays["layer0.weight"].shape[1]),
        "output_channels": int(arrays[f"layer{len(layers) - 1}.threshold"].shape[0]),
    }
    return Program(target.name, IMAGE_FORMAT, arrays, meta)


def unpack(program: Program) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The per-layer weights and thresholds of an image, checked.

    Raises:
        ProgrammingError: another device's image, an unknown image format, or arrays of the wrong
            type or shape (naming the array).
    """
    if program.device != DEVICE:
        raise ProgrammingError(f"this Program is for device {program.device!r}, not {DEVICE!r}")
    if program.format_version != IMAGE_FORMAT:
        raise ProgrammingError(
            f"example-if8 image format {program.format_version} is unknown; this plugin reads {IMAGE_FORMAT}"
        )
    weights: list[np.ndarray] = []
    thresholds: list[np.ndarray] = []
    width = None
    for k in range(len(program.meta.get("layers", []))):
        try:
            weight, threshold = program.arrays[f"layer{k}.weight"], program.arrays[f"layer{k}.threshold"]
        except KeyError as exc:
            raise ProgrammingError(f"example-if8 image lacks array {exc}") from exc
        if weight.dtype != np.int8 or threshold.dtype != np.int16:
            raise ProgrammingError(f"layer {k}: weights must be int8 and thresholds int16")
        if (
            weight.ndim != 2
            or threshold.shape != (weight.shape[0],)
            or (width is not None and weight.shape[1] != width)
        ):
            raise ProgrammingError(f"layer {k}: weight {weight.shape} and threshold {threshold.shape} do not chain")
        width = weight.shape[0]
        weights.append(weight)
        thresholds.append(threshold)
    if not weights:
        raise ProgrammingError("example-if8 image has no layers")
    return weights, thresholds

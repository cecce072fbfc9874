"""The plugin API of neuro: one hook specification per stage of the data path.

A device plugin implements these with ``@neuro_core.hookimpl`` and exposes the module (or object)
through the entry-point group ``neuro.devices``. Each docstring below is that hook's reference page.

The core calls a device hook only on the plugin that registered the device (through pluggy's
``subset_hook_caller``): the owner answers, and every other plugin is left out of the call unless
it registers a *wrapper* (``@hookimpl(wrapper=True)``), which sees every call to that hook for every
device. This is how an energy logger or a tracer observes all devices without owning any.

Every device hook receives ``device`` (the name being served, so one plugin can own several
devices) and ``target`` (that device's :class:`~neuro_core.target.Target`). Hooks never mutate
their arguments: each stage returns a new object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pluggy

if TYPE_CHECKING:
    import torch

    from .connection import Connection
    from .graph import Graph
    from .program import Program
    from .results import Placement, PowerReport, SimResult
    from .target import Target

PROJECT = "neuro"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

RegisterDevice = Callable[..., None]


@hookspec
def neuro_register_devices(register: RegisterDevice) -> None:
    """Declare the devices this plugin provides.

    Call ``register(name, target, summary)`` once per device:

    - ``name`` (str): the device name users pass to ``neuro_core.device(name)``; lowercase, with
      the family first (``"xylo-audio2"``). Two plugins registering one name is a
      :class:`~neuro_core.errors.PluginError` naming both distributions.
    - ``target`` (:class:`~neuro_core.target.Target`): the chip's description; its ``name`` must
      equal ``name``.
    - ``summary`` (str): one line shown by ``neuro devices``.

    Returns nothing. Raises nothing on purpose; an exception here is reported as a load error of
    this plugin and the plugin's devices are not registered.
    """


@hookspec(firstresult=True)
def neuro_quantize(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> Graph | None:
    """Convert a float graph to the chip's number formats.

    Args:
        device: the device name.
        target: its Target.
        graph: a validated float :class:`~neuro_core.graph.Graph`.
        options: quantizer options; every plugin accepts ``per_channel`` (bool, default False:
            one scale per weight matrix; True: one per output neuron where the chip allows it).
            Unknown options are an error.

    Returns:
        A new Graph whose nodes carry ``int_params`` in the chip's formats (named as in
        ``target.formats``) and the ``scales`` that map them back to float, with the float
        parameters replaced by their dequantized values so the graph still simulates in float.

    Raises:
        QuantizationError: a value cannot be represented (naming node, parameter, format, value);
            never a silent wrap-around.
        GraphError: the graph uses a node type this chip has no equivalent for.
    """


@hookspec(firstresult=True)
def neuro_map(device: str, target: Target, graph: Graph) -> Placement | None:
    """Place a quantized graph on the chip: assign neurons to cores, route synapses.

    Args:
        device: the device name.
        target: its Target.
        graph: the output of ``neuro_quantize`` for this device.

    Returns:
        A :class:`~neuro_core.results.Placement` with a core index per neuron, the resources used
        (``resources["cores_used"]`` at least) and any routing tables the programmer needs.

    Raises:
        MappingError: listing *every* violated limit (constraint, where, limit, value), including
            those of ``target.check(graph)`` and the chip's own design rules. Nothing is cut to fit.
    """


@hookspec(firstresult=True)
def neuro_program(device: str, target: Target, placement: Placement) -> Program | None:
    """Build the chip's configuration image from a placement.

    Args:
        device: the device name.
        target: its Target.
        placement: the output of ``neuro_map`` for this device.

    Returns:
        A :class:`~neuro_core.program.Program` for ``device`` with the plugin's image format
        version; its ``meta`` records ``dt`` (s) and the input and output channel maps.

    Raises:
        ProgrammingError: the placement cannot be encoded (e.g. it was made for another device).
    """


@hookspec(firstresult=True)
def neuro_simulate(
    device: str,
    target: Target,
    program: Program,
    inputs: np.ndarray,
    record: bool,
    chip_id: int | None,
    seed: int,
) -> SimResult | None:
    """Run a Program in the plugin's simulator.

    Bit-exact to the chip for digital devices (the integer semantics are the specification);
    a faithful model with device mismatch and noise for analog ones.

    Args:
        device: the device name.
        target: its Target.
        program: a Program for ``device``.
        inputs: input events, (batch, time, channels), non-negative integer counts per step for
            spiking inputs (float currents only where the chip takes them).
        record: also record internal spikes and states (costs memory).
        chip_id: which physical chip instance to model (selects its frozen mismatch); ``None`` is
            the nominal chip without mismatch. Digital devices ignore it.
        seed: seed of temporal noise (analog devices); the result is a function of
            ``(program, inputs, chip_id, seed)`` alone.

    Returns:
        A :class:`~neuro_core.results.SimResult` with ``outputs`` (batch, time, output channels)
        and the activity ``counters`` that ``neuro_measure_power`` reads.

    Raises:
        ProgrammingError: the Program is for another device or its image format is unknown.
        ValueError: ``inputs`` has the wrong number of channels or a value the chip cannot accept.
    """


@hookspec(firstresult=True)
def neuro_measure_power(device: str, target: Target, program: Program, result: SimResult) -> PowerReport | None:
    """Estimate power and energy of the run that produced ``result``.

    Args:
        device: the device name.
        target: its Target (``target.energy`` holds the constants, each with its source).
        program: the Program that ran.
        result: the run's :class:`~neuro_core.results.SimResult` (its ``counters`` and ``dt``).

    Returns:
        A :class:`~neuro_core.results.PowerReport`: static W, dynamic W, J per inference, a
        breakdown, the sources, and whether the figures are measured or modelled.
    """


@hookspec(firstresult=True)
def neuro_chip_model(device: str, target: Target, graph: Graph, options: Mapping[str, Any]) -> torch.nn.Module | None:
    """Build the differentiable (torch) model of the chip, initialised from ``graph``.

    Used by hardware-aware training. The returned module follows
    :class:`neuro_core.chipmodel.ChipModel`: ``forward`` maps (batch, time, in) to
    (batch, time, out); ``to_graph()`` exports the trained float parameters as a Graph that
    ``neuro_quantize`` accepts; ``quantization_aware`` switches straight-through quantization to
    the chip's formats on and off; ``mismatch_sigma()`` gives the relative mismatch per parameter.

    Args:
        device: the device name.
        target: its Target.
        graph: a float Graph giving the architecture and initial parameters.
        options: model options (e.g. ``surrogate``, ``device`` for the torch device); unknown
            options are an error.

    Returns:
        A :class:`~neuro_core.chipmodel.ChipModel` (a ``torch.nn.Module``) with ``quantization_aware``
        off, whose parameters start from ``graph``'s.

    Raises:
        GraphError: the architecture cannot be expressed on this chip.
    """


@hookspec(firstresult=True)
def neuro_connect(device: str, target: Target, chip_id: int, options: Mapping[str, Any]) -> Connection | None:
    """Open a connection on which Programs for ``device`` run.

    Args:
        device: the device name.
        target: its Target.
        chip_id: which chip: for a VirtualChip, the instance whose frozen mismatch it models; for
            real hardware, the board index.
        options: ``{"backend": "virtual"}`` (the default) or a vendor backend the plugin offers
            (e.g. ``"samna"``) when its SDK is installed.

    Returns:
        A :class:`~neuro_core.connection.Connection`.

    Raises:
        ChipConnectionError: the requested backend is unavailable (naming the package to install).
    """

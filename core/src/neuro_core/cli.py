"""The ``neuro`` command: list devices and plugins, show a Target, compile, simulate, report power.

::

    neuro devices [--json]
    neuro plugins [--json]
    neuro target NAME [--json]
    neuro compile MODEL --device NAME -o PROGRAM [--per-channel]
    neuro simulate (PROGRAM|MODEL) --device NAME --input X.npy -o OUT.npz [--record] [--chip-id N] [--seed S]
    neuro power PROGRAM --input X.npy [--json]
    neuro --version

MODEL is a saved neuro graph (``Graph.save``, suffix ``.ngraph``) or a NIR file (``.nir``; ``--dt``
and ``--reset`` complete what NIR leaves open). Any other file is read as a Program. Inputs are
``.npy`` arrays, (batch, time, channels) or (time, channels). Every error the toolchain raises on
purpose, and every unreadable file, is printed as one line on stderr with exit status 2.
Reference: docs/cli.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from . import __version__
from .container import atomic_path
from .device import Device, device, devices
from .errors import FileFormatError, NeuroError
from .graph import Graph
from .plugins import get_registry
from .program import Program
from .results import SimResult

EXIT_ERROR = 2  # like argparse's usage errors: the command could not do what was asked
GRAPH_SUFFIX = ".ngraph"
NIR_SUFFIX = ".nir"


class CLIError(NeuroError):
    """A problem with the command line's files or arguments, reported as one line."""


# -- files --------------------------------------------------------------------------------------------
def save_npz_atomic(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` at ``path`` atomically (temp file, then rename).

    A failure part-way leaves any previous file at ``path`` untouched and no temporary file behind.
    """
    named: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, allow_pickle=False, **named)  # plain arrays only: the file never holds code


def load_inputs(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an input array from a ``.npy`` file: (batch, time, channels) or (time, channels) -> 3-D.

    Raises:
        CLIError: the file is missing, not a plain ``.npy`` array, or has another number of axes.
    """
    try:
        array = np.load(path, allow_pickle=False)  # never unpickle: loading must not run code
    except (OSError, ValueError, EOFError) as exc:
        raise CLIError(f"{path}: cannot read inputs as a .npy array ({exc})") from exc
    if not isinstance(array, np.ndarray):
        array.close()
        raise CLIError(f"{path}: expected one .npy array, found an .npz archive")
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise CLIError(f"{path}: inputs must be (batch, time, channels) or (time, channels), got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number) and array.dtype != np.bool_:
        raise CLIError(f"{path}: inputs must be numbers, got dtype {array.dtype}")
    return array


def load_model(path: str | os.PathLike[str], dt: float | None, reset: str | None) -> Graph:
    """A Graph from a ``.ngraph`` file or, through ``neuro_core.nir``, a ``.nir`` file."""
    path = Path(path)
    if path.suffix == NIR_SUFFIX:
        try:
            from . import nir as neuro_nir
        except ModuleNotFoundError as exc:
            raise CLIError(f"{path}: reading NIR needs the nir package: pip install 'neuro-core[nir]' ({exc})") from exc
        if not path.is_file():
            raise FileFormatError(f"{path}: no such file")
        return neuro_nir.load(path, dt=dt, reset=reset)
    if dt is not None or reset is not None:
        raise CLIError("--dt and --reset apply only to .nir models: a neuro graph stores its own dt and resets")
    return Graph.load(path)


def is_model(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a model (``.ngraph`` or ``.nir``) rather than a Program."""
    return Path(path).suffix in (GRAPH_SUFFIX, NIR_SUFFIX)


def load_program(path: str | os.PathLike[str], device_name: str | None) -> Program:
    """A Program from ``path``, refused if it is for another device than ``device_name`` (if given)."""
    return Program.load(path, device=device_name)


# -- output -------------------------------------------------------------------------------------------
def _print_json(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _result_arrays(result: SimResult) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {
        "outputs": result.outputs,
        "dt": np.asarray(result.dt),
        "device": np.asarray(result.device),
        "chip_id": np.asarray(-1 if result.chip_id is None else result.chip_id),
    }
    arrays.update({f"counters/{k}": np.asarray(v) for k, v in result.counters.items()})
    arrays.update({f"spikes/{k}": np.asarray(v) for k, v in result.spikes.items()})
    arrays.update({f"states/{k}": np.asarray(v) for k, v in result.states.items()})
    return arrays


# -- commands -----------------------------------------------------------------------------------------
def cmd_devices(args: argparse.Namespace, out: TextIO) -> int:
    found = devices()
    if args.json:
        _print_json({name: info.to_dict() for name, info in found.items()}, out)
        return 0
    width = max((len(name) for name in found), default=4)
    for name, info in found.items():
        out.write(f"{name:<{width}}  {info.distribution} {info.version}  {info.summary}\n")
    conflicts = get_registry().conflicts
    for name, claims in sorted(conflicts.items()):
        who = " and ".join(c.distribution for c in claims)
        out.write(f"{name:<{width}}  UNUSABLE: claimed by {who}\n")
    return 0


def cmd_plugins(args: argparse.Namespace, out: TextIO) -> int:
    registry = get_registry()
    plugins = [registry.plugins[name].to_dict() for name in sorted(registry.plugins)]
    conflicts = {
        name: [{"distribution": c.distribution, "plugin": c.plugin} for c in claims]
        for name, claims in sorted(registry.conflicts.items())
    }
    if args.json:
        _print_json({"plugins": plugins, "conflicts": conflicts}, out)
        return 0
    for plugin in plugins:
        status = "FAILED" if plugin["error"] else "ok"
        out.write(f"{plugin['name']}  ({plugin['distribution']} {plugin['version']})  {status}\n")
        if plugin["error"]:
            out.write(f"    error: {plugin['error']}\n    hint:  {plugin['hint']}\n")
        else:
            out.write(f"    devices: {', '.join(plugin['devices']) or '-'}\n")
            out.write(f"    hooks:   {', '.join(plugin['hooks'])}\n")
    for name, claims in conflicts.items():
        who = " and ".join(f"{c['distribution']} (plugin {c['plugin']!r})" for c in claims)
        out.write(f"conflict: device {name!r} is registered by {who}; uninstall one\n")
    return 0


def cmd_target(args: argparse.Namespace, out: TextIO) -> int:
    target = device(args.name).target
    if args.json:
        out.write(target.to_json() + "\n")
        return 0
    data = target.to_dict()
    for key in ("name", "family", "kind", "cores", "neurons_per_core", "input_channels", "output_channels"):
        out.write(f"{key}: {data[key]}\n")
    for key in ("max_fan_in", "max_fan_out", "synapse_memory_bits_per_core", "max_delay", "recurrent"):
        out.write(f"{key}: {data[key]}\n")
    out.write(f"time: {data['time']}\n")
    out.write(f"node_types: {', '.join(data['node_types'])}\n")
    for name, fmt in data["formats"].items():
        sign = "signed" if fmt["signed"] else "unsigned"
        out.write(f"format {name}: {fmt['bits']}-bit {sign}{' saturating' if fmt['saturating'] else ''}\n")
    for name, sigma in data["mismatch"].items():
        out.write(f"mismatch {name}: {sigma:.3g} (relative sigma)\n")
    for name, const in data["energy"].items():
        kind = "measured" if const["measured"] else "modelled"
        out.write(f"energy {name}: {const['value']:.4g} {const['unit']} ({kind}; {const['source']})\n")
    for name, source in data["sources"].items():
        out.write(f"source {name}: {source}\n")
    return 0


def cmd_compile(args: argparse.Namespace, out: TextIO) -> int:
    chip = device(args.device)
    graph = load_model(args.model, args.dt, args.reset)
    program = chip.compile(graph, **({"per_channel": True} if args.per_channel else {}))
    checksum = program.save(args.output)
    out.write(f"wrote {args.output}: {program.device} program, image format {program.format_version}, ")
    out.write(f"checksum {checksum[:16]}\n")
    return 0


def cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    chip = device(args.device)
    program = _program_from(args, chip)
    inputs = load_inputs(args.input)
    result = chip.simulate(program, inputs, record=args.record, chip_id=args.chip_id, seed=args.seed)
    save_npz_atomic(args.output, _result_arrays(result))
    out.write(f"wrote {args.output}: outputs {result.outputs.shape} on {result.device}\n")
    return 0


def cmd_power(args: argparse.Namespace, out: TextIO) -> int:
    program = load_program(args.program, args.device)
    chip = device(program.device)
    result = chip.simulate(program, load_inputs(args.input), chip_id=args.chip_id, seed=args.seed)
    report = chip.measure_power(program, result)
    if args.json:
        _print_json({**report.to_dict(), "batch": int(result.outputs.shape[0]), "steps": result.steps}, out)
        return 0
    kind = "measured" if report.measured else "modelled"
    out.write(f"device: {report.device} ({kind})\n")
    out.write(f"static power:  {report.static_w:.4g} W\n")
    out.write(f"dynamic power: {report.dynamic_w:.4g} W\n")
    out.write(f"energy per inference: {report.energy_per_inference_j:.4g} J ")
    out.write(f"(dynamic {report.dynamic_energy_per_inference_j:.4g} J)\n")
    for name, joules in report.breakdown_j.items():
        out.write(f"  {name}: {joules:.4g} J\n")
    out.write(f"source: {report.source}\n")
    return 0


def _program_from(args: argparse.Namespace, chip: Device) -> Program:
    if is_model(args.model):
        return chip.compile(load_model(args.model, args.dt, args.reset))
    if args.dt is not None or args.reset is not None:
        raise CLIError("--dt and --reset apply only to .nir models, not to a Program")
    return load_program(args.model, chip.name)


# -- parser -------------------------------------------------------------------------------------------
def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dt", type=float, default=None, metavar="SECONDS", help="step for a .nir model (seconds)")
    parser.add_argument(
        "--reset", choices=("zero", "subtract"), default=None, help="reset mode of a .nir model's spiking neurons"
    )


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``neuro`` (one sub-command per verb)."""
    parser = argparse.ArgumentParser(
        prog="neuro", description="Compile, simulate and measure spiking networks on neuromorphic chips."
    )
    parser.add_argument("--version", action="version", version=f"neuro-core {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("devices", help="list the installed devices")
    p.add_argument("--json", action="store_true", help="print JSON (with every Target)")
    p.set_defaults(run=cmd_devices)

    p = sub.add_parser("plugins", help="list plugins: distribution, version, hooks, devices, load errors")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=cmd_plugins)

    p = sub.add_parser("target", help="show a device's Target: limits, formats, energy constants, sources")
    p.add_argument("name", help="device name")
    p.add_argument("--json", action="store_true", help="print the Target as JSON")
    p.set_defaults(run=cmd_target)

    p = sub.add_parser("compile", help="quantize, map and program a model for a device")
    p.add_argument("model", help="model file: .ngraph (neuro graph) or .nir")
    p.add_argument("--device", required=True, help="device name")
    p.add_argument("-o", "--output", required=True, help="Program file to write")
    p.add_argument("--per-channel", action="store_true", help="one weight scale per output neuron")
    _model_options(p)
    p.set_defaults(run=cmd_compile)

    p = sub.add_parser("simulate", help="run a Program (or a model, compiled on the fly) in the device's simulator")
    p.add_argument("model", metavar="PROGRAM|MODEL", help="Program file, or model file (.ngraph, .nir)")
    p.add_argument("--device", required=True, help="device name")
    p.add_argument("--input", required=True, help=".npy inputs, (batch, time, channels) or (time, channels)")
    p.add_argument("-o", "--output", required=True, help=".npz file for outputs, counters (and recordings)")
    p.add_argument("--record", action="store_true", help="also record internal spikes and states")
    p.add_argument("--chip-id", type=_non_negative_int, default=None, help="chip instance (mismatch of analog chips)")
    p.add_argument("--seed", type=int, default=0, help="seed of temporal noise (analog chips)")
    _model_options(p)
    p.set_defaults(run=cmd_simulate)

    p = sub.add_parser("power", help="simulate a Program on inputs and report power and energy")
    p.add_argument("program", help="Program file")
    p.add_argument("--input", required=True, help=".npy inputs, (batch, time, channels) or (time, channels)")
    p.add_argument("--device", default=None, help="refuse the Program unless it is for this device")
    p.add_argument("--chip-id", type=_non_negative_int, default=None, help="chip instance (analog chips)")
    p.add_argument("--seed", type=int, default=0, help="seed of temporal noise (analog chips)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=cmd_power)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``neuro`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Errors raised on purpose (:class:`~neuro_core.errors.NeuroError`), unreadable files and invalid
    inputs print ``neuro: error: <one line>`` on stderr and return 2; no traceback is shown.
    """
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        return run(args, sys.stdout)
    except (NeuroError, OSError, ValueError) as exc:
        sys.stderr.write(f"neuro: error: {one_line(exc)}\n")
        return EXIT_ERROR


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (a MappingError's violations are joined with ``; ``)."""
    lines = [line.strip().removeprefix("- ") for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) or type(exc).__name__


if __name__ == "__main__":  # pragma: no cover - `python -m neuro_core.cli`
    sys.exit(main())

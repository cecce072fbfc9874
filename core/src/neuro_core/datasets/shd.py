"""Read and write the HDF5 layout of the Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC).

Layout (Cramer et al. 2020, "The Heidelberg spiking data sets for the systematic evaluation of
spiking neural networks", IEEE TNNLS; files at https://zenkelab.org/datasets/):

- ``spikes/times``: one variable-length array per sample, spike times in seconds;
- ``spikes/units``: one variable-length array per sample, channel indices (0..699);
- ``labels``: (N,) class index;
- ``extra/speaker``: (N,) speaker index;
- ``extra/keys``: class names (optional).

h5py is an optional dependency: ``pip install neuro-core[hdf5]``. It is imported only here, when a
file is read or written. Users with the real SHD/SSC files can load them with :func:`read_shd`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..container import atomic_path
from ..errors import FileFormatError, NeuroError
from .spikedata import SpikeData

__all__ = ["read_shd", "write_shd"]


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:
        raise NeuroError("reading and writing SHD-format HDF5 files needs h5py: pip install neuro-core[hdf5]") from exc
    return h5py


def write_shd(data: SpikeData, path: str | os.PathLike[str]) -> None:
    """Write ``data`` as an SHD-layout HDF5 file (times as float32 seconds, units as uint16).

    The file is written to a temporary name in the same folder and renamed, so a failure leaves no
    half-written file.
    """
    h5py = _h5py()
    if data.n_channels > 65536:
        raise NeuroError(f"SHD stores units as uint16: n_channels must be <= 65536, got {data.n_channels}")
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        times = handle.create_dataset("spikes/times", (len(data),), dtype=h5py.vlen_dtype(np.float32))
        units = handle.create_dataset("spikes/units", (len(data),), dtype=h5py.vlen_dtype(np.uint16))
        for i in range(len(data)):
            t, u = data.sample(i)
            times[i] = t.astype(np.float32)
            units[i] = u.astype(np.uint16)
        handle.create_dataset("labels", data=data.labels.astype(np.uint16))
        handle.create_dataset("extra/speaker", data=data.speakers.astype(np.int32))
        handle.create_dataset("extra/keys", data=np.array([c.encode() for c in data.classes]))
        handle.attrs["n_channels"] = data.n_channels
        if data.duration is not None:
            handle.attrs["duration"] = data.duration


def read_shd(path: str | os.PathLike[str], n_channels: int | None = None, duration: float | None = None) -> SpikeData:
    """Read an SHD/SSC-layout HDF5 file.

    Args:
        path: the ``.h5`` file (e.g. ``shd_train.h5``).
        n_channels: input width (default: the file's ``n_channels`` attribute, else 700 as in SHD).
        duration: nominal sample length in seconds for dense arrays (default: the file's attribute,
            else the latest spike in the file).

    Raises:
        FileFormatError: missing file, not HDF5, or missing one of the required datasets.
    """
    h5py = _h5py()
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as handle:
            for required in ("spikes/times", "spikes/units", "labels"):
                if required not in handle:
                    raise FileFormatError(f"{path}: not an SHD-layout file (no {required!r} dataset)")
            times = [np.asarray(t, dtype=np.float64) for t in handle["spikes/times"][:]]
            units = [np.asarray(u, dtype=np.int64) for u in handle["spikes/units"][:]]
            labels = np.asarray(handle["labels"][:], dtype=np.int64)
            speakers = (
                np.asarray(handle["extra/speaker"][:], dtype=np.int64)
                if "extra/speaker" in handle
                else np.full(len(labels), -1)
            )
            keys = handle["extra/keys"][:] if "extra/keys" in handle else None
            n_channels = n_channels or int(handle.attrs.get("n_channels", 700))
            if duration is None and "duration" in handle.attrs:
                duration = float(handle.attrs["duration"])
    except FileFormatError:
        raise
    except OSError as exc:
        raise FileFormatError(f"{path}: not a readable HDF5 file ({exc})") from exc
    if keys is not None:
        classes = tuple(k.decode() if isinstance(k, bytes) else str(k) for k in keys)
    else:
        classes = tuple(str(i) for i in range(int(labels.max()) + 1 if len(labels) else 0))
    if len(times) != len(labels) or len(units) != len(labels):
        raise FileFormatError(f"{path}: {len(times)} time arrays, {len(units)} unit arrays, {len(labels)} labels")
    return SpikeData.from_events(
        list(zip(times, units, strict=True)),
        labels,
        classes,
        n_channels,
        speakers=speakers,
        duration=duration,
        meta={"source": str(path)},
    )

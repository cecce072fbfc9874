"""The one file format of neuro: versioned, checksummed, atomic, and free of code.

Graphs, Programs and training checkpoints are all stored as a *container*: a zip archive holding
``header.json`` (kind, format version, checksum, free-form JSON metadata) and one ``.npy`` file per
array. Loading never unpickles (``allow_pickle=False``), so opening a file cannot execute code.
Writing goes to a temporary file in the same folder, is flushed to disk, then renamed over the
target, so a crash leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FileFormatError

MAGIC = "neuro-container"
_HEADER = "header.json"


def checksum(header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the canonical JSON of ``header`` and every array's name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    digest.update(json.dumps(header, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on success it is flushed to disk and renamed over
    ``path``, on any error it is removed. Every file neuro writes goes through here, so a crash leaves
    the old file or the new one, never half of one.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_container(
    path: str | os.PathLike[str],
    kind: str,
    version: int,
    meta: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    compress: bool = False,
) -> str:
    """Write a container atomically; return its checksum.

    Args:
        path: destination file; its folder must exist.
        kind: what the file holds (``"graph"``, ``"program"``, ``"checkpoint"``); checked on load.
        version: the format version of that kind.
        meta: JSON-serialisable metadata.
        arrays: named numpy arrays (object arrays are refused).
        compress: deflate the arrays (smaller files, slower writes; shipped datasets use it). Reading
            needs no flag: the zip records each entry's compression.
    """
    for name, array in arrays.items():
        if np.asarray(array).dtype == object:
            raise FileFormatError(f"array {name!r} has dtype object, which cannot be stored safely")
    header = {"magic": MAGIC, "kind": kind, "version": version, "meta": dict(meta)}
    digest = checksum(header, arrays)
    header["checksum"] = digest
    compression = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=compression) as archive:
        archive.writestr(_HEADER, json.dumps(header, sort_keys=True, indent=1))
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            archive.writestr(f"arrays/{name}.npy", buffer.getvalue())
    return digest


def read_container(
    path: str | os.PathLike[str], kind: str, max_version: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a container; return ``(header, arrays)``.

    Raises:
        FileFormatError: the file is missing, not a neuro container, truncated or corrupt (checksum),
            of another kind, or of a format version newer than ``max_version``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if _HEADER not in names:
                raise FileFormatError(f"{path}: not a neuro {kind} file (no {_HEADER})")
            header = json.loads(archive.read(_HEADER))
            arrays = {}
            for entry in names:
                if entry.startswith("arrays/") and entry.endswith(".npy"):
                    with archive.open(entry) as handle:
                        data = io.BytesIO(handle.read())
                    arrays[entry[len("arrays/") : -len(".npy")]] = np.lib.format.read_array(data, allow_pickle=False)
    except FileFormatError:
        raise
    except (
        zipfile.BadZipFile,
        json.JSONDecodeError,
        ValueError,
        OSError,
        EOFError,
        KeyError,
        NotImplementedError,  # a damaged header claims an unknown zip version or compression
        RuntimeError,  # a damaged flag claims the member is encrypted
        zlib.error,  # a damaged compression type makes zipfile inflate stored bytes
    ) as exc:
        raise FileFormatError(f"{path}: corrupt or truncated neuro {kind} file ({exc})") from exc
    if not isinstance(header, dict) or header.get("magic") != MAGIC:
        raise FileFormatError(f"{path}: not a neuro {kind} file (bad magic)")
    if header.get("kind") != kind:
        raise FileFormatError(f"{path}: expected a neuro {kind} file, found a {header.get('kind')!r} file")
    version = header.get("version")
    if not isinstance(version, int) or version > max_version or version < 1:
        raise FileFormatError(
            f"{path}: {kind} format version {version!r} is not supported (this neuro reads 1..{max_version})"
        )
    stored = header.pop("checksum", None)
    if stored != checksum(header, arrays):
        raise FileFormatError(f"{path}: checksum mismatch, the file is corrupt")
    header["checksum"] = stored
    return header, arrays

"""Damage files on purpose, to test that loaders refuse them."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

_LOCAL_HEADER_BYTES = 30  # fixed part of a zip local file header (APPNOTE 4.3.7)


def _payload_offset(path: Path) -> int | None:
    """Offset of the middle byte of the largest member of a zip file (``None`` if not a zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            member = max(archive.infolist(), key=lambda info: info.compress_size, default=None)
            if member is None or member.compress_size == 0:
                return None
            with path.open("rb") as raw:
                raw.seek(member.header_offset + 26)
                name_length = int.from_bytes(raw.read(2), "little")
                extra_length = int.from_bytes(raw.read(2), "little")
            start = member.header_offset + _LOCAL_HEADER_BYTES + name_length + extra_length
            return start + member.compress_size // 2
    except (zipfile.BadZipFile, OSError):
        return None


def corrupt_file(path: str | os.PathLike[str]) -> Path:
    """Flip every bit of one payload byte of ``path`` in place and return the path.

    In a neuro container (a zip) the byte is in the middle of the largest stored member, i.e. real
    data, so a loader that returns anything must have missed the damage. Bytes of the zip's own
    bookkeeping (local header dates, duplicated sizes) are not payload and are left alone. Any
    other file gets its middle byte flipped.
    """
    path = Path(path)
    data = bytearray(path.read_bytes())
    if not data:
        raise ValueError(f"{path} is empty: nothing to corrupt")
    index = _payload_offset(path)
    if index is None:
        index = len(data) // 2
    data[index] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def truncate_file(path: str | os.PathLike[str], keep_fraction: float = 0.5) -> Path:
    """Cut ``path`` in place to ``keep_fraction`` of its length (a write interrupted half-way)."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path

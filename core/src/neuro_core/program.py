"""``Program``: a chip configuration image, versioned, checksummed, written atomically."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .container import checksum, read_container, write_container
from .errors import FileFormatError

PROGRAM_CONTAINER_VERSION = 1


@dataclass(frozen=True, eq=False)
class Program:
    """The configuration image of one device: what ``neuro_program`` builds and a connection writes.

    Attributes:
        device: the device name it was built for; a connection to any other device refuses it.
        format_version: the plugin's own version of its image layout (bumped when the layout changes).
        arrays: the image: register values and tables, integer or float numpy arrays by name.
        meta: JSON-serialisable facts (variant, dt, channel maps, plugin version, ...).
    """

    device: str
    format_version: int
    arrays: Mapping[str, np.ndarray]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frozen = {}
        for name, value in self.arrays.items():
            array = np.array(value, copy=True)
            array.setflags(write=False)
            frozen[name] = array
        object.__setattr__(self, "arrays", MappingProxyType(frozen))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    def _header(self) -> dict[str, Any]:
        return {"device": self.device, "format_version": self.format_version, "meta": dict(self.meta)}

    @property
    def checksum(self) -> str:
        """SHA-256 of the image (device, format version, meta and arrays)."""
        return checksum(self._header(), self.arrays)

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write atomically; return the checksum."""
        write_container(path, "program", PROGRAM_CONTAINER_VERSION, self._header(), self.arrays)
        return self.checksum

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], device: str | None = None, max_format_version: int | None = None
    ) -> Program:
        """Read a Program; refuse a corrupt or truncated file, one for another ``device``, or one
        whose image format is newer than ``max_format_version``.

        Raises:
            FileFormatError: naming the file and what is wrong with it.
        """
        header, arrays = read_container(path, "program", PROGRAM_CONTAINER_VERSION)
        meta = header["meta"]
        try:
            program = cls(meta["device"], int(meta["format_version"]), arrays, meta["meta"])
        except (KeyError, TypeError, ValueError) as exc:
            raise FileFormatError(f"{path}: malformed program header ({exc})") from exc
        if device is not None and program.device != device:
            raise FileFormatError(f"{path}: this Program is for device {program.device!r}, not {device!r}")
        if max_format_version is not None and program.format_version > max_format_version:
            raise FileFormatError(
                f"{path}: image format {program.format_version} of {program.device!r} is newer than "
                f"this plugin reads ({max_format_version}); upgrade the plugin"
            )
        return program

    def same_image(self, other: Program) -> bool:
        """True if ``other`` is the same image (compares checksums)."""
        return self.checksum == other.checksum

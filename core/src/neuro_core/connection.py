"""Connections: where a Program runs. ``VirtualChip`` is the default stand-in for one physical chip.

A connection is used in order: ``write(program)`` (validated first, then read back and verified),
then any number of ``run(inputs)``, then ``close()``. Running before writing, writing another
device's Program, or a read-back that differs from what was written is a
:class:`~neuro_core.errors.ChipConnectionError`; a Program that fails validation is refused before
anything reaches the chip.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

import numpy as np

from .errors import ChipConnectionError
from .program import Program
from .results import SimResult
from .target import Target


class Connection(ABC):
    """The interface of every connection, virtual or real (vendor SDK adapters implement it too)."""

    def __init__(self, target: Target, chip_id: int = 0) -> None:
        self.target = target
        self.chip_id = int(chip_id)
        self._closed = False
        self._written: Program | None = None

    @property
    def device(self) -> str:
        """The device name this connection talks to."""
        return self.target.name

    def write(self, program: Program) -> None:
        """Validate ``program``, write it, read it back and verify it is identical.

        Raises:
            ChipConnectionError: closed connection, another device's Program, or read-back mismatch.
            ProgrammingError: the plugin's validation refused the image (nothing was written).
        """
        self._check_open()
        if program.device != self.device:
            raise ChipConnectionError(
                f"this Program was built for device {program.device!r}; the connection is to {self.device!r}"
            )
        self.validate(program)
        self._write(program)
        readback = self.read()
        if not readback.same_image(program):
            self._written = None
            raise ChipConnectionError(
                f"read-back verification failed on {self.device!r} chip {self.chip_id}: "
                f"wrote {program.checksum[:12]}, read {readback.checksum[:12]}"
            )
        self._written = program

    def read(self) -> Program:
        """Read the configuration back from the chip."""
        self._check_open()
        return self._read()

    def run(self, inputs: np.ndarray, record: bool = False) -> SimResult:
        """Run the written Program on ``inputs`` (batch, time, channels) or (time, channels).

        Raises:
            ChipConnectionError: nothing has been written yet, or the connection is closed.
        """
        self._check_open()
        if self._written is None:
            raise ChipConnectionError(f"nothing written to {self.device!r} chip {self.chip_id}: call write() first")
        x = np.asarray(inputs)
        if x.ndim == 2:
            x = x[None]
        return self._run(self._written, x, record)

    def close(self) -> None:
        """Release the chip. Idempotent."""
        self._closed = True

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ChipConnectionError(f"the connection to {self.device!r} chip {self.chip_id} is closed")

    def validate(self, program: Program) -> None:  # noqa: B027 - optional hook for subclasses
        """Refuse an image the chip cannot hold (raise ProgrammingError). Default: accept."""

    @abstractmethod
    def _write(self, program: Program) -> None: ...

    @abstractmethod
    def _read(self) -> Program: ...

    @abstractmethod
    def _run(self, program: Program, inputs: np.ndarray, record: bool) -> SimResult: ...


class VirtualChip(Connection):
    """A software stand-in for one physical chip.

    Its configuration memory holds a serialised copy of the written image, so ``read`` returns what
    the "chip" holds, not the caller's object. Analog plugins derive the chip's frozen mismatch from
    ``chip_id``, so the same ``chip_id`` is always the same chip. Subclasses implement
    :meth:`execute` (usually a call into the plugin's simulator) and may override
    :meth:`validate`.
    """

    def __init__(self, target: Target, chip_id: int = 0) -> None:
        super().__init__(target, chip_id)
        self._memory: tuple[str, int, dict[str, bytes], dict[str, tuple[str, tuple[int, ...]]], dict] | None = None

    def _write(self, program: Program) -> None:
        blobs = {k: np.ascontiguousarray(v).tobytes() for k, v in program.arrays.items()}
        layout = {k: (v.dtype.str, v.shape) for k, v in program.arrays.items()}
        self._memory = (program.device, program.format_version, blobs, layout, dict(program.meta))

    def _read(self) -> Program:
        if self._memory is None:
            raise ChipConnectionError(f"{self.device!r} chip {self.chip_id} holds no configuration")
        device, version, blobs, layout, meta = self._memory
        arrays = {k: np.frombuffer(blobs[k], dtype=np.dtype(dt)).reshape(shape) for k, (dt, shape) in layout.items()}
        return Program(device, version, arrays, meta)

    def _run(self, program: Program, inputs: np.ndarray, record: bool) -> SimResult:
        return self.execute(self._read(), inputs, record)

    @abstractmethod
    def execute(self, program: Program, inputs: np.ndarray, record: bool) -> SimResult:
        """Run ``program`` as this chip instance would; ``inputs`` is (batch, time, channels)."""

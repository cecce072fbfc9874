"""Connections: order of use, device checks, validation before writing, read-back verification."""

from __future__ import annotations

import neuro_core
import numpy as np
import pytest
from core_helpers import lif_chain, spike_inputs
from neuro_core import ChipConnectionError, Program, ProgrammingError, SimResult, Target, VirtualChip
from neuro_core.ideal import ideal_target


class CountingChip(VirtualChip):
    """Returns zeros of the input's shape; counts runs; refuses programs whose meta says so."""

    runs = 0

    def validate(self, program: Program) -> None:
        if program.meta.get("refuse"):
            raise ProgrammingError("this image does not fit the chip")

    def execute(self, program: Program, inputs: np.ndarray, record: bool) -> SimResult:
        CountingChip.runs += 1
        return SimResult(self.device, 1e-3, np.zeros_like(inputs, dtype=float))


class ForgetfulChip(CountingChip):
    """A chip whose memory loses a bit: read-back differs from what was written."""

    def _read(self) -> Program:
        image = super()._read()
        arrays = {k: np.asarray(v) + 1 for k, v in image.arrays.items()}
        return Program(image.device, image.format_version, arrays, image.meta)


def target(name: str = "ideal") -> Target:
    return ideal_target() if name == "ideal" else Target(name, "x", "digital", 1, 1)


def image(device: str = "ideal", **meta: object) -> Program:
    return Program(device, 1, {"w": np.arange(4)}, meta)


def test_run_before_write_is_an_error() -> None:
    chip = CountingChip(target())
    with pytest.raises(ChipConnectionError, match=r"nothing written to 'ideal' chip 0: call write\(\) first"):
        chip.run(np.zeros((1, 2, 3)))


def test_write_then_run_and_read_back() -> None:
    chip = CountingChip(target(), chip_id=3)
    program = image()
    chip.write(program)
    assert chip.read().same_image(program)
    assert chip.read() is not program  # the chip holds its own copy of the image
    result = chip.run(np.zeros((4, 2)))  # (time, channels) is one sample
    assert result.outputs.shape == (1, 4, 2)


def test_another_devices_program_is_refused_before_writing() -> None:
    chip = CountingChip(target())
    with pytest.raises(ChipConnectionError, match="built for device 'other'; the connection is to 'ideal'"):
        chip.write(image("other"))
    with pytest.raises(ChipConnectionError, match="call write"):
        chip.run(np.zeros((1, 1, 1)))


def test_validation_refuses_an_image_before_anything_is_written() -> None:
    chip = CountingChip(target())
    with pytest.raises(ProgrammingError, match="does not fit"):
        chip.write(image(refuse=True))
    with pytest.raises(ChipConnectionError, match="holds no configuration"):
        chip.read()


def test_read_back_mismatch_is_detected_and_the_image_not_used() -> None:
    chip = ForgetfulChip(target())
    with pytest.raises(ChipConnectionError, match="read-back verification failed on 'ideal' chip 0"):
        chip.write(image())
    with pytest.raises(ChipConnectionError, match="call write"):
        chip.run(np.zeros((1, 1, 1)))


def test_closed_connection_refuses_everything_and_close_is_idempotent() -> None:
    with CountingChip(target()) as chip:
        chip.write(image())
    chip.close()
    for action in (lambda: chip.write(image()), chip.read, lambda: chip.run(np.zeros((1, 1, 1)))):
        with pytest.raises(ChipConnectionError, match="is closed"):
            action()


def test_ideal_connection_runs_like_the_simulator() -> None:
    device = neuro_core.device("ideal")
    graph = lif_chain()
    program = device.compile(graph)
    x = spike_inputs(graph)
    with device.connect(chip_id=2) as connection:
        connection.write(program)
        ran = connection.run(x)
    assert ran.chip_id == 2
    np.testing.assert_array_equal(ran.outputs, device.simulate(program, x).outputs)
    with pytest.raises(ChipConnectionError, match="only the 'virtual' backend"):
        device.connect(backend="samna")

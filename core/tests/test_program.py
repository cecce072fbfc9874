"""Program files: round trip, refusal of corrupt/truncated/other-device/newer files, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from neuro_core import FileFormatError, Graph, Program
from neuro_core.testing import corrupt_file, truncate_file


def make_program(device: str = "chip-a", version: int = 2) -> Program:
    return Program(
        device,
        version,
        {"weights": np.arange(12, dtype=np.int8).reshape(3, 4), "thresholds": np.array([100, 200], dtype=np.int16)},
        {"dt": 1e-3, "channels": [0, 1, 2]},
    )


def test_round_trip_keeps_arrays_dtypes_meta_and_checksum(tmp_path: Path) -> None:
    program = make_program()
    checksum = program.save(tmp_path / "p.prog")
    assert checksum == program.checksum
    loaded = Program.load(tmp_path / "p.prog", device="chip-a", max_format_version=2)
    assert loaded.same_image(program) and loaded.checksum == checksum
    assert loaded.arrays["weights"].dtype == np.int8
    np.testing.assert_array_equal(loaded.arrays["weights"], program.arrays["weights"])
    assert dict(loaded.meta) == {"dt": 1e-3, "channels": [0, 1, 2]}
    assert (loaded.device, loaded.format_version) == ("chip-a", 2)


def test_checksum_changes_with_any_part_of_the_image() -> None:
    base = make_program()
    assert not base.same_image(make_program(device="chip-b"))
    assert not base.same_image(make_program(version=3))
    changed = Program("chip-a", 2, {**base.arrays, "thresholds": np.array([100, 201], dtype=np.int16)}, base.meta)
    assert not base.same_image(changed)
    retyped = Program("chip-a", 2, {**base.arrays, "thresholds": np.array([100, 200], dtype=np.int32)}, base.meta)
    assert not base.same_image(retyped)


def test_program_is_immutable() -> None:
    program = make_program()
    with pytest.raises(ValueError, match="read-only"):
        program.arrays["weights"][0, 0] = 1
    with pytest.raises(TypeError):
        program.meta["dt"] = 1.0  # type: ignore[index]


@pytest.mark.parametrize("damage", [corrupt_file, truncate_file])
def test_corrupt_or_truncated_files_are_refused(tmp_path: Path, damage: object) -> None:
    path = tmp_path / "p.prog"
    make_program().save(path)
    damage(path)  # type: ignore[operator]
    with pytest.raises(FileFormatError, match=str(path)):
        Program.load(path)


def test_no_corrupted_byte_ever_yields_a_different_program(tmp_path: Path) -> None:
    # Flip bytes all over the file: loading either fails, or returns exactly the image written
    # (bytes of the zip's own bookkeeping, like the local header's date, carry no data).
    program = make_program()
    path = tmp_path / "p.prog"
    program.save(path)
    data = path.read_bytes()
    refused = 0
    for index in range(0, len(data), 2):
        damaged = bytearray(data)
        damaged[index] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            loaded = Program.load(path)
        except FileFormatError:
            refused += 1
            continue
        assert loaded.same_image(program), f"flipping byte {index} changed the loaded image silently"
    assert refused > len(data) // 2 // 2  # most bytes are payload, and their damage is caught


def test_another_devices_program_is_refused_naming_both(tmp_path: Path) -> None:
    make_program("chip-a").save(tmp_path / "p.prog")
    with pytest.raises(FileFormatError, match="for device 'chip-a', not 'chip-b'"):
        Program.load(tmp_path / "p.prog", device="chip-b")


def test_newer_image_format_is_refused_with_advice(tmp_path: Path) -> None:
    make_program(version=5).save(tmp_path / "p.prog")
    with pytest.raises(FileFormatError, match=r"image format 5 .* newer than this plugin reads \(4\); upgrade"):
        Program.load(tmp_path / "p.prog", max_format_version=4)
    assert Program.load(tmp_path / "p.prog", max_format_version=5).format_version == 5


def test_a_graph_file_is_not_a_program(tmp_path: Path) -> None:
    from core_helpers import lif_chain

    lif_chain().save(tmp_path / "g.ngraph")
    with pytest.raises(FileFormatError, match="expected a neuro program file, found a 'graph' file"):
        Program.load(tmp_path / "g.ngraph")
    make_program().save(tmp_path / "p.prog")
    with pytest.raises(FileFormatError, match="expected a neuro graph file"):
        Graph.load(tmp_path / "p.prog")


def test_a_failed_write_leaves_no_partial_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.prog"
    old = make_program(version=1)
    old.save(path)
    before = path.read_bytes()
    calls = {"n": 0}
    real_write = np.lib.format.write_array

    def fail_on_second_array(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real_write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(np.lib.format, "write_array", fail_on_second_array)
    with pytest.raises(OSError, match="disk full"):
        make_program(version=2).save(path)
    assert path.read_bytes() == before  # the previous file is untouched
    assert sorted(os.listdir(tmp_path)) == ["p.prog"]  # and no temporary file is left behind
    monkeypatch.undo()
    assert Program.load(path).same_image(old)
    with pytest.raises(OSError, match="disk full"):
        monkeypatch.setattr(np.lib.format, "write_array", fail_on_second_array)
        calls["n"] = 0
        make_program().save(tmp_path / "new.prog")
    assert sorted(os.listdir(tmp_path)) == ["p.prog"]  # a new file does not appear half-written


def test_object_arrays_are_refused_so_files_never_hold_code(tmp_path: Path) -> None:
    evil = Program("chip-a", 1, {"x": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(FileFormatError, match="dtype object"):
        evil.save(tmp_path / "evil.prog")
    assert not list(tmp_path.iterdir())

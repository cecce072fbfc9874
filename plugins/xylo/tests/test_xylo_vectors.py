"""The simulator reproduces xylosim's spikes and states on every shipped test vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from neuro_xylo.program import XyloImage
from neuro_xylo.sim import simulate_image

VECTORS = sorted((Path(__file__).parent / "vectors").glob("*.npz"))


def test_vectors_are_shipped() -> None:
    assert len(VECTORS) >= 10
    names = {p.stem for p in VECTORS}
    assert {"input_cap_and_shift", "spike_cap_carries_charge", "sign_rule_decay", "alias_chain"} <= names


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_simulator_matches_vector(path: Path) -> None:
    data = np.load(path, allow_pickle=False)
    assert str(data["generator"]).startswith("xylosim")
    image = XyloImage.build(**{k.removeprefix("image."): data[k] for k in data.files if k.startswith("image.")})
    run = simulate_image(image, data["inputs"][None], record=True)
    got = {"output_spikes": run.output_spikes[0], "hidden_spikes": run.hidden_spikes[0]}
    got.update({k: v[0] for k, v in run.states.items()})
    expected = {k.removeprefix("expected."): data[k] for k in data.files if k.startswith("expected.")}
    assert set(expected) == set(got)
    for name, want in expected.items():
        np.testing.assert_array_equal(got[name], want, err_msg=f"{path.stem}: {name}")

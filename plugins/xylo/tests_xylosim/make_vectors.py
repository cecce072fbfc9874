"""Write the bit-exactness test vectors in ../tests/vectors/ from SynSense's xylosim.

Run from the repository root, with xylosim installed (``pip install xylosim``)::

    python plugins/xylo/tests_xylosim/make_vectors.py

Each ``.npz`` (written with ``np.savez``, read with ``allow_pickle=False``) holds the image arrays
(``image.<name>``), the input raster ``inputs`` (time, n_in) and xylosim's spikes and states
(``expected.<name>``, (time, n)), plus ``generator`` (the xylosim version) and ``about``.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from neuro_xylo.program import XyloImage  # noqa: E402
from random_images import random_image  # noqa: E402
from xylosim_driver import run_xylosim  # noqa: E402

OUT = HERE.parent / "tests" / "vectors"


def handmade() -> dict[str, tuple[XyloImage, np.ndarray, str]]:
    """Small configurations that each isolate one convention."""
    cases = {}

    def image(**kw: object) -> XyloImage:
        n_hid = len(kw.get("threshold", [100]))  # type: ignore[arg-type]
        base = {
            "w_in": np.zeros((1, n_hid, 1)),
            "w_rec": np.zeros((n_hid, n_hid, 1)),
            "w_out": np.zeros((n_hid, 1)),
            "weight_shift": [0, 0, 0],
            "dash_mem": np.full(n_hid, 1),
            "dash_syn": np.full((n_hid, 1), 1),
            "threshold": np.full(n_hid, 100),
            "bias": np.zeros(n_hid),
            "alias": np.full(n_hid, -1),
            "dash_mem_out": [1],
            "dash_syn_out": [1],
            "threshold_out": [100],
            "bias_out": [0],
        }
        base.update(kw)
        return XyloImage.build(**base)

    cases["input_cap_and_shift"] = (
        image(w_in=np.full((1, 1, 1), 127), weight_shift=[5, 0, 0], threshold=[32767]),
        np.array([[40], [0], [3], [0], [0]]),
        "40 input events are capped at 15; weights are shifted left by 5; the synaptic state saturates at 32767",
    )
    cases["spike_cap_carries_charge"] = (
        image(w_in=np.full((1, 1, 1), 127), weight_shift=[7, 0, 0], threshold=[1], dash_mem=[15], dash_syn=[[15]]),
        np.array([[1], [0], [0], [0]]),
        "threshold 1: 31 spikes per step at most, the rest of v stays for the next steps",
    )
    cases["sign_rule_decay"] = (
        image(w_in=np.full((1, 1, 1), -5), dash_mem=[15], dash_syn=[[15]], threshold=[1000]),
        np.array([[1], [0], [0], [0], [0], [0], [0]]),
        "dash 15: x >> 15 is 0 or -1; a positive value decays by 1, a negative by -1 (arithmetic shift)",
    )
    cases["readout_one_step_later"] = (
        image(w_in=np.full((1, 1, 1), 100), w_out=np.full((1, 1), 120), threshold=[10], threshold_out=[1]),
        np.array([[1], [0], [0], [0]]),
        "a hidden spike at step t reaches the readout at step t+1",
    )
    cases["alias_chain"] = (
        image(
            w_in=np.array([[[60], [0], [0]]]),
            threshold=[10, 1000, 1000],
            alias=[2, -1, 1],
        ),
        np.array([[1], [0], [0]]),
        "neuron 0 aliases onto 2, 2 onto 1 (lower index: added after 1 has evolved)",
    )
    return cases


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    generator = f"xylosim {version('xylosim')}"
    cases = handmade()
    for seed in (0, 3, 7, 11, 19, 23, 42, 64):
        image, inputs = random_image(seed)
        cases[f"random_seed{seed}"] = (image, inputs, f"tests_xylosim/random_images.py random_image({seed})")
    for name, (image, inputs, about) in cases.items():
        expected = run_xylosim(image, inputs)
        payload = {f"image.{k}": v for k, v in image.arrays().items()}
        payload.update({f"expected.{k}": v for k, v in expected.items()})
        payload["inputs"] = np.asarray(inputs, np.int64)
        payload["generator"] = np.array(generator)
        payload["about"] = np.array(about)
        np.savez(OUT / f"{name}.npz", **payload)
        print(f"wrote {name}.npz ({about})")


if __name__ == "__main__":
    main()

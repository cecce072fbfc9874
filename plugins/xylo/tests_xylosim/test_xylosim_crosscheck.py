"""Randomized bit-exactness cross-check against SynSense's xylosim (tox env ``xylosim``).

200 random configurations (random_images.py): 1 and 2 synaptic states, saturation, spike caps,
dashes 0..15, recurrence, biases, aliases, input counts above the cap. Spikes and every state must
match xylosim exactly on every step.
"""

from __future__ import annotations

import numpy as np
import pytest
from neuro_xylo.sim import simulate_image
from random_images import random_image

pytest.importorskip("xylosim.v2", reason="the cross-check needs SynSense's xylosim: pip install xylosim")
from xylosim_driver import run_xylosim

N_CONFIGS = 200


def test_two_hundred_random_configurations_match_xylosim_exactly() -> None:
    mismatches = []
    covered = {"two_synapses": 0, "saturation": 0, "spike_cap": 0, "recurrent_spikes": 0, "input_cap": 0, "dash0": 0}
    for seed in range(N_CONFIGS):
        image, inputs = random_image(seed)
        reference = run_xylosim(image, inputs)
        ours = simulate_image(image, inputs[None], record=True)
        got = {"output_spikes": ours.output_spikes[0], "hidden_spikes": ours.hidden_spikes[0]}
        got.update({k: v[0] for k, v in ours.states.items()})
        assert set(got) == set(reference)
        for name, want in reference.items():
            if not np.array_equal(got[name], want):
                mismatches.append((seed, name))
        covered["two_synapses"] += image.n_syn == 2
        covered["saturation"] += bool(
            np.abs(reference["hidden.isyn"]).max(initial=0) >= 32767
            or np.abs(reference["hidden.v"]).max(initial=0) >= 32767
        )
        covered["spike_cap"] += bool((reference["hidden_spikes"] == 31).any())
        covered["recurrent_spikes"] += bool(image.w_rec.any() and reference["hidden_spikes"].any())
        covered["input_cap"] += bool((inputs > 15).any())
        covered["dash0"] += bool((image.dash_syn == 0).any() or (image.dash_mem == 0).any())
    assert mismatches == [], f"{len(mismatches)} mismatching (seed, signal): {mismatches[:10]}"
    for feature, count in covered.items():
        assert count >= 20, f"only {count} of {N_CONFIGS} configurations exercise {feature}: {covered}"

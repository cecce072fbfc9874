"""Drive SynSense's xylosim (``xylosim.v2``) directly with a neuro-xylo image.

This is the reference the bit-exactness cross-check compares against. It builds the xylosim layer
the way Rockpool's ``XyloSim.from_specification`` does (synapse lists per pre-neuron, syn-0 targets
then syn-1 targets, readout from the last ``n_oen`` hidden neurons), without importing Rockpool.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from neuro_xylo.program import XyloImage


def build_layer(image: XyloImage) -> tuple[Any, list[Any]]:
    """A ``xylosim.v2.XyloLayer`` holding ``image``, and the synapse objects it points to (keep both alive)."""
    from xylosim.v2 import XyloLayer, XyloSynapse

    keep: list[Any] = []  # xylosim stores raw pointers to the synapse objects: keep them alive

    def synapse_lists(weights: np.ndarray) -> list[list[Any]]:
        lists = []
        for pre in range(weights.shape[0]):
            row = []
            for syn in range(weights.shape[2]):
                for post in np.flatnonzero(weights[pre, :, syn]):
                    row.append(XyloSynapse(int(post), int(syn), int(weights[pre, post, syn])))
            lists.append(row)
        keep.append(lists)
        return lists

    n_hid = image.n_hidden
    w_out = np.zeros((n_hid, image.n_out, 1), np.int64)
    w_out[n_hid - image.n_oen :, :, 0] = image.w_out
    layer = XyloLayer(
        synapses_in=synapse_lists(np.asarray(image.w_in, np.int64)),
        synapses_rec=synapse_lists(np.asarray(image.w_rec, np.int64)),
        synapses_out=synapse_lists(w_out),
        aliases=[[int(a)] if a >= 0 else [] for a in image.alias],
        threshold=[int(v) for v in image.threshold],
        threshold_out=[int(v) for v in image.threshold_out],
        has_bias=bool(np.any(image.bias != 0) or np.any(image.bias_out != 0)),
        bias=[int(v) for v in image.bias],
        bias_out=[int(v) for v in image.bias_out],
        weight_shift_inp=int(image.weight_shift[0]),
        weight_shift_rec=int(image.weight_shift[1]),
        weight_shift_out=int(image.weight_shift[2]),
        dash_mem=[int(v) for v in image.dash_mem],
        dash_mem_out=[int(v) for v in image.dash_mem_out],
        dash_syns=[[int(v) for v in row] for row in image.dash_syn],
        dash_syns_out=[[int(v)] for v in image.dash_syn_out],
        name="neuro-xylo-crosscheck",
    )
    return layer, keep


def run_xylosim(image: XyloImage, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Run one sample (time, n_in) through xylosim; return spikes and states as int64 arrays (time, n)."""
    layer, _synapses = build_layer(image)  # the synapses must outlive evolve()
    n_hid = image.n_hidden
    out = np.array(layer.evolve([[int(v) for v in row] for row in np.asarray(inputs)]), np.int64)
    steps = len(inputs)
    result = {
        "output_spikes": out.reshape(steps, image.n_out),
        "hidden_spikes": np.array(layer.rec_recurrent_spikes, np.int64).reshape(steps, n_hid),
        "hidden.v": np.array(layer.rec_v_mem, np.int64).reshape(n_hid, steps).T,
        "hidden.isyn": np.array(layer.rec_i_syn, np.int64).reshape(n_hid, steps).T,
        "output.v": np.array(layer.rec_v_mem_out, np.int64).reshape(image.n_out, steps).T,
        "output.isyn": np.array(layer.rec_i_syn_out, np.int64).reshape(image.n_out, steps).T,
    }
    if image.n_syn > 1:
        result["hidden.isyn2"] = np.array(layer.rec_i_syn2, np.int64).reshape(n_hid, steps).T
    return result

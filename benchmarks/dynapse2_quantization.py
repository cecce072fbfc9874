"""DYNAP-SE2 weight quantization: the autoencoder of Cakal et al. 2024 vs exact mask search.

Per core the chip holds four base weight currents and every synapse a 4-bit mask selecting a sum
of them. The same trained networks (plain BPTT and mismatch-noise training, both tasks of
``neuro_dynapse2.tasks``: delayed_cue, cue_accumulation) are quantized with both methods (``neuro_dynapse2.quantize``);
reported: the per-core relative RMS reconstruction error, the quantization time, and the
deployed accuracy on the nominal chip and over virtual chips (chip_id 0..N-1, mean and 5th
percentile), against the float model's accuracy.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Section, main
from neuro_dynapse2.quantize import METHODS as QUANTIZERS
from neuro_dynapse2.robust import QUICK, RECIPES, TASKS, deployed_accuracies, task_data, train
from neuro_dynapse2.tasks import predictions


def run(quick: bool = False) -> Section:
    """Quantize trained networks with both methods and deploy them."""
    torch.set_num_threads(1)
    n_chips = 2 if quick else 30
    rows = []
    for task in TASKS:
        recipe = QUICK if quick else RECIPES[task]
        x, y, xt, yt, window = task_data(task, recipe)
        for training in ("bptt", "noise"):
            model = train(training, x, y, window, recipe, seed=0)
            with torch.no_grad():
                float_accuracy = float(
                    (predictions(model(torch.as_tensor(xt, dtype=torch.float32)).numpy(), window) == yt).mean()
                )
            for quantizer in QUANTIZERS:
                start = time.perf_counter()
                nominal, report = deployed_accuracies(model, xt, yt, window, [None], method=quantizer)
                seconds = time.perf_counter() - start
                per_chip, _ = deployed_accuracies(model, xt, yt, window, list(range(n_chips)), method=quantizer)
                rows.append(
                    {
                        "task": task,
                        "training": training,
                        "quantizer": quantizer,
                        "weight_error": max(core["error"] for core in report["quantization"]),
                        "seconds": seconds,
                        "float_model": float_accuracy,
                        "nominal_chip": float(nominal[0]),
                        "chips_mean": float(per_chip.mean()),
                        "chips_p5": float(np.percentile(per_chip, 5)),
                    }
                )
    return Section(
        name="dynapse2_quantization",
        title="DYNAP-SE2: weight quantizers (autoencoder vs exact mask search)",
        command="python benchmarks/dynapse2_quantization.py",
        rows=rows,
        notes=[
            "weight_error: largest per-core normalised RMS error ||w - w_hat|| / ||w|| of the 4-base + mask code.",
            "Chips: the neuro-dynapse2 simulator with per-chip frozen 15 % mismatch (modelled); a sample with no or "
            "tied output spikes in the readout window counts as wrong.",
            "seconds includes compiling and one nominal simulation of the test set.",
            "float_model: the trained DynapseModel before quantization (nominal parameters), read by spike counts.",
        ],
    )


if __name__ == "__main__":
    main(run)

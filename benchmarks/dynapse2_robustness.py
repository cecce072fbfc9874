"""DYNAP-SE2: one trained network deployed to many virtual chips, four training methods compared.

For each of two tasks that need temporal memory (``neuro_dynapse2.tasks``: ``delayed_cue``,
``cue_accumulation``) the same network (8 inputs -> 48 recurrent DPI neurons -> 2 output neurons) is
trained four ways (``neuro_dynapse2.robust``: plain BPTT, mismatch-noise injection, adversarial
parameter attack, and the network-level "mimic" method of Buchel et al. 2021), then deployed
through the whole toolchain (to_graph -> quantize (exact search) -> map -> program) and run by
the faithful simulator on 100 virtual chips (chip_id 0..99, each with its own frozen mismatch
of every bias current and every synapse, at 15 % and 20 %: the middle and the top of the issue's
10-20 % range) and on the nominal chip. Reported: accuracy on the nominal chip, mean, 5th
percentile and minimum over the chips (held-out samples; a sample with no or tied output spikes
counts as wrong), and each robust method's lead over plain BPTT with a 95 % paired-bootstrap
interval over the chips.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Section, main
from neuro_dynapse2.robust import METHODS, QUICK, RECIPES, TASKS, deployed_accuracies, task_data, train

MISMATCH_LEVELS = (0.15, 0.2)


def run(quick: bool = False) -> Section:
    """Train every method on every task and deploy to the virtual chips."""
    torch.set_num_threads(1)
    n_chips = 3 if quick else 100
    rows = []
    per_chip_accuracy: dict[tuple[str, str, str], np.ndarray] = {}  # (task, level, method) -> (chips,)
    for task in TASKS:
        recipe = QUICK if quick else RECIPES[task]
        x, y, xt, yt, window = task_data(task, recipe)
        for method in METHODS:
            model = train(method, x, y, window, recipe, seed=0)
            nominal, report = deployed_accuracies(model, xt, yt, window, [None])
            for sigma in MISMATCH_LEVELS:
                per_chip, _ = deployed_accuracies(model, xt, yt, window, list(range(n_chips)), mismatch_sigma=sigma)
                per_chip_accuracy[task, f"{sigma:.0%}", method] = per_chip
                rows.append(
                    {
                        "task": task,
                        "method": method,
                        "mismatch": f"{sigma:.0%}",
                        "nominal": float(nominal[0]),
                        "chips": n_chips,
                        "mean": float(per_chip.mean()),
                        "p5": float(np.percentile(per_chip, 5)),
                        "min": float(per_chip.min()),
                        "weight_error": max(core["error"] for core in report["quantization"]),
                    }
                )
    return Section(
        name="dynapse2_robustness",
        title="DYNAP-SE2: accuracy over 100 virtual chips (device mismatch) by training method",
        command="python benchmarks/dynapse2_robustness.py",
        rows=rows,
        notes=[
            *_versus_bptt(per_chip_accuracy),
            "Virtual chips: the neuro-dynapse2 simulator with a frozen per-chip mismatch p -> p (1 + sigma N(0,1)) "
            "of every bias current of every neuron circuit and every synapse weight (chip_id = seed; the same "
            "deviates at both levels); sigma is modelled (issue #5, Cakal et al. 2024), not measured. Noise "
            "injection trains with the Target's 15 % at both levels.",
            "Data and budgets (neuro_dynapse2.robust.RECIPES): "
            + "; ".join(
                f"{task}: {r.train_samples} training / {r.test_samples} held-out samples, {r.epochs} epochs, "
                f"hidden synapses {r.synapse_tau * 1e3:g} ms"
                for task, r in RECIPES.items()
            )
            + ".",
            "Chance is 0.5; no or tied output spikes in the readout window count as wrong.",
            "weight_error: largest per-core normalised RMS error ||w - w_hat|| / ||w|| of the 4-base + mask code.",
            "The nominal chip has identical output neurons, so ties (counted wrong) are more frequent there than on "
            "mismatched chips: nominal accuracy can be below the chips' mean.",
            "BPTT methods are trained on the output membrane current (see neuro_dynapse2.robust); "
            "the deployed chip is read by spike counts.",
        ],
    )


BOOTSTRAP_RESAMPLES = 2000


def _p5(accuracy: np.ndarray, axis: int | None = None) -> np.ndarray:
    return np.percentile(accuracy, 5, axis=axis)


def _versus_bptt(per_chip_accuracy: dict[tuple[str, str, str], np.ndarray]) -> list[str]:
    """One line per task and level: each robust method's mean / 5th-percentile lead over plain BPTT,
    with a 95 % interval from a paired bootstrap over the chips (both networks run on the same chips,
    so the chips are resampled together; a 5th percentile over 100 chips rests on about five)."""
    rng = np.random.default_rng(0)
    lines = []
    for task, level in dict.fromkeys((task, level) for task, level, _ in per_chip_accuracy):
        plain = per_chip_accuracy[task, level, "bptt"]
        resamples = rng.integers(0, len(plain), size=(BOOTSTRAP_RESAMPLES, len(plain)))
        leads = []
        for (t, lv, method), accuracy in per_chip_accuracy.items():
            if (t, lv) != (task, level) or method == "bptt":
                continue
            figures = []
            for statistic in (np.mean, _p5):
                lead = statistic(accuracy) - statistic(plain)
                spread = statistic(accuracy[resamples], axis=1) - statistic(plain[resamples], axis=1)
                low, high = np.percentile(spread, [2.5, 97.5])
                figures.append(f"{lead:+.3f} [{low:+.3f}, {high:+.3f}]")
            leads.append(f"{method} " + " / ".join(figures))
        lines.append(
            f"{task}, {level} mismatch, lead over plain BPTT (mean / p5, 95 % paired-bootstrap interval over the "
            "chips): " + ", ".join(leads) + "."
        )
    return lines


if __name__ == "__main__":
    main(run)

"""Train one network for every DYNAP-SE2 chip: plain BPTT against the network-level (mimic) method.

    python examples/dynapse2_robust.py            # about 6 minutes on one CPU core
    python examples/dynapse2_robust.py --quick    # seconds: checks the pipeline runs (figures meaningless)

Each method trains the same network (8 inputs -> 48 recurrent DPI neurons -> 2 outputs) on
``cue_accumulation`` (report which side got more of five cues, 50 ms after the last), then deploys it
through the whole toolchain (quantize -> map -> program) to virtual chips, each with its own frozen
20 % mismatch of every bias current and synapse, and prints the accuracy over the chips.
``benchmarks/dynapse2_robustness.py`` is the full comparison (four methods, 100 chips, two levels).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from neuro_dynapse2.robust import QUICK, RECIPES, deployed_accuracies, task_data, train


def compare(
    methods: tuple[str, ...] = ("bptt", "mimic"), chips: int = 20, quick: bool = False
) -> dict[str, np.ndarray]:
    """Accuracy per chip (chips,) of each method's network on held-out samples at 20 % mismatch."""
    torch.set_num_threads(1)  # the runs are deterministic at a fixed thread count
    recipe = QUICK if quick else RECIPES["cue_accumulation"]
    x, y, x_test, y_test, window = task_data("cue_accumulation", recipe)
    results = {}
    for method in methods:
        model = train(method, x, y, window, recipe, seed=0)
        # chip_ids 0.. are the benchmark's chips; any integer names another chip
        results[method], _ = deployed_accuracies(model, x_test, y_test, window, list(range(chips)), mismatch_sigma=0.2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and budget: a smoke run")
    parser.add_argument("--chips", type=int, default=20, help="virtual chips to deploy to")
    args = parser.parse_args()
    for method, accuracy in compare(chips=2 if args.quick else args.chips, quick=args.quick).items():
        print(
            f"{method:>6}: mean {accuracy.mean():.3f}, 5th percentile {np.percentile(accuracy, 5):.3f}, "
            f"worst {accuracy.min():.3f} over {len(accuracy)} chips at 20 % mismatch"
        )


if __name__ == "__main__":
    main()

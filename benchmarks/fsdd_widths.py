"""FSDD validation folds: networks at two front-end widths, alone and combined.

Every seed ensemble of the 32-channel recipe saturates at about three networks (``fsdd_validation.py``:
five seeds were no better than three). Networks fed by a different cochlear front end (16 channels:
filters twice as wide, a +-1 channel training shift of the same +-1.5 ERB) seem to err on other
words: their read-outs average to more than more seeds of one width do. This weighs that on the
validation folds of ``fsdd_validation.py`` (george never used): the 32-channel recipe with three
and with six seeds, the recipe at 16 channels with three, and three of each width combined, for two
disjoint draws of the 32-channel seeds (0-2 and 3-5), so a six-network ensemble of one width is the
control of the same size. All ensembles are shift-averaged as in ``fsdd_seeds.py``. Label smoothing
0.1 (ahead of the recipe at 32 channels on both folds in ``fsdd_validation.py``, generator revision 2)
is weighed here at both widths and in the combined ensemble.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported: OpenMP reads these once
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import FSDD_CHANNELS, FSDD_IMPROVED, Task
from fsdd_validation import Networks, fold_notes, recipe_variant, rows_on_folds
from harness import Section, main
from neuro_core.datasets.speech import GENERATOR_REVISION

NARROW = 16  # channels of the second front end
LABEL_SMOOTHING = "label smoothing 0.1"  # a variant of fsdd_validation.recipe_variant


def _width_recipe(variant: str, speaker: str) -> Task:
    """Variant ``"<width>"`` (the recipe at that many channels) or ``"<width>, <fsdd_validation variant>"``,
    validating on ``speaker`` (variants are names: they are sent to the worker processes)."""
    width, _, change = variant.partition(", ")
    return recipe_variant(change or "recipe", speaker, int(width))


def _seeds(width: int, seeds: range, change: str = "") -> Networks:
    return tuple((f"{width}, {change}" if change else str(width), seed) for seed in seeds)


ROWS: tuple[tuple[str, Networks], ...] = (
    (f"{FSDD_CHANNELS} ch, seeds 0-2", _seeds(FSDD_CHANNELS, range(3))),
    (f"{FSDD_CHANNELS} ch, seeds 3-5", _seeds(FSDD_CHANNELS, range(3, 6))),
    (f"{FSDD_CHANNELS} ch, seeds 0-5", _seeds(FSDD_CHANNELS, range(6))),
    (f"{NARROW} ch, seeds 0-2", _seeds(NARROW, range(3))),
    (
        f"{FSDD_CHANNELS} ch seeds 0-2 + {NARROW} ch seeds 0-2",
        _seeds(FSDD_CHANNELS, range(3)) + _seeds(NARROW, range(3)),
    ),
    (
        f"{FSDD_CHANNELS} ch seeds 3-5 + {NARROW} ch seeds 0-2",
        _seeds(FSDD_CHANNELS, range(3, 6)) + _seeds(NARROW, range(3)),
    ),
    (f"{FSDD_CHANNELS} ch, {LABEL_SMOOTHING}, seeds 0-2", _seeds(FSDD_CHANNELS, range(3), LABEL_SMOOTHING)),
    (f"{NARROW} ch, {LABEL_SMOOTHING}, seeds 0-2", _seeds(NARROW, range(3), LABEL_SMOOTHING)),
    (
        f"{FSDD_CHANNELS} ch + {NARROW} ch, {LABEL_SMOOTHING}, seeds 0-2",
        _seeds(FSDD_CHANNELS, range(3), LABEL_SMOOTHING) + _seeds(NARROW, range(3), LABEL_SMOOTHING),
    ),
)


def run(quick: bool = False) -> Section:
    """Every group on both validation folds; one row per (group, fold)."""
    rows, workers = rows_on_folds(_width_recipe, ROWS, quick)
    return Section(
        name="fsdd_widths",
        speech_revision=GENERATOR_REVISION,
        title="FSDD validation folds (george unused): ensembles across two front-end widths",
        command="python benchmarks/fsdd_widths.py",
        rows=rows,
        notes=[
            f"Recipe: accuracy.py's '{FSDD_IMPROVED}', and the same at {NARROW} ch (the shipped {NARROW}-channel "
            "synthetic voices, a +-1 channel training shift).",
            "Shift-averaged: each read-out averaged over the validation set moved by every channel shift of its "
            f"network's training augmentation (-2..2 at {FSDD_CHANNELS} ch, -1..1 at {NARROW} ch).",
            *fold_notes(workers),
        ],
    )


if __name__ == "__main__":
    main(run)

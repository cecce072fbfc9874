"""FSDD validation folds (george unused): self-training on the held-out speaker's unlabelled words.

``fsdd_adapted.py``'s protocol on the validation folds of ``fsdd_validation.py`` (train on two of
jackson / nicolas / theo plus every synthetic voice, validate on the third; george never used). Its
settings were fixed before this run, and so was the rule for running the test folds: the
self-trained six-network ensemble, shift-averaged, ahead of both the unadapted ensemble and the
control on each validation fold.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported: OpenMP reads these once
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import Task
from fsdd_adapted import SPLIT_SEEDS, adaptation_rows, protocol_notes
from fsdd_validation import VALIDATION_SPEAKERS, fold_notes, recipe_variant
from harness import Section, main
from neuro_core.datasets.speech import GENERATOR_REVISION


def validation_recipe(speaker: str, width: int) -> Task:
    """The recipe at ``width`` channels validating on ``speaker`` (george unused)."""
    return recipe_variant("recipe", speaker, width)


def run(quick: bool = False) -> Section:
    """Both validation folds, each network unadapted, after the control and after self-training."""
    rows, notes, workers = adaptation_rows(validation_recipe, VALIDATION_SPEAKERS, SPLIT_SEEDS[:1], quick)
    return Section(
        name="fsdd_adapted_validation",
        speech_revision=GENERATOR_REVISION,
        title="FSDD validation folds (george unused): self-training on the held-out speaker's unlabelled words",
        command="python benchmarks/fsdd_adapted_validation.py",
        rows=rows,
        notes=[
            *protocol_notes(),
            "'none' is fsdd_widths.py's networks (the 32 ch and 16 ch recipes, seeds 0-2): its rows equal that "
            "benchmark's on the same CPU.",
            *notes,
            *fold_notes(workers),
        ],
    )


if __name__ == "__main__":
    main(run)

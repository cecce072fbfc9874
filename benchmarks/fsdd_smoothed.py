"""FSDD, one speaker held out: ``fsdd_seeds.py``'s test folds with label smoothing 0.1 in training.

Label smoothing (the cross-entropy's targets mixed with the uniform distribution, weight 0.1) was
not kept on generator-revision-1 voices; on revision 2 it is ahead of the recipe on both
validation folds, at 32 channels (``fsdd_validation.py``) and in the combined ensemble of both widths
(``fsdd_widths.py``). This is the test run of that choice: everything as in ``fsdd_seeds.py`` (the
recipe at 32 and 16 channels, seeds 0-2, each width's ensemble and the six networks combined, plain
and shift-averaged), with ``Task.label_smoothing = 0.1``. Read it beside ``fsdd_seeds.py``: the
networks differ only in the loss.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported: OpenMP reads these once
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fsdd_seeds import lever_test_run
from harness import Section, main

LABEL_SMOOTHING = 0.1


def run(quick: bool = False) -> Section:
    """Every test fold at each width, three seeds each, their combination, and the mean over the folds."""
    return lever_test_run(
        "fsdd_smoothed",
        {"label_smoothing": LABEL_SMOOTHING},
        f"label smoothing {LABEL_SMOOTHING}",
        "the validation folds (fsdd_validation.py, fsdd_widths.py)",
        quick,
    )


if __name__ == "__main__":
    main(run)

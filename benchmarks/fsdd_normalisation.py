"""FSDD validation folds: speaker normalisation of the real recordings, at three strengths.

FSDD's speakers were recorded on different microphones: averaged over all their words, george's
32-channel cochleagram is about 0.7 log2 units weaker than the others' in the lowest two channels and
up to 0.5 stronger in the highest (``datasets.fsdd_channel_profiles``). Per-utterance equalisation
removed that but also each word's own spectrum and lowered accuracy (``accuracy.py``'s notes).
Speaker normalisation averages the profile over many words of one speaker, which keeps the words
apart: every real speaker's compressed channels are multiplied by ``(reference / profile) ** s``,
the reference being the training speakers' geometric-mean profile (``accuracy.speaker_gains``). The
held-out speaker's profile is measured on its unlabelled words (all 500 here): a calibration a
device would make on a new user's first words, and a different protocol from the plain recipe's, so
its figures are reported apart. The synthetic voices are left as they are.

Weighed on the validation folds of ``fsdd_validation.py`` (george never used): the recipe at
strengths 0 (the recipe itself), 0.5 and 1, three seeds each, shift-averaged as in ``fsdd_seeds.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported: OpenMP reads these once
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import FSDD_IMPROVED, Task, fsdd_recipe
from fsdd_validation import UNUSED, Networks, fold_notes, rows_on_folds
from harness import Section, main
from neuro_core.datasets.speech import GENERATOR_REVISION

STRENGTHS = ("0", "0.5", "1")  # exponents s of the speaker normalisation (decimal strings: variants are names)


def _normalised_recipe(strength: str, speaker: str) -> Task:
    """The recipe with speaker normalisation of ``strength``, validating on ``speaker``."""
    return fsdd_recipe(speaker, unused=UNUSED, normalisation=float(strength))


ROWS: tuple[tuple[str, Networks], ...] = tuple(
    (f"s = {strength}" + (" (the recipe)" if strength == "0" else ""), tuple((strength, seed) for seed in range(3)))
    for strength in STRENGTHS
)


def run(quick: bool = False) -> Section:
    """Every strength on both validation folds; one row per (strength, fold)."""
    rows, workers = rows_on_folds(_normalised_recipe, ROWS, quick)
    return Section(
        name="fsdd_normalisation",
        speech_revision=GENERATOR_REVISION,
        title="FSDD validation folds (george unused): speaker normalisation of the real recordings",
        command="python benchmarks/fsdd_normalisation.py",
        rows=rows,
        notes=[
            f"Recipe: accuracy.py's '{FSDD_IMPROVED}'; speaker normalisation multiplies each real speaker's "
            "compressed cochlear channels by (reference / profile) ** s: profile = the speaker's channel levels "
            "averaged over its words (datasets.fsdd_channel_profiles), reference = the training speakers' "
            "geometric mean; the validation speaker's profile from its 500 unlabelled words. Synthetic voices "
            "unchanged.",
            "Seeds 0-2 per strength, their ensemble shift-averaged (-2..2 channels) as in fsdd_seeds.py.",
            *fold_notes(workers),
        ],
    )


if __name__ == "__main__":
    main(run)

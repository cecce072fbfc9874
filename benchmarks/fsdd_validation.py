"""FSDD validation folds: the variants of the spiking recipe weighed before (and after) its test run.

The test folds of ``fsdd_seeds.py`` are reported once; its choices (three seeds, their ensemble,
shift-averaged tests) and the levers tried after its test run are weighed here, on validation folds
that never see george: train on two of jackson / nicolas / theo (plus every synthetic voice, as in
the recipe), validate on the third. Two folds are run (validating on jackson and on nicolas).
Earlier choices (front-end width, copies, epochs) are listed in ``accuracy.py``'s notes.

Each variant changes one thing in ``accuracy.FSDD_IMPROVED``'s training and is scored the way
``fsdd_seeds.py`` scores the recipe: per seed, their mean, and the ensemble of the seeds' read-outs,
each plain and shift-averaged (the read-out averaged over the validation set moved by every channel
shift the variant's training augmentation draws, ``shift_channels``).

Networks train in parallel processes (one per core, one torch thread each), so a network's figures
do not depend on the machine's core count.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported: OpenMP reads these once
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import FSDD_CHANNELS, FSDD_IMPROVED, Task, fsdd_augment, fsdd_recipe
from fsdd_folds import columns, train_in_parallel
from harness import Section, main
from neuro_core.datasets import SpikeAugment, SpikeData
from neuro_core.datasets.speech import GENERATOR_REVISION

VALIDATION_SPEAKERS = ("jackson", "nicolas")
UNUSED = ("george",)  # the test-only speaker: never trained or validated on here
WIDE_SHIFT = 2 * fsdd_augment(FSDD_CHANNELS).channel_shift  # channels: twice the recipe's training shift


@dataclass(frozen=True)
class MaskedAugment(SpikeAugment):
    """SpikeAugment followed by SpecAugment-style masks (Park et al. 2019): in each sample, the events
    of one band of up to ``band`` channels and of one window of up to ``window`` seconds are removed
    (widths and positions uniform per sample)."""

    band: int = 0
    window: float = 0.0

    def __call__(self, data: SpikeData, seed: int) -> SpikeData:
        out = super().__call__(data, seed)
        rng = np.random.default_rng([seed, 7])  # its own stream: the base transforms draw as without masks
        n, duration = len(out), float(out.duration or 0.0)
        band_width = rng.integers(0, self.band, n, endpoint=True)
        band_start = rng.integers(0, out.n_channels, n)
        window_width = rng.uniform(0, self.window, n)
        window_start = rng.uniform(0, duration, n)
        sample = np.repeat(np.arange(n), np.diff(out.offsets))
        in_band = (out.units >= band_start[sample]) & (out.units < band_start[sample] + band_width[sample])
        in_window = (out.times >= window_start[sample]) & (out.times < window_start[sample] + window_width[sample])
        keep = ~(in_band | in_window)
        offsets = np.concatenate([[0], np.cumsum(np.bincount(sample[keep], minlength=n))])
        return replace(out, times=out.times[keep], units=out.units[keep], offsets=offsets)


def recipe_variant(name: str, speaker: str, channels: int = FSDD_CHANNELS) -> Task:
    """Training variant ``name`` of the recipe at ``channels`` channels, validating on ``speaker``."""
    recipe = fsdd_recipe(speaker, channels, unused=UNUSED)
    assert recipe.augmentation is not None
    if name == "recipe":
        return recipe
    if name == f"training channel shift +-{WIDE_SHIFT}":
        return replace(recipe, augmentation=replace(recipe.augmentation, channel_shift=WIDE_SHIFT))
    if name == "label smoothing 0.1":
        return replace(recipe, label_smoothing=0.1)
    if name == "SpecAugment masks (4 channels, 100 ms)":
        return replace(recipe, augmentation=MaskedAugment(**asdict(recipe.augmentation), band=4, window=0.1))
    if name == "cosine lr schedule":
        return replace(recipe, lr_schedule="cosine")
    raise KeyError(name)


#: A table row's networks: (variant, seed) pairs; rows sharing a variant and seed share its network.
Networks = tuple[tuple[str, int], ...]

ROWS: tuple[tuple[str, Networks], ...] = (
    ("recipe, seeds 0-2", tuple(("recipe", seed) for seed in range(3))),
    ("recipe, seeds 0-4", tuple(("recipe", seed) for seed in range(5))),
    *(
        (name, tuple((name, seed) for seed in range(3)))
        for name in (
            f"training channel shift +-{WIDE_SHIFT}",
            "label smoothing 0.1",
            "SpecAugment masks (4 channels, 100 ms)",
            "cosine lr schedule",
        )
    ),
)


def rows_on_folds(
    build: Callable[[str, str], Task], groups: Sequence[tuple[str, Networks]], quick: bool
) -> tuple[list[dict[str, Any]], int]:
    """One row per (group, validation fold): ``build(variant, speaker)`` trained with each seed of the
    group, scored by ``fsdd_folds.columns`` (per-seed columns left empty where variants mix). Quick
    runs train the first seed of each variant in a group. Returns the rows and the number of worker processes."""
    if quick:  # the first network of each variant in a group
        groups = [(label, tuple({variant: (variant, seed) for variant, seed in reversed(networks)}.values()))
                  for label, networks in groups]  # fmt: skip
    jobs = sorted({((variant, speaker), seed) for _, networks in groups for variant, seed in networks
                   for speaker in VALIDATION_SPEAKERS})  # fmt: skip
    scored, workers = train_in_parallel(build, jobs, quick)
    rows: list[dict[str, Any]] = []
    for label, networks in groups:
        mixed = len({variant for variant, _ in networks}) > 1
        for speaker in VALIDATION_SPEAKERS:
            group = [scored[(variant, speaker, seed)] for variant, seed in networks]
            rows.append({"variant": label, "validation speaker": speaker, **columns(group, per_seed=not mixed)})
            print(rows[-1], file=sys.stderr, flush=True)
    return rows, workers


def fold_notes(workers: int) -> list[str]:
    """Notes every validation table shares."""
    return [
        f"Folds: train on two of jackson / nicolas / theo plus every synthetic voice, validate on the "
        f"third; {' and '.join(UNUSED)} never used, so fsdd_seeds.py's test folds stay unseen.",
        f"{workers} worker processes, one torch thread each; 500 validation words per fold: binomial "
        "standard error about 1.7 points. Figures move by about a seed's spread on another CPU "
        "(fsdd_folds.py).",
    ]


def run(quick: bool = False) -> Section:
    """Every variant on both validation folds; one row per (variant, fold)."""
    rows, workers = rows_on_folds(recipe_variant, ROWS, quick)
    return Section(
        name="fsdd_validation",
        speech_revision=GENERATOR_REVISION,
        title="FSDD validation folds (george unused): variants of the spiking recipe",
        command="python benchmarks/fsdd_validation.py",
        rows=rows,
        notes=[
            f"Recipe: accuracy.py's '{FSDD_IMPROVED}'; each variant changes one thing in it.",
            "Shift-averaged: the read-out averaged over the validation set moved by every channel shift of the "
            "variant's training augmentation (-2..2, or -4..4 for the wider shift).",
            *fold_notes(workers),
        ],
    )


if __name__ == "__main__":
    main(run)

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

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import FSDD_CHANNELS, FSDD_IMPROVED, TASKS, Task, fit_task, fsdd
from harness import Section, main
from neuro_core.datasets import SpikeAugment, SpikeData, shift_channels

VALIDATION_SPEAKERS = ("jackson", "nicolas")
UNUSED = ("george",)  # the test-only speaker: never trained or validated on here


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


def _recipe() -> Task:
    return next(task for task in TASKS if task.name == FSDD_IMPROVED)


def _variants() -> dict[str, Task]:
    """Training variants of the recipe (each on the data of whichever fold it is run on)."""
    recipe = _recipe()
    assert recipe.augmentation is not None
    reach = recipe.augmentation.channel_shift
    return {
        "recipe": recipe,
        f"training channel shift +-{2 * reach}": replace(
            recipe, augmentation=replace(recipe.augmentation, channel_shift=2 * reach)
        ),
        "label smoothing 0.1": replace(recipe, label_smoothing=0.1),
        "SpecAugment masks (4 channels, 100 ms)": replace(
            recipe, augmentation=MaskedAugment(**asdict(recipe.augmentation), band=4, window=0.1)
        ),
    }


#: (row label, training variant, seeds); rows sharing a variant and seed share its network.
ROWS = (
    ("recipe, seeds 0-2", "recipe", (0, 1, 2)),
    ("recipe, seeds 0-4", "recipe", (0, 1, 2, 3, 4)),
    *((name, name, (0, 1, 2)) for name in list(_variants())[1:]),
)


def _train_one(variant: str, speaker: str, seed: int, quick: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train ``variant`` validating on ``speaker`` with ``seed``: (plain logits, shift-averaged logits,
    labels) of the validation set, logits (samples, classes)."""
    torch.set_num_threads(1)
    base = _variants()[variant]
    task = replace(base, data=fsdd(speaker, FSDD_CHANNELS, unused=UNUSED))
    fitted = fit_task(task, quick, seed)
    x, y = fitted.test.tensors(task.dt, fitted.duration)
    assert task.augmentation is not None
    reach = task.augmentation.channel_shift
    views = [shift_channels(fitted.test, k).tensors(task.dt, fitted.duration)[0] for k in range(-reach, reach + 1)]
    averaged = torch.stack([fitted.trainer.predict(v) for v in views]).mean(dim=0)
    return fitted.trainer.predict(x).numpy(), averaged.numpy(), y.numpy()


def _top1(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((logits.argmax(axis=1) == labels).mean())


def run(quick: bool = False) -> Section:
    """Every variant on both validation folds; one row per (variant, fold)."""
    rows_spec = [(label, variant, seeds[:1] if quick else seeds) for label, variant, seeds in ROWS]
    jobs = sorted({(variant, speaker, seed) for _, variant, seeds in rows_spec for seed in seeds
                   for speaker in VALIDATION_SPEAKERS})  # fmt: skip
    workers = min(len(jobs), os.cpu_count() or 1)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {job: pool.submit(_train_one, *job, quick) for job in jobs}
        results = {job: future.result() for job, future in futures.items()}
    rows: list[dict[str, Any]] = []
    for label, variant, seeds in rows_spec:
        for speaker in VALIDATION_SPEAKERS:
            outputs = [results[(variant, speaker, seed)] for seed in seeds]
            labels = outputs[0][2]
            row: dict[str, Any] = {"variant": label, "validation speaker": speaker}
            for name, column in (("", 0), ("shift-averaged ", 1)):
                per_seed = [_top1(out[column], labels) for out in outputs]
                row[name + "per seed"] = " / ".join(f"{a:.3f}" for a in per_seed)
                row[name + "seed mean"] = float(np.mean(per_seed))
                row[name + "ensemble"] = _top1(np.mean([out[column] for out in outputs], axis=0), labels)
            rows.append(row)
            print(rows[-1], file=sys.stderr, flush=True)
    return Section(
        name="fsdd_validation",
        title="FSDD validation folds (george unused): variants of the spiking recipe",
        command="python benchmarks/fsdd_validation.py",
        rows=rows,
        notes=[
            f"Folds: train on two of jackson / nicolas / theo plus every synthetic voice, validate on the "
            f"third; {' and '.join(UNUSED)} never used, so fsdd_seeds.py's test folds stay unseen.",
            f"Recipe: accuracy.py's '{FSDD_IMPROVED}'; each variant changes one thing in it.",
            "Shift-averaged: the read-out averaged over the validation set moved by every channel shift of the "
            "variant's training augmentation (-2..2, or -4..4 for the wider shift).",
            f"{workers} worker processes, one torch thread each (a network's figures do not depend on the count); "
            "500 validation words per fold: binomial standard error about 1.7 points.",
        ],
    )


if __name__ == "__main__":
    main(run)

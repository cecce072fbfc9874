"""FSDD, one speaker held out, then adapted to that speaker by self-training on its unlabelled words.

A speaker-adaptive protocol, reported apart from the plain leave-one-speaker-out figure of
``fsdd_seeds.py`` (like the calibration of ``fsdd_calibrated.py``): a device that meets a new user
hears some of the user's words, never their labels, and adapts before it is scored on other words.

Per fold, the recipe of ``fsdd_seeds.py`` (three seeds at each of two front-end widths) is trained as
there. The held-out speaker's 500 words are then split at random (seeded, labels never read) into
two halves. For each half, the six networks' shift-averaged ensemble reads out the *other* half (the
enrolment words); the most confident ``KEEP`` of the words in each predicted class become
pseudo-labelled training words (``neuro_core.training.pseudo_labels``), augmented like the real
recordings; every network is fine-tuned on its training set plus those words and scored on the
half it has not seen. So each word is scored once, by networks adapted on the speaker's other
words only. The control fine-tunes every network the same way without the speaker's words (is
the gain the speaker's words, or only more training?).

The settings (``KEEP``, ``ADAPT_EPOCHS``, ``ADAPT_LR``) and the rule for running the test folds
(the self-trained six-network ensemble ahead of the unadapted one and of the control on both
validation folds, shift-averaged) were fixed before any run; ``fsdd_adapted_validation.py`` is that
validation run. The test folds were first run with split 0 alone (0.8565); since that lay within one
standard error of the target, a second split (1) was added, and the target is judged on the mean
of the two splits' figures, a rule fixed before split 1 was run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported: OpenMP reads these once
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import sys
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import (
    FSDD_IMPROVED,
    FSDD_SPEAKERS,
    Task,
    TrainingSet,
    fsdd_recipe,
    train_network,
    training_set,
)
from fsdd_folds import Scored, in_workers, read_out, test_fold_rows
from fsdd_seeds import SEEDS, WIDTHS
from harness import Section, main
from neuro_core.datasets import SpikeData, augment
from neuro_core.datasets.speech import GENERATOR_REVISION
from neuro_core.training import Trainer, pseudo_labels

KEEP = 0.6  # of the enrolment words in each predicted class kept as pseudo-labelled training words
ADAPT_EPOCHS = 1  # of fine-tuning on the training set plus the pseudo-labelled words
ADAPT_LR = 1e-3  # Adam, constant: half the recipe's lr
#: Seeds of the random halves of the held-out speaker's words: the test folds are adapted once per
#: split (split 0 is the one validated; split 1 measures how much the figure depends on the draw).
SPLIT_SEEDS = (0, 1)

#: One fold's read-outs of its held-out speaker: adaptation ("none", "control", and one per split,
#: :func:`self_trained`) -> {(width, seed): Scored over every word of the speaker}; and the
#: pseudo-labels' precision per split and half (the first half's enrolment words, then the second's).
FoldScores = tuple[dict[str, dict[tuple[int, int], Scored]], dict[int, list[float]]]


def self_trained(split: int, splits: Sequence[int]) -> str:
    """The adaptation label of self-training on ``split`` (with the split named where there are several)."""
    return "self-trained" if len(splits) == 1 else f"self-trained, split {split}"


def halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random halves of ``range(n)`` (sorted index arrays), drawn from ``seed``."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2 :])


def fine_tune(trainer: Trainer, task: Task, data: TrainingSet, quick: bool, seed: int) -> Trainer:
    """A copy of ``trainer``'s network fine-tuned on ``data``'s training set (fresh Adam at ``ADAPT_LR``,
    constant, ``ADAPT_EPOCHS``)."""
    tuning = replace(task, lr=ADAPT_LR, epochs=ADAPT_EPOCHS, lr_schedule="constant")
    return train_network(tuning, data, quick, seed, start=trainer.model.state_dict()).trainer


def adapt_fold(build: Callable[[str, int], Task], speaker: str, widths: Sequence[int], seeds: Sequence[int],
               splits: Sequence[int], quick: bool) -> FoldScores:  # fmt: skip
    """Train ``build(speaker, width)`` with every seed, then read out the held-out speaker unadapted,
    after the control fine-tuning and after self-training on each split (the module docstring)."""
    tasks = {width: build(speaker, width) for width in widths}
    sets = {width: (task, training_set(task, quick)) for width, task in tasks.items()}
    trainers = {(width, seed): train_network(*sets[width], quick, seed).trainer for width in widths for seed in seeds}
    scores: dict[str, dict[tuple[int, int], Scored]] = {"none": {}, "control": {}}
    for (width, seed), trainer in trainers.items():
        task, data = sets[width]
        scores["none"][(width, seed)] = read_out(trainer, task, data.test, data.duration)
        control = fine_tune(trainer, task, data, quick, seed)
        scores["control"][(width, seed)] = read_out(control, task, data.test, data.duration)
    teacher = np.mean([scored.shifted for scored in scores["none"].values()], axis=0)
    words = sets[widths[0]][1].test  # the held-out speaker (the same words at every width)
    precision: dict[int, list[float]] = {}
    for split in splits:
        # per half: the enrolment words (the other half) the teacher labels with confidence, and their labels
        pseudo = [
            (enrolment, *pseudo_labels(teacher[enrolment], KEEP)) for enrolment in halves(len(words), split)[::-1]
        ]
        precision[split] = [
            float((words.labels[enrolment[kept]] == labels).mean()) for enrolment, kept, labels in pseudo
        ]
        adaptation = scores.setdefault(self_trained(split, splits), {})
        for width in widths:
            task, data = sets[width]
            adapted_sets = []
            for enrolment, kept, labels in pseudo:
                chosen = replace(data.test.subset(enrolment[kept]), labels=labels)
                if task.augmentation is not None and task.copies:  # augmented like the real recordings
                    chosen = augment(chosen, task.augmentation, task.copies, seed=2)
                adapted_sets.append(replace(data, train=SpikeData.concatenate([data.train, chosen])))
            for seed in seeds:
                plain, shifted = np.zeros_like(teacher), np.zeros_like(teacher)
                for (enrolment, _, _), adapted in zip(pseudo, adapted_sets, strict=True):
                    scored = np.setdiff1d(np.arange(len(words)), enrolment)  # the half not used to adapt
                    tuned = fine_tune(trainers[(width, seed)], task, adapted, quick, seed)
                    half = read_out(tuned, task, data.test.subset(scored), data.duration)
                    plain[scored], shifted[scored] = half.plain, half.shifted
                adaptation[(width, seed)] = Scored(plain, shifted, data.test.labels)
    return scores, precision


def adaptation_rows(
    build: Callable[[str, int], Task], speakers: Sequence[str], splits: Sequence[int], quick: bool
) -> tuple[list[dict[str, Any]], list[str], int]:
    """Every fold of ``speakers`` adapted on each of ``splits`` in its own worker (:func:`adapt_fold`;
    quick runs: one seed): the table rows of each adaptation (``fsdd_folds.test_fold_rows``), a note on
    the pseudo-labels, and the number of worker processes."""
    seeds = SEEDS[:1] if quick else SEEDS
    jobs = {speaker: (build, speaker, WIDTHS, seeds, splits, quick) for speaker in speakers}
    folds, workers = in_workers(adapt_fold, jobs)
    rows: list[dict[str, Any]] = []
    for adaptation in ("none", "control", *(self_trained(split, splits) for split in splits)):
        scored: dict[tuple[Hashable, ...], Scored] = {
            (speaker, width, seed): folds[speaker][0][adaptation][(width, seed)]
            for speaker in speakers
            for width in WIDTHS
            for seed in seeds
        }
        rows += test_fold_rows(scored, WIDTHS, {"adaptation": adaptation})
    notes = []
    for split in splits:
        precision = ", ".join(
            f"{speaker} {' / '.join(f'{p:.3f}' for p in folds[speaker][1][split])}" for speaker in speakers
        )
        where = "" if len(splits) == 1 else f", split {split}"
        notes.append(f"Precision of the pseudo-labels per half{where} (labels read for this figure only): {precision}.")
    return rows, notes, workers


def protocol_notes() -> list[str]:
    """Notes the test and the validation run share."""
    return [
        f"Networks: accuracy.py's '{FSDD_IMPROVED}' and the same at 16 ch, seeds {SEEDS} (as fsdd_seeds.py); "
        "'none': unadapted.",
        "'self-trained': the held-out speaker's words split into two random halves (labels never read); for "
        "each half, the six networks' shift-averaged ensemble labels the other half, the most confident "
        f"{KEEP:.0%} of each predicted class are kept (neuro_core.training.pseudo_labels) and augmented like "
        f"the real recordings, every network is fine-tuned on its training set plus those words ({ADAPT_EPOCHS} "
        f"epoch, Adam at lr {ADAPT_LR:g}) and scored on the half it has not seen.",
        "'control': the same fine-tuning without the speaker's words, scored on all of them.",
    ]


def run(quick: bool = False) -> Section:
    """The four test folds, each network unadapted, after the control and after self-training."""
    rows, notes, workers = adaptation_rows(fsdd_recipe, FSDD_SPEAKERS, SPLIT_SEEDS, quick)
    ensembles = [row["shift-averaged ensemble"] for row in rows if row["adaptation"].startswith("self-trained")
                 and row["network"].endswith("networks)") and row["held-out speaker"].startswith("mean")]  # fmt: skip
    notes.append(
        "Self-trained six-network ensemble, shift-averaged, mean of the 4 folds, per split: "
        f"{' / '.join(f'{value:.4f}' for value in ensembles)}; their mean {np.mean(ensembles):.4f} (the figure "
        "the target is judged on, fixed before split 1 was run)."
    )
    return Section(
        name="fsdd_adapted",
        speech_revision=GENERATOR_REVISION,
        title="FSDD, one speaker held out, adapted to that speaker by self-training on its unlabelled words",
        command="python benchmarks/fsdd_adapted.py",
        rows=rows,
        notes=[
            *protocol_notes(),
            "'none' is fsdd_seeds.py's networks: its rows equal that benchmark's on the same CPU.",
            *notes,
            f"{workers} worker processes (one fold each), one torch thread each; figures move by about a seed's "
            "spread on another CPU (fsdd_folds.py).",
            "A speaker-adaptive protocol (the held-out speaker's unlabelled words are used), reported apart from "
            "the plain leave-one-speaker-out figure; target (issue 3): >= 85 %.",
        ],
    )


if __name__ == "__main__":
    main(run)

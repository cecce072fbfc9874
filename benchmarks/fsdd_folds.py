"""FSDD fold networks trained in parallel and scored plain and shift-averaged.

Shared by ``fsdd_seeds.py`` (test folds) and ``fsdd_validation.py`` (validation folds). Each network
trains in its own process with one torch thread, so its figures do not depend on how many cores
the machine has (they do depend on the CPU: float kernels differ between instruction sets, and a
network trained on another machine ends a few points apart, as a seed does).

Shift-averaged: a network's read-out averaged over the test set moved by every channel shift its
training augmentation draws (``shift_channels``; -2..2 at 32 channels, about +-1.5 ERB of
vocal-tract length), which marginalises over the unseen speaker's vocal tract.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from accuracy import FSDD_SPEAKERS, Task, fit_task
from neuro_core.datasets import SpikeData, shift_channels
from neuro_core.training import Trainer


@dataclass(frozen=True)
class Scored:
    """One trained network's read-out of its test set."""

    plain: np.ndarray  # (samples, classes) time-averaged logits
    shifted: np.ndarray  # (samples, classes) the same, averaged over the training channel shifts
    labels: np.ndarray  # (samples,) int


def read_out(trainer: Trainer, task: Task, test: SpikeData, duration: float, shift_average: bool = True) -> Scored:
    """``trainer``'s network read out on ``test`` (padded to ``duration`` s), plain and shift-averaged
    over every channel shift of ``task``'s training augmentation (``shift_average=False``: plain only,
    ``shifted`` is the plain read-out)."""
    x, y = test.tensors(task.dt, duration)
    reach = task.augmentation.channel_shift if task.augmentation is not None and shift_average else 0
    views = [shift_channels(test, k).tensors(task.dt, duration)[0] for k in range(-reach, reach + 1)]
    shifted = torch.stack([trainer.predict(view) for view in views]).mean(dim=0)
    return Scored(trainer.predict(x).numpy(), shifted.numpy(), y.numpy())


def score(task: Task, quick: bool, seed: int, shift_average: bool = True) -> Scored:
    """Train ``task`` with ``seed`` and read its test set out (:func:`read_out`)."""
    fitted = fit_task(task, quick, seed)
    return read_out(fitted.trainer, task, fitted.test, fitted.duration, shift_average)


def _one_thread(function: Callable[..., Any], *args: Any) -> Any:
    torch.set_num_threads(1)
    return function(*args)


def in_workers(
    function: Callable[..., Any], jobs: Mapping[Hashable, tuple[Any, ...]]
) -> tuple[dict[Hashable, Any], int]:
    """``function(*args)`` for every ``key: args`` of ``jobs``, in worker processes (one per core, one
    torch thread each). ``function`` and the Task builders among ``args`` are module-level functions
    (they are sent to the workers by name; the Tasks' data loaders are closures and are built there).
    Returns ``{key: result}`` and the number of worker processes."""
    workers = min(len(jobs), os.cpu_count() or 1)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {key: pool.submit(_one_thread, function, *args) for key, args in jobs.items()}
        return {key: future.result() for key, future in futures.items()}, workers


def _build_and_score(build: Callable[..., Task], args: tuple[Any, ...], seed: int, quick: bool, shift: bool) -> Scored:
    return score(build(*args), quick, seed, shift)


def train_in_parallel(
    build: Callable[..., Task],
    jobs: Sequence[tuple[tuple[Any, ...], int]],
    quick: bool,
    shift_average: bool = True,
) -> tuple[dict[tuple[Hashable, ...], Scored], int]:
    """Score ``build(*args)`` trained with ``seed`` for every ``(args, seed)`` of ``jobs`` (:func:`in_workers`;
    ``shift_average``: as :func:`score`). Returns ``{(*args, seed): Scored}`` and the number of worker processes."""
    return in_workers(
        _build_and_score, {(*args, seed): (build, args, seed, quick, shift_average) for args, seed in jobs}
    )


def top1(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of samples whose largest logit is their label."""
    return float((logits.argmax(axis=1) == labels).mean())


def columns(networks: Sequence[Scored], per_seed: bool = True) -> dict[str, Any]:
    """Table columns of a group of networks on one fold: per network, their mean and their ensemble
    (logits averaged: one spiking network of unconnected blocks and one read-out), plain and
    shift-averaged. ``per_seed=False`` leaves the per-network columns empty (mixed groups)."""
    labels = networks[0].labels
    row: dict[str, Any] = {}
    for prefix, field in (("", "plain"), ("shift-averaged ", "shifted")):
        scores = [top1(getattr(net, field), labels) for net in networks]
        row[prefix + "per seed"] = " / ".join(f"{a:.3f}" for a in scores) if per_seed else ""
        row[prefix + "seed mean"] = float(np.mean(scores)) if per_seed else ""
        row[prefix + "ensemble"] = top1(np.mean([getattr(net, field) for net in networks], axis=0), labels)
    return row


def train_test_folds(
    build: Callable[[str, int], Task], widths: Sequence[int], seeds: Sequence[int], quick: bool
) -> tuple[dict[tuple[Hashable, ...], Scored], int]:
    """``build(speaker, width)`` trained with every seed on each of the four test folds (quick runs:
    the first seed only). Returns ``{(speaker, width, seed): Scored}`` and the number of workers."""
    seeds = seeds[:1] if quick else seeds
    jobs = [((speaker, width), seed) for speaker in FSDD_SPEAKERS for width in widths for seed in seeds]
    return train_in_parallel(build, jobs, quick)


def test_fold_rows(
    scored: Mapping[tuple[Hashable, ...], Scored], widths: Sequence[int], labels: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Table rows of ``train_test_folds``' networks (or any ``{(speaker, width, seed): Scored}``): one
    group per width (its seeds) and one of all widths combined, each with a row per fold and the mean
    over the folds (``columns``); every row starts with ``labels``' columns."""
    speakers = list(dict.fromkeys(key[0] for key in scored))  # (speaker, width, seed) keys
    seeds = sorted({key[2] for key in scored})
    groups = {f"{width} ch, seeds {seeds[0]}-{seeds[-1]}": [(width, seed) for seed in seeds] for width in widths}
    combined = " + ".join(f"{width} ch" for width in widths) + f" ({len(widths) * len(seeds)} networks)"
    groups[combined] = [(width, seed) for width in widths for seed in seeds]
    rows: list[dict[str, Any]] = []
    for network, members in groups.items():
        fold_rows = [
            {
                **(labels or {}),
                "network": network,
                "held-out speaker": speaker,
                **columns([scored[(speaker, width, seed)] for width, seed in members], per_seed=network != combined),
            }
            for speaker in speakers
        ]
        mean_row: dict[str, Any] = {
            **(labels or {}),
            "network": network,
            "held-out speaker": f"mean of the {len(speakers)}",
        }
        for key, value in fold_rows[0].items():
            if isinstance(value, float):
                mean_row[key] = float(np.mean([row[key] for row in fold_rows]))
            elif key not in mean_row:
                mean_row[key] = ""
        rows += [*fold_rows, mean_row]
        print(rows[-1], file=sys.stderr, flush=True)
    return rows

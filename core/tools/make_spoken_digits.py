"""Regenerate the synthetic speech releases shipped in ``neuro_core/datasets/data/``.

Needs the ``espeak-ng`` command (GPL-3.0; run as a separate process, never imported). Deterministic:
the same espeak-ng version and seeds give the same files.

    python core/tools/make_spoken_digits.py                 # both releases into the package
    python core/tools/make_spoken_digits.py --out /tmp/sd --train-voices 120 --test-voices 40 --repeats 8

The shipped release: spoken digits, 120 training voices + 24 test voices (unseen variants) x 10 digits
x 3 utterances = 4,320 samples in 16 channels; the 700-channel file keeps the first 56 training and
16 test voices (2,160 samples) to stay within the size budget of the package; keyword spotting
("aloha" against 12 similar words and noise), 24 + 8 voices x 28 = 896 samples, 16 channels.

Full-size sets at any width outside the package (e.g. for benchmarks) come from
``neuro_core.datasets.speech.cached_spoken_digits``, which runs the same generator and caches its output.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from neuro_core.datasets.speech import SHIPPED, generate_keyword_spotting, generate_spoken_digits
from neuro_core.datasets.spikedata import SpikeData

PACKAGE_DATA = Path(__file__).resolve().parents[1] / "src" / "neuro_core" / "datasets" / "data"


def _progress(label: str) -> Callable[[int, int], None]:
    start = time.perf_counter()

    def report(done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            rate = done / (time.perf_counter() - start)
            print(f"{label}: {done}/{total} ({rate:.1f}/s)", file=sys.stderr, flush=True)

    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=PACKAGE_DATA, help="output folder (default: the package data)")
    parser.add_argument("--train-voices", type=int, default=120)
    parser.add_argument("--test-voices", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3, help="utterances per voice and digit")
    parser.add_argument(
        "--wide-voices",
        type=int,
        nargs=2,
        default=(56, 16),
        metavar=("TRAIN", "TEST"),
        help="the 700-channel release keeps only the first TRAIN training and TEST test voices (file size)",
    )
    parser.add_argument("--kws-train-voices", type=int, default=24)
    parser.add_argument("--kws-test-voices", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("digits", "kws"), help="make one set only")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only != "kws":
        sets = generate_spoken_digits(
            args.train_voices, args.test_voices, args.repeats, args.seed, progress=_progress("digits")
        )
        for channels, data in sets.items():
            if channels > 16:
                data = _first_voices(data, *args.wide_voices)
            path = args.out / f"spoken_digits_{channels}.neuro"
            data.save(path)
            path.chmod(0o644)  # the container is written through mkstemp (0600); package data is world-readable
            print(f"{path}: {data} {path.stat().st_size / 1e6:.2f} MB")
    if args.only != "digits":
        kws = generate_keyword_spotting(
            args.kws_train_voices,
            args.kws_test_voices,
            args.seed + 1,
            configs={16: SHIPPED[16]},
            progress=_progress("kws"),
        )
        data = kws[16]
        path = args.out / "keyword_spotting_16.neuro"
        data.save(path)
        path.chmod(0o644)
        print(f"{path}: {data} {path.stat().st_size / 1e6:.2f} MB, keyword share {np.mean(data.labels):.2f}")


def _first_voices(data: SpikeData, n_train: int, n_test: int) -> SpikeData:
    """The samples of the first ``n_train`` training voices and the first ``n_test`` test voices."""
    is_test = data.extra["is_test"]
    train_voices = np.unique(data.speakers[~is_test])[:n_train]
    test_voices = np.unique(data.speakers[is_test])[:n_test]
    return data.subset(np.nonzero(np.isin(data.speakers, np.concatenate([train_voices, test_voices])))[0])


if __name__ == "__main__":
    main()

"""Adapt a trained spiking network to new voices from their unlabelled words (self-training).

    python examples/self_training.py            # about 30 s on one CPU core
    python examples/self_training.py --quick    # seconds: checks the steps run (figures meaningless)

A network (16 channels -> recurrent LIF -> leaky read-out) is trained on the shipped synthetic
spoken digits' training voices. It then meets the test voices, whose espeak-ng variants it never
heard, as a device meets a new user: words without labels. Their words are split at random in two
halves. The network reads out the first half and labels it itself; ``pseudo_labels`` keeps the most
confident 60 % of each predicted class; the network is fine-tuned on its training set plus those
words and scored on the second half, which it has never seen. Printed beside it: the network before
adaptation, and after the same fine-tuning without the new words (the control). The FSDD benchmark
of this protocol is ``benchmarks/fsdd_adapted.py``.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import torch
from neuro_core import datasets
from neuro_core.datasets import SpikeData
from neuro_core.nn import LI, Linear, Network, RecurrentLIF
from neuro_core.training import Trainer, pseudo_labels

DT = 0.01  # s: 10 ms bins of the 1 ms front-end spikes
KEEP = 0.6  # of each predicted class kept as pseudo-labels


def trained(train: SpikeData, epochs: int, hidden: int, lr: float, state: dict | None = None) -> Trainer:
    """A network trained (from ``state``'s weights, when given) on ``train``, seed 0."""
    torch.manual_seed(0)
    net = Network([RecurrentLIF(train.n_channels, hidden, tau=0.05, dt=DT), Linear(hidden, 10), LI(10, tau=0.1, dt=DT)])
    if state is not None:
        net.load_state_dict(state)
    trainer = Trainer(net, readout="mean", lr=lr, epochs=epochs, seed=0, progress=False)
    trainer.fit(train.as_dataset(DT, 0.8))
    return trainer


def accuracy(trainer: Trainer, data: SpikeData) -> float:
    """Top-1 accuracy of ``trainer``'s network on ``data``."""
    x, y = data.tensors(DT, 0.8)
    return float((trainer.predict(x).argmax(dim=1) == y).float().mean())


def adapt(quick: bool = False) -> dict[str, float]:
    """Accuracy on the unseen half of the new voices' words before adaptation, after the control
    fine-tuning and after self-training, and the precision of the pseudo-labels."""
    torch.set_num_threads(1)  # the run is deterministic at a fixed thread count
    train, new = datasets.load_spoken_digits(16, "train"), datasets.load_spoken_digits(16, "test")
    if quick:
        train, new = train.subset(np.arange(0, len(train), 20)), new.subset(np.arange(0, len(new), 10))
    epochs, hidden = (1, 16) if quick else (15, 64)
    order = np.random.default_rng(0).permutation(len(new))  # labels never read to split
    enrolment, held_out = new.subset(np.sort(order[: len(new) // 2])), new.subset(np.sort(order[len(new) // 2 :]))

    network = trained(train, epochs, hidden, lr=5e-3)
    kept, labels = pseudo_labels(network.predict(enrolment.tensors(DT, 0.8)[0]), keep=KEEP)
    words = replace(enrolment.subset(kept), labels=labels)
    state = network.model.state_dict()
    control = trained(train, 1, hidden, lr=1e-3, state=state)
    adapted = trained(SpikeData.concatenate([train, words]), 1, hidden, lr=1e-3, state=state)
    return {
        "before adaptation": accuracy(network, held_out),
        "control (fine-tuned without the new words)": accuracy(control, held_out),
        "self-trained": accuracy(adapted, held_out),
        "pseudo-label precision": float((enrolment.labels[kept] == labels).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and budget: a smoke run")
    args = parser.parse_args()
    for name, value in adapt(quick=args.quick).items():
        print(f"{name:>44}: {value:.3f}")


if __name__ == "__main__":
    main()

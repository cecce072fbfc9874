"""Trained synaptic delays on Loihi: with vs without delays at equal parameter count, deployed bit-exactly.

Task: SHD-like 700-channel spoken digits (``neuro_core.datasets.load_spoken_digits(channels=700)``,
the shipped release; test voices unseen in training). Inputs are binary spikes (Loihi 1), one step
= ``DT``.

Models (LoihiModel, CUBA LIF in Lava's fixed point, output = spike counts of 10 neurons):
- delays: 700 -> H -> 10 with one learnable delay per synapse (DCLS-style Gaussian taps, sigma
  annealed to 0, then hardened to integers 0..max_delay and fine-tuned quantization-aware);
- no delays: 700 -> 2H -> 10, the same number of trained parameters (weights + delays vs weights);
- delays + pruning: 3 delay slots per synapse trained, then pruned to the strongest 1 per synapse
  and fine-tuned (weights only, hardened delays) for ``FINE_TUNE_EPOCHS``.

Reported: test accuracy of the trained model (quantization-aware, hardened: the chip's arithmetic)
and of the deployed Program in the bit-exact simulator (they must agree: spike for spike), the
synaptic memory the mapper allocates (bits, all cores) and cores used.

Steps are 10 ms and delays reach 250 ms (25 steps), the SHD setting of DCLS-Delays (Hammouamri et
al. 2023); Loihi allows up to 62. The full run trains three 700-channel models on one thread in about
seven minutes; ``--quick`` only proves the script runs.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported: a run repeats with the same count

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import neuro_core
from harness import Section, main
from neuro_core.datasets.speech import GENERATOR_REVISION
from neuro_loihi.model import LoihiModel

CHANNELS, CLASSES = 700, 10
GAINS, WEIGHT_MEAN = (10.0, 5.0), 0.0  # initial weight scale per layer (float units, threshold 1)
LEARNING_RATES = {"weight": 4.0, "position": 1.0}  # Adam, in chip units (weights) and steps (delays)
LOGIT_SCALE = 0.5  # cross-entropy on output spike counts x this
FINE_TUNE_EPOCHS = 5  # after pruning: weights only, delays hardened, the last epoch quantization-aware
DT, MAX_DELAY = 10e-3, 25  # 10 ms steps, delays up to 250 ms: the SHD setting of DCLS-Delays (Hammouamri 2023)


def dataset(quick: bool) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """(name, x_train, y_train, x_test, y_test, dt): binary spikes (N, T, 700) of the shipped spoken digits."""
    from neuro_core.datasets import load_spoken_digits

    n_train, n_test = (80, 40) if quick else (1000, 300)
    train, test = load_spoken_digits(channels=700, split="train"), load_spoken_digits(channels=700, split="test")
    pick = np.random.default_rng(0)
    tr = pick.permutation(len(train))[: min(n_train, len(train))]
    te = pick.permutation(len(test))[: min(n_test, len(test))]
    x_tr = np.minimum(train.dense(DT, indices=tr), 1)
    x_te = np.minimum(test.dense(DT, indices=te), 1)
    return "synthetic spoken digits (700 ch)", x_tr, train.labels[tr], x_te, test.labels[te], DT


def initial_graph(hidden: int, dt: float, seed: int) -> neuro_core.Graph:
    """700 -> hidden -> 10 CUBA LIF float graph to initialise a LoihiModel."""
    rng = np.random.default_rng(seed)
    layers: list = [("in", neuro_core.Input((CHANNELS,)))]
    for k, (n_in, n_out, gain) in enumerate([(CHANNELS, hidden, GAINS[0]), (hidden, CLASSES, GAINS[1])]):
        ones = np.ones(n_out)
        weight = rng.normal(WEIGHT_MEAN, 1.0, (n_out, n_in)) * gain / np.sqrt(n_in)
        layers += [
            (f"fc{k}", neuro_core.Linear(weight)),
            (
                f"lif{k}",
                neuro_core.CubaLIF(r=ones, v_threshold=ones, tau=ones * 5 * dt, tau_syn=ones * 3 * dt, w_in=ones * 2),
            ),
        ]
    layers.append(("out", neuro_core.Output((CLASSES,))))
    return neuro_core.Graph.chain(dt, layers)


def accuracy(counts: np.ndarray, labels: np.ndarray) -> float:
    """Share of samples whose most-spiking output (lowest index on ties) is the label."""
    return float(np.mean(counts.argmax(axis=1) == labels))


def train(model: LoihiModel, x: np.ndarray, y: np.ndarray, epochs: int, learn_delays: bool, seed: int) -> None:
    """Adam on cross-entropy of output spike counts; delays soft then hardened; last epoch quantization-aware."""
    groups: list[dict[str, Any]] = [
        {"params": [layer.synapses.weight for layer in model.stages], "lr": LEARNING_RATES["weight"]}
    ]
    if learn_delays:
        groups.append({"params": [layer.synapses.position for layer in model.stages], "lr": LEARNING_RATES["position"]})
    optimizer = torch.optim.Adam(groups)
    rng = np.random.default_rng(seed)
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    sigma0 = model.stages[0].synapses.max_delay / 4
    for epoch in range(epochs):
        last = epoch == epochs - 1
        if learn_delays:
            if last:
                model.harden()
            else:
                model.set_sigma(max(0.5, sigma0 * (1 - epoch / max(1, epochs - 1))))
        model.quantization_aware = last
        for batch in np.array_split(rng.permutation(len(x)), max(1, len(x) // 32)):
            optimizer.zero_grad()
            counts = model(xt[batch]).sum(dim=1)
            loss = torch.nn.functional.cross_entropy(counts * LOGIT_SCALE, yt[batch])
            loss.backward()
            optimizer.step()
    model.harden()
    model.quantization_aware = True


def evaluate(chip: neuro_core.Device, model: LoihiModel, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Model (chip arithmetic) vs deployed accuracy, spike agreement and mapped resources."""
    with torch.no_grad():
        trained = model(torch.as_tensor(x, dtype=torch.float64)).numpy()
    placement = chip.map(chip.quantize(model.to_graph()))
    deployed = chip.simulate(chip.program(placement), x.astype(np.int64)).outputs
    return {
        "trained acc": accuracy(trained.sum(axis=1), y),
        "deployed acc": accuracy(deployed.sum(axis=1), y),
        "spike mismatches": int(np.sum(trained != deployed)),
        "synapse memory (bits)": int(placement.resources["synapse_memory_bits_total"]),
        "cores": int(placement.resources["cores_used"]),
    }


def run(quick: bool = False) -> Section:
    torch.manual_seed(0)
    chip = neuro_core.device("loihi")
    name, x_tr, y_tr, x_te, y_te, dt = dataset(quick)
    hidden = 16 if quick else 48
    epochs = 2 if quick else 20
    max_delay = min(MAX_DELAY, x_tr.shape[1] // 2)
    rows = []
    configs = [
        ("no delays", 2 * hidden, False, 1),
        ("trained delays", hidden, True, 1),
        ("trained delays, 3 slots", hidden, True, 3),
    ]
    for label, width, learn, slots in configs:
        start = time.perf_counter()
        graph = initial_graph(width, dt, seed=0)
        options: dict[str, Any] = {"learn_delays": learn}
        if learn:
            options.update(max_delay=max_delay, delay_slots=slots, seed=0)
        model = LoihiModel.from_graph(chip.target, graph, **options)
        train(model, x_tr, y_tr, epochs, learn, seed=0)
        params = sum(layer.synapses.weight.numel() * (2 if learn else 1) for layer in model.stages)
        row = {"model": label, "hidden": width, "trained parameters": params, **evaluate(chip, model, x_te, y_te)}
        row["train s"] = time.perf_counter() - start
        rows.append(row)
        if slots > 1:
            start = time.perf_counter()
            report = model.prune_delays(1)
            label = f"{label}, pruned to 1 (slot bits {report['bits_before']} -> {report['bits_after']})"
            rows.append({"model": label, "hidden": width, "trained parameters": params // slots})
            rows[-1].update(evaluate(chip, model, x_te, y_te))
            rows[-1]["train s"] = 0.0
            train(model, x_tr, y_tr, FINE_TUNE_EPOCHS if not quick else 1, learn_delays=False, seed=1)
            rows.append({"model": f"{label}, fine-tuned", "hidden": width, "trained parameters": params // slots})
            rows[-1].update(evaluate(chip, model, x_te, y_te))
            rows[-1]["train s"] = time.perf_counter() - start
    return Section(
        name="loihi_delays",
        speech_revision=GENERATOR_REVISION,
        title="Loihi: trained per-synapse delays vs none (equal parameters), deployed bit-exactly",
        command="python benchmarks/loihi_delays.py",
        rows=rows,
        notes=[
            f"Data: {name}; {len(x_tr)} train / {len(x_te)} test samples, {x_tr.shape[1]} steps of {dt * 1e3:g} ms.",
            f"max_delay {max_delay} steps; {epochs} epochs; the last one quantization-aware with hardened delays; "
            f"torch threads: {torch.get_num_threads()} (OMP_NUM_THREADS).",
            "trained acc: LoihiModel in the chip's integer arithmetic; deployed acc: the compiled Program in the "
            "bit-exact simulator; spike mismatches counts output spikes that differ (0 = agree spike for spike).",
            "Synapse memory is the mapper's allocation (Nengo Loihi's synapse encoding, 6 delay bits per synapse "
            "where a connection has delays); pruning drops the weaker delay slots of every synapse "
            f"(by |weight|); fine-tuning then trains the kept weights for {FINE_TUNE_EPOCHS} epochs.",
        ],
    )


if __name__ == "__main__":
    main(run)

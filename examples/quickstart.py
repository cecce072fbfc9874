"""Quickstart: train a spoken-digit classifier for Xylo Audio 2, deploy it to the virtual chip, measure it.

    python examples/quickstart.py            # a few minutes on 2 CPU cores
    python examples/quickstart.py --quick    # seconds: checks the pipeline runs (figures meaningless)

Steps: load the shipped 16-channel spoken digits (``neuro_core.datasets``, offline; test voices are
unseen in training), keeping the 8 digits "zero".."seven" because Xylo Audio 2 has 8 output neurons
(one per class, the class with most output spikes wins); build a float network 16 -> 64 recurrent
CubaLIF -> 8 CubaLIF outputs; train it on the differentiable Xylo Audio 2 model (``chip.chip_model``)
with the project's Trainer, first in float and then quantization-aware (the model then computes
exactly what the chip computes); compile it (quantize -> map -> program), write it to a virtual Xylo,
run the test set on it and print float accuracy, deployed accuracy, energy per inference and power;
write a raster plot of one deployed test sample to ``quickstart_raster.png``.

``--task kws`` uses the shipped keyword-spotting set ("aloha" vs "other", unseen voices) instead,
trained for more epochs (the set is four times smaller), and also prints the miss and false-alarm
rates of the deployed network.
"""

from __future__ import annotations

import argparse
import struct
import zlib
from pathlib import Path
from typing import Any

import neuro_core
import numpy as np
import torch
from neuro_core.graph import CubaLIF, Graph, Input, Linear, Output
from neuro_core.training import QuantizationAware, Trainer

DEVICE = "xylo-audio2"
DT = 0.01  # s: one chip step per 10 ms bin of events
DASH_MEM, DASH_SYN = 5, 3  # tau_mem = 320 ms, tau_syn = 80 ms (tau = dt * 2**dash on Xylo)
GAIN = 2.0**DASH_MEM * (2.0**DASH_SYN - 1.0)  # steady-state v per unit of weighted input (canonical units)
#: (float, quantization-aware) epochs per task: the kws set has 672 training samples, the digits 2880
EPOCHS = {"digits": (12, 4), "kws": (30, 6)}


def load(task: str, split: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Dense event counts (samples, steps, 16) at DT, labels and class names of the shipped data."""
    from neuro_core import datasets

    data = datasets.load_keyword_spotting(16, split) if task == "kws" else datasets.load_spoken_digits(16, split)
    x, y = data.dense(dt=DT).astype(np.float32), np.asarray(data.labels, np.int64)
    classes = tuple(data.classes)
    if task == "digits":  # Xylo Audio 2 has 8 output neurons: keep 8 classes
        keep = y < 8
        x, y, classes = x[keep], y[keep], classes[:8]
    return x, y, classes


def population(n: int, rng: np.random.Generator, threshold: float = 1.0) -> CubaLIF:
    """CubaLIF neurons in Xylo's canonical form (weights in state units, exact dashes)."""
    return CubaLIF(
        r=np.full(n, 2.0**DASH_MEM),
        v_threshold=threshold * (1.0 + 0.1 * rng.random(n)),
        reset="subtract",
        tau=np.full(n, DT * 2.0**DASH_MEM),
        tau_syn=np.full(n, DT * 2.0**DASH_SYN),
        w_in=np.full(n, 2.0**DASH_SYN - 1.0),
    )


def network(n_in: int, n_hidden: int, n_out: int, seed: int) -> Graph:
    """The float graph: Input -> Linear -> recurrent CubaLIF -> Linear -> CubaLIF -> Output."""
    rng = np.random.default_rng(seed)
    # A steady input x drives v to about GAIN * W x. Units are free (the quantizer rescales), so keep
    # the weights of order 1 (Adam's step size is absolute) and put the thresholds at GAIN instead.
    nodes = {
        "input": Input(shape=(n_in,)),
        "w_in": Linear(rng.normal(0.5, 3.0, (n_hidden, n_in))),
        "hidden": population(n_hidden, rng, GAIN),
        "w_rec": Linear(rng.normal(0.0, 0.5 / np.sqrt(n_hidden), (n_hidden, n_hidden))),
        "w_out": Linear(rng.normal(0.0, 2.0, (n_out, n_hidden))),
        "readout": population(n_out, rng, GAIN),
        "output": Output(shape=(n_out,)),
    }
    edges = [
        ("input", "w_in"), ("w_in", "hidden"), ("hidden", "w_rec"), ("w_rec", "hidden"),
        ("hidden", "w_out"), ("w_out", "readout"), ("readout", "output"),
    ]  # fmt: skip
    return Graph(nodes, tuple(edges), DT)


def accuracy(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 64) -> float:
    """Share of samples whose output spike count is highest for the right class (ties: lowest index)."""
    correct = 0
    with torch.no_grad():
        for start in range(0, len(x), batch):
            counts = model(torch.as_tensor(x[start : start + batch])).sum(dim=1)
            correct += int((counts.argmax(dim=-1).numpy() == y[start : start + batch]).sum())
    return correct / len(x)


def write_raster(path: Path, rows: list[tuple[str, np.ndarray]]) -> Path:
    """A spike raster (time along x, neurons along y; blocks separated by a grey line) as a PNG.

    Uses matplotlib when installed; otherwise a minimal grayscale PNG writer (zlib from the standard
    library), so the example needs no extra dependency.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(len(rows), 1, figsize=(8, 5), sharex=True)
        for axis, (name, raster) in zip(np.atleast_1d(axes), rows, strict=True):
            t, n = np.nonzero(raster)
            axis.scatter(t * DT, n, s=2, c="k")
            axis.set_ylabel(name)
        np.atleast_1d(axes)[-1].set_xlabel("time (s)")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return path
    except ImportError:
        pass
    blocks = []
    for _, raster in rows:
        image = np.where(raster.T > 0, 0, 255).astype(np.uint8)  # black spikes on white, (neurons, time)
        blocks += [np.repeat(np.repeat(image, 3, axis=0), 3, axis=1), np.full((3, image.shape[1] * 3), 128, np.uint8)]
    pixels = np.concatenate(blocks[:-1], axis=0)
    height, width = pixels.shape
    scanlines = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(scanlines, 9)) + chunk(b"IEND", b"")
    png = b"\x89PNG\r\n\x1a\n" + body
    path.write_bytes(png)
    return path


def run(
    task: str = "digits",
    hidden: int = 64,
    float_epochs: int | None = None,
    qat_epochs: int | None = None,
    quick: bool = False,
    seed: int = 0,
    raster: Path | None = Path("quickstart_raster.png"),
    progress: bool = True,
) -> dict[str, Any]:
    """Train, deploy and measure; returns the figures it prints (see the module docstring).

    ``float_epochs`` / ``qat_epochs`` default to :data:`EPOCHS` of the task.
    """
    float_epochs = EPOCHS[task][0] if float_epochs is None else float_epochs
    qat_epochs = EPOCHS[task][1] if qat_epochs is None else qat_epochs
    torch.manual_seed(seed)
    chip = neuro_core.device(DEVICE)
    x_train, y_train, classes = load(task, "train")
    x_test, y_test, _ = load(task, "test")
    if quick:  # a seeded random subset (the shipped sets are ordered)
        rng = np.random.default_rng(seed)
        train, test = rng.permutation(len(x_train))[:64], rng.permutation(len(x_test))[:32]
        x_train, y_train, x_test, y_test = x_train[train], y_train[train], x_test[test], y_test[test]
        hidden, float_epochs, qat_epochs = 16, 1, 1
    graph = network(x_train.shape[2], hidden, len(classes), seed)
    model: Any = chip.chip_model(graph)  # a neuro_xylo XyloModel (a ChipModel)

    common: dict[str, Any] = {"readout": "sum", "lr": 1e-2, "batch_size": 32, "seed": seed, "progress": progress}
    Trainer(model, epochs=float_epochs, **common).fit((x_train, y_train))
    float_accuracy = accuracy(model, x_test, y_test)
    Trainer(model, epochs=qat_epochs, hardware=[QuantizationAware()], **common).fit((x_train, y_train))
    trained_accuracy = accuracy(model, x_test, y_test)  # quantization-aware: what the chip will compute

    program = chip.compile(model.to_graph())
    with chip.connect(chip_id=0) as xylo:
        xylo.write(program)  # validated, written, read back and verified
        deployed = xylo.run(x_test.astype(np.int64), record=True)
    predicted = deployed.outputs.sum(axis=1).argmax(axis=-1)
    deployed_accuracy = float(np.mean(predicted == y_test))
    power = chip.measure_power(program, deployed)
    figures = {
        "task": task,
        "classes": list(classes),
        "train samples": len(x_train),
        "test samples": len(x_test),
        "float accuracy": float_accuracy,
        "QAT model accuracy": trained_accuracy,
        "deployed accuracy": deployed_accuracy,
        "energy per inference (J)": power.energy_per_inference_j,
        "dynamic energy per inference (J)": power.dynamic_energy_per_inference_j,
        "static power (W)": power.static_w,
        "dynamic power (W)": power.dynamic_w,
        "inference duration (s)": deployed.duration,
        "power source": power.source,
    }
    if task == "kws":
        from neuro_core.datasets import kws_metrics

        metrics = kws_metrics(predicted, y_test, keyword=classes.index("aloha"))
        figures.update(miss_rate=metrics["miss_rate"], false_alarm_rate=metrics["false_alarm_rate"])
    if raster is not None:
        sample = int(np.argmax(y_test == y_test[0]))
        rows = [
            ("input", x_test[sample] > 0),
            ("hidden", deployed.spikes["hidden"][sample] > 0),
            ("output", deployed.spikes["output"][sample] > 0),
        ]
        figures["raster"] = str(write_raster(raster, rows))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("digits", "kws"), default="digits")
    parser.add_argument("--quick", action="store_true", help="tiny run that only checks the pipeline")
    parser.add_argument("--raster", type=Path, default=Path("quickstart_raster.png"))
    args = parser.parse_args()
    figures = run(task=args.task, quick=args.quick, raster=args.raster)
    print(f"\n{DEVICE}: {figures['task']} ({', '.join(figures['classes'])}), "
          f"{figures['train samples']} train / {figures['test samples']} test samples")  # fmt: skip
    print(f"float accuracy:        {100 * figures['float accuracy']:.1f} %")
    print(f"QAT model accuracy:    {100 * figures['QAT model accuracy']:.1f} %")
    print(f"deployed accuracy:     {100 * figures['deployed accuracy']:.1f} %  (virtual Xylo, bit-exact)")
    if "miss_rate" in figures:
        print(f"keyword (deployed):    miss {100 * figures['miss_rate']:.1f} %, "
              f"false alarm {100 * figures['false_alarm_rate']:.1f} %")  # fmt: skip
    print(f"energy per inference:  {1e6 * figures['energy per inference (J)']:.2f} uJ "
          f"({1e9 * figures['dynamic energy per inference (J)']:.1f} nJ dynamic, "
          f"{figures['inference duration (s)']:.2f} s per sample)")  # fmt: skip
    print(f"power:                 {1e6 * figures['static power (W)']:.1f} uW static + "
          f"{1e6 * figures['dynamic power (W)']:.2f} uW dynamic (modelled)")  # fmt: skip
    print(f"raster plot:           {figures.get('raster')}")


if __name__ == "__main__":
    main()

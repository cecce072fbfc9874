"""Train -> deploy on Xylo Audio 2: float vs deployed accuracy, energy per inference and power.

Runs the README's main job (``examples/quickstart.py``: 8 spoken digits from the shipped 16-channel
set, quantization-aware training on the Xylo Audio 2 model, deployment to the virtual chip) and its
``--task kws`` variant (the shipped "aloha" keyword-spotting set), and puts their figures next to
the published, measured Aloha keyword-spotting deployment on real Xylo Audio 2
silicon (Bos & Muir, arXiv:2406.15112, 2024). Our energy figures are modelled (docs/xylo.md, section 6).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "examples"))
import neuro_core  # noqa: E402
from harness import Section, main  # noqa: E402 - benchmarks are scripts next to harness.py
from neuro_core.datasets.speech import GENERATOR_REVISION  # noqa: E402
from quickstart import DEVICE  # noqa: E402
from quickstart import run as quickstart_run  # noqa: E402


def _kws_rates(figures: dict) -> str:
    if "miss_rate" not in figures:
        return ""
    return f" (deployed: miss {figures['miss_rate']:.1%}, false alarm {figures['false_alarm_rate']:.1%})"


def run(quick: bool = False) -> Section:
    tasks = {"digits": "shipped 16-channel spoken digits, 8 classes", "kws": "shipped 'aloha' vs other words"}
    runs = {task: quickstart_run(task=task, quick=quick, raster=None, progress=False) for task in tasks}
    aloha = neuro_core.device(DEVICE).target.energy
    rows = [
        {
            "what": "neuro (this run, virtual Xylo Audio 2)",
            "task": label + _kws_rates(runs[task]),
            "float accuracy": runs[task]["float accuracy"],
            "deployed accuracy": runs[task]["deployed accuracy"],
            "dynamic power (uW)": 1e6 * runs[task]["dynamic power (W)"],
            "dynamic energy / inference (uJ)": 1e6 * runs[task]["dynamic energy per inference (J)"],
            "total energy / inference (uJ)": 1e6 * runs[task]["energy per inference (J)"],
            "power figures": "modelled",
        }
        for task, label in tasks.items()
    ]
    rows += [
        {
            "what": "Aloha on Xylo Audio 2 (Bos & Muir 2024)",
            "task": "Aloha keyword spotting",
            "float accuracy": "",
            "deployed accuracy": 0.95,
            "dynamic power (uW)": 1e6 * aloha["aloha_dynamic_power"].value,
            "dynamic energy / inference (uJ)": "",
            "total energy / inference (uJ)": 1e6 * aloha["aloha_energy_per_inference"].value,
            "power figures": "measured on silicon",
        },
    ]
    figures = runs["digits"]
    return Section(
        name="xylo_deploy",
        speech_revision=GENERATOR_REVISION,
        title="Xylo Audio 2: trained vs deployed accuracy, energy per inference",
        command="python benchmarks/xylo_deploy.py",
        rows=rows,
        notes=[
            "; ".join(
                f"{task}: {f['train samples']} training / {f['test samples']} test samples (unseen voices), "
                f"QAT model accuracy {f['QAT model accuracy']:.4f}"
                for task, f in runs.items()
            )
            + " (the deployed Program computes exactly what the quantization-aware model computes).",
            "Our power is modelled (Rockpool's cycle model x an energy per cycle calibrated to the Xylo IMU "
            "188/201 uW at 6.25 MHz figures; static = 188 uW idle); "
            f"inference = one {figures['inference duration (s)']:.2f} s sample. The Aloha row is a measurement "
            "of a different network and data set: a reference point, not a like-for-like comparison.",
        ],
    )


if __name__ == "__main__":
    main(run)

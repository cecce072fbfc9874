"""The benchmark convention: every ``benchmarks/<name>.py`` is one section of BENCHMARKS.md.

A benchmark module defines ``run(quick: bool = False) -> Section`` and ends with
``if __name__ == "__main__": main(run)``. Running it alone prints its section and stores it in
``benchmarks/results/<name>.json``; ``python benchmarks/run.py`` runs every module and rewrites
BENCHMARKS.md from those results, with the machine and versions. ``quick`` shrinks the work to
seconds so tests and reviewers can check the script runs; quick figures are never published.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Section:
    """One section of BENCHMARKS.md.

    Attributes:
        name: module name (file stem), used as the results file name.
        title: the heading.
        command: the exact command that reproduces it, from the repository root.
        rows: the table, one dict per row (same keys in every row, in column order).
        notes: sentences under the table: what was measured, what is modelled, caveats.
        quick: whether it ran with ``quick=True`` (then it is not published).
        cpu: the CPU it ran on (:func:`cpu`): trained figures move between CPUs (float kernels differ).
        speech_revision: the revision of the synthetic speech generator
            (``neuro_core.datasets.speech.GENERATOR_REVISION``) whose sets it read; 0: it reads none.
            A section measured on an older revision says so.
    """

    name: str
    title: str
    command: str
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    quick: bool = False
    seconds: float = 0.0
    when: str = ""
    cpu: str = ""
    speech_revision: int = 0

    def markdown(self) -> str:
        """The section as Markdown: heading, command, table, notes."""
        lines = [f"## {self.title}", "", f"Command: `{self.command}`", ""]
        if self.rows:
            keys = list(self.rows[0])
            lines.append("| " + " | ".join(keys) + " |")
            lines.append("|" + "---|" * len(keys))
            for row in self.rows:
                lines.append("| " + " | ".join(_fmt(row.get(k, "")) for k in keys) + " |")
        lines.append("")
        lines += [f"- {note}" for note in self.notes]
        if self.speech_revision:
            from neuro_core.datasets.speech import GENERATOR_REVISION

            if self.speech_revision != GENERATOR_REVISION:
                lines.append(
                    f"- **Measured on synthetic speech of generator revision {self.speech_revision}**, not the "
                    f"current {GENERATOR_REVISION} (see `GENERATOR_REVISION` in neuro_core.datasets.speech and "
                    "the CHANGELOG); re-run the command to update."
                )
        quick = " (QUICK: not a published figure)" if self.quick else ""
        on = f" on {self.cpu}" if self.cpu else ""
        lines.append(f"- Ran {self.when} in {self.seconds:.0f} s{on}{quick}.")
        return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def machine() -> dict[str, Any]:
    """The machine and library versions, for the head of BENCHMARKS.md."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    for module in ("numpy", "torch", "numba", "neuro_core"):
        with contextlib.suppress(ImportError, AttributeError):  # a missing optional module is not listed
            info[module] = __import__(module).__version__
    return info


def cpu() -> str:
    """The CPU model and the instruction set of torch's kernels (e.g. ``"... Processor, torch AVX512"``)."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    torch = sys.modules.get("torch")
    if torch is not None:
        model += f", torch {torch.backends.cpu.get_cpu_capability()}"
    return model


def main(run: Callable[..., Section]) -> None:
    """Command-line entry of one benchmark module: ``--quick`` for a smoke run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check the script runs (not published)")
    args = parser.parse_args()
    start = time.perf_counter()
    section = run(quick=args.quick)
    section.seconds = time.perf_counter() - start
    section.quick = args.quick
    section.when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    section.cpu = cpu()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{section.name}.json").write_text(json.dumps(asdict(section), indent=1, default=str))
    print(section.markdown())


def load_sections() -> list[Section]:
    """Every stored result, in file-name order."""
    return [Section(**json.loads(p.read_text())) for p in sorted(RESULTS.glob("*.json"))]

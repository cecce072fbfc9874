"""A dependency-free text progress bar on stderr.

On a terminal the bar redraws in place (at most ten times a second); in a log file (not a TTY) it
writes one line per epoch only, so logs stay short. ``enabled=False`` makes it silent.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


def _format_metrics(metrics: dict[str, float]) -> str:
    return " ".join(f"{name} {value:.4g}" for name, value in metrics.items())


class ProgressBar:
    """Progress of one epoch: ``update(done, **metrics)`` per batch, ``close(**metrics)`` at the end.

    Args:
        total: batches in the epoch (0 if unknown: a counter without a bar).
        description: text before the bar, e.g. ``"epoch 3/10"``.
        enabled: False: print nothing.
        stream: where to write (default ``sys.stderr``).
        width: characters of the bar itself.
    """

    def __init__(
        self, total: int, description: str, *, enabled: bool = True, stream: TextIO | None = None, width: int = 24
    ) -> None:
        self.total = total
        self.description = description
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interactive = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self.done = 0

    def _line(self, metrics: dict[str, float]) -> str:
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total:
            filled = int(self.width * min(self.done, self.total) / self.total)
            bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
        else:
            bar = f"{self.done} batches"
        return f"{self.description} {bar} {elapsed:.1f}s {rate:.1f} it/s {_format_metrics(metrics)}".rstrip()

    def update(self, done: int, **metrics: float) -> None:
        """``done`` batches finished so far; ``metrics`` shown beside the bar."""
        self.done = done
        now = time.perf_counter()
        if self.interactive and (now - self._last_draw >= 0.1 or done == self.total):
            self._last_draw = now
            self.stream.write("\r" + self._line(metrics) + "\033[K")
            self.stream.flush()

    def close(self, **metrics: float) -> None:
        """Finish the line with the epoch's final metrics."""
        if not self.enabled:
            return
        if self.interactive:
            self.stream.write("\r" + self._line(metrics) + "\033[K\n")
        else:
            self.stream.write(self._line(metrics) + "\n")
        self.stream.flush()

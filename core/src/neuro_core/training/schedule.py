"""Learning-rate schedules: the factor on ``lr`` as a pure function of how much of the run is done.

A schedule maps the fraction of the run's optimizer steps already taken, ``progress`` in [0, 1), to a
factor on the optimizer's initial learning rate. Being a function of the step count alone (which
checkpoints carry), a resumed run needs no scheduler state to end where an uninterrupted one ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["LR_SCHEDULES", "LrSchedule", "get_lr_schedule"]

LrSchedule = Callable[[float], float]


def _constant(progress: float) -> float:
    return 1.0


def _cosine(progress: float) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * progress))  # 1 at the first step, towards 0 at the last


def _linear(progress: float) -> float:
    return 1.0 - progress


LR_SCHEDULES: dict[str, LrSchedule] = {"constant": _constant, "cosine": _cosine, "linear": _linear}


def get_lr_schedule(schedule: str | LrSchedule) -> LrSchedule:
    """The schedule named ``schedule`` (``constant``, ``cosine``, ``linear``) or ``schedule`` itself."""
    if callable(schedule):
        return schedule
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {sorted(LR_SCHEDULES)} or a callable, got {schedule!r}")
    return LR_SCHEDULES[schedule]

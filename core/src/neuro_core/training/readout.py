"""How a (batch, time, out) network output becomes (batch, out) logits, and the task losses."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as nnf

__all__ = ["LOSSES", "READOUTS", "Loss", "Readout", "get_loss", "get_readout"]

Readout = Callable[[torch.Tensor], torch.Tensor]
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check(output: torch.Tensor) -> None:
    if output.ndim != 3:
        raise ValueError(f"the model output must be (batch, time, out), got shape {tuple(output.shape)}")


def _sum(output: torch.Tensor) -> torch.Tensor:
    _check(output)
    return output.sum(dim=1)  # spike counts (rate code)


def _mean(output: torch.Tensor) -> torch.Tensor:
    _check(output)
    return output.mean(dim=1)


def _max(output: torch.Tensor) -> torch.Tensor:
    _check(output)
    return output.amax(dim=1)  # peak read-out potential over time (LI read-outs)


def _last(output: torch.Tensor) -> torch.Tensor:
    _check(output)
    return output[:, -1]


READOUTS: dict[str, Readout] = {"sum": _sum, "mean": _mean, "max": _max, "last": _last}


def get_readout(readout: str | Readout) -> Readout:
    """The readout function named ``readout`` (``sum``, ``mean``, ``max``, ``last``) or ``readout`` itself."""
    if callable(readout):
        return readout
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {sorted(READOUTS)} or a callable, got {readout!r}")
    return READOUTS[readout]


def _mse(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if not target.is_floating_point():  # class labels: regress towards one-hot codes
        target = nnf.one_hot(target, logits.shape[-1]).to(logits.dtype)
    return nnf.mse_loss(logits, target)


LOSSES: dict[str, Loss] = {"cross_entropy": nnf.cross_entropy, "mse": _mse}


def get_loss(loss: str | Loss) -> Loss:
    """The loss named ``loss`` (``cross_entropy``, ``mse``) or ``loss(logits, target) -> scalar`` itself."""
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)} or a callable, got {loss!r}")
    return LOSSES[loss]

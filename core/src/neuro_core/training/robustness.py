"""Robustness evaluation: accuracy over many sampled chips at several mismatch levels, vectorised.

Chip ``k`` multiplies every selected parameter by ``1 + sigma * eps_k`` with ``eps_k ~ N(0, 1)`` drawn
once per chip from ``seed``; the same ``eps_k`` serve every ``sigma`` (common random numbers), so the
curves compare like with like and differences between levels are not sampling noise.

All chips are evaluated in one pass per data batch with ``torch.func.vmap`` over
``torch.func.functional_call`` (the chip index is a vmapped parameter dimension). A model that vmap
cannot trace (custom autograd kernels without a vmap rule, in-place writes into preallocated
tensors) may instead provide ``forward_chips(x, params) -> (chips, batch, time, out)`` that folds the
chip dimension of ``params`` (``{name: (chips, *shape)}``) into its batch itself; there is no per-chip
Python loop on either path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.func import functional_call, vmap

from .data import Batches, Data
from .hardware import ParameterFilter, model_tensors, select_parameters
from .readout import Readout, get_readout

__all__ = ["chip_parameters", "robustness"]


def chip_parameters(model: torch.nn.Module, names: Sequence[str], n_chips: int, seed: int) -> dict[str, torch.Tensor]:
    """The standard-normal mismatch draws ``eps``: ``{name: (n_chips, *shape)}``, deterministic for ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    params = model_tensors(model)
    return {name: torch.randn((n_chips, *params[name].shape), generator=generator) for name in names}


def _chip_logits(
    model: torch.nn.Module, readout: Readout, chip_params: Mapping[str, torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    """(chips, batch, out) logits of every chip for one batch ``x`` (batch, time, channels)."""

    def one_chip(params: Mapping[str, torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
        return readout(functional_call(model, dict(params), (inputs,)))

    forward_chips = getattr(model, "forward_chips", None)
    try:
        return vmap(one_chip, in_dims=(0, None))(chip_params, x)
    except Exception as exc:  # any tracing failure: try the model's own batched path
        if not callable(forward_chips):
            raise TypeError(
                f"robustness() evaluates all chips at once with torch.func.vmap, which failed for "
                f"{type(model).__name__}: {exc}. Make the forward vmap-compatible (no in-place writes into "
                "preallocated tensors; custom autograd Functions need generate_vmap_rule=True or a vmap "
                "staticmethod) or give the model forward_chips(x, params) -> (chips, batch, time, out)"
            ) from exc
    output = forward_chips(x, chip_params)
    if output.ndim != 4:
        raise ValueError(f"forward_chips must return (chips, batch, time, out), got shape {tuple(output.shape)}")
    chips, batch = output.shape[:2]
    return readout(output.reshape(chips * batch, *output.shape[2:])).reshape(chips, batch, -1)


def robustness(
    model: torch.nn.Module,
    data: Data,
    sigmas: Sequence[float] = (0.0, 0.05, 0.1, 0.2, 0.3),
    n_chips: int = 100,
    seed: int = 0,
    readout: str | Readout = "sum",
    *,
    include: ParameterFilter = None,
    batch_size: int = 256,
    chips_per_pass: int | None = None,
    device: str | torch.device | None = None,
) -> list[dict[str, Any]]:
    """Classification accuracy of ``n_chips`` mismatched copies of ``model`` at each relative mismatch level.

    Args:
        model: any module mapping (batch, time, in) -> (batch, time, out); it is not modified.
        data: ``(x, y)`` arrays, a Dataset or an iterable of batches (see ``neuro_core.training.data``);
            ``y`` holds class labels.
        sigmas: relative mismatch standard deviations (0.2 = 20 %).
        n_chips: chips sampled per level.
        seed: seed of the mismatch draws (same seed, same chips, same result).
        readout: how (batch, time, out) becomes logits (``sum``, ``mean``, ``max``, ``last`` or a callable).
        include: which parameters vary (default: every floating-point parameter and buffer, weights and
            neuron parameters alike; see :func:`~neuro_core.training.hardware.model_tensors`).
        batch_size: samples per pass.
        chips_per_pass: chips evaluated together (memory grows with it); default all.
        device: where to evaluate (default: where the model's parameters are).

    Returns:
        One row per sigma: ``{"sigma", "n_chips", "mean", "std", "p5", "min"}`` (accuracies in [0, 1];
        ``std`` over chips with ``ddof=1``; ``p5`` the 5th percentile: 95 % of chips do at least as well).
    """
    if not isinstance(n_chips, int) or n_chips < 1:
        raise ValueError(f"n_chips must be a positive integer, got {n_chips!r}")
    for sigma in sigmas:
        if not sigma >= 0:
            raise ValueError(f"every sigma must be >= 0 (relative mismatch), got {sigma}")
    chunk = n_chips if chips_per_pass is None else int(chips_per_pass)
    if chunk < 1:
        raise ValueError(f"chips_per_pass must be >= 1, got {chips_per_pass!r}")
    readout_fn = get_readout(readout)
    names = select_parameters(model, include)
    if device is None:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
    eps = chip_parameters(model, names, n_chips, seed)
    base = {name: p.detach() for name, p in model_tensors(model).items()}
    batches = [(x.to(device), y.to(device)) for x, y in Batches(data, batch_size, shuffle=False, seed=0).epoch(0)]
    if not batches:
        raise ValueError("robustness() got no data")
    was_training = model.training
    model.eval()
    rows = []
    try:
        with torch.no_grad():
            for sigma in sigmas:
                correct = torch.zeros(n_chips, dtype=torch.int64)
                for start in range(0, n_chips, chunk):
                    stop = min(start + chunk, n_chips)
                    chip_params = {
                        name: base[name] * (1 + sigma * eps[name][start:stop].to(device=device, dtype=base[name].dtype))
                        for name in names
                    }
                    for x, y in batches:
                        logits = _chip_logits(model, readout_fn, chip_params, x)
                        correct[start:stop] += (logits.argmax(dim=-1) == y).sum(dim=1).cpu()
                total = sum(int(y.shape[0]) for _, y in batches)
                accuracy = correct.double().numpy() / total
                rows.append(
                    {
                        "sigma": float(sigma),
                        "n_chips": n_chips,
                        "mean": float(accuracy.mean()),
                        "std": float(accuracy.std(ddof=1)) if n_chips > 1 else 0.0,
                        "p5": float(np.percentile(accuracy, 5)),
                        "min": float(accuracy.min()),
                    }
                )
    finally:
        model.train(was_training)
    return rows

"""Training checkpoints in the project's container format (never pickle).

A checkpoint is a ``neuro_core.container`` of kind ``"checkpoint"`` holding:

- ``model/<name>``: every ``state_dict`` tensor of the model as a numpy array;
- ``optimizer/state/<index>/<key>`` and ``optimizer/group/<index>/<key>``: the optimizer's tensors
  (its plain values travel in the JSON header);
- ``rng/<name>``: random number generator states (torch's global CPU generator, the Trainer's own);
- ``best/<name>``: the best model so far (early stopping), when there is one;
- in the header: epoch, step, metrics history, early-stopping counters and the run's configuration.

Loading validates everything (checksum, kind, version, names and shapes against the model and the
optimizer) before it changes anything, so a corrupt, truncated or mismatched file raises
:class:`~neuro_core.errors.FileFormatError` and leaves model and optimizer untouched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..container import read_container, write_container
from ..errors import FileFormatError

__all__ = ["CHECKPOINT_FORMAT_VERSION", "TrainingState", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_KIND = "checkpoint"
CHECKPOINT_FORMAT_VERSION = 1


@dataclass
class TrainingState:
    """The Trainer's progress, everything besides model and optimizer a bit-exact resume needs.

    Attributes:
        epoch: completed epochs.
        step: completed optimizer steps.
        history: one metrics dict per completed epoch.
        best_value: best value of the monitored metric so far (early stopping), or None.
        best_epoch: epoch (1-based) of ``best_value``.
        best_state: the model's state_dict at ``best_epoch`` (numpy arrays), or None.
        bad_epochs: epochs since the last improvement.
        stopped: early stopping ended the run.
        config: the run's settings (seed, batch size ...), checked on resume.
        rng: generator states as uint8 arrays, by name.
    """

    epoch: int = 0
    step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_value: float | None = None
    best_epoch: int | None = None
    best_state: dict[str, np.ndarray] | None = None
    bad_epochs: int = 0
    stopped: bool = False
    config: dict[str, Any] = field(default_factory=dict)
    rng: dict[str, np.ndarray] = field(default_factory=dict)


def _to_numpy(name: str, tensor: torch.Tensor) -> np.ndarray:
    if tensor.dtype == torch.bfloat16:
        raise FileFormatError(f"{name}: bfloat16 cannot be stored as a numpy array; convert the model to float32")
    return tensor.detach().cpu().numpy().copy()


def _json_value(name: str, value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_value(name, item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_json_value(name, item) for item in value]
    raise FileFormatError(f"optimizer value {name!r} of type {type(value).__name__} cannot be stored in a checkpoint")


def model_state(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """The model's state_dict as numpy arrays (copies)."""
    return {name: _to_numpy(name, tensor) for name, tensor in model.state_dict().items()}


def save_checkpoint(
    path: str | os.PathLike[str],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    state: TrainingState,
) -> str:
    """Write a checkpoint atomically (a crash leaves the previous file intact); return its checksum."""
    arrays: dict[str, np.ndarray] = {f"model/{k}": v for k, v in model_state(model).items()}
    meta: dict[str, Any] = {
        "model_class": type(model).__name__,
        "epoch": state.epoch,
        "step": state.step,
        "history": state.history,
        "best_value": state.best_value,
        "best_epoch": state.best_epoch,
        "has_best": state.best_state is not None,
        "bad_epochs": state.bad_epochs,
        "stopped": state.stopped,
        "config": state.config,
        "rng": sorted(state.rng),
    }
    if state.best_state is not None:
        arrays.update({f"best/{k}": v for k, v in state.best_state.items()})
    arrays.update({f"rng/{k}": v for k, v in state.rng.items()})
    if optimizer is not None:
        saved = optimizer.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, entry in saved["state"].items():
            for key, value in entry.items():
                if isinstance(value, torch.Tensor):
                    arrays[f"optimizer/state/{index}/{key}"] = _to_numpy(f"optimizer state {key}", value)
                else:
                    scalars.setdefault(str(index), {})[key] = _json_value(key, value)
        groups = []
        for group_index, group in enumerate(saved["param_groups"]):
            plain: dict[str, Any] = {}
            for key, value in group.items():
                if isinstance(value, torch.Tensor):
                    arrays[f"optimizer/group/{group_index}/{key}"] = _to_numpy(f"optimizer group {key}", value)
                else:
                    plain[key] = _json_value(key, value)
            groups.append(plain)
        meta["optimizer"] = {
            "class": type(optimizer).__name__,
            "state_indices": sorted(saved["state"]),
            "scalars": scalars,
            "param_groups": groups,
        }
    return write_container(path, CHECKPOINT_KIND, CHECKPOINT_FORMAT_VERSION, meta, arrays)


def _restore_types(saved: Any, like: Any) -> Any:
    """JSON turned tuples into lists; give them back the current optimizer's types (betas are tuples)."""
    if isinstance(like, tuple) and isinstance(saved, list):
        return tuple(saved)
    return saved


def _optimizer_state(
    path: str, meta: dict[str, Any], arrays: dict[str, np.ndarray], optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    info = meta.get("optimizer")
    if not isinstance(info, dict):
        raise FileFormatError(f"{path}: the checkpoint holds no optimizer state")
    if info.get("class") != type(optimizer).__name__:
        raise FileFormatError(
            f"{path}: optimizer is {info.get('class')!r} in the checkpoint, {type(optimizer).__name__!r} here"
        )
    current = optimizer.state_dict()
    groups = info.get("param_groups", [])
    sizes = [len(group.get("params", [])) for group in groups]
    if sizes != [len(group["params"]) for group in current["param_groups"]]:
        raise FileFormatError(f"{path}: the optimizer's parameter groups differ from this optimizer's")
    param_groups = []
    for group_index, (saved, now) in enumerate(zip(groups, current["param_groups"], strict=True)):
        group = {key: _restore_types(value, now.get(key)) for key, value in saved.items()}
        prefix = f"optimizer/group/{group_index}/"
        group.update({k[len(prefix) :]: torch.tensor(v) for k, v in arrays.items() if k.startswith(prefix)})
        param_groups.append(group)
    n_params = sum(len(group["params"]) for group in current["param_groups"])
    state: dict[int, dict[str, Any]] = {}
    for index in info.get("state_indices", []):
        if not isinstance(index, int) or not 0 <= index < n_params:
            raise FileFormatError(f"{path}: optimizer state for parameter {index!r}, but the optimizer has {n_params}")
        prefix = f"optimizer/state/{index}/"
        entry: dict[str, Any] = {k[len(prefix) :]: torch.tensor(v) for k, v in arrays.items() if k.startswith(prefix)}
        entry.update(info.get("scalars", {}).get(str(index), {}))
        state[index] = entry
    return {"state": state, "param_groups": param_groups}


def _model_tensors(
    path: str, prefix: str, arrays: dict[str, np.ndarray], model: torch.nn.Module
) -> dict[str, np.ndarray]:
    expected = model.state_dict()
    stored = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    if missing or unexpected:
        raise FileFormatError(
            f"{path}: the checkpoint does not match {type(model).__name__}: missing {missing}, unexpected {unexpected}"
        )
    for name, tensor in expected.items():
        if tuple(stored[name].shape) != tuple(tensor.shape):
            raise FileFormatError(
                f"{path}: {name} has shape {tuple(stored[name].shape)} in the checkpoint, "
                f"{tuple(tensor.shape)} in the model"
            )
    return stored


def load_checkpoint(
    path: str | os.PathLike[str],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
) -> TrainingState:
    """Restore ``model`` (and ``optimizer``) from a checkpoint; return the rest of the training state.

    Raises:
        FileFormatError: the file is missing, corrupt, truncated, of another kind or newer version, or does
            not match the model or optimizer (names, shapes, parameter groups). Nothing is changed then.
    """
    header, arrays = read_container(path, CHECKPOINT_KIND, CHECKPOINT_FORMAT_VERSION)
    meta = header["meta"]
    where = str(path)
    try:
        weights = _model_tensors(where, "model/", arrays, model)
        best = _model_tensors(where, "best/", arrays, model) if meta["has_best"] else None
        optimizer_state = _optimizer_state(where, meta, arrays, optimizer) if optimizer is not None else None
        rng = {name: arrays[f"rng/{name}"] for name in meta["rng"]}
        state = TrainingState(
            epoch=int(meta["epoch"]),
            step=int(meta["step"]),
            history=list(meta["history"]),
            best_value=meta["best_value"],
            best_epoch=meta["best_epoch"],
            best_state=best,
            bad_epochs=int(meta["bad_epochs"]),
            stopped=bool(meta["stopped"]),
            config=dict(meta["config"]),
            rng=rng,
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(f"{where}: incomplete checkpoint ({type(exc).__name__}: {exc})") from exc
    # everything validated: only now change the optimizer (torch checks it again), then the model
    if optimizer is not None and optimizer_state is not None:
        try:
            optimizer.load_state_dict(optimizer_state)
        except (KeyError, TypeError, ValueError) as exc:
            raise FileFormatError(f"{where}: optimizer state does not fit this optimizer ({exc})") from exc
    model.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in weights.items()})
    return state

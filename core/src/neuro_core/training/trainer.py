"""``Trainer``: fit / evaluate / predict for any (batch, time, in) -> (batch, time, out) torch module.

The loop is plain PyTorch; what it adds is what hardware-aware training of spiking networks needs:
hardware pieces (quantization, noise, mismatch, adversarial attack) that combine, a progress bar,
a metrics history, early stopping, and checkpoints in the project's safe container format from
which an interrupted run resumes and ends bit for bit where an uninterrupted run ends.

Determinism: every random draw of a run comes from ``seed``: the data order of epoch ``e`` from
``(seed, e)``, hardware noise from the Trainer's own generator, and draws inside the model (dropout,
stochastic neurons) from torch's global generator, which ``fit`` seeds inside ``torch.random.fork_rng``
(the caller's generator state is left as it was). Checkpoints are written at the end of every epoch and
carry all generator states, so resuming is exact on the CPU (same torch version and thread count).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.func import functional_call

from .checkpoint import TrainingState, load_checkpoint, model_state, save_checkpoint
from .data import Batches, Data, derive_seed
from .hardware import HardwareAware, StepContext, model_tensors
from .progress import ProgressBar
from .readout import Loss, Readout, get_loss, get_readout
from .schedule import LrSchedule, get_lr_schedule

__all__ = ["CHECKPOINT_NAME", "Trainer"]

CHECKPOINT_NAME = "last.ckpt"
OptimizerFactory = Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer]
_OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


def _name(value: Any) -> str:
    return value if isinstance(value, str) else getattr(value, "__name__", type(value).__name__)


class Trainer:
    """Trains ``model`` on classification (or regression with ``loss="mse"``) of (batch, time, channels) inputs.

    Args:
        model: any ``torch.nn.Module`` mapping (batch, time, in) float -> (batch, time, out). A
            :class:`~neuro_core.chipmodel.ChipModel` adds quantization and mismatch for the hardware pieces.
        loss: ``"cross_entropy"``, ``"mse"`` or ``loss(logits, target) -> scalar``.
        readout: how (batch, time, out) becomes (batch, out) logits: ``"sum"`` (spike counts), ``"mean"``,
            ``"max"`` (peak potential), ``"last"``, or a callable.
        optimizer: ``"adam"``, ``"adamw"``, ``"sgd"`` or ``factory(parameters) -> torch.optim.Optimizer``.
        lr: learning rate of a named optimizer.
        lr_schedule: the factor on the optimizer's initial learning rates over the run: ``"constant"``,
            ``"cosine"`` (from 1 at the first step towards 0 at the last), ``"linear"``, or
            ``factor(progress)`` with ``progress`` the fraction of the run's steps (``epochs`` x batches) already
            taken, in [0, 1). Set before every step from the step count, so a resumed run follows it exactly.
        weight_decay: weight decay of a named optimizer.
        epochs: passes over the training data (a resumed run continues up to this number).
        batch_size: samples per step (for ``(x, y)`` arrays and Datasets).
        seed: seed of every random draw of the run (data order, noise, attack starts).
        hardware: hardware-aware pieces (``QuantizationAware``, ``ParameterNoise``, ``MismatchInjection``,
            ``AdversarialAttack`` or any ``HardwareAware``), applied in order every step.
        device: torch device of model and batches.
        checkpoint_dir: folder for ``last.ckpt``, written after every epoch; an existing one is resumed.
        early_stopping_patience: stop after this many epochs without improvement of ``monitor``.
        monitor: metric for early stopping (``"val_loss"``, ``"val_accuracy"``, ``"train_loss"``...);
            losses are minimised, anything else maximised.
        restore_best: with early stopping, end with the weights of the best epoch.
        grad_clip: clip the gradient's global 2-norm to this value (None: no clipping).
        progress: show a progress bar on stderr.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        loss: str | Loss = "cross_entropy",
        readout: str | Readout = "sum",
        optimizer: str | OptimizerFactory = "adam",
        lr: float = 1e-3,
        lr_schedule: str | LrSchedule = "constant",
        weight_decay: float = 0.0,
        epochs: int = 10,
        batch_size: int = 32,
        seed: int = 0,
        hardware: Sequence[HardwareAware] = (),
        device: str | torch.device = "cpu",
        checkpoint_dir: str | os.PathLike[str] | None = None,
        early_stopping_patience: int | None = None,
        monitor: str = "val_loss",
        restore_best: bool = True,
        grad_clip: float | None = None,
        progress: bool = True,
    ) -> None:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if early_stopping_patience is not None and (
            not isinstance(early_stopping_patience, int) or early_stopping_patience < 1
        ):
            raise ValueError(f"early_stopping_patience must be >= 1 or None, got {early_stopping_patience!r}")
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"grad_clip must be > 0 or None, got {grad_clip}")
        for piece in hardware:
            if not isinstance(piece, HardwareAware):
                raise TypeError(f"hardware items must be HardwareAware pieces, got {type(piece).__name__}")
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.loss_fn = get_loss(loss)
        self.readout_fn = get_readout(readout)
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.hardware = list(hardware)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.patience = early_stopping_patience
        self.monitor = monitor
        self.restore_best = restore_best
        self.grad_clip = grad_clip
        self.progress = progress
        trainable = [p for p in model.parameters() if p.requires_grad]
        if isinstance(optimizer, str):
            if optimizer not in _OPTIMIZERS:
                raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)} or a factory, got {optimizer!r}")
            self.optimizer = _OPTIMIZERS[optimizer](trainable, lr=lr, weight_decay=weight_decay)
        else:
            self.optimizer = optimizer(trainable)
        self.lr_schedule = None if lr_schedule == "constant" else get_lr_schedule(lr_schedule)
        self.initial_lrs = [float(group["lr"]) for group in self.optimizer.param_groups]
        self._total_steps = 0  # of the current fit(): epochs x batches per epoch
        self.generator = torch.Generator()  # the hardware pieces' random stream (CPU, checkpointed)
        self.generator.manual_seed(derive_seed(seed, 1))
        self.config: dict[str, Any] = {
            "seed": seed,
            "batch_size": batch_size,
            "optimizer": _name(optimizer),
            "lr": lr,
            "lr_schedule": _name(lr_schedule),
            "loss": _name(loss),
            "readout": _name(readout),
            "hardware": [repr(piece) for piece in self.hardware],
        }
        self.state = TrainingState(config=self.config)
        for piece in self.hardware:
            piece.attach(self.model)

    # ---- public API ----------------------------------------------------------------------------------

    @property
    def history(self) -> list[dict[str, Any]]:
        """One dict of metrics per completed epoch (``epoch``, ``train_loss``, ``val_accuracy``, ...)."""
        return self.state.history

    @property
    def checkpoint_path(self) -> Path | None:
        """Where the last checkpoint is written (None without ``checkpoint_dir``)."""
        return self.checkpoint_dir / CHECKPOINT_NAME if self.checkpoint_dir is not None else None

    def fit(self, train: Data, val: Data | None = None, *, resume: bool = True) -> list[dict[str, Any]]:
        """Train up to ``epochs`` epochs (fewer with early stopping); return the metrics history.

        With ``checkpoint_dir`` and ``resume=True`` an existing checkpoint is loaded first and training
        continues after its last completed epoch.

        Raises:
            FileFormatError: the checkpoint is corrupt, truncated or does not match model/optimizer; nothing
                is trained (delete the file or pass ``resume=False`` to start over).
            ValueError: the checkpoint was written with another seed or batch size; or early stopping
                monitors a validation metric and ``val`` is None.
            FloatingPointError: the loss became NaN or infinite.
        """
        if self.patience is not None and self.monitor.startswith("val_") and val is None:
            raise ValueError(f"early stopping monitors {self.monitor!r}, but fit() got no val data")
        train_batches = Batches(train, self.batch_size, shuffle=True, seed=self.seed)
        val_batches = Batches(val, self.batch_size, shuffle=False, seed=self.seed) if val is not None else None
        path = self.checkpoint_path
        with torch.random.fork_rng(devices=[]):
            if resume and path is not None and path.exists():
                self._resume(path)
            else:
                torch.manual_seed(self.seed)
                self.generator.manual_seed(derive_seed(self.seed, 1))
                self.state = TrainingState(config=self.config)
            state = self.state
            self._total_steps = self.epochs * len(train_batches)
            while not state.stopped and state.epoch < self.epochs:
                record: dict[str, Any] = {"epoch": state.epoch + 1}
                record.update(self._train_epoch(train_batches, state.epoch, val_batches))
                state.epoch += 1
                state.history.append(record)
                self._early_stopping(record)
                state.rng = {
                    "torch": torch.get_rng_state().numpy().copy(),
                    "hardware": self.generator.get_state().numpy().copy(),
                }
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    save_checkpoint(path, self.model, self.optimizer, state)
        if self.patience is not None and self.restore_best and state.best_state is not None:
            self.model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.best_state.items()})
        return state.history

    def evaluate(self, data: Data | Batches) -> dict[str, float]:
        """Mean loss and accuracy on ``data`` (no noise, no attack); returns ``{"loss", "accuracy", "n"}``.

        ``accuracy`` (argmax of the logits against integer labels) is NaN for float targets.
        """
        batches = data if isinstance(data, Batches) else Batches(data, self.batch_size, shuffle=False, seed=self.seed)
        loss_sum, correct, count = 0.0, 0, 0
        classify = True
        with self._inference():
            for x, y in batches.epoch(0):
                x, y = x.to(self.device), y.to(self.device)
                logits = self.readout_fn(self.model(x))
                loss_sum += float(self.loss_fn(logits, y)) * y.shape[0]
                classify = classify and not y.is_floating_point()
                if classify:
                    correct += int((logits.argmax(dim=-1) == y).sum())
                count += int(y.shape[0])
        if count == 0:
            raise ValueError("evaluate() got no data")
        return {"loss": loss_sum / count, "accuracy": correct / count if classify else math.nan, "n": count}

    def predict(self, x: Any) -> torch.Tensor:
        """Logits (samples, out) for inputs ``x`` (samples, time, channels), on the CPU, without gradient."""
        inputs = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
        if inputs.ndim != 3:
            raise ValueError(f"x must be (samples, time, channels), got shape {tuple(inputs.shape)}")
        inputs = inputs if inputs.is_floating_point() else inputs.to(torch.float32)
        outputs = []
        with self._inference():
            for start in range(0, inputs.shape[0], self.batch_size):
                batch = inputs[start : start + self.batch_size].to(self.device)
                outputs.append(self.readout_fn(self.model(batch)).cpu())
        return torch.cat(outputs) if outputs else torch.empty(0)

    # ---- internals -----------------------------------------------------------------------------------

    def _inference(self) -> _Inference:
        return _Inference(self.model)

    def _resume(self, path: Path) -> None:
        state = load_checkpoint(path, self.model, self.optimizer)  # raises FileFormatError, changes nothing
        for key in ("seed", "batch_size"):
            if state.config.get(key) != self.config[key]:
                raise ValueError(
                    f"{path} was written by a run with {key}={state.config.get(key)!r}, this Trainer has "
                    f"{key}={self.config[key]!r}: resuming would not reproduce it; pass resume=False to start over"
                )
        if "torch" in state.rng:
            torch.set_rng_state(torch.from_numpy(np.array(state.rng["torch"])))
        if "hardware" in state.rng:
            self.generator.set_state(torch.from_numpy(np.array(state.rng["hardware"])))
        self.state = state

    def _train_epoch(self, batches: Batches, epoch: int, val_batches: Batches | None) -> dict[str, float]:
        """One pass over ``batches`` then validation; returns the epoch's metrics."""
        self.model.train()
        bar = ProgressBar(len(batches), f"epoch {epoch + 1}/{self.epochs}", enabled=self.progress)
        start = time.perf_counter()
        loss_sum, regularizer_sum, correct, count = 0.0, 0.0, 0, 0
        classify = True
        for index, (x, y) in enumerate(batches.epoch(epoch)):
            x, y = x.to(self.device), y.to(self.device)
            self._schedule_lr()
            task_loss, regularizer, logits = self._train_step(x, y)
            n = int(y.shape[0])
            loss_sum += task_loss * n
            regularizer_sum += regularizer * n
            classify = classify and not y.is_floating_point()
            if classify:
                correct += int((logits.argmax(dim=-1) == y).sum())
            count += n
            self.state.step += 1
            bar.update(index + 1, loss=loss_sum / count)
        if count == 0:
            raise ValueError("the training data yielded no batch")
        metrics = {"train_loss": loss_sum / count, "train_accuracy": correct / count if classify else math.nan}
        if any(type(piece).regularizer is not HardwareAware.regularizer for piece in self.hardware):
            metrics["train_regularizer"] = regularizer_sum / count
        metrics["lr"] = float(self.optimizer.param_groups[0]["lr"])
        metrics["seconds"] = time.perf_counter() - start
        if val_batches is not None:
            metrics.update({f"val_{k}": v for k, v in self.evaluate(val_batches).items() if k != "n"})
        shown = ("train_loss", "train_accuracy", "train_regularizer", "val_loss", "val_accuracy")
        bar.close(**{k.removeprefix("train_"): metrics[k] for k in shown if k in metrics})
        return metrics

    def _schedule_lr(self) -> None:
        """Set every parameter group's lr to its initial lr times the schedule's factor at this step."""
        if self.lr_schedule is None:
            return  # constant: leave the optimizer's lr alone (a caller may drive it)
        progress = self.state.step / max(self._total_steps, 1)
        factor = float(self.lr_schedule(progress))
        if not (math.isfinite(factor) and factor >= 0):
            raise ValueError(f"lr_schedule({progress:.4g}) returned {factor}: the factor on lr must be finite and >= 0")
        for group, initial in zip(self.optimizer.param_groups, self.initial_lrs, strict=True):
            group["lr"] = initial * factor

    def _train_step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float, torch.Tensor]:
        """One optimizer step; returns (task loss, regularizer, logits detached)."""
        model = self.model
        params = model_tensors(model)
        for piece in self.hardware:
            params = piece.perturb(model, params, self.generator)

        def forward(parameters: Any) -> torch.Tensor:
            # the model's own parameters are never edited: perturbed copies go in through functional_call
            return self.readout_fn(functional_call(model, dict(parameters), (x,)))

        logits = forward(params)
        task_loss = self.loss_fn(logits, y)
        step = StepContext(model, x, y, params, logits, forward, self.generator)
        terms = [term for piece in self.hardware if (term := piece.regularizer(step)) is not None]
        regularizer = torch.stack(terms).sum() if terms else torch.zeros((), device=task_loss.device)
        total = task_loss + regularizer
        if not torch.isfinite(total):
            raise FloatingPointError(
                f"the loss is {float(total)} at epoch {self.state.epoch + 1}, step {self.state.step + 1}; "
                "lower lr or set grad_clip"
            )
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
        self.optimizer.step()
        return float(task_loss.detach()), float(regularizer.detach()), logits.detach()

    def _early_stopping(self, record: dict[str, Any]) -> None:
        if self.patience is None:
            return
        if self.monitor not in record:
            raise ValueError(f"early stopping monitors {self.monitor!r}, not a metric; metrics: {sorted(record)}")
        value = float(record[self.monitor])
        state = self.state
        minimise = "loss" in self.monitor
        improved = state.best_value is None or (value < state.best_value if minimise else value > state.best_value)
        if improved:
            state.best_value, state.best_epoch, state.bad_epochs = value, state.epoch, 0
            state.best_state = model_state(self.model)
        else:
            state.bad_epochs += 1
            state.stopped = state.bad_epochs >= self.patience


class _Inference:
    """Context: eval mode and no gradient, restoring the previous mode afterwards."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.was_training = model.training
        self.no_grad = torch.no_grad()

    def __enter__(self) -> None:
        self.model.eval()
        self.no_grad.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.no_grad.__exit__(*exc)
        self.model.train(self.was_training)

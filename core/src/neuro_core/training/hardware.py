"""Hardware-aware training pieces: quantization, parameter noise and device mismatch.

Each piece is a small object passed to :class:`~neuro_core.training.Trainer` in ``hardware=[...]``;
they combine freely. A training step runs them in list order:

1. ``attach(model)`` once, when the Trainer is built (validation, flags);
2. ``perturb(model, params, generator)`` every step: returns the parameters the forward pass uses
   (the model's own parameters are never edited in place: the forward runs through
   ``torch.func.functional_call``);
3. ``regularizer(step)`` every step, after the forward pass: an extra loss term or None.

Subclass :class:`HardwareAware` to write a new piece.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

__all__ = [
    "HardwareAware",
    "MismatchInjection",
    "ParameterFilter",
    "ParameterNoise",
    "QuantizationAware",
    "StepContext",
    "model_tensors",
    "relative_noise",
    "select_parameters",
]

ParameterFilter = str | Sequence[str] | Callable[[str], bool] | None
"""Which parameters a piece acts on: None (every one, see :func:`model_tensors`), glob pattern(s)
matched against their names (``"*.weight"``, ``"*.tau"``), or a predicate on the name."""


def model_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's physical parameters by name: its parameters and its floating-point buffers.

    Buffers count because fixed neuron parameters (``tau``, ``threshold`` of ``neuro_core.nn`` layers)
    are stored as buffers, and a chip's mismatch varies them as much as the weights. Integer buffers
    (delays in steps, masks stored as integers) are left out.
    """
    tensors: dict[str, torch.Tensor] = dict(model.named_parameters())
    tensors.update((name, b) for name, b in model.named_buffers() if b.is_floating_point() and name not in tensors)
    return tensors


def select_parameters(model: torch.nn.Module, include: ParameterFilter = None) -> list[str]:
    """Names of the floating-point tensors of :func:`model_tensors` selected by ``include`` (model order).

    Raises:
        ValueError: ``include`` selects nothing (the message lists the available names).
    """
    names = [name for name, p in model_tensors(model).items() if p.is_floating_point()]
    if include is None:
        return names
    if callable(include):
        chosen = [name for name in names if include(name)]
    else:
        patterns = [include] if isinstance(include, str) else list(include)
        chosen = [name for name in names if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]
    if not chosen:
        raise ValueError(f"include={include!r} selects no parameter of {type(model).__name__}; parameters: {names}")
    return chosen


def relative_noise(param: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """``param * sigma * N(0, 1)`` drawn on the CPU from ``generator`` (identical on every device), no gradient.

    Adding it gives ``param * (1 + sigma * N(0, 1))``: the relative mismatch model of ``ChipModel``.
    """
    normal = torch.randn(param.shape, generator=generator, dtype=torch.float32)
    return param.detach() * (sigma * normal).to(device=param.device, dtype=param.dtype)


@dataclass
class StepContext:
    """What a regularizer sees of one training step.

    Attributes:
        model: the model being trained.
        x: input batch (batch, time, channels).
        y: targets (batch,).
        params: the parameters the forward pass used (after every ``perturb``), by name
            (:func:`model_tensors`: parameters and floating-point buffers).
        logits: the readout of that forward pass (batch, out), with gradient.
        forward: ``params -> logits``: runs the model with other parameters (``functional_call``).
        generator: the Trainer's random stream for hardware pieces (CPU, saved in checkpoints).
    """

    model: torch.nn.Module
    x: torch.Tensor
    y: torch.Tensor
    params: dict[str, torch.Tensor]
    logits: torch.Tensor
    forward: Callable[[Mapping[str, torch.Tensor]], torch.Tensor]
    generator: torch.Generator


class HardwareAware:
    """Base class of hardware-aware training pieces; every hook defaults to doing nothing."""

    def attach(self, model: torch.nn.Module) -> None:
        """Validate against ``model`` and prepare (called once by the Trainer)."""

    def perturb(
        self, model: torch.nn.Module, params: Mapping[str, torch.Tensor], generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        """The parameters this step's forward pass uses; must not modify ``params`` or the model in place."""
        return dict(params)

    def regularizer(self, step: StepContext) -> torch.Tensor | None:
        """An extra loss term for this step (a scalar with gradient), or None."""
        return None


class QuantizationAware(HardwareAware):
    """Quantization-aware training: the chip model's forward quantizes with straight-through gradients.

    Sets ``quantization_aware = True`` on every submodule that has that attribute (a
    :class:`~neuro_core.chipmodel.ChipModel` from ``neuro_core.device(name).chip_model(graph)``); the
    quantizer itself is the plugin's (it may use :func:`neuro_core.training.quant.fake_quantize`). The flag
    stays on after training, so evaluation and prediction see the quantized network.
    """

    def attach(self, model: torch.nn.Module) -> None:
        quantizable = [module for module in model.modules() if hasattr(module, "quantization_aware")]
        if not quantizable:
            raise TypeError(
                f"QuantizationAware needs a model with a 'quantization_aware' attribute (a ChipModel from "
                f"neuro_core.device(name).chip_model(graph)); {type(model).__name__} has none"
            )
        for module in quantizable:
            setattr(module, "quantization_aware", True)  # noqa: B010 - nn.Module's typed __setattr__

    def __repr__(self) -> str:
        return "QuantizationAware()"


class _RelativeNoise(HardwareAware):
    """Multiplies selected parameters by ``1 + sigma * N(0, 1)``, redrawn every step.

    The noise is added as a constant (no gradient through the draw), so the gradient is the loss's
    gradient evaluated at the noisy point and applied to the clean parameter.
    """

    def __init__(self) -> None:
        self.sigmas: dict[str, float] = {}

    def perturb(
        self, model: torch.nn.Module, params: Mapping[str, torch.Tensor], generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        noisy = dict(params)
        for name, sigma in self.sigmas.items():
            if sigma > 0:
                noisy[name] = params[name] + relative_noise(params[name], sigma, generator)
        return noisy


def _check_sigma(name: str, value: float) -> float:
    value = float(value)
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"{name} must be >= 0 (a relative standard deviation), got {value}")
    return value


class ParameterNoise(_RelativeNoise):
    """Relative Gaussian noise on weights and neuron parameters during training.

    Args:
        relative_sigma: standard deviation relative to each parameter's magnitude (0.1 = 10 %).
        include: which parameters (default: every floating-point parameter); see ``ParameterFilter``.
    """

    def __init__(self, relative_sigma: float, include: ParameterFilter = None) -> None:
        super().__init__()
        self.relative_sigma = _check_sigma("relative_sigma", relative_sigma)
        self.include = include

    def attach(self, model: torch.nn.Module) -> None:
        self.sigmas = {name: self.relative_sigma for name in select_parameters(model, self.include)}

    def __repr__(self) -> str:
        return f"ParameterNoise(relative_sigma={self.relative_sigma}, include={self.include!r})"


class MismatchInjection(_RelativeNoise):
    """Device mismatch during training, from the device's own mismatch model.

    Args:
        sigma: relative standard deviation per parameter name; a float applies to every parameter;
            None (default) asks the model: ``model.mismatch_sigma()`` (a ChipModel of an analog chip).
    """

    def __init__(self, sigma: float | Mapping[str, float] | None = None) -> None:
        super().__init__()
        self.sigma = sigma

    def attach(self, model: torch.nn.Module) -> None:
        names = select_parameters(model)
        if self.sigma is None:
            mismatch_sigma = getattr(model, "mismatch_sigma", None)
            if not callable(mismatch_sigma):
                raise TypeError(
                    f"MismatchInjection() without sigma needs a model with mismatch_sigma() (a ChipModel); "
                    f"{type(model).__name__} has none: pass sigma="
                )
            sigmas = dict(mismatch_sigma())
            if not sigmas:
                raise ValueError(
                    f"{type(model).__name__}.mismatch_sigma() reports no mismatch (a digital chip?): "
                    "MismatchInjection would do nothing; pass sigma= or use ParameterNoise"
                )
        elif isinstance(self.sigma, Mapping):
            sigmas = dict(self.sigma)
        else:
            sigmas = dict.fromkeys(names, float(self.sigma))
        unknown = sorted(set(sigmas) - set(names))
        if unknown:
            raise ValueError(f"mismatch sigma given for unknown parameter(s) {unknown}; parameters: {names}")
        self.sigmas = {name: _check_sigma(f"sigma[{name!r}]", sigmas[name]) for name in names if name in sigmas}

    def __repr__(self) -> str:
        return f"MismatchInjection(sigma={self.sigma!r})"

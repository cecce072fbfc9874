"""Hardware-aware training: a Trainer, hardware pieces that combine, and robustness evaluation.

Usage::

    from neuro_core.training import Trainer, ParameterNoise, AdversarialAttack, robustness

    trainer = Trainer(model, readout="sum", epochs=20, seed=0, checkpoint_dir="runs/a",
                      hardware=[ParameterNoise(0.1), AdversarialAttack(zeta=0.2, beta=0.25)])
    trainer.fit((x_train, y_train), val=(x_val, y_val))
    rows = robustness(model, (x_test, y_test), sigmas=[0, 0.1, 0.2], n_chips=100)

Works on any ``torch.nn.Module`` mapping (batch, time, in) -> (batch, time, out); uses a ChipModel's
``quantization_aware`` flag and ``mismatch_sigma()`` when present. See docs/training.md.
"""

from __future__ import annotations

from .adversarial import AdversarialAttack, attacked_parameters, output_divergence, pga_attack
from .checkpoint import CHECKPOINT_FORMAT_VERSION, TrainingState, load_checkpoint, save_checkpoint
from .data import Batches, Data
from .hardware import (
    HardwareAware,
    MismatchInjection,
    ParameterFilter,
    ParameterNoise,
    QuantizationAware,
    StepContext,
    model_tensors,
    select_parameters,
)
from .progress import ProgressBar
from .pseudo_label import pseudo_labels
from .quant import fake_quantize
from .readout import get_loss, get_readout
from .robustness import robustness
from .schedule import get_lr_schedule
from .trainer import CHECKPOINT_NAME, Trainer

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "CHECKPOINT_NAME",
    "AdversarialAttack",
    "Batches",
    "Data",
    "HardwareAware",
    "MismatchInjection",
    "ParameterFilter",
    "ParameterNoise",
    "ProgressBar",
    "QuantizationAware",
    "StepContext",
    "Trainer",
    "TrainingState",
    "attacked_parameters",
    "fake_quantize",
    "get_loss",
    "get_lr_schedule",
    "get_readout",
    "load_checkpoint",
    "model_tensors",
    "output_divergence",
    "pga_attack",
    "pseudo_labels",
    "robustness",
    "save_checkpoint",
    "select_parameters",
]

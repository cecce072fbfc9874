"""Adversarial parameter attack training (Büchel, Faber, Muir, Indiveri, Sandamirskaya 2022).

"Network insensitivity to parameter noise via adversarial regularization", ICLR 2022
(arXiv:2106.05009). During training an inner projected gradient ascent (PGA) looks for the parameters
``theta*`` within ``theta +- zeta * |theta|`` whose output differs most from the clean output, measured
by ``KL(softmax f(x, theta) || softmax f(x, theta*))``; the loss adds ``beta`` times that divergence.
A network trained so has flat, wide minima in parameter space and survives device mismatch.

Following the paper (and its reference implementation in Rockpool, ``rockpool.training.adversarial_jax``):

- ``theta*`` starts at ``theta + |theta| * init_std * N(0, 1)``;
- each of ``steps`` ascent steps moves by ``step_size * |theta| * sign(grad)`` (sign steps: the
  l-infinity steepest ascent) and is projected back into the box;
- the robustness loss keeps gradients through both arguments: through ``f(x, theta)`` and through
  ``theta* = theta + |theta| * delta`` with the attack's relative offset ``delta`` held constant
  (the paper's approximation of ``d theta*/d theta``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch.nn import functional as nnf

from .hardware import HardwareAware, ParameterFilter, StepContext, select_parameters

__all__ = ["AdversarialAttack", "attacked_parameters", "output_divergence", "pga_attack"]

Forward = Callable[[Mapping[str, torch.Tensor]], torch.Tensor]


def output_divergence(logits: torch.Tensor, attacked_logits: torch.Tensor) -> torch.Tensor:
    """``KL(softmax(logits) || softmax(attacked_logits))`` averaged over the batch; both (batch, classes)."""
    log_p, log_q = nnf.log_softmax(logits, dim=-1), nnf.log_softmax(attacked_logits, dim=-1)
    return nnf.kl_div(log_q, log_p, log_target=True, reduction="batchmean")


def attacked_parameters(
    params: Mapping[str, torch.Tensor], offsets: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """``theta + |theta| * delta`` for every name in ``offsets`` (relative offsets ``delta``); the rest unchanged."""
    attacked = dict(params)
    for name, delta in offsets.items():
        attacked[name] = params[name] + params[name].abs() * delta
    return attacked


def pga_attack(
    forward: Forward,
    params: Mapping[str, torch.Tensor],
    names: list[str],
    *,
    zeta: float,
    steps: int,
    step_size: float,
    init_std: float,
    generator: torch.Generator,
    clean_logits: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Projected gradient ascent on the output divergence; returns the relative offsets ``delta`` (no gradient).

    Args:
        forward: ``params -> logits`` (batch, classes) for the fixed input batch.
        params: parameters ``theta`` by name; only ``names`` are attacked.
        zeta: box half-width relative to ``|theta|``: every ``|delta| <= zeta``.
        steps: ascent steps.
        step_size: relative step (fraction of ``|theta|``) per ascent step.
        init_std: relative standard deviation of the random start.
        generator: random stream of the start (CPU).
        clean_logits: ``forward(params)`` if already computed (only its value is used).

    Returns:
        ``{name: delta}``; ``theta* = theta + |theta| * delta`` (see :func:`attacked_parameters`).
    """
    theta = {name: p.detach() for name, p in params.items()}
    with torch.no_grad():
        reference = (forward(theta) if clean_logits is None else clean_logits).detach()
    offsets = {}
    for name in names:
        start = init_std * torch.randn(theta[name].shape, generator=generator, dtype=torch.float32)
        offsets[name] = start.clamp(-zeta, zeta).to(device=theta[name].device, dtype=theta[name].dtype)
    with torch.enable_grad():
        for _ in range(steps):
            for delta in offsets.values():
                delta.requires_grad_(True)
            divergence = output_divergence(reference, forward(attacked_parameters(theta, offsets)))
            grads = torch.autograd.grad(divergence, list(offsets.values()), allow_unused=True)
            offsets = {
                name: (delta.detach() + step_size * torch.sign(grad)).clamp(-zeta, zeta)
                if grad is not None
                else delta.detach()
                for (name, delta), grad in zip(offsets.items(), grads, strict=True)
            }
    return offsets


class AdversarialAttack(HardwareAware):
    """Adversarial parameter-attack regularizer: loss += ``beta * KL(f(x, theta) || f(x, theta*))``.

    Args:
        zeta: attack budget relative to each parameter's magnitude (0.2: within +-20 %).
        beta: weight of the robustness term (the paper's beta_rob; 0.1 .. 1 is typical).
        steps: projected-gradient-ascent steps per training step (the paper uses ~10; each costs a
            forward and a backward pass).
        step_size: relative step per ascent step; default ``zeta / steps`` (the paper's choice).
        init_std: relative standard deviation of the random start (paper: 1e-3).
        include: which parameters are attacked (default: all, weights and neuron parameters, see
            :func:`~neuro_core.training.hardware.model_tensors`).
    """

    def __init__(
        self,
        zeta: float = 0.2,
        beta: float = 0.25,
        steps: int = 10,
        step_size: float | None = None,
        init_std: float = 1e-3,
        include: ParameterFilter = None,
    ) -> None:
        if not zeta > 0:
            raise ValueError(f"zeta must be > 0 (relative attack budget), got {zeta}")
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if step_size is not None and not step_size > 0:
            raise ValueError(f"step_size must be > 0, got {step_size}")
        if not init_std >= 0:
            raise ValueError(f"init_std must be >= 0, got {init_std}")
        self.zeta = float(zeta)
        self.beta = float(beta)
        self.steps = steps
        self.step_size = float(step_size) if step_size is not None else self.zeta / steps
        self.init_std = float(init_std)
        self.include = include
        self.names: list[str] = []

    def attach(self, model: torch.nn.Module) -> None:
        self.names = select_parameters(model, self.include)

    def attack(
        self, forward: Forward, params: Mapping[str, torch.Tensor], generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        """The attacked parameters ``theta*`` (no gradient) for one batch; ``forward``: params -> logits."""
        offsets = self._offsets(forward, params, generator, None)
        with torch.no_grad():
            return attacked_parameters({k: v.detach() for k, v in params.items()}, offsets)

    def _offsets(
        self,
        forward: Forward,
        params: Mapping[str, torch.Tensor],
        generator: torch.Generator,
        clean_logits: torch.Tensor | None,
    ) -> dict[str, torch.Tensor]:
        if not self.names:
            raise RuntimeError("AdversarialAttack.attach(model) must run first (the Trainer does it)")
        return pga_attack(
            forward,
            params,
            self.names,
            zeta=self.zeta,
            steps=self.steps,
            step_size=self.step_size,
            init_std=self.init_std,
            generator=generator,
            clean_logits=clean_logits,
        )

    def regularizer(self, step: StepContext) -> torch.Tensor | None:
        if self.beta == 0:
            return None
        offsets = self._offsets(step.forward, step.params, step.generator, step.logits)
        attacked_logits = step.forward(attacked_parameters(step.params, offsets))
        return self.beta * output_divergence(step.logits, attacked_logits)

    def __repr__(self) -> str:
        return (
            f"AdversarialAttack(zeta={self.zeta}, beta={self.beta}, steps={self.steps}, "
            f"step_size={self.step_size}, init_std={self.init_std}, include={self.include!r})"
        )

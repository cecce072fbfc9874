"""neuro_core.training: Trainer, hardware-aware pieces, checkpoints and robustness evaluation.

The models here are tiny torch modules of the (batch, time, in) -> (batch, time, out) shape the
training package accepts; every test runs in well under a second or two.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from neuro_core import FileFormatError, Graph
from neuro_core.chipmodel import ChipModel
from neuro_core.ideal import ideal_target
from neuro_core.training import (
    AdversarialAttack,
    HardwareAware,
    MismatchInjection,
    ParameterNoise,
    ProgressBar,
    QuantizationAware,
    Trainer,
    fake_quantize,
    load_checkpoint,
    model_tensors,
    output_divergence,
    robustness,
    save_checkpoint,
    select_parameters,
)
from neuro_core.training.checkpoint import TrainingState
from torch import nn
from torch.func import functional_call
from torch.utils.data import TensorDataset

N_IN, N_HIDDEN, N_OUT, STEPS = 4, 12, 3, 8


class LeakyNet(nn.Module):
    """Linear -> leaky integrator with a smooth firing nonlinearity -> Linear. vmap-compatible."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.w_in = nn.Parameter(torch.randn(N_HIDDEN, N_IN, generator=generator) * 0.6)
        self.decay = nn.Parameter(torch.full((N_HIDDEN,), 0.8))
        self.threshold = nn.Parameter(torch.ones(N_HIDDEN))
        self.w_out = nn.Parameter(torch.randn(N_OUT, N_HIDDEN, generator=generator) * 0.6)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        current = x @ self.w_in.T
        v = torch.zeros_like(current[:, 0])
        rates = []
        for i_t in current.unbind(1):
            v = self.decay * v + i_t
            rates.append(torch.sigmoid(4.0 * (v - self.threshold)))
        return torch.stack(rates, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(x) @ self.w_out.T


class QuantChip(ChipModel):
    """A ChipModel wrapping LeakyNet: 4-bit weights when quantization-aware, 10 % mismatch on w_in."""

    def __init__(self) -> None:
        super().__init__(ideal_target())
        self.net = LeakyNet()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.quantization_aware:
            return self.net(x)
        weights = {
            "w_in": fake_quantize(self.net.w_in, bits=4, scale=0.25),
            "w_out": fake_quantize(self.net.w_out, bits=4, scale=0.25),
        }
        return functional_call(self.net, weights, (x,))

    def to_graph(self) -> Graph:
        raise NotImplementedError("not needed by these tests")

    def mismatch_sigma(self) -> dict[str, float]:
        return {"net.w_in": 0.1}


class InPlaceNet(LeakyNet):
    """Writes into a preallocated tensor (vmap cannot trace that) but folds chips into its batch itself."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.hidden(x)
        out = torch.empty(x.shape[0], x.shape[1], N_OUT)
        out[:] = hidden @ self.w_out.T
        return out

    def forward_chips(self, x: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
        """(chips, batch, time, out) with ``params[name]`` of shape (chips, *shape)."""
        chips = next(iter(params.values())).shape[0]
        full = {name: params.get(name, p.detach().expand(chips, *p.shape)) for name, p in self.named_parameters()}
        current = torch.einsum("bti,khi->kbth", x, full["w_in"])
        v = torch.zeros_like(current[:, :, 0])
        rates = []
        for t in range(current.shape[2]):
            v = full["decay"][:, None] * v + current[:, :, t]
            rates.append(torch.sigmoid(4.0 * (v - full["threshold"][:, None])))
        return torch.einsum("kbth,koh->kbto", torch.stack(rates, dim=2), full["w_out"])


class NoChipsNet(InPlaceNet):
    forward_chips = None  # type: ignore[assignment]


def make_task(n: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes told apart by which input channels are active early or late."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_OUT, n)
    x = rng.normal(0.0, 0.3, (n, STEPS, N_IN)).astype(np.float32)
    x[y == 0, :, 0] += 1.0
    x[y == 1, :, 1] += 1.0
    x[y == 2, : STEPS // 2, 2] += 1.5
    return x, y


def params_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def assert_same_params(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def loss_at(model: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits = functional_call(model, dict(params), (x,)).sum(dim=1)
    return nn.functional.cross_entropy(logits, y)


# ---- quantization ---------------------------------------------------------------------------------------


def test_fake_quantize_rounds_clamps_and_passes_gradient_straight_through() -> None:
    x = torch.tensor([-3.0, -0.26, 0.1, 0.37, 5.0], requires_grad=True)
    q = fake_quantize(x, bits=3, scale=0.25)  # int3: -4..3 -> [-1.0, 0.75]
    assert q.tolist() == [-1.0, -0.25, 0.0, 0.25, 0.75]
    q.sum().backward()
    assert x.grad is not None and x.grad.tolist() == [1.0] * 5
    (clipped,) = torch.autograd.grad(fake_quantize(x, bits=3, scale=0.25, clip_gradient=True).sum(), x)
    assert clipped.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]  # saturated values get no gradient
    unsigned = fake_quantize(torch.tensor([-1.0, 0.3, 9.0]), bits=2, scale=0.5, signed=False)
    assert unsigned.tolist() == [0.0, 0.5, 1.5]
    auto = fake_quantize(torch.tensor([0.5, -1.0]), bits=8)  # max-abs scale: -1.0 maps to -127
    assert torch.allclose(auto, torch.tensor([64 / 127, -1.0]))
    with pytest.raises(ValueError, match="bits"):
        fake_quantize(x, bits=1)
    with pytest.raises(ValueError, match="scale"):
        fake_quantize(x, bits=8, scale=0.0)


def test_quantization_aware_sets_the_flag_and_the_model_trains_quantized() -> None:
    chip = QuantChip()
    x, y = make_task(32)
    float_logits = chip(torch.from_numpy(x))
    trainer = Trainer(chip, hardware=[QuantizationAware()], epochs=1, batch_size=16, progress=False)
    assert chip.quantization_aware is True
    quantized_logits = trainer.predict(x)
    assert not torch.allclose(quantized_logits, float_logits.sum(dim=1))
    before = params_of(chip)
    trainer.fit((x, y))
    after = params_of(chip)
    assert not torch.equal(before["net.w_in"], after["net.w_in"])  # straight-through gradients reached it
    with pytest.raises(TypeError, match="quantization_aware"):
        Trainer(LeakyNet(), hardware=[QuantizationAware()])


# ---- parameter noise and mismatch -------------------------------------------------------------------------


def test_parameter_noise_changes_the_loss_not_the_stored_parameters() -> None:
    model = LeakyNet()
    x, y = (torch.from_numpy(a) for a in make_task(16))
    noise = ParameterNoise(0.2)
    noise.attach(model)
    assert set(noise.sigmas) == {"w_in", "decay", "threshold", "w_out"}
    stored = params_of(model)
    clean = dict(model.named_parameters())
    generator = torch.Generator().manual_seed(0)
    noisy = noise.perturb(model, clean, generator)
    assert_same_params(stored, params_of(model))
    assert all(not torch.equal(noisy[name], clean[name]) for name in clean)
    noisy_loss = loss_at(model, noisy, x, y)
    assert float(noisy_loss.detach()) != pytest.approx(float(loss_at(model, clean, x, y).detach()))
    # the gradient is the one at the noisy point, applied to the clean parameter
    noisy_loss.backward()
    at_point = {name: value.detach().clone().requires_grad_(True) for name, value in noisy.items()}
    loss_at(model, at_point, x, y).backward()
    for name, p in model.named_parameters():
        expected = at_point[name].grad
        assert p.grad is not None and expected is not None and torch.allclose(p.grad, expected)
    # redrawn every step
    again = noise.perturb(model, clean, generator)
    assert not torch.equal(again["w_in"], noisy["w_in"])


def test_parameter_noise_include_patterns_and_bad_values() -> None:
    model = LeakyNet()
    assert select_parameters(model, "w_*") == ["w_in", "w_out"]
    assert select_parameters(model, lambda name: name == "decay") == ["decay"]
    noise = ParameterNoise(0.1, include=["w_out"])
    noise.attach(model)
    noisy = noise.perturb(model, dict(model.named_parameters()), torch.Generator().manual_seed(1))
    assert torch.equal(noisy["w_in"], model.w_in) and not torch.equal(noisy["w_out"], model.w_out)
    with pytest.raises(ValueError, match="selects no parameter"):
        ParameterNoise(0.1, include="bias*").attach(model)
    with pytest.raises(ValueError, match="relative_sigma"):
        ParameterNoise(-0.1)


def test_mismatch_injection_uses_the_models_mismatch_model() -> None:
    chip = QuantChip()
    mismatch = MismatchInjection()
    mismatch.attach(chip)
    assert mismatch.sigmas == {"net.w_in": 0.1}
    noisy = mismatch.perturb(chip, dict(chip.named_parameters()), torch.Generator().manual_seed(0))
    relative = (noisy["net.w_in"] / chip.net.w_in - 1).detach()
    assert 0.05 < float(relative.std()) < 0.15
    assert torch.equal(noisy["net.w_out"], chip.net.w_out)
    with pytest.raises(TypeError, match="mismatch_sigma"):
        MismatchInjection().attach(LeakyNet())
    with pytest.raises(ValueError, match="unknown parameter"):
        MismatchInjection({"nope": 0.1}).attach(LeakyNet())
    explicit = MismatchInjection(0.05)
    explicit.attach(LeakyNet())
    assert set(explicit.sigmas.values()) == {0.05}


@pytest.fixture
def torch_scans() -> Iterator[None]:
    """neuro_core.nn's torch scans: at these tiny sizes they beat loading the numba kernels."""
    from neuro_core import nn as snn

    previous = snn.set_backend("torch")
    yield
    snn.set_backend(previous)


@pytest.mark.usefixtures("torch_scans")
def test_neuron_parameters_stored_as_buffers_are_perturbed_too(tmp_path: Path) -> None:
    from neuro_core import nn as snn

    net = snn.Network([snn.Linear(N_IN, 8), snn.LIF(8, tau=5e-3), snn.Linear(8, N_OUT), snn.LI(N_OUT)])
    assert {"layers.1.tau", "layers.1.threshold", "layers.0.weight"} <= set(model_tensors(net))
    noise = ParameterNoise(0.3, include="*.tau")
    noise.attach(net)
    assert set(noise.sigmas) == {"layers.1.tau", "layers.3.tau"}
    stored = net.get_buffer("layers.1.tau").clone()
    noisy = noise.perturb(net, model_tensors(net), torch.Generator().manual_seed(0))
    assert not torch.equal(noisy["layers.1.tau"], stored)
    assert torch.equal(net.get_buffer("layers.1.tau"), stored)
    x, y = make_task(16)
    with torch.no_grad():
        assert not torch.equal(functional_call(net, noisy, (torch.from_numpy(x),)), net(torch.from_numpy(x)))
    trainer = Trainer(
        net,
        readout="max",
        epochs=1,
        batch_size=8,
        hardware=[ParameterNoise(0.1)],
        progress=False,
        checkpoint_dir=tmp_path,
    )
    trainer.fit((x, y))
    assert load_checkpoint(tmp_path / "last.ckpt", net).epoch == 1  # float64 buffers round-trip too


# ---- adversarial attack --------------------------------------------------------------------------------


def test_adversarial_attack_stays_in_the_box_and_increases_the_divergence() -> None:
    model = LeakyNet()
    x = torch.from_numpy(make_task(32)[0])
    attack = AdversarialAttack(zeta=0.2, beta=1.0, steps=8)
    attack.attach(model)
    stored = params_of(model)
    params = dict(model.named_parameters())

    def forward(p: Any) -> torch.Tensor:
        return functional_call(model, dict(p), (x,)).sum(dim=1)

    theta_star = attack.attack(forward, params, torch.Generator().manual_seed(0))
    assert_same_params(stored, params_of(model))  # never edited in place
    for name, p in stored.items():
        assert bool(((theta_star[name] - p).abs() <= 0.2 * p.abs() + 1e-6).all()), name
    with torch.no_grad():
        clean = forward(params)
        attacked_kl = float(output_divergence(clean, forward(theta_star)))
        generator = torch.Generator().manual_seed(1)
        random_kls = []
        for _ in range(5):  # random corners of the same box
            signs = {n: torch.randint(0, 2, p.shape, generator=generator) * 2.0 - 1 for n, p in stored.items()}
            corner = {n: p + 0.2 * p.abs() * signs[n] for n, p in stored.items()}
            random_kls.append(float(output_divergence(clean, forward(corner))))
        start = AdversarialAttack(zeta=0.2, steps=1, step_size=1e-9)
        start.attach(model)
        start_kl = float(output_divergence(clean, forward(start.attack(forward, params, torch.Generator()))))
    assert attacked_kl > max(random_kls) > 0
    assert attacked_kl > 100 * start_kl


def test_adversarial_regularizer_has_gradient_and_trains() -> None:
    x, y = make_task(48)
    trainer = Trainer(
        LeakyNet(), hardware=[AdversarialAttack(zeta=0.2, beta=0.5, steps=3)], epochs=2, batch_size=16, progress=False
    )
    history = trainer.fit((x, y))
    assert all(record["train_regularizer"] > 0 for record in history)
    with pytest.raises(ValueError, match="zeta"):
        AdversarialAttack(zeta=0)
    with pytest.raises(ValueError, match="steps"):
        AdversarialAttack(steps=0)


# ---- robustness -----------------------------------------------------------------------------------------


def test_robustness_at_sigma_zero_is_plain_accuracy_and_deterministic() -> None:
    model = LeakyNet()
    x, y = make_task(64)
    Trainer(model, epochs=3, batch_size=16, lr=0.02, progress=False).fit((x, y))
    plain = Trainer(model, progress=False).evaluate((x, y))["accuracy"]
    rows = robustness(model, (x, y), sigmas=[0.0, 0.3], n_chips=20, seed=3)
    assert rows[0]["sigma"] == 0.0 and rows[0]["n_chips"] == 20
    assert rows[0]["mean"] == pytest.approx(plain) and rows[0]["p5"] == pytest.approx(plain)
    assert rows[0]["std"] == 0.0
    assert rows[1]["std"] > 0 and rows[1]["p5"] <= rows[1]["mean"]
    assert robustness(model, (x, y), sigmas=[0.0, 0.3], n_chips=20, seed=3) == rows
    assert robustness(model, (x, y), sigmas=[0.3], n_chips=20, seed=4)[0] != rows[1]
    chunked = robustness(model, (x, y), sigmas=[0.3], n_chips=20, seed=3, chips_per_pass=7, batch_size=10)
    assert chunked[0]["mean"] == pytest.approx(rows[1]["mean"])


def test_robustness_vectorised_equals_one_chip_at_a_time() -> None:
    from neuro_core.training.robustness import chip_parameters

    model = LeakyNet()
    x, y = (torch.from_numpy(a) for a in make_task(40))
    row = robustness(model, (x, y), sigmas=[0.2], n_chips=6, seed=5)[0]
    eps = chip_parameters(model, select_parameters(model), 6, seed=5)
    accuracies = []
    with torch.no_grad():
        for k in range(6):  # the reference: a loop, only in the test
            chip = {name: p * (1 + 0.2 * eps[name][k]) for name, p in model.named_parameters()}
            logits = functional_call(model, chip, (x,)).sum(dim=1)
            accuracies.append(float((logits.argmax(-1) == y).float().mean()))
    assert row["mean"] == pytest.approx(np.mean(accuracies))
    assert row["std"] == pytest.approx(np.std(accuracies, ddof=1))
    assert row["p5"] == pytest.approx(np.percentile(accuracies, 5))


def test_robustness_falls_back_to_forward_chips_when_vmap_fails() -> None:
    x, y = make_task(32)
    reference = robustness(LeakyNet(), (x, y), sigmas=[0.0, 0.2], n_chips=8, seed=1)
    fallback = robustness(InPlaceNet(), (x, y), sigmas=[0.0, 0.2], n_chips=8, seed=1)
    assert [row.keys() for row in fallback] == [row.keys() for row in reference]
    for got, want in zip(fallback, reference, strict=True):
        assert got == pytest.approx(want)
    with pytest.raises(TypeError, match="forward_chips"):
        robustness(NoChipsNet(), (x, y), sigmas=[0.1], n_chips=2)
    with pytest.raises(ValueError, match="n_chips"):
        robustness(LeakyNet(), (x, y), n_chips=0)


# ---- trainer --------------------------------------------------------------------------------------------


def test_trainer_learns_and_reports_history_and_progress(capsys: pytest.CaptureFixture[str]) -> None:
    x, y = make_task(96)
    model = LeakyNet()
    trainer = Trainer(model, epochs=4, batch_size=16, lr=0.03, seed=1)
    before = trainer.evaluate((x, y))
    history = trainer.fit((x, y), val=(x[:32], y[:32]))
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"} <= set(history[-1])
    after = trainer.evaluate((x, y))
    assert after["loss"] < before["loss"] and after["accuracy"] > 0.8 and after["n"] == 96
    assert trainer.predict(x).shape == (96, N_OUT)
    err = capsys.readouterr().err
    assert "epoch 4/4" in err and "6/6" in err and "loss" in err and "val_accuracy" in err
    Trainer(LeakyNet(), epochs=1, batch_size=16, progress=False).fit((x, y))
    assert capsys.readouterr().err == ""


def test_progress_bar_redraws_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    bar = ProgressBar(4, "epoch 1/2", stream=stream)
    for done in range(1, 5):
        bar.update(done, loss=0.5)
    bar.close(loss=0.25)
    text = stream.getvalue()
    assert text.count("\r") >= 2 and "[########################] 4/4" in text and text.endswith("\n")


def test_trainer_accepts_datasets_and_batch_lists_and_refuses_bad_data() -> None:
    x, y = make_task(32)
    dataset = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    trainer = Trainer(LeakyNet(), epochs=1, batch_size=8, progress=False)
    assert len(trainer.fit(dataset)) == 1
    batches = [(x[i : i + 8], y[i : i + 8]) for i in range(0, 32, 8)]
    assert trainer.evaluate(batches) == pytest.approx(trainer.evaluate((x, y)))
    with pytest.raises(ValueError, match="one-shot"):
        trainer.fit(iter(batches))
    with pytest.raises(ValueError, match=r"\(samples, time, channels\)"):
        trainer.fit((x[:, :, 0], y))
    with pytest.raises(ValueError, match="as many samples"):
        trainer.fit((x, y[:-1]))
    with pytest.raises(ValueError, match="readout"):
        Trainer(LeakyNet(), readout="median")
    with pytest.raises(TypeError, match="HardwareAware"):
        Trainer(LeakyNet(), hardware=[object()])  # type: ignore[list-item]


def test_trainer_regression_with_mse_and_custom_pieces() -> None:
    calls = []

    class CountSteps(HardwareAware):
        def regularizer(self, step: Any) -> torch.Tensor:
            calls.append(step.x.shape[0])
            return 0.0 * step.logits.sum()

    x, y = make_task(24)
    trainer = Trainer(LeakyNet(), loss="mse", readout="mean", epochs=1, batch_size=8, hardware=[CountSteps()])
    history = trainer.fit((x, y), val=(x, y))
    assert calls == [8, 8, 8] and history[0]["train_regularizer"] == 0.0
    targets = np.random.default_rng(0).normal(size=(24, N_OUT)).astype(np.float32)
    result = trainer.evaluate((x, targets))
    assert math.isnan(result["accuracy"]) and result["loss"] > 0


def test_early_stopping_stops_and_restores_the_best_epoch() -> None:
    x, y = make_task(64)
    anti = (x, (y + 1) % N_OUT)  # the better the model fits y, the worse it does here
    model = LeakyNet()
    trainer = Trainer(model, epochs=30, batch_size=16, lr=0.03, early_stopping_patience=2, progress=False)
    history = trainer.fit((x, y), val=anti)
    state = trainer.state
    assert state.stopped and len(history) < 30
    assert state.best_epoch is not None and state.best_state is not None
    assert len(history) == state.best_epoch + 2  # stopped after `patience` epochs without improvement
    assert min(r["val_loss"] for r in history) == state.best_value
    assert_same_params(params_of(model), {k: torch.from_numpy(v) for k, v in state.best_state.items()})
    with pytest.raises(ValueError, match="no val data"):
        Trainer(LeakyNet(), early_stopping_patience=2).fit((x, y))


def test_lr_schedule_sets_every_groups_lr_from_the_step_count() -> None:
    x, y = make_task(48)  # 3 steps per epoch at batch 16
    seen: list[float] = []

    def halve_over_the_run(progress: float) -> float:
        seen.append(progress)
        return 1.0 - progress / 2

    def two_groups(params: Any) -> torch.optim.Optimizer:
        first, *rest = list(params)
        return torch.optim.SGD([{"params": [first], "lr": 0.1}, {"params": rest, "lr": 0.01}])

    trainer = Trainer(
        LeakyNet(), optimizer=two_groups, epochs=2, batch_size=16, lr_schedule=halve_over_the_run, progress=False
    )
    history = trainer.fit((x, y))
    assert seen == pytest.approx([k / 6 for k in range(6)])
    last = 1.0 - (5 / 6) / 2
    assert [g["lr"] for g in trainer.optimizer.param_groups] == pytest.approx([0.1 * last, 0.01 * last])
    assert history[-1]["lr"] == pytest.approx(0.1 * last)

    cosine = Trainer(LeakyNet(), epochs=2, batch_size=16, lr=0.01, lr_schedule="cosine", progress=False)
    lrs = [record["lr"] for record in cosine.fit((x, y))]  # the lr of each epoch's last step
    assert lrs == pytest.approx([0.005 * (1 + math.cos(math.pi * k / 6)) for k in (2, 5)])
    linear = Trainer(LeakyNet(), epochs=2, batch_size=16, lr=0.01, lr_schedule="linear", progress=False)
    assert [record["lr"] for record in linear.fit((x, y))] == pytest.approx([0.01 * (1 - k / 6) for k in (2, 5)])


def test_constant_schedule_leaves_the_optimizers_lr_alone() -> None:
    x, y = make_task(32)
    trainer = Trainer(LeakyNet(), epochs=1, batch_size=16, lr=0.01, progress=False)
    trainer.optimizer.param_groups[0]["lr"] = 0.005  # a caller driving the lr itself
    assert trainer.fit((x, y))[0]["lr"] == 0.005


def test_bad_lr_schedule_is_refused_by_name_and_nothing_trains() -> None:
    x, y = make_task(32)
    with pytest.raises(ValueError, match=r"lr_schedule must be one of .*'cosine'.* got 'cosin'"):
        Trainer(LeakyNet(), lr_schedule="cosin")
    trainer = Trainer(LeakyNet(), epochs=1, batch_size=16, lr_schedule=lambda progress: -1.0, progress=False)
    before = params_of(trainer.model)
    with pytest.raises(ValueError, match=r"lr_schedule\(0\) returned -1.0: the factor on lr must be finite and >= 0"):
        trainer.fit((x, y))
    assert_same_params(before, params_of(trainer.model))


# ---- checkpoints and resume -----------------------------------------------------------------------------


class InterruptError(Exception):
    """Stands in for a crash or Ctrl-C in the middle of an epoch."""


def _trainer(directory: Path | None, epochs: int = 4, lr_schedule: str = "constant") -> Trainer:
    return Trainer(
        LeakyNet(seed=7),
        epochs=epochs,
        batch_size=16,
        lr=0.02,
        lr_schedule=lr_schedule,
        seed=11,
        hardware=[ParameterNoise(0.1), AdversarialAttack(zeta=0.1, beta=0.2, steps=2)],
        checkpoint_dir=directory,
        progress=False,
    )


@pytest.mark.parametrize("lr_schedule", ["constant", "cosine"])
def test_interrupted_run_resumes_bit_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lr_schedule: str) -> None:
    x, y = make_task(48)
    reference = _trainer(None, lr_schedule=lr_schedule)
    reference_history = reference.fit((x, y), val=(x[:16], y[:16]))

    interrupted = _trainer(tmp_path, lr_schedule=lr_schedule)
    original_step = Trainer._train_step
    calls = {"n": 0}

    def crashing_step(self: Trainer, *args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 8:  # the middle of epoch 3 (3 steps per epoch)
            raise InterruptError
        return original_step(self, *args)

    monkeypatch.setattr(Trainer, "_train_step", crashing_step)
    with pytest.raises(InterruptError):
        interrupted.fit((x, y), val=(x[:16], y[:16]))
    monkeypatch.setattr(Trainer, "_train_step", original_step)
    assert load_checkpoint(tmp_path / "last.ckpt", LeakyNet()).epoch == 2

    torch.manual_seed(12345)  # the caller's global RNG state must not matter
    resumed = _trainer(tmp_path, lr_schedule=lr_schedule)  # a fresh process: new model, new optimizer
    history = resumed.fit((x, y), val=(x[:16], y[:16]))
    assert_same_params(params_of(reference.model), params_of(resumed.model))
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in history]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in reference_history]
    assert resumed.state.step == 12
    # a finished run resumes to "nothing to do"
    assert len(_trainer(tmp_path, lr_schedule=lr_schedule).fit((x, y), val=(x[:16], y[:16]))) == 4


def test_fit_leaves_the_callers_global_rng_alone() -> None:
    x, y = make_task(16)
    torch.manual_seed(99)
    expected = torch.rand(3)
    torch.manual_seed(99)
    Trainer(LeakyNet(), epochs=1, batch_size=8, progress=False).fit((x, y))
    assert torch.equal(torch.rand(3), expected)


def test_corrupt_or_truncated_checkpoint_is_refused_and_nothing_trains(tmp_path: Path) -> None:
    x, y = make_task(32)
    first = _trainer(tmp_path, epochs=1)
    first.fit((x, y))
    path = tmp_path / "last.ckpt"
    good = path.read_bytes()
    weights_at = good.find(first.model.get_parameter("w_in").detach().numpy().tobytes())  # stored uncompressed
    assert weights_at > 0
    corrupt = bytearray(good)
    corrupt[weights_at + 5] ^= 0x01  # one flipped bit in one weight
    for damaged in (bytes(corrupt), good[: len(good) // 2], b"not a checkpoint at all"):
        path.write_bytes(damaged)
        trainer = _trainer(tmp_path, epochs=3)
        before = params_of(trainer.model)
        with pytest.raises(FileFormatError):
            trainer.fit((x, y))
        assert_same_params(before, params_of(trainer.model))  # training did not start from garbage
        assert trainer.state.step == 0

    path.write_bytes(good)
    with pytest.raises(FileFormatError, match="does not match"):
        load_checkpoint(path, nn.Sequential(nn.Linear(N_IN, N_OUT)))
    seeded = _trainer(tmp_path, epochs=3)
    seeded.seed = seeded.config["seed"] = 12
    with pytest.raises(ValueError, match="seed=11"):
        seeded.fit((x, y))


def test_checkpoint_round_trip_restores_optimizer_and_state(tmp_path: Path) -> None:
    model = LeakyNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    x, y = (torch.from_numpy(a) for a in make_task(16))
    for _ in range(2):
        optimizer.zero_grad()
        loss_at(model, dict(model.named_parameters()), x, y).backward()
        optimizer.step()
    state = TrainingState(
        epoch=2, step=2, history=[{"epoch": 1, "train_loss": 1.5}], rng={"a": np.arange(3, dtype=np.uint8)}
    )
    save_checkpoint(tmp_path / "c.ckpt", model, optimizer, state)

    clone = LeakyNet(seed=3)
    clone_optimizer = torch.optim.Adam(clone.parameters(), lr=0.01, betas=(0.8, 0.9))
    loaded = load_checkpoint(tmp_path / "c.ckpt", clone, clone_optimizer)
    assert loaded.epoch == 2 and loaded.history == state.history and np.array_equal(loaded.rng["a"], state.rng["a"])
    assert_same_params(params_of(model), params_of(clone))
    assert clone_optimizer.param_groups[0]["betas"] == (0.8, 0.9)
    for a, b in ((model, optimizer), (clone, clone_optimizer)):  # one more identical step each
        b.zero_grad()
        loss_at(a, dict(a.named_parameters()), x, y).backward()
        b.step()
    assert_same_params(params_of(model), params_of(clone))
    with pytest.raises(FileFormatError, match="optimizer"):
        load_checkpoint(tmp_path / "c.ckpt", LeakyNet(), torch.optim.SGD(LeakyNet().parameters(), lr=0.1))

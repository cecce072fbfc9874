"""pseudo_labels: confident, class-balanced labels for self-training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from neuro_core.training import pseudo_labels


def test_keeps_the_most_confident_fraction_of_each_predicted_class() -> None:
    # class 0 is predicted for samples 0-3 with large margins, class 1 for samples 4-7 with small ones:
    # ranking over all samples would keep only class 0; per class, each keeps its own top half
    logits = np.array(
        [[9, 0], [5, 0], [8, 0], [6, 0], [0, 0.4], [0, 0.1], [0, 0.3], [0, 0.2]],
        dtype=np.float32,
    )
    indices, labels = pseudo_labels(logits, keep=0.5)
    assert indices.tolist() == [0, 2, 4, 6]
    assert labels.tolist() == [0, 0, 1, 1]
    assert indices.dtype == labels.dtype == np.int64


def test_every_predicted_class_keeps_at_least_one_and_keep_one_keeps_all() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 4))
    logits[:, 3] = np.where(np.arange(50) == 7, 10, -10)  # sample 7 is the only one predicted as class 3
    indices, labels = pseudo_labels(logits, keep=0.01)
    assert 7 in indices.tolist()
    assert set(labels.tolist()) == set(np.argmax(logits, axis=1).tolist())
    every, every_label = pseudo_labels(logits, keep=1.0)
    assert every.tolist() == list(range(50))
    assert every_label.tolist() == np.argmax(logits, axis=1).tolist()


def test_numpy_and_torch_logits_give_the_same_labels() -> None:
    logits = np.random.default_rng(1).normal(size=(40, 10)).astype(np.float32)
    from_numpy = pseudo_labels(logits, keep=0.3)
    from_torch = pseudo_labels(torch.from_numpy(logits).requires_grad_(), keep=0.3)
    assert [a.tolist() for a in from_numpy] == [a.tolist() for a in from_torch]


@pytest.mark.parametrize(("logits", "keep", "field"), [
    (np.zeros((4, 3)), 0.0, "keep"),
    (np.zeros((4, 3)), 1.5, "keep"),
    (np.zeros(4), 0.5, "logits"),
    (np.zeros((4, 0)), 0.5, "logits"),
])  # fmt: skip
def test_bad_arguments_are_refused_by_name(logits: np.ndarray, keep: float, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        pseudo_labels(logits, keep=keep)


def test_the_self_training_example_scores_each_step() -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "self_training.py"
    spec = importlib.util.spec_from_file_location("self_training_example", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    results = example.adapt(quick=True)
    assert list(results) == [
        "before adaptation",
        "control (fine-tuned without the new words)",
        "self-trained",
        "pseudo-label precision",
    ]
    assert all(0.0 <= value <= 1.0 for value in results.values())

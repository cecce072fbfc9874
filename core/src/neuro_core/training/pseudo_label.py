"""Pseudo-labels for self-training: a trained network labels unlabelled data for its own fine-tuning.

The use here is adaptation to a new user without asking for labels: a network (or an ensemble of
networks) reads out the user's unlabelled recordings, the most confident of its answers become
labels, and the network is fine-tuned on them beside its original training set (self-training,
Scudder 1965; Yarowsky 1995; for speech, e.g. Kahn, Lee and Hannun 2020, "Self-training for
end-to-end speech recognition"). Confidence is ranked within each predicted class, so a class the
network is sure of cannot crowd the others out of the kept set.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["pseudo_labels"]


def pseudo_labels(logits: np.ndarray | torch.Tensor, keep: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The most confident predictions of ``logits``, class-balanced, as (indices, labels).

    Each sample's pseudo-label is its largest logit; its confidence is that class's softmax
    probability. Of the samples predicted as class ``c`` (``n_c`` of them), the ``round(keep * n_c)``
    most confident are kept, and at least one wherever ``n_c > 0``. Ties keep the earlier sample.

    Args:
        logits: (samples, classes) read-outs of the unlabelled samples (an ensemble's averaged logits,
            or one network's).
        keep: fraction kept within each predicted class, in (0, 1].

    Returns:
        ``(indices, labels)``: (K,) int64 ascending indices into ``logits`` and their (K,) int64 labels.

    Raises:
        ValueError: ``keep`` outside (0, 1], or ``logits`` not 2-D with at least one class.
    """
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep must lie in (0, 1] (the fraction kept per predicted class), got {keep!r}")
    scores = torch.as_tensor(logits).detach().to("cpu", torch.float64)
    if scores.ndim != 2 or scores.shape[1] < 1:
        raise ValueError(f"logits must be (samples, classes) with at least one class, got shape {tuple(scores.shape)}")
    confidence, predicted = (t.numpy() for t in torch.softmax(scores, dim=1).max(dim=1))
    kept: list[np.ndarray] = []
    for label in np.unique(predicted):
        members = np.flatnonzero(predicted == label)
        order = members[np.argsort(-confidence[members], kind="stable")]
        kept.append(order[: max(1, round(keep * len(members)))])
    indices = np.sort(np.concatenate(kept)) if kept else np.zeros(0, dtype=np.int64)
    return indices.astype(np.int64), predicted[indices].astype(np.int64)

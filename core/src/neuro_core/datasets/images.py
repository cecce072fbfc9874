"""Images as spikes: rate and latency encoders, MNIST from a file, and scikit-learn's 8x8 digits.

Nothing here downloads anything. MNIST is read from a local ``.npz`` (``images`` (N, 28, 28) uint8,
``labels`` (N,)), by default ``default_data_root() / "mnist10k.npz"`` (benchmarks only). The 8x8
digits come from scikit-learn's bundled copy when scikit-learn is installed (it is not a dependency).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import NeuroError
from .speech import default_data_root
from .spikedata import SpikeData

__all__ = ["downscale", "latency_encode", "load_digits", "load_mnist", "rate_encode"]

_DIGIT_CLASSES = tuple(str(d) for d in range(10))


def _unit_images(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, dtype=np.float64)
    if x.ndim < 2:
        raise NeuroError(f"images must be (N, ...) with one image per row, got shape {x.shape}")
    if x.size and (x.min() < 0 or x.max() > 1):
        raise NeuroError(f"pixel values must lie in [0, 1], found {x.min()}..{x.max()} (divide by 255 first)")
    return x.reshape(len(x), -1)


def rate_encode(
    images: np.ndarray,
    labels: np.ndarray,
    n_steps: int = 100,
    dt: float = 1e-3,
    max_rate: float = 200.0,
    seed: int = 0,
    classes: tuple[str, ...] = _DIGIT_CLASSES,
) -> SpikeData:
    """Poisson rate code: pixel ``p`` in [0, 1] fires with probability ``p * max_rate * dt`` per step.

    Args:
        images: (N, ...) pixel intensities in [0, 1]; flattened to N x C channels.
        labels: (N,) class indices.
        n_steps: time steps T.
        dt: step, s.
        max_rate: rate of a white (1.0) pixel, Hz; ``max_rate * dt`` must be <= 1.
        seed: seed of the Poisson draws.
    """
    if n_steps < 1:
        raise NeuroError(f"n_steps must be >= 1, got {n_steps}")
    if not 0 < max_rate * dt <= 1:
        raise NeuroError(f"max_rate * dt must be in (0, 1] (one spike per step at most), got {max_rate * dt}")
    x = _unit_images(images)
    rng = np.random.default_rng(seed)
    events = []
    for pixels in x:
        steps, units = np.nonzero(rng.random((n_steps, x.shape[1])) < pixels * max_rate * dt)
        events.append((steps * dt, units))
    return SpikeData.from_events(
        events,
        labels,
        classes,
        x.shape[1],
        duration=n_steps * dt,
        meta={"encoder": "rate", "max_rate": max_rate, "seed": seed, "time_resolution": dt},
    )


def latency_encode(
    images: np.ndarray,
    labels: np.ndarray,
    n_steps: int = 100,
    dt: float = 1e-3,
    threshold: float = 0.2,
    classes: tuple[str, ...] = _DIGIT_CLASSES,
) -> SpikeData:
    """Time-to-first-spike code: one spike per pixel, brighter pixels earlier.

    Pixel ``p > threshold`` fires once at step ``round((1 - p) / (1 - threshold) * (n_steps - 1))``
    (1.0 fires at step 0); pixels at or below ``threshold`` stay silent. Deterministic.
    """
    if n_steps < 1:
        raise NeuroError(f"n_steps must be >= 1, got {n_steps}")
    if not 0 <= threshold < 1:
        raise NeuroError(f"threshold must be in [0, 1), got {threshold}")
    x = _unit_images(images)
    events = []
    for pixels in x:
        units = np.nonzero(pixels > threshold)[0]
        steps = np.rint((1 - pixels[units]) / (1 - threshold) * (n_steps - 1)).astype(np.int64)
        order = np.lexsort((units, steps))
        events.append((steps[order] * dt, units[order]))
    return SpikeData.from_events(
        events,
        labels,
        classes,
        x.shape[1],
        duration=n_steps * dt,
        meta={"encoder": "latency", "threshold": threshold, "time_resolution": dt},
    )


def _area_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(out, in) matrix averaging input pixels by their overlap with each output pixel."""
    edges_in = np.arange(size_in + 1) / size_in
    edges_out = np.arange(size_out + 1) / size_out
    low = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    high = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    overlap = np.clip(high - low, 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def downscale(images: np.ndarray, size: int) -> np.ndarray:
    """Area-average (N, H, W) images to (N, size, size) (exact box resampling, keeps the value range)."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 3:
        raise NeuroError(f"images must be (N, H, W), got shape {x.shape}")
    rows, cols = _area_matrix(x.shape[1], size), _area_matrix(x.shape[2], size)
    return np.einsum("oh,nhw,pw->nop", rows, x, cols)


def load_mnist(
    path: str | os.PathLike[str] | None = None,
    size: int = 28,
    test_fraction: float = 1 / 6,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST digits from a local ``.npz`` (``images`` uint8 (N, 28, 28), ``labels`` (N,)), for benchmarks.

    Args:
        path: the file (default ``default_data_root() / "mnist10k.npz"``: 10,000 real MNIST digits).
        size: 28 (original) or smaller, e.g. 16 (the 16x16 variant used on BrainScaleS-2), by
            area averaging.
        test_fraction: share held out as the test set.
        seed: seed of the shuffle before the split.

    Returns:
        ``(x_train, y_train, x_test, y_test)``: images float32 in [0, 1] (N, size, size), labels int64.
    """
    file = Path(path) if path is not None else default_data_root() / "mnist10k.npz"
    if not file.is_file():
        raise NeuroError(f"MNIST file {file} does not exist (pass path=... or set NEURO_DATASETS)")
    if not 0 < test_fraction < 1:
        raise NeuroError(f"test_fraction must be in (0, 1), got {test_fraction}")
    with np.load(file, allow_pickle=False) as archive:
        if "images" not in archive or "labels" not in archive:
            raise NeuroError(f"{file} must hold arrays 'images' and 'labels', found {sorted(archive.files)}")
        images, labels = archive["images"], archive["labels"].astype(np.int64)
    x = images.astype(np.float64) / 255.0
    if size != x.shape[1]:
        x = downscale(x, size)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = round(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    x = x.astype(np.float32)
    return x[train], labels[train], x[test], labels[test]


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, UCI optdigits, CC BY 4.0).

    Returns:
        ``(images float32 (1797, 8, 8) in [0, 1], labels int64 (1797,))``.

    Raises:
        NeuroError: scikit-learn is not installed (it is optional: ``pip install scikit-learn``).
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as exc:
        raise NeuroError(
            "the 8x8 digits come from scikit-learn, which is not installed: pip install scikit-learn"
        ) from exc
    bunch = sklearn_digits()
    return (bunch.images / 16.0).astype(np.float32), bunch.target.astype(np.int64)

"""Data sources for training and evaluation, batched reproducibly.

Accepted forms (``Data``):

- a pair ``(x, y)`` of numpy arrays or tensors: ``x`` (samples, time, channels), ``y`` (samples,) class
  labels (or float targets); shuffled every epoch by a permutation drawn from ``(seed, epoch)`` alone,
  so epoch ``e`` sees the same order whether or not the run was interrupted before it;
- a map-style ``torch.utils.data.Dataset`` of ``(x_i, y_i)`` items: batched by a ``DataLoader`` whose
  shuffling generator is seeded from ``(seed, epoch)``;
- any re-iterable of ``(x_batch, y_batch)`` pairs (a list, a ``DataLoader``): used as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeAlias

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

__all__ = ["Batches", "Data", "derive_seed"]

Data: TypeAlias = tuple[Any, Any] | Dataset | Iterable[tuple[Any, Any]]


def derive_seed(seed: int, *path: int) -> int:
    """A 63-bit seed for the sub-stream ``path`` of ``seed`` (independent streams, no overlap)."""
    return int(np.random.SeedSequence([seed, *path]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray | torch.Tensor)


def _as_inputs(x: Any) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    return tensor if tensor.is_floating_point() else tensor.to(torch.float32)  # spikes may come as int/bool


def _as_targets(y: Any) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if tensor.dtype == torch.bool or not (tensor.is_floating_point() or tensor.is_complex()):
        return tensor.to(torch.int64)  # class labels
    return tensor


class Batches:
    """Re-iterable batches of one data source; ``epoch(e)`` yields that epoch's ``(x, y)`` batches."""

    def __init__(self, data: Data, batch_size: int, *, shuffle: bool, seed: int) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self._x: torch.Tensor | None = None
        self._y: torch.Tensor | None = None
        self._dataset: Dataset | None = None
        self._iterable: Iterable[tuple[Any, Any]] | None = None
        if isinstance(data, tuple | list) and len(data) == 2 and _is_array(data[0]) and _is_array(data[1]):
            x, y = _as_inputs(data[0]), _as_targets(data[1])
            if x.ndim != 3:
                raise ValueError(f"x must be (samples, time, channels), got shape {tuple(x.shape)}")
            if y.shape[0] != x.shape[0]:
                raise ValueError(f"x and y must hold as many samples: x has {x.shape[0]}, y has {y.shape[0]}")
            self._x, self._y = x, y
        elif isinstance(data, Dataset) and hasattr(data, "__len__") and not isinstance(data, Iterable):
            self._dataset = data
        elif isinstance(data, Iterable):
            if iter(data) is data:  # a generator would be empty from the second epoch on
                raise ValueError("data is a one-shot iterator; pass a re-iterable (list, DataLoader) or (x, y) arrays")
            self._iterable = data
        else:
            raise TypeError(
                f"data must be (x, y) arrays, a torch Dataset or an iterable of batches, got {type(data).__name__}"
            )

    def __len__(self) -> int:
        """Number of batches per epoch (0 if the source does not know its length)."""
        if self._x is not None:
            return -(-self._x.shape[0] // self.batch_size)
        if self._dataset is not None:
            return -(-len(self._dataset) // self.batch_size)  # type: ignore[arg-type]
        try:
            return len(self._iterable)  # type: ignore[arg-type]
        except TypeError:
            return 0

    def epoch(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The batches of epoch ``epoch`` (0-based); the order depends only on ``(seed, epoch)``."""
        if self._x is not None and self._y is not None:
            n = self._x.shape[0]
            if self.shuffle:
                order = torch.from_numpy(np.random.default_rng(derive_seed(self.seed, epoch)).permutation(n))
            else:
                order = torch.arange(n)
            for start in range(0, n, self.batch_size):
                index = order[start : start + self.batch_size]
                yield self._x[index], self._y[index]
            return
        if self._dataset is not None:
            generator = torch.Generator().manual_seed(derive_seed(self.seed, epoch))
            loader = DataLoader(self._dataset, batch_size=self.batch_size, shuffle=self.shuffle, generator=generator)
            for x, y in loader:
                yield _as_inputs(x), _as_targets(y)
            return
        assert self._iterable is not None
        for batch in self._iterable:
            if not (isinstance(batch, tuple | list) and len(batch) == 2):
                raise ValueError(f"each batch must be an (x, y) pair, got {type(batch).__name__}")
            yield _as_inputs(batch[0]), _as_targets(batch[1])

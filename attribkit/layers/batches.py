"""Batches of a data set: cut a tensor into slices, or read a DataLoader / iterable of batches.

This is the lowest module of :mod:`attribkit.layers` (feature extraction, patch scans and the
distributed helpers all read their data through it), so it imports none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn

from attribkit._checks import check_finite, check_positive_int

__all__ = ["iter_batches", "model_device", "batch_count"]


def model_device(model: nn.Module) -> torch.device | None:
    """The device of the model's first parameter (or buffer); ``None`` for a stateless model.

    Examples:
        >>> from torch import nn
        >>> model_device(nn.Linear(2, 2))
        device(type='cpu')
    """
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return None


def batch_count(data: object, batch_size: int) -> int | None:
    """How many batches :func:`iter_batches` will yield, when it can be told in advance.

    Examples:
        >>> import torch
        >>> batch_count(torch.zeros(5, 2), 2)
        3
    """
    check_positive_int(batch_size, "batch_size")
    if isinstance(data, torch.Tensor):
        return -(-int(data.shape[0]) // batch_size) if data.ndim >= 1 else None
    try:
        return len(data)  # type: ignore[arg-type]
    except TypeError:
        return None


def iter_batches(data: torch.Tensor | Iterable[Any], batch_size: int) -> Iterator[torch.Tensor]:
    """Yield input batches from a tensor, a DataLoader or any iterable.

    A tensor is cut into ``batch_size`` slices along its first dimension. Items of an
    iterable may be tensors (a batch ``N×…``) or tuples/lists whose first entry is the
    batch (``(images, labels)`` as a DataLoader yields them). Every batch is checked to be
    finite: NaN or infinite inputs would give NaN features.

    Args:
        data: an ``N×C×H×W`` tensor, or an iterable of batches.
        batch_size: slice size for a tensor (ignored for iterables, which batch themselves).

    Raises:
        ValueError: ``batch_size`` is not a positive int, a batch is not ``N×…``, or it holds
            NaN or infinite values.
        TypeError: ``data`` is neither a tensor nor an iterable of tensors.

    Examples:
        >>> import torch
        >>> [b.shape[0] for b in iter_batches(torch.zeros(5, 1, 2, 2), 2)]
        [2, 2, 1]
    """
    check_positive_int(batch_size, "batch_size")
    if isinstance(data, torch.Tensor):
        if data.ndim < 2:
            raise ValueError(
                f"data must be a batch N×… (e.g. N×C×H×W), got shape {tuple(data.shape)}"
            )
        for i in range(0, data.shape[0], batch_size):
            batch = data[i : i + batch_size]
            check_finite(batch, "data")
            yield batch
        return
    if not isinstance(data, Iterable) or isinstance(data, (str, bytes)):
        raise TypeError(
            f"data must be a tensor, a DataLoader or an iterable of batches, "
            f"got {type(data).__name__}"
        )
    for item in data:
        if isinstance(item, (tuple, list)) and item:
            item = item[0]
        if not isinstance(item, torch.Tensor):
            raise TypeError(
                f"each batch must be a tensor or a (tensor, ...) tuple, got {type(item).__name__}"
            )
        if item.ndim < 2:
            raise ValueError(f"each batch must be N×…, got shape {tuple(item.shape)}")
        check_finite(item, "a batch of data")
        yield item

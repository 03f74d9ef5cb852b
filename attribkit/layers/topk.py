"""Streaming per-channel top-k: the state of a maximally-activating-patch scan.

The scan keeps, per channel, only ``k`` hits as plain tensors (``values``, global image
``index``, ``y``, ``x``), so its memory is ``O(channels × k)`` whatever the data set's size.
:func:`merge_topk` merges two such states exactly, breaking ties by (value descending, global
image index ascending, y ascending, x ascending): scans of disjoint shards merged in any order
give the same answer as one scan, which is what a distributed run needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from attribkit._checks import check_positive_int, describe

__all__ = ["TopK", "merge_topk", "batch_topk"]


@dataclass
class TopK:
    """Per-channel top-k hits: four ``C×k`` tensors, best first.

    Empty slots hold ``value = -inf`` and ``index = y = x = -1``.
    """

    values: torch.Tensor
    index: torch.Tensor
    y: torch.Tensor
    x: torch.Tensor

    def __post_init__(self) -> None:
        for name in ("values", "index", "y", "x"):
            t = getattr(self, name)
            if not isinstance(t, torch.Tensor) or t.ndim != 2:
                raise ValueError(
                    f"TopK.{name} must be a C×k tensor, got "
                    f"{describe(t)}"
                )
            if t.shape != self.values.shape:
                raise ValueError(
                    f"TopK.{name} has shape {tuple(t.shape)} but values has "
                    f"{tuple(self.values.shape)}; the four tensors must be C×k alike"
                )
        if not self.values.is_floating_point() or self.index.is_floating_point():
            raise TypeError("TopK.values must be floating point and index, y, x integers")

    @classmethod
    def empty(
        cls,
        channels: int,
        k: int,
        device: torch.device | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> TopK:
        """A state with no hits."""
        check_positive_int(channels, "channels")
        check_positive_int(k, "k")
        v = torch.full((channels, k), -math.inf, device=device, dtype=dtype)
        i = torch.full((channels, k), -1, device=device, dtype=torch.long)
        return cls(v, i, i.clone(), i.clone())

    @property
    def k(self) -> int:
        """Slots per channel."""
        return int(self.values.shape[1])

    def numel(self) -> int:
        """Elements stored (the memory of the scan; independent of the data set's size)."""
        return sum(t.numel() for t in (self.values, self.index, self.y, self.x))

    def filled(self) -> torch.Tensor:
        """Per channel, how many slots hold a hit."""
        return (self.index >= 0).sum(dim=1)

    def to(self, device: torch.device | str) -> TopK:
        """The same state on ``device`` (e.g. before an ``all_gather``)."""
        return TopK(*(t.to(device) for t in (self.values, self.index, self.y, self.x)))


def _order(
    values: torch.Tensor, index: torch.Tensor, y: torch.Tensor, x: torch.Tensor
) -> torch.Tensor:
    """Column permutation per row sorting by (value desc, index asc, y asc, x asc); empty last."""
    # empty slots (index -1) go last: give them the largest keys
    big = torch.iinfo(torch.long).max
    idx_key = torch.where(index < 0, torch.full_like(index, big), index)
    perm = torch.argsort(x, dim=1, stable=True)
    for key, desc in ((y, False), (idx_key, False), (values, True)):
        k = torch.gather(key, 1, perm)
        perm = torch.gather(perm, 1, torch.argsort(k, dim=1, descending=desc, stable=True))
    return perm


def merge_topk(a: TopK, b: TopK, k: int | None = None) -> TopK:
    """Exact top-``k`` of the union of two states (ties: lower image index, then y, then x).

    The result does not depend on the order of the arguments, so shards can be merged in any
    order (e.g. after ``torch.distributed.all_gather``).

    Examples:
        >>> import torch
        >>> a = TopK(torch.tensor([[3., 1.]]), torch.tensor([[5, 2]]), torch.zeros(1, 2,
        ...          dtype=torch.long), torch.zeros(1, 2, dtype=torch.long))
        >>> b = TopK(torch.tensor([[3., 2.]]), torch.tensor([[4, 9]]), torch.zeros(1, 2,
        ...          dtype=torch.long), torch.zeros(1, 2, dtype=torch.long))
        >>> merge_topk(a, b).index.tolist()
        [[4, 5]]
    """
    if not isinstance(a, TopK) or not isinstance(b, TopK):
        raise TypeError(
            f"merge_topk merges two TopK states, got {type(a).__name__} and {type(b).__name__}"
        )
    if k is not None:
        check_positive_int(k, "k")
    if a.values.shape[0] != b.values.shape[0]:
        raise ValueError(
            f"cannot merge states with {a.values.shape[0]} and {b.values.shape[0]} channels"
        )
    k = k if k is not None else max(a.k, b.k)
    v = torch.cat([a.values, b.values.to(a.values)], 1)
    i = torch.cat([a.index, b.index.to(a.index)], 1)
    y = torch.cat([a.y, b.y.to(a.y)], 1)
    x = torch.cat([a.x, b.x.to(a.x)], 1)
    perm = _order(v, i, y, x)[:, :k]
    out = TopK(*(torch.gather(t, 1, perm) for t in (v, i, y, x)))
    if out.k < k:  # fewer candidates than k: pad with empty slots
        pad = TopK.empty(v.shape[0], k - out.k, v.device, v.dtype)
        out = TopK(
            *(
                torch.cat([p, q], 1)
                for p, q in zip(
                    (out.values, out.index, out.y, out.x), (pad.values, pad.index, pad.y, pad.x)
                )
            )
        )
    return out


def batch_topk(acts: torch.Tensor, start_index: int, k: int, one_per_image: bool = True) -> TopK:
    """Top-``k`` hits per channel of one batch of activations ``B×C×h×w``.

    Args:
        acts: the layer's output for images ``start_index … start_index + B - 1``.
        start_index: global index of the batch's first image.
        k: hits to keep per channel.
        one_per_image: count each image at most once per channel (its best position, the
            first in row-major order on ties); else every position competes.

    Examples:
        >>> import torch
        >>> a = torch.zeros(2, 1, 2, 2); a[1, 0, 1, 0] = 5.0
        >>> t = batch_topk(a, 10, 1)
        >>> t.values.item(), t.index.item(), t.y.item(), t.x.item()
        (5.0, 11, 1, 0)
    """
    if not isinstance(acts, torch.Tensor) or acts.ndim != 4:
        raise ValueError(
            "acts must be a B×C×h×w tensor of activations, got "
            f"{describe(acts)}"
        )
    if not acts.is_floating_point() or not bool(torch.isfinite(acts).all()):
        raise ValueError("acts must be finite floating-point activations (no NaN or inf)")
    check_positive_int(k, "k")
    if isinstance(start_index, bool) or not isinstance(start_index, int) or start_index < 0:
        raise ValueError(f"start_index must be a non-negative int, got {start_index!r}")
    b, c, h, w = acts.shape
    dev = acts.device
    if one_per_image:
        flat = acts.reshape(b, c, h * w)
        vals, pos = flat.max(dim=2)  # first maximal position on ties
        v = vals.t()  # C×B
        idx = (torch.arange(b, device=dev) + start_index).expand(c, b)
        y, x = (pos // w).t(), (pos % w).t()
        # B candidates per channel, already in index order: a stable sort gives exact ties
        kk = min(k, b)
        perm = torch.argsort(v, dim=1, descending=True, stable=True)[:, :kk]
        return TopK(
            torch.gather(v, 1, perm),
            torch.gather(idx, 1, perm),
            torch.gather(y, 1, perm),
            torch.gather(x, 1, perm),
        )
    flat = acts.permute(1, 0, 2, 3).reshape(c, b * h * w)  # row-major (image, y, x)
    kk = min(k, flat.shape[1])
    thresh = torch.topk(flat, kk, dim=1).values[:, -1:]
    # every element >= the k-th value is a candidate; the exact tie order is then fixed by a
    # stable sort of this small set, which is in (image, y, x) order already
    cand = torch.nonzero(flat >= thresh)  # rows sorted by (channel, flat position)
    ch, pos = cand[:, 0], cand[:, 1]
    vals = flat[ch, pos]
    order = torch.argsort(vals, descending=True, stable=True)
    order = order[torch.argsort(ch[order], stable=True)]
    ch, pos, vals = ch[order], pos[order], vals[order]
    counts = torch.bincount(ch, minlength=c)
    starts = torch.cumsum(counts, 0) - counts
    take = (starts.view(c, 1) + torch.arange(kk, device=dev).view(1, kk)).flatten()
    pos, vals = pos[take].view(c, kk), vals[take].view(c, kk)
    img, rem = pos // (h * w), pos % (h * w)
    return TopK(vals, img + start_index, rem // w, rem % w)

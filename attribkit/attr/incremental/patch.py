"""An activation of a batch of occluded copies of one image, stored as the unoccluded image's
activation plus one box of new values per copy.

Boxes are kept in channels-last memory so that reading a region is one row gather from the
cached activation (``H·W`` rows of ``C`` values) and one row scatter of the box.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["Patch", "flat_cache"]


def flat_cache(activation: torch.Tensor) -> torch.Tensor:
    """A ``1×C×H×W`` activation as an ``(H·W)×C`` row table (a copy, safe from in-place ops).

    Examples:
        >>> import torch
        >>> flat_cache(torch.arange(8.0).view(1, 2, 2, 2))[1].tolist()
        [1.0, 5.0]
    """
    c = activation.shape[1]
    return activation[0].permute(1, 2, 0).reshape(-1, c).clone()


class Patch:
    """``B`` copies of a ``C×H×W`` activation that differ from ``cache`` only inside their box.

    Args:
        box: ``B×C×h×w`` values inside the boxes.
        top: ``(B,)`` first row of each box.
        left: ``(B,)`` first column of each box.
        map_size: ``(H, W)``.
        cache: the unoccluded activation as an ``(H·W)×C`` table (:func:`flat_cache`); needed
            only to read outside the boxes.

    Examples:
        >>> import torch
        >>> ref = torch.zeros(1, 1, 4, 4)
        >>> p = Patch(torch.ones(1, 1, 2, 2), torch.tensor([1]), torch.tensor([2]), (4, 4),
        ...           flat_cache(ref))
        >>> p.full()[0, 0].tolist()[1]
        [0.0, 0.0, 1.0, 1.0]
    """

    __slots__ = ("box", "top", "left", "map_size", "cache", "_full")

    def __init__(
        self,
        box: torch.Tensor,
        top: torch.Tensor,
        left: torch.Tensor,
        map_size: tuple[int, int],
        cache: torch.Tensor | None,
    ) -> None:
        self.box = box
        self.top = top
        self.left = left
        self.map_size = map_size
        self.cache = cache
        self._full: torch.Tensor | None = None

    @property
    def shape(self) -> torch.Size:
        """The shape of the activation this patch stands for: ``B×C×H×W``."""
        b, c = self.box.shape[:2]
        return torch.Size((b, c, *self.map_size))

    @property
    def dtype(self) -> torch.dtype:
        """The activation's dtype."""
        return self.box.dtype

    @property
    def device(self) -> torch.device:
        """The activation's device."""
        return self.box.device

    @property
    def ndim(self) -> int:
        """4."""
        return 4

    def dim(self) -> int:
        """4, as ``Tensor.dim``."""
        return 4

    def size(self, dim: int | None = None) -> Any:
        """As ``Tensor.size``."""
        return self.shape if dim is None else self.shape[dim]

    @property
    def is_whole(self) -> bool:
        """Whether the box is the whole map (then ``box`` is the activation)."""
        return tuple(self.box.shape[2:]) == self.map_size

    def _rows(self) -> torch.Tensor:
        b, c, h, w = self.box.shape
        return self.box.permute(0, 2, 3, 1).reshape(b * h * w, c)

    def region(
        self, top: torch.Tensor, left: torch.Tensor, height: int, width: int, fill: float = 0.0
    ) -> torch.Tensor:
        """The activation on a ``height × width`` region per copy, ``B×C×height×width``
        (channels-last); positions outside the map read ``fill``."""
        b, c, h, w = self.box.shape
        if (
            (height, width) == (h, w)
            and torch.equal(top, self.top)
            and torch.equal(left, self.left)
        ):
            return self.box
        big_h, big_w = self.map_size
        ys = top[:, None] + torch.arange(height, device=top.device)  # B×height
        xs = left[:, None] + torch.arange(width, device=top.device)  # B×width
        if self.is_whole:
            source = self._rows()
            offset = (torch.arange(b, device=top.device) * (big_h * big_w))[:, None, None]
        else:
            if self.cache is None:
                raise RuntimeError("internal error: a cached activation was not kept")
            source, offset = self.cache, None
        rows = ys.clamp(0, big_h - 1)[:, :, None] * big_w + xs.clamp(0, big_w - 1)[:, None, :]
        if offset is not None:
            rows = rows + offset
        out = source.index_select(0, rows.reshape(-1))
        if not self.is_whole:
            # overwrite the part of each box that falls inside the region
            ry = (self.top - top)[:, None] + torch.arange(h, device=top.device)
            rx = (self.left - left)[:, None] + torch.arange(w, device=top.device)
            ok = ((ry >= 0) & (ry < height))[:, :, None] & ((rx >= 0) & (rx < width))[:, None, :]
            base = (torch.arange(b, device=top.device) * height)[:, None]
            dest = (base + ry.clamp(0, height - 1))[:, :, None] * width + rx.clamp(0, width - 1)[
                :, None, :
            ]
            if bool(ok.all()):
                out.index_copy_(0, dest.reshape(-1), self._rows())
            else:
                keep = ok.reshape(-1)
                out.index_copy_(0, dest.reshape(-1)[keep], self._rows()[keep])
        out = out.view(b, height, width, c)
        outside = ~(((ys >= 0) & (ys < big_h))[:, :, None] & ((xs >= 0) & (xs < big_w))[:, None, :])
        if bool(outside.any()):
            out.masked_fill_(outside[..., None], fill)
        return out.permute(0, 3, 1, 2)

    def full(self) -> torch.Tensor:
        """The whole activation, ``B×C×H×W`` (channels-last; computed once)."""
        if self.is_whole:
            return self.box
        if self._full is None:
            zero = torch.zeros_like(self.top)
            self._full = self.region(zero, zero, *self.map_size)
        return self._full

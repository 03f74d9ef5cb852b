"""Where an occluding patch can change a layer's activations: one box per window position.

Krypton (Nakandala et al., SIGMOD 2019) calls this region the patch's *projective field*. A box
is tracked for every window position at once, as integer tensors, so that a layer's box size is
the same for all positions (the largest one needed) and a batch of positions is a plain batch
of equally sized tiles. Boxes always lie inside the feature map; a box as large as the map
means the whole activation changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Boxes", "Limits", "Sliding", "through_sliding", "shifted", "union", "tile_of"]


@dataclass(frozen=True)
class Limits:
    """How far boxes may grow.

    Args:
        threshold: projective-field threshold (Krypton's *τ*): a box side never exceeds this
            fraction of the feature map's side; what lies outside is read from the unoccluded
            image's activations. ``1.0`` (default) is exact; smaller values are approximate.
        full_fraction: once a box covers at least this fraction of its map's area, the whole
            map is recomputed instead (the box becomes the map). ``1.0`` only when it is the map.

    Examples:
        >>> Limits(threshold=0.5).side(14)
        7
    """

    threshold: float = 1.0
    full_fraction: float = 1.0

    def __post_init__(self) -> None:
        for name in ("threshold", "full_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number in (0, 1], got {value!r}")
            if not math.isfinite(value) or not 0 < value <= 1:
                raise ValueError(f"{name} must be a finite number in (0, 1], got {value!r}")

    def side(self, length: int) -> int:
        """The longest box side allowed on a map side of ``length``."""
        return max(1, min(length, math.ceil(self.threshold * length - 1e-9)))


@dataclass(frozen=True)
class Boxes:
    """One box per window position on a ``map_height × map_width`` feature map.

    Attributes:
        top: ``(P,)`` int64 first row of each position's box.
        left: ``(P,)`` int64 first column.
        height: rows of every box.
        width: columns of every box.
        map_height: rows of the feature map.
        map_width: columns of the feature map.

    Examples:
        >>> import torch
        >>> b = Boxes(torch.tensor([0, 4]), torch.tensor([2, 2]), 3, 3, 8, 8)
        >>> b.full, b.area_fraction
        (False, 0.140625)
    """

    top: torch.Tensor
    left: torch.Tensor
    height: int
    width: int
    map_height: int
    map_width: int

    @property
    def full(self) -> bool:
        """Whether every box is the whole map."""
        return self.height == self.map_height and self.width == self.map_width

    @property
    def area_fraction(self) -> float:
        """Box area over map area."""
        return (self.height * self.width) / (self.map_height * self.map_width)

    def same_as(self, other: Boxes) -> bool:
        """Whether both describe the same boxes at every position."""
        return (
            (self.height, self.width, self.map_height, self.map_width)
            == (other.height, other.width, other.map_height, other.map_width)
            and torch.equal(self.top, other.top)
            and torch.equal(self.left, other.left)
        )

    @property
    def map_size(self) -> tuple[int, int]:
        """``(map_height, map_width)``."""
        return (self.map_height, self.map_width)

    def take(self, positions: torch.Tensor | slice) -> Boxes:
        """The boxes of some positions (an index tensor or a slice)."""
        return Boxes(
            self.top[positions], self.left[positions], self.height, self.width,
            self.map_height, self.map_width,
        )  # fmt: skip

    def to(self, device: torch.device) -> Boxes:
        """The same boxes with their index tensors on ``device``."""
        if self.top.device == device:
            return self
        return Boxes(
            self.top.to(device), self.left.to(device), self.height, self.width,
            self.map_height, self.map_width,
        )  # fmt: skip

    def whole(self) -> Boxes:
        """The same positions with every box grown to the whole map."""
        zero = torch.zeros_like(self.top)
        return Boxes(zero, zero, self.map_height, self.map_width, self.map_height, self.map_width)


@dataclass(frozen=True)
class Sliding:
    """The geometry of a sliding-window operation (convolution or pooling), per axis.

    Examples:
        >>> Sliding((3, 3), (1, 1), (1, 1), (2, 2)).reach(0)
        5
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int] = (1, 1)

    def reach(self, axis: int) -> int:
        """Input extent of one output element along ``axis``."""
        return self.dilation[axis] * (self.kernel[axis] - 1) + 1


def _fit(lo: torch.Tensor, hi: torch.Tensor, length: int, limit: int) -> tuple[torch.Tensor, int]:
    """Equal-size boxes covering ``[lo, hi]`` (inclusive, per position) inside ``[0, length)``.

    Where the covering box would be longer than ``limit``, it is cut to ``limit`` around its
    centre (projective-field thresholding).
    """
    lo = lo.clamp(min=0)
    hi = hi.clamp(max=length - 1)
    extent = (hi - lo + 1).clamp(min=1)
    size = int(extent.max()) if extent.numel() else 1
    if size > limit:
        lo = lo + (extent - limit).clamp(min=0) // 2
        size = limit
    return lo.clamp(min=0, max=length - size), size


def _finish(
    top: torch.Tensor, height: int, left: torch.Tensor, width: int, h: int, w: int, limits: Limits
) -> Boxes:
    boxes = Boxes(top, left, height, width, h, w)
    if not boxes.full and boxes.area_fraction >= limits.full_fraction:
        return boxes.whole()
    return boxes


def through_sliding(
    boxes: Boxes, op: Sliding, out_height: int, out_width: int, limits: Limits
) -> Boxes:
    """The output boxes of a sliding-window operation whose input changed inside ``boxes``.

    Examples:
        >>> import torch
        >>> b = Boxes(torch.tensor([4]), torch.tensor([4]), 2, 2, 16, 16)
        >>> out = through_sliding(b, Sliding((3, 3), (1, 1), (1, 1)), 16, 16, Limits())
        >>> out.top.tolist(), out.height
        ([3], 4)
    """
    starts = []
    for axis, (start, size, length) in enumerate(
        ((boxes.top, boxes.height, out_height), (boxes.left, boxes.width, out_width))
    ):
        s, p = op.stride[axis], op.padding[axis]
        # output o reads inputs [o*s - p, o*s - p + reach - 1]
        lo = torch.div(start + p - op.reach(axis) + 1 + s - 1, s, rounding_mode="floor")
        hi = torch.div(start + size - 1 + p, s, rounding_mode="floor")
        starts.append(_fit(lo, hi, length, limits.side(length)))
    (top, height), (left, width) = starts
    return _finish(top, height, left, width, out_height, out_width, limits)


def tile_of(boxes: Boxes, op: Sliding) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """``(top, left, height, width)`` of the input region a sliding operation reads to compute
    ``boxes`` (it may reach outside the input map, into the padding).

    Examples:
        >>> import torch
        >>> b = Boxes(torch.tensor([0]), torch.tensor([2]), 2, 2, 8, 8)
        >>> top, left, h, w = tile_of(b, Sliding((3, 3), (1, 1), (1, 1)))
        >>> top.tolist(), left.tolist(), h, w
        ([-1], [1], 4, 4)
    """
    top = boxes.top * op.stride[0] - op.padding[0]
    left = boxes.left * op.stride[1] - op.padding[1]
    height = (boxes.height - 1) * op.stride[0] + op.reach(0)
    width = (boxes.width - 1) * op.stride[1] + op.reach(1)
    return top, left, height, width


def shifted(boxes: Boxes, dy: int, dx: int, out_height: int, out_width: int) -> Boxes:
    """The boxes after padding the map by ``dy`` rows above and ``dx`` columns on the left.

    Examples:
        >>> import torch
        >>> b = Boxes(torch.tensor([0]), torch.tensor([3]), 2, 2, 8, 8)
        >>> shifted(b, 1, 1, 10, 10).left.tolist()
        [4]
    """
    return Boxes(boxes.top + dy, boxes.left + dx, boxes.height, boxes.width, out_height, out_width)


def union(parts: list[Boxes], limits: Limits) -> Boxes:
    """Boxes covering the boxes of several same-sized maps (for sums, products, concatenation).

    Examples:
        >>> import torch
        >>> a = Boxes(torch.tensor([0]), torch.tensor([0]), 2, 2, 8, 8)
        >>> b = Boxes(torch.tensor([1]), torch.tensor([3]), 2, 2, 8, 8)
        >>> u = union([a, b], Limits())
        >>> (u.height, u.width)
        (3, 5)
    """
    h, w = parts[0].map_height, parts[0].map_width
    if any((p.map_height, p.map_width) != (h, w) for p in parts):
        raise ValueError("union of boxes on maps of different sizes")
    if all(p.same_as(parts[0]) for p in parts[1:]):
        return parts[0]
    lo_y = torch.stack([p.top for p in parts]).amin(0)
    hi_y = torch.stack([p.top + p.height - 1 for p in parts]).amax(0)
    lo_x = torch.stack([p.left for p in parts]).amin(0)
    hi_x = torch.stack([p.left + p.width - 1 for p in parts]).amax(0)
    top, height = _fit(lo_y, hi_y, h, limits.side(h))
    left, width = _fit(lo_x, hi_x, w, limits.side(w))
    return _finish(top, height, left, width, h, w, limits)

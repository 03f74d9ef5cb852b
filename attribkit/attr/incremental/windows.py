"""Captum's occlusion windows on one ``C×H×W`` image, and the map built from their scores.

The windows are Captum's: ``ceil((size - window) / stride) + 1`` positions per dimension at
multiples of the stride, the last ones cut at the border, and each pixel's attribution is the
mean score drop over the windows that cover it. :class:`WindowGrid` builds the occluded input
boxes of any subset of positions and folds per-position score drops back into that map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from attribkit.attr.incremental.geometry import Boxes

__all__ = ["WindowGrid"]


@dataclass(frozen=True)
class WindowGrid:
    """All window positions of Captum's occlusion on an image of ``shape``.

    Args:
        shape: ``(C, H, W)``.
        window: ``(kc, kh, kw)``, each at most the matching size.
        strides: ``(sc, sh, sw)``, positive.

    Examples:
        >>> grid = WindowGrid((3, 8, 8), (3, 4, 4), (3, 2, 2))
        >>> grid.counts, len(grid)
        ((1, 3, 3), 9)
    """

    shape: tuple[int, int, int]
    window: tuple[int, int, int]
    strides: tuple[int, int, int]

    def __post_init__(self) -> None:
        for name in ("shape", "window", "strides"):
            value = getattr(self, name)
            if (
                not isinstance(value, tuple)
                or len(value) != 3
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            ):
                raise TypeError(f"{name} must be a tuple of three ints, got {value!r}")
        for size, win, step in zip(self.shape, self.window, self.strides):
            if not 0 < win <= size or step <= 0:
                raise ValueError(
                    f"window {self.window} with strides {self.strides} does not fit the input "
                    f"{self.shape}"
                )

    @property
    def counts(self) -> tuple[int, int, int]:
        """Positions per dimension (Captum's shift counts)."""
        return tuple(  # type: ignore[return-value]
            math.ceil((size - win) / step) + 1
            for size, win, step in zip(self.shape, self.window, self.strides)
        )

    def __len__(self) -> int:
        nc, nh, nw = self.counts
        return nc * nh * nw

    def starts(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(channel, row, column)`` of each window's first element, ``(P,)`` each, in
        row-major order (the column index varies fastest)."""
        nc, nh, nw = self.counts
        c = torch.arange(nc) * self.strides[0]
        y = torch.arange(nh) * self.strides[1]
        x = torch.arange(nw) * self.strides[2]
        cc, yy, xx = torch.meshgrid(c, y, x, indexing="ij")
        return cc.reshape(-1), yy.reshape(-1), xx.reshape(-1)

    def boxes(self) -> Boxes:
        """The input boxes: each window's rows and columns, moved inside the image where the
        window is cut at the border."""
        _, h, w = self.shape
        _, y, x = self.starts()
        bh, bw = self.window[1], self.window[2]
        return Boxes(y.clamp(max=h - bh), x.clamp(max=w - bw), bh, bw, h, w)

    def occluded(
        self,
        image: torch.Tensor,
        baseline: torch.Tensor,
        boxes: Boxes,
        positions: torch.Tensor,
    ) -> torch.Tensor:
        """The input boxes of the occluded copies at ``positions``, ``B×C×bh×bw``
        (channels-last): ``baseline`` inside the window, ``image`` elsewhere.

        Args:
            image: ``C×H×W``.
            baseline: ``C×H×W`` (the replacement values).
            boxes: :meth:`boxes`.
            positions: ``(B,)`` position indices.
        """
        c, h, w = self.shape
        c0, y0, x0 = (s[positions] for s in self.starts())
        top, left = boxes.top[positions], boxes.left[positions]
        rows = (top[:, None] + torch.arange(boxes.height))[:, :, None] * w + (
            left[:, None] + torch.arange(boxes.width)
        )[:, None, :]
        flat = rows.reshape(-1).to(image.device)
        pick_img = image.permute(1, 2, 0).reshape(h * w, c).index_select(0, flat)
        pick_base = baseline.permute(1, 2, 0).reshape(h * w, c).index_select(0, flat)
        ys = top[:, None] + torch.arange(boxes.height)
        xs = left[:, None] + torch.arange(boxes.width)
        inside_y = (ys >= y0[:, None]) & (ys < y0[:, None] + self.window[1])
        inside_x = (xs >= x0[:, None]) & (xs < x0[:, None] + self.window[2])
        ch = torch.arange(c)
        inside_c = (ch >= c0[:, None]) & (ch < c0[:, None] + self.window[0])
        mask = inside_y[:, :, None, None] & inside_x[:, None, :, None] & inside_c[:, None, None]
        shape = (len(positions), boxes.height, boxes.width, c)
        out = torch.where(mask.to(image.device), pick_base.view(shape), pick_img.view(shape))
        return out.permute(0, 3, 1, 2)

    def fold(self, drops: torch.Tensor) -> torch.Tensor:
        """The attribution map ``C×H×W`` (float32, as Captum's) from each position's score
        drop, ``(P,)`` in :meth:`starts` order: the mean drop of the windows covering each
        element.

        Examples:
            >>> import torch
            >>> grid = WindowGrid((1, 4, 4), (1, 2, 2), (1, 2, 2))
            >>> grid.fold(torch.arange(4.0))[0].tolist()[0]
            [0.0, 0.0, 1.0, 1.0]
        """
        c, h, w = self.shape
        grid = drops.reshape(1, 1, *self.counts)
        ones = torch.ones(1, 1, *self.window, dtype=drops.dtype, device=drops.device)
        total = F.conv_transpose3d(grid, ones, stride=self.strides)[0, 0, :c, :h, :w]
        count = F.conv_transpose3d(
            torch.ones_like(grid, dtype=torch.float32), ones.float(), stride=self.strides
        )[0, 0, :c, :h, :w]
        return total.float() / count

"""Activation maps: one layer's channels for one image, as a grayscale grid."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import (
    check_finite_number,
    check_image_batch,
    check_non_negative_int,
    check_positive_int,
)
from attribkit.layers.hooks import LayerRef, forward_to
from attribkit.layers.state import frozen

__all__ = ["ActivationGrid", "activation_grid"]


@dataclass
class ActivationGrid:
    """The picture made by :func:`activation_grid` and what it was made from.

    Attributes:
        image: the grid, ``3×H×W`` in [0, 1].
        activations: the layer's output for the image, ``C×h×w`` (all channels).
        channels: the channels drawn, in drawing order.
        most_active: the channel with the largest mean activation (over all channels).
        scores: each channel's mean activation, ``C``.
    """

    image: torch.Tensor
    activations: torch.Tensor
    channels: list[int]
    most_active: int
    scores: torch.Tensor

    def save(self, path: str | Path) -> Path:
        """Save the grid as a PNG and return the path."""
        from attribkit.io import save_image

        return save_image(self.image, path)

    def show(self, title: str | None = None) -> Any:
        """Draw the grid with matplotlib and return the axes."""
        import matplotlib.pyplot as plt

        from attribkit.io import to_pil

        _, ax = plt.subplots()
        ax.imshow(to_pil(self.image))
        ax.axis("off")
        if title:
            ax.set_title(title)
        return ax


def activation_grid(
    model: nn.Module,
    layer: LayerRef,
    image: torch.Tensor,
    channels: Sequence[int] | int | None = None,
    *,
    highlight: Sequence[int] | None = None,
    highlight_color: tuple[float, float, float] = (1.0, 0.0, 0.0),
    normalize: str = "each",
    nrow: int | None = None,
    size: int | None = None,
    padding: int = 2,
    pad_value: float = 1.0,
) -> ActivationGrid:
    """Show a layer's channels for one image as a grayscale grid (Yosinski et al. 2015).

    Args:
        model: the network (images in [0, 1]); run in eval mode, restored afterwards.
        layer: a layer with a spatial output ``1×C×h×w`` (dotted name or module).
        image: one image, ``1×3×H×W`` (or ``3×H×W``) in the model's input range.
        channels: the channels to draw (indices), or an int ``n`` for the first ``n``;
            all channels by default.
        highlight: channels to frame in ``highlight_color`` (they must be among those drawn).
        highlight_color: RGB in [0, 1] of the frame.
        normalize: ``"each"`` scales every map to its own range (shape is visible even when
            weak); ``"all"`` uses one range for all maps (strengths are comparable).
        nrow: maps per row (default ≈ √C).
        size: upscale each map (nearest) to ``size × size`` pixels; default ≥ 32 px.
        padding: frame width around each map.
        pad_value: colour of unhighlighted frames (1 = white).

    Returns:
        An :class:`ActivationGrid` (``.image``, ``.most_active``, ``.save(path)``).

    Raises:
        ValueError: the layer's output is not ``N×C×h×w``, a channel is out of range, or
            a highlighted channel is not drawn.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> g = activation_grid(net, "1", torch.rand(1, 3, 8, 8), size=8, padding=0, nrow=2)
        >>> tuple(g.image.shape), 0 <= g.most_active < 4
        ((3, 16, 16), True)
    """
    if isinstance(image, torch.Tensor) and image.ndim == 3:
        image = image.unsqueeze(0)
    check_image_batch(image, "image")
    if image.shape[0] != 1:
        raise ValueError(f"activation_grid shows one image; got a batch of {image.shape[0]}")
    if normalize not in ("each", "all"):
        raise ValueError(f"normalize must be 'each' or 'all', got {normalize!r}")
    check_non_negative_int(padding, "padding")
    check_finite_number(pad_value, "pad_value")
    if nrow is not None:
        check_positive_int(nrow, "nrow")
    if size is not None:
        check_positive_int(size, "size")
    with frozen(model), torch.no_grad():
        acts = forward_to(model, image, [layer], detach=True)
    a = next(iter(acts.values()))
    if a.ndim != 4:
        raise ValueError(
            f"layer {layer!r} has output shape {tuple(a.shape)}; activation maps need a "
            "spatial N×C×h×w output (pick a conv or block layer)"
        )
    a = a[0].float().cpu()
    n_ch = a.shape[0]
    if channels is None:
        chosen = list(range(n_ch))
    elif isinstance(channels, int) and not isinstance(channels, bool):
        if channels <= 0:
            raise ValueError(f"channels must be a positive count or a list, got {channels}")
        chosen = list(range(min(channels, n_ch)))
    elif isinstance(channels, Sequence):
        chosen = [int(c) for c in channels]
    else:
        raise TypeError(f"channels must be None, an int or a list of ints, got {channels!r}")
    if not chosen:
        raise ValueError("channels is empty; pass None for all channels")
    bad = [c for c in chosen if not 0 <= c < n_ch]
    if bad:
        raise ValueError(f"channel {bad[0]} is out of range: layer {layer!r} has {n_ch} channels")
    marks = set(int(c) for c in (highlight or []))
    missing = marks - set(chosen)
    if missing:
        raise ValueError(f"highlighted channels {sorted(missing)} are not among those drawn")
    scores = a.mean(dim=(1, 2))
    most = int(torch.argmax(scores))
    maps = a[chosen].unsqueeze(1)
    if normalize == "each":
        lo = maps.amin(dim=(1, 2, 3), keepdim=True)
        hi = maps.amax(dim=(1, 2, 3), keepdim=True)
    else:
        lo, hi = maps.min(), maps.max()
    maps = (maps - lo) / (hi - lo).clamp_min(1e-12)
    h, w = maps.shape[-2:]
    target = size or max(h, 32)
    maps = F.interpolate(maps, size=(target, round(target * w / h)), mode="nearest")
    th, tw = maps.shape[-2:]
    tiles = torch.empty(len(chosen), 3, th + 2 * padding, tw + 2 * padding)
    for j, c in enumerate(chosen):
        color = highlight_color if c in marks else (pad_value,) * 3
        tiles[j] = torch.tensor(color).view(3, 1, 1)
        tiles[j, :, padding : padding + th, padding : padding + tw] = maps[j]
    cols = nrow or math.ceil(math.sqrt(len(chosen)))
    rows = math.ceil(len(chosen) / cols)
    ph, pw = tiles.shape[-2:]
    grid = torch.full((3, rows * ph, cols * pw), float(pad_value))
    for j in range(len(chosen)):
        r, q = divmod(j, cols)
        grid[:, r * ph : (r + 1) * ph, q * pw : (q + 1) * pw] = tiles[j]
    return ActivationGrid(grid, a, chosen, most, scores)

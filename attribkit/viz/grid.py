"""Image grids, labels, and a one-call way to save or show any result."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from attribkit._checks import (
    check_finite,
    check_finite_number,
    check_non_negative_int,
    check_positive_int,
)
from attribkit.io import save_image, to_pil

__all__ = ["make_grid", "normalize_each", "gradient_image", "label", "show", "save_or_show"]


def normalize_each(images: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Min–max normalize every image of an ``N×C×H×W`` batch to [0, 1] on its own.

    Examples:
        >>> import torch
        >>> normalize_each(torch.tensor([[[[2.0, 4.0]]]])).tolist()
        [[[[0.0, 1.0]]]]
    """
    _check_tensor(images, "images", (4,))
    check_finite_number(eps, "eps", positive=True)
    flat = images.detach().flatten(1)
    lo = flat.min(1).values.view(-1, 1, 1, 1)
    hi = flat.max(1).values.view(-1, 1, 1, 1)
    return (images.detach() - lo) / (hi - lo).clamp_min(eps)


def gradient_image(grad: torch.Tensor) -> torch.Tensor:
    """Show a signed gradient (``[N×]3×H×W``) as an RGB picture: mean grey, ±3 std to [0, 1].

    Examples:
        >>> import torch
        >>> img = gradient_image(torch.randn(1, 3, 4, 4))
        >>> bool(img.min() >= 0) and bool(img.max() <= 1)
        True
    """
    _check_tensor(grad, "grad", (3, 4))
    g = grad.detach().float()
    g = (g - g.mean()) / (3 * g.std().clamp_min(1e-12))
    return (0.5 + 0.5 * g).clamp(0, 1)


def make_grid(
    images: torch.Tensor | Sequence[torch.Tensor],
    nrow: int = 8,
    padding: int = 2,
    pad_value: float = 1.0,
    size: int | tuple[int, int] | None = None,
) -> torch.Tensor:
    """Tile images into one ``3×H×W`` picture in [0, 1].

    Args:
        images: an ``N×C×H×W`` batch (C = 1 or 3) or a list of ``[1×]C×h×w`` images; a list
            may mix sizes when ``size`` is given.
        nrow: images per row.
        padding: pixels between tiles.
        pad_value: colour of the gaps (1 = white).
        size: resize every tile to ``size`` (``int`` for squares) before tiling.

    Examples:
        >>> import torch
        >>> make_grid(torch.rand(6, 3, 8, 8), nrow=3, padding=0).shape
        torch.Size([3, 16, 24])
    """
    from torchvision.utils import make_grid as tv_grid

    check_positive_int(nrow, "nrow")
    check_non_negative_int(padding, "padding")
    check_finite_number(pad_value, "pad_value")
    if size is not None:
        pair = (size, size) if isinstance(size, int) and not isinstance(size, bool) else size
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"size must be a positive int or (height, width), got {size!r}")
        for v in pair:
            check_positive_int(v, "size")
    if isinstance(images, torch.Tensor):
        _check_tensor(images, "images", (3, 4))
        tiles = list(images.unbind(0)) if images.ndim == 4 else [images]
    elif isinstance(images, (list, tuple)):
        tiles = list(images)
    else:
        raise TypeError(
            f"images must be an N×C×H×W tensor or a list of images, got {type(images).__name__}"
        )
    if not tiles:
        raise ValueError("make_grid needs at least one image")
    prepared = []
    for i, t in enumerate(tiles):
        _check_tensor(t, f"images[{i}]", (2, 3, 4))
        if t.ndim == 4 and t.shape[0] != 1:
            raise ValueError(f"images[{i}] is a batch of {t.shape[0]}; give single images")
        t = t.detach().float().cpu()
        if t.ndim == 4:
            t = t[0]
        if t.ndim == 2:
            t = t.unsqueeze(0)
        if t.shape[0] not in (1, 3):
            raise ValueError(f"images[{i}] has {t.shape[0]} channels; give 1 (gray) or 3 (RGB)")
        if t.shape[0] == 1:
            t = t.expand(3, -1, -1)
        if size is not None:
            hw = (size, size) if isinstance(size, int) else size
            t = F.interpolate(t[None], size=hw, mode="bilinear", align_corners=False)[0]
        prepared.append(t.clamp(0, 1))
    shapes = {tuple(t.shape) for t in prepared}
    if len(shapes) > 1:
        raise ValueError(f"images have different shapes {sorted(shapes)}; pass size= to resize")
    return tv_grid(torch.stack(prepared), nrow=nrow, padding=padding, pad_value=pad_value)


def label(image: torch.Tensor, text: str, height: int = 14) -> torch.Tensor:
    """Return ``image`` (``[1×]3×H×W``) with a white strip of text added below it.

    Examples:
        >>> import torch
        >>> label(torch.zeros(3, 8, 8), "hi", height=10).shape
        torch.Size([3, 18, 8])
    """
    _check_tensor(image, "image", (3, 4))
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    check_positive_int(height, "height")
    pil = to_pil(image)
    canvas = Image.new("RGB", (pil.width, pil.height + height), "white")
    canvas.paste(pil, (0, 0))
    ImageDraw.Draw(canvas).text((2, pil.height + 1), text, fill=(0, 0, 0))
    from attribkit.io import load_image

    return load_image(canvas)[0]


def show(image: torch.Tensor, title: str | None = None, ax: Any = None) -> Any:
    """Draw a ``[1×]C×H×W`` image with matplotlib and return the axes.

    Examples:
        >>> import torch, matplotlib
        >>> matplotlib.use("Agg")
        >>> show(torch.zeros(3, 4, 4), "black").get_title()
        'black'
    """
    import matplotlib.pyplot as plt

    _check_tensor(image, "image", (2, 3, 4))
    if ax is None:
        _, ax = plt.subplots()
    ax.imshow(to_pil(image))
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def save_or_show(
    image: torch.Tensor, path: str | Path | None = None, title: str | None = None
) -> Any:
    """Save ``image`` to ``path`` when one is given, else show it; returns the path or axes.

    Examples:
        >>> import torch, tempfile, os
        >>> p = save_or_show(torch.zeros(3, 4, 4), os.path.join(tempfile.mkdtemp(), "a.png"))
        >>> p.name
        'a.png'
    """
    _check_tensor(image, "image", (2, 3, 4))
    if path is not None:
        return save_image(image, path)
    return show(image, title)


def _check_tensor(x: object, name: str, ndims: tuple[int, ...]) -> None:
    """A finite floating-point tensor of one of the ranks ``ndims``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(x).__name__}")
    if x.ndim not in ndims:
        raise ValueError(
            f"{name} must be {' or '.join(f'{d}-D' for d in ndims)}, got shape {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating point in [0, 1], got {x.dtype}; use x / 255")
    check_finite(x, name)

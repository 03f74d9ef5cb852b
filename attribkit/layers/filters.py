"""Convolution filters as pictures: RGB kernels for a first layer, grayscale grids deeper."""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import (
    check_finite_number,
    check_non_negative_int,
    check_positive_int,
    describe,
)
from attribkit.layers.hooks import LayerRef, resolve_layer

__all__ = ["filter_grid", "first_conv", "tile"]

_NORMALIZE = ("each", "filter", "all")


def first_conv(model: nn.Module) -> nn.Conv2d:
    """Return the first ``nn.Conv2d`` of ``model`` in ``named_modules()`` order.

    Examples:
        >>> from torch import nn
        >>> first_conv(nn.Sequential(nn.ReLU(), nn.Conv2d(3, 2, 3))).out_channels
        2
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m
    raise ValueError(f"{model.__class__.__name__} has no nn.Conv2d; pass the conv layer itself")


def _weight(conv: nn.Module | torch.Tensor, layer: LayerRef | None) -> torch.Tensor:
    if isinstance(conv, torch.Tensor):
        if layer is not None:
            raise ValueError("layer= only applies when a model is given, not a weight tensor")
        w = conv
    elif isinstance(conv, nn.Module):
        module = resolve_layer(conv, layer) if layer is not None else conv
        if not isinstance(module, nn.Conv2d):
            if layer is not None:
                raise TypeError(
                    f"layer {layer!r} is a {module.__class__.__name__}, not an nn.Conv2d"
                )
            module = first_conv(module)
        w = module.weight
    else:
        raise TypeError(
            f"conv must be an nn.Conv2d, a model or a 4-D weight tensor, got {type(conv).__name__}"
        )
    if w.ndim != 4:
        raise ValueError(f"expected a 4-D conv weight O×I×kh×kw, got shape {tuple(w.shape)}")
    if not w.is_floating_point():
        raise TypeError(f"the weight must be floating point, got {w.dtype}")
    if not bool(torch.isfinite(w).all()):
        raise ValueError("the weight contains NaN or infinite values")
    return w.detach().float().cpu()


def _rescale(t: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    lo = t.amin(dim=dims, keepdim=True)
    hi = t.amax(dim=dims, keepdim=True)
    return (t - lo) / (hi - lo).clamp_min(1e-12)


def tile(tiles: torch.Tensor, nrow: int, padding: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """Tile an ``N×C×h×w`` batch row-major into ``C×H×W``, ``padding`` around every tile.

    The layout is torchvision's ``make_grid``'s; the looking-inside pictures use it so that
    ``attribkit.layers`` does not import ``attribkit.viz`` (which stands above it).

    Examples:
        >>> import torch
        >>> tile(torch.zeros(5, 3, 4, 4), nrow=2, padding=1).shape
        torch.Size([3, 16, 11])
    """
    if not isinstance(tiles, torch.Tensor) or tiles.ndim != 4:
        raise ValueError(f"tiles must be an N×C×h×w tensor, got {describe(tiles)}")
    check_positive_int(nrow, "nrow")
    check_non_negative_int(padding, "padding")
    n, c, h, w = tiles.shape
    rows = math.ceil(n / nrow)
    out = torch.full(
        (c, rows * (h + padding) + padding, nrow * (w + padding) + padding), float(pad_value)
    )
    for i in range(n):
        r, q = divmod(i, nrow)
        y, x = padding + r * (h + padding), padding + q * (w + padding)
        out[:, y : y + h, x : x + w] = tiles[i]
    return out


def filter_grid(
    conv: nn.Module | torch.Tensor,
    layer: LayerRef | None = None,
    *,
    mode: str = "auto",
    normalize: str | None = None,
    max_filters: int | None = None,
    max_in_channels: int | None = 16,
    nrow: int | None = None,
    scale: int | None = None,
    padding: int = 1,
    pad_value: float = 1.0,
    path: str | Path | None = None,
) -> torch.Tensor:
    """Draw a convolution's kernels as one picture (Krizhevsky et al. 2012, Fig. 3).

    With ``mode="auto"`` a layer with 3 input channels is drawn as RGB kernels, one tile per
    filter; any other layer as grayscale tiles with one **row per filter** and one column per
    input channel (the lecture's "20 × (16 × 7 × 7)" picture). Depthwise or single-input
    kernels (``I = 1``) are tiled in a square grid.

    Args:
        conv: an ``nn.Conv2d``, a model (its first conv, or ``layer``), or a weight tensor
            ``O×I×kh×kw``.
        layer: dotted name or module of the conv inside ``conv`` when a model is given.
        mode: ``"auto"``, ``"rgb"`` (needs ``I = 3``) or ``"gray"``.
        normalize: ``"each"`` (every tile to its own range), ``"filter"`` (all input-channel
            tiles of one filter share a range) or ``"all"`` (one range for the layer).
            Default: ``"each"`` for RGB, ``"filter"`` for grayscale.
        max_filters: draw only the first filters.
        max_in_channels: grayscale only: draw only the first input channels per filter.
        nrow: tiles per row (RGB and square layouts); default ≈ √O.
        scale: nearest-neighbour upscale of each kernel; default makes tiles ≥ 24 px.
        padding: pixels between tiles.
        pad_value: colour of the gaps (1 = white).
        path: also save the picture there (PNG).

    Returns:
        A ``3×H×W`` image in [0, 1].

    Examples:
        >>> from torch import nn
        >>> filter_grid(nn.Conv2d(3, 8, 5), scale=2, padding=0, nrow=4).shape
        torch.Size([3, 20, 40])
    """
    w = _weight(conv, layer)
    o, i, kh, kw = w.shape
    if mode not in ("auto", "rgb", "gray"):
        raise ValueError(f"mode must be 'auto', 'rgb' or 'gray', got {mode!r}")
    rgb = mode == "rgb" or (mode == "auto" and i == 3)
    if rgb and i != 3:
        raise ValueError(f"mode='rgb' needs 3 input channels, this conv has {i}; use mode='gray'")
    if normalize is None:
        normalize = "each" if rgb else "filter"
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be one of {_NORMALIZE}, got {normalize!r}")
    for name, v in (
        ("max_filters", max_filters),
        ("max_in_channels", max_in_channels),
        ("nrow", nrow),
        ("scale", scale),
    ):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v <= 0):
            raise ValueError(f"{name} must be a positive integer or None, got {v!r}")
    check_non_negative_int(padding, "padding")
    check_finite_number(pad_value, "pad_value")
    if max_filters is not None:
        w = w[:max_filters]
        o = w.shape[0]
    s = scale or max(1, math.ceil(24 / max(kh, kw)))
    if rgb:
        dims = {"each": (1, 2, 3), "filter": (1, 2, 3), "all": (0, 1, 2, 3)}[normalize]
        tiles = _rescale(w, dims)
        tiles = F.interpolate(tiles, scale_factor=s, mode="nearest")
        grid = tile(tiles, nrow or math.ceil(math.sqrt(o)), padding, pad_value)
    else:
        if max_in_channels is not None:
            w = w[:, :max_in_channels]
        i = w.shape[1]
        dims = {"each": (2, 3), "filter": (1, 2, 3), "all": (0, 1, 2, 3)}[normalize]
        tiles = _rescale(w, dims).reshape(o * i, 1, kh, kw).expand(-1, 3, -1, -1)
        tiles = F.interpolate(tiles, scale_factor=s, mode="nearest")
        cols = (nrow or math.ceil(math.sqrt(o))) if i == 1 else i
        grid = tile(tiles, cols, padding, pad_value)
    if path is not None:
        from attribkit.io import save_image

        save_image(grid, path)
    return grid

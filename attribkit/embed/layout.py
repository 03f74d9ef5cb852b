"""Pictures of embeddings: thumbnails at their 2-D positions, and a full grid of images.

``grid_layout`` snaps an embedding to a ``rows × cols`` grid by an optimal assignment
(scipy's ``linear_sum_assignment`` on squared distances), as in the well-known t-SNE grids.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from attribkit._checks import (
    check_finite,
    check_finite_number,
    check_non_negative_int,
    check_positive_int,
    describe,
)

__all__ = ["scatter_thumbnails", "grid_assignment", "grid_layout", "scatter_points"]


def _check(images: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(
            "images must be an N×C×H×W tensor, got "
            f"{describe(images)}"
        )
    if images.shape[1] not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels, got {images.shape[1]}")
    if not images.is_floating_point():
        raise TypeError(f"images must be floating point in [0, 1], got {images.dtype}")
    if images.shape[0] == 0:
        raise ValueError("images is empty; give at least one image")
    check_finite(images, "images")
    c = _unit_coords(coords)
    if c.shape[0] != images.shape[0]:
        raise ValueError(
            f"{images.shape[0]} images but {c.shape[0]} coordinates; "
            "give one 2-D position per image"
        )
    return c


def _unit_coords(coords: object) -> torch.Tensor:
    """``N×2`` finite coordinates rescaled to the unit square (float64, CPU)."""
    if not isinstance(coords, torch.Tensor) or coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(
            "coords must be an N×2 tensor, got "
            f"{describe(coords)}"
        )
    if not coords.is_floating_point():
        coords = coords.double()
    if coords.shape[0] == 0:
        raise ValueError("coords is empty; give one 2-D position per image")
    check_finite(coords, "coords")
    c = coords.detach().double().cpu()
    lo, hi = c.min(0).values, c.max(0).values
    return (c - lo) / (hi - lo).clamp_min(1e-12)


def _thumbs(images: torch.Tensor, size: int) -> torch.Tensor:
    t = images.detach().float().cpu().clamp(0, 1)
    if t.shape[1] == 1:
        t = t.expand(-1, 3, -1, -1)
    return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def scatter_thumbnails(
    images: torch.Tensor,
    coords: torch.Tensor,
    *,
    canvas: int = 1024,
    thumb: int = 32,
    background: float = 1.0,
    path: str | Path | None = None,
) -> torch.Tensor:
    """Draw each image as a thumbnail at its 2-D position (later images on top).

    Args:
        images: ``N×C×H×W`` in [0, 1] (C = 1 or 3).
        coords: ``N×2`` positions (any scale; rescaled to the canvas, x = column 0).
        canvas: side of the square picture in pixels.
        thumb: side of each thumbnail.
        background: canvas grey level.
        path: also save the picture there.

    Returns:
        ``3×canvas×canvas`` image in [0, 1].

    Examples:
        >>> import torch
        >>> scatter_thumbnails(torch.rand(5, 3, 8, 8), torch.rand(5, 2), canvas=64,
        ...                    thumb=8).shape
        torch.Size([3, 64, 64])
    """
    c = _check(images, coords)
    check_positive_int(thumb, "thumb")
    check_positive_int(canvas, "canvas")
    if canvas < thumb:
        raise ValueError(f"need thumb <= canvas, got thumb={thumb}, canvas={canvas}")
    check_finite_number(background, "background")
    out = torch.full((3, canvas, canvas), float(background))
    tiles = _thumbs(images, thumb)
    pos = (c * (canvas - thumb)).round().long()
    for i in range(tiles.shape[0]):
        x, y = int(pos[i, 0]), int(pos[i, 1])
        out[:, y : y + thumb, x : x + thumb] = tiles[i]
    if path is not None:
        from attribkit.io import save_image

        save_image(out, path)
    return out


def grid_assignment(coords: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """Assign points to the cells of a ``rows × cols`` grid, minimizing squared displacement.

    Coordinates are rescaled to the unit square, cells are placed on it evenly, and scipy's
    ``linear_sum_assignment`` finds the optimal one-to-one matching. With more points than
    cells, only ``rows × cols`` points are placed; with fewer, some cells stay empty.

    Returns:
        A ``rows·cols`` long tensor: the point in each cell (row-major), ``-1`` if empty.

    Examples:
        >>> import torch
        >>> grid_assignment(torch.tensor([[1., 1.], [0., 0.], [1., 0.], [0., 1.]]), 2, 2).tolist()
        [1, 2, 3, 0]
    """
    c = _unit_coords(coords)
    check_positive_int(rows, "rows")
    check_positive_int(cols, "cols")
    if rows * cols > 1 << 16:
        raise ValueError(f"a {rows}×{cols} grid is too large to assign; use at most 65536 cells")
    from scipy.optimize import linear_sum_assignment

    gy, gx = torch.meshgrid(
        torch.linspace(0, 1, rows, dtype=torch.float64),
        torch.linspace(0, 1, cols, dtype=torch.float64),
        indexing="ij",
    )
    cells = torch.stack([gx.flatten(), gy.flatten()], 1)  # (x, y) like coords
    cost = torch.cdist(c, cells) ** 2
    r, q = linear_sum_assignment(cost.numpy())
    out = torch.full((rows * cols,), -1, dtype=torch.long)
    out[torch.as_tensor(q, dtype=torch.long)] = torch.as_tensor(r, dtype=torch.long)
    return out


def grid_layout(
    images: torch.Tensor,
    coords: torch.Tensor,
    rows: int,
    cols: int,
    *,
    thumb: int = 32,
    padding: int = 0,
    background: float = 1.0,
    path: str | Path | None = None,
) -> torch.Tensor:
    """Snap an embedding to a full ``rows × cols`` grid of images (see :func:`grid_assignment`).

    Args:
        images: ``N×C×H×W`` in [0, 1] (C = 1 or 3).
        coords: ``N×2`` positions of the images (e.g. a t-SNE embedding).
        rows: grid rows.
        cols: grid columns.
        thumb: side of each cell's thumbnail.
        padding: pixels between cells (0 for none).
        background: grey level of gaps and empty cells.
        path: also save the picture there.

    Returns:
        ``3×H×W`` image in [0, 1]; empty cells are ``background``.

    Examples:
        >>> import torch
        >>> grid_layout(torch.rand(6, 1, 8, 8), torch.rand(6, 2), 2, 3, thumb=8).shape
        torch.Size([3, 16, 24])
    """
    _check(images, coords)
    check_positive_int(thumb, "thumb")
    check_non_negative_int(padding, "padding")
    check_finite_number(background, "background")
    cell = grid_assignment(coords, rows, cols)
    tiles = _thumbs(images, thumb)
    step = thumb + padding
    out = torch.full((3, rows * step + padding, cols * step + padding), float(background))
    for j, i in enumerate(cell.tolist()):
        if i < 0:
            continue
        r, q = divmod(j, cols)
        y, x = padding + r * step, padding + q * step
        out[:, y : y + thumb, x : x + thumb] = tiles[i]
    if path is not None:
        from attribkit.io import save_image

        save_image(out, path)
    return out


def scatter_points(
    coords: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    title: str | None = None,
    size: float = 5.0,
    dpi: int = 100,
    inches: float = 6.0,
) -> torch.Tensor:
    """A matplotlib scatter plot of 2-D points coloured by label, as a ``3×H×W`` tensor.

    Examples:
        >>> import torch
        >>> scatter_points(torch.rand(10, 2), torch.arange(10) % 3, inches=1, dpi=50).shape
        torch.Size([3, 50, 50])
    """
    _unit_coords(coords)
    if labels is not None and (
        not isinstance(labels, torch.Tensor)
        or labels.ndim != 1
        or labels.shape[0] != coords.shape[0]
    ):
        raise ValueError(
            f"labels must be a 1-D tensor with one label per point ({coords.shape[0]}), got "
            f"{describe(labels)}"
        )
    check_finite_number(size, "size", positive=True)
    check_positive_int(dpi, "dpi")
    check_finite_number(inches, "inches", positive=True)
    if dpi * inches > 8192:
        raise ValueError(f"dpi × inches = {dpi * inches:g} px is too large; keep it under 8192")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    c = coords.detach().float().cpu().numpy()
    fig, ax = plt.subplots(figsize=(inches, inches), dpi=dpi)
    try:
        if labels is None:
            ax.scatter(c[:, 0], c[:, 1], s=size)
        else:
            lab = labels.detach().cpu().numpy()
            sc = ax.scatter(c[:, 0], c[:, 1], c=lab, cmap="tab10", s=size)
            if len(np.unique(lab)) <= 20:
                ax.legend(*sc.legend_elements(), loc="best", fontsize=6, markerscale=0.6)
        ax.set_xticks([])
        ax.set_yticks([])
        if title:
            ax.set_title(title, fontsize=8)
        fig.tight_layout()
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()  # type: ignore[attr-defined]
    finally:
        plt.close(fig)
    return torch.from_numpy(rgba).permute(2, 0, 1).float() / 255.0

"""Neighbours as pictures: pixel-space search (the lecture's baseline) and query rows.

:func:`nearest_pixels` is the raw-pixel twin of :meth:`attribkit.embed.FeatureBank.nearest`;
:func:`neighbor_grid` draws each query followed by its neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from attribkit._checks import check_finite, check_non_negative_int, check_positive_int, describe
from attribkit.embed.bank import FeatureBank
from attribkit.embed.search import Neighbors

__all__ = ["nearest_pixels", "neighbor_grid"]


def nearest_pixels(
    images: torch.Tensor,
    query: torch.Tensor | int | Sequence[int],
    k: int = 5,
    *,
    metric: str = "euclidean",
    **kwargs: Any,
) -> Neighbors:
    """Nearest neighbours in pixel space: the raw-pixel twin of :meth:`FeatureBank.nearest`.

    Args:
        images: the bank's images ``N×C×H×W``.
        query: query images ``M×C×H×W`` (or one ``C×H×W``), or bank indices.
        k: neighbours per query.
        metric: ``"euclidean"`` (the lecture's L2 in pixel space) or ``"cosine"``.
        **kwargs: passed on to :meth:`FeatureBank.nearest`.

    Examples:
        >>> import torch
        >>> imgs = torch.stack([torch.zeros(1, 2, 2), torch.ones(1, 2, 2)])
        >>> nearest_pixels(imgs, torch.full((1, 2, 2), 0.9), k=1).indices.tolist()
        [[1]]
    """
    if not isinstance(images, torch.Tensor) or images.ndim < 2:
        raise ValueError(
            "images must be an N×C×H×W tensor, got "
            f"{describe(images)}"
        )
    if not images.is_floating_point():
        raise TypeError(f"images must be floating point, got {images.dtype}; use x.float() / 255")
    check_finite(images, "images")
    bank = FeatureBank(images.flatten(1).float())
    if isinstance(query, torch.Tensor) and query.is_floating_point():
        if query.ndim == images.ndim - 1:
            query = query.unsqueeze(0)
        if query.shape[1:] != images.shape[1:]:
            raise ValueError(
                f"query images have shape {tuple(query.shape[1:])}, the bank's "
                f"{tuple(images.shape[1:])}; resize them to match"
            )
        check_finite(query, "query images")
        query = query.flatten(1).float()
    return bank.nearest(query, k, metric=metric, **kwargs)


def neighbor_grid(
    queries: torch.Tensor,
    images: torch.Tensor,
    neighbors: Neighbors | Sequence[Neighbors],
    *,
    size: int | None = None,
    padding: int = 2,
    path: str | Path | None = None,
) -> torch.Tensor:
    """Rows of ``query | its k neighbours``, one row per query and per result given.

    With ``[feature_neighbors, pixel_neighbors]`` the rows alternate feature space / pixel
    space for each query, as in the lecture's figure. A query tile is followed by a gap.

    Args:
        queries: ``M×C×H×W`` query images in [0, 1].
        images: the bank's images ``N×C×H×W`` (the neighbours' indices point into them).
        neighbors: one :class:`Neighbors` result, or several (one row each per query).
        size: resize every tile to ``size`` pixels (needed when queries and images differ).
        padding: pixels between tiles (0 for none).
        path: also save the picture there.

    Returns:
        A ``3×H×W`` image in [0, 1].

    Examples:
        >>> import torch
        >>> imgs = torch.rand(4, 3, 8, 8)
        >>> nb = nearest_pixels(imgs, [0, 1], k=2)
        >>> neighbor_grid(imgs[:2], imgs, nb, padding=0).shape
        torch.Size([3, 16, 32])
    """
    from attribkit.viz import make_grid

    for nm, t in (("queries", queries), ("images", images)):
        if not isinstance(t, torch.Tensor) or t.ndim != 4:
            raise ValueError(
                f"{nm} must be an N×C×H×W tensor, got "
                f"{describe(t)}"
            )
        check_finite(t, nm)
    if size is not None:
        check_positive_int(size, "size")
    check_non_negative_int(padding, "padding")
    results = [neighbors] if isinstance(neighbors, Neighbors) else list(neighbors)
    if not results:
        raise ValueError("give at least one Neighbors result")
    if not all(isinstance(r, Neighbors) for r in results):
        raise TypeError("neighbors must be a Neighbors result (from nearest) or a list of them")
    k = results[0].indices.shape[1]
    if any(r.indices.shape != results[0].indices.shape for r in results):
        raise ValueError("all neighbour results must have the same number of queries and k")
    if queries.shape[0] != results[0].indices.shape[0]:
        raise ValueError(
            f"{queries.shape[0]} query images for {results[0].indices.shape[0]} queries"
        )
    flat = torch.cat([r.indices.flatten() for r in results])
    if flat.numel() and (int(flat.min()) < 0 or int(flat.max()) >= images.shape[0]):
        raise ValueError(
            f"the neighbours point at rows up to {int(flat.max())} but images holds "
            f"{images.shape[0]}; pass the images of the bank that was searched"
        )
    blank = torch.ones_like(images[0]).float()
    tiles: list[torch.Tensor] = []
    for i in range(queries.shape[0]):
        for r in results:
            tiles.append(queries[i].float())
            tiles.append(blank)
            tiles.extend(images[int(j)].float() for j in r.indices[i].tolist())
    grid = make_grid(tiles, nrow=k + 2, padding=padding, size=size)
    if path is not None:
        from attribkit.io import save_image

        save_image(grid, path)
    return grid

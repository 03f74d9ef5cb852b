"""Penalties on the image (or a layer) to subtract from an objective: ``obj - 1e-3 * l2()``.

Each returns a *positive* per-image value as an :class:`~attribkit.optvis.objectives.Objective`,
so it composes with the objectives algebra and declares the layer it reads (none for the image).
"""

from __future__ import annotations

import torch

from attribkit._checks import check_positive_number
from attribkit.optvis.objectives import Objective, ObjectiveContext, check_layer_name
from attribkit.optvis.transforms import gaussian_blur

__all__ = ["l1", "l2", "total_variation", "blur_penalty"]


def _source(ctx: ObjectiveContext, layer: str | None) -> torch.Tensor:
    return ctx.image if layer is None else ctx.act(layer)


def _centred(ctx: ObjectiveContext, layer: str | None, center: float | None) -> torch.Tensor:
    x = _source(ctx, layer)
    c = (0.5 if layer is None else 0.0) if center is None else center
    return x - c


def l1(layer: str | None = None, center: float | None = None) -> Objective:
    """Penalty ``Σ |x - center|`` per image, on the image (``center`` 0.5) or on a layer (0).

    Examples:
        >>> import torch
        >>> l1()(ObjectiveContext(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2)))
        tensor([2.])
    """
    layers = () if layer is None else (check_layer_name(layer),)
    return Objective(
        lambda ctx: _centred(ctx, layer, center).abs().flatten(1).sum(1),
        layers,
        name=f"l1({layer or 'image'})",
    )


def l2(layer: str | None = None, center: float | None = None) -> Objective:
    """Penalty ``Σ (x - center)²`` per image, on the image (``center`` 0.5) or on a layer (0).

    Examples:
        >>> import torch
        >>> l2()(ObjectiveContext(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2)))
        tensor([1.])
    """
    layers = () if layer is None else (check_layer_name(layer),)
    return Objective(
        lambda ctx: _centred(ctx, layer, center).pow(2).flatten(1).sum(1),
        layers,
        name=f"l2({layer or 'image'})",
    )


def total_variation(layer: str | None = None, beta: float = 1.0) -> Objective:
    """Penalty ``Σ (Δx² + Δy²)^(β/2)`` per image (``beta=1``: isotropic TV; ``2``: squared).

    Examples:
        >>> import torch
        >>> x = torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]])
        >>> total_variation()(ObjectiveContext(x, x))
        tensor([1.])
    """
    layers = () if layer is None else (check_layer_name(layer),)
    beta = check_positive_number(beta, "beta")

    def fn(ctx: ObjectiveContext) -> torch.Tensor:
        x = _source(ctx, layer)
        dx = x[..., :-1, 1:] - x[..., :-1, :-1]
        dy = x[..., 1:, :-1] - x[..., :-1, :-1]
        sq = dx.pow(2) + dy.pow(2)
        if beta == 2.0:
            return sq.flatten(1).sum(1)
        return (sq + 1e-8).pow(beta / 2).flatten(1).sum(1)

    return Objective(fn, layers, name=f"total_variation({layer or 'image'})")


def blur_penalty(sigma: float = 0.5) -> Objective:
    """Penalty ``½ Σ (x - stopgrad(blur(x)))²`` on the image: its gradient blurs the image.

    Examples:
        >>> import torch
        >>> x = torch.ones(1, 3, 8, 8)
        >>> float(blur_penalty()(ObjectiveContext(x, x))) < 1e-9  # a flat image is already smooth
        True
    """
    sigma = check_positive_number(sigma, "sigma")

    def fn(ctx: ObjectiveContext) -> torch.Tensor:
        x = ctx.image
        with torch.no_grad():
            b = gaussian_blur(x, sigma)
        return 0.5 * (x - b).pow(2).flatten(1).sum(1)

    return Objective(fn, (), name=f"blur_penalty({sigma:g})")

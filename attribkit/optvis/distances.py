"""Per-image distances and image priors on tensors, shared by inversion and the style losses.

Every function returns one value per image, shape ``(N,)``, and is differentiable. Feature
distances are normalized per layer (``‖F − Fₜ‖² / ‖Fₜ‖²``), so that one set of weights works
across backbones whose activations differ in scale by orders of magnitude.
"""

from __future__ import annotations

import torch

from attribkit._checks import check_feature_map, check_image_batch, check_positive_number

__all__ = ["feature_loss", "total_variation", "alpha_norm", "psnr"]

_EPS = 1e-12


def feature_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image ``‖F − Fₜ‖² / ‖Fₜ‖²`` (the content loss, normalized per layer).

    Args:
        features: ``N×C×H×W`` activations.
        target: activations of the same shape (or a batch of 1 to broadcast).

    Returns:
        ``(N,)`` losses.

    Examples:
        >>> import torch
        >>> t = torch.ones(1, 2, 3, 3)
        >>> feature_loss(2 * t, t)
        tensor([1.])
    """
    check_feature_map(features)
    check_feature_map(target, "target")
    if target.shape[1:] != features.shape[1:]:
        raise ValueError(
            f"target features {tuple(target.shape)} and features {tuple(features.shape)} differ; "
            "content and output must have the same size"
        )
    t = target.to(features.dtype)
    num = (features - t).pow(2).flatten(1).sum(1)
    den = t.pow(2).flatten(1).sum(1).clamp_min(_EPS)
    return num / den


def total_variation(x: torch.Tensor, beta: float = 2.0) -> torch.Tensor:
    """Per-image total variation ``Σ ((Δₓ)² + (Δᵧ)²)^(β/2)``, averaged over pixels.

    Args:
        x: ``N×C×H×W`` images.
        beta: exponent; 2 is the smooth (squared) form, 1 preserves edges.

    Returns:
        ``(N,)`` values.

    Examples:
        >>> import torch
        >>> total_variation(torch.zeros(2, 3, 4, 4))
        tensor([0., 0.])
    """
    check_feature_map(x, "x")
    beta = check_positive_number(beta, "beta")
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    sq = dx.pow(2) + dy.pow(2)
    tv = sq if beta == 2.0 else (sq + 1e-8).pow(beta / 2)
    return tv.flatten(1).mean(1)


def alpha_norm(x: torch.Tensor, alpha: float = 6.0) -> torch.Tensor:
    """Per-image ``mean(|2x − 1|^α)``: Mahendran & Vedaldi's prior keeping pixels in range.

    Examples:
        >>> import torch
        >>> alpha_norm(torch.ones(1, 3, 2, 2))
        tensor([1.])
    """
    check_feature_map(x, "x")
    alpha = check_positive_number(alpha, "alpha")
    return (2 * x - 1).abs().pow(alpha).flatten(1).mean(1)


def psnr(image: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB of ``[0, 1]`` images, per image ``(N,)``.

    Examples:
        >>> import torch
        >>> float(psnr(torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.1)))
        20.0
    """
    check_image_batch(image, "image")
    check_image_batch(reference, "reference")
    if image.shape[1:] != reference.shape[1:]:
        raise ValueError(f"shapes differ: {tuple(image.shape)} vs {tuple(reference.shape)}")
    mse = (image.detach() - reference.detach().to(image)).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-12))

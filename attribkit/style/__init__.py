"""Texture and style: Gram and perceptual losses, synthesis, style transfer, fast style."""

from attribkit.style.losses import (
    FeatureLoss,
    GramLoss,
    PerceptualLoss,
    PerceptualTerms,
    TotalVariation,
    feature_loss,
    gram_loss,
    gram_matrix,
    total_variation,
)

__all__ = [
    "FeatureLoss",
    "GramLoss",
    "PerceptualLoss",
    "PerceptualTerms",
    "TotalVariation",
    "feature_loss",
    "gram_loss",
    "gram_matrix",
    "total_variation",
]

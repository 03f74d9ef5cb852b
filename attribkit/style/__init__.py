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

# fast style (feed-forward networks; issue 6)
from attribkit.style.checkpoint import (  # noqa: E402
    load_shipped_model,
    load_style_model,
    save_style_model,
)
from attribkit.style.stylize import parse_style_args, stylize  # noqa: E402
from attribkit.style.train import StyleSpec, StyleTrainResult, train_style  # noqa: E402
from attribkit.style.transformer import (  # noqa: E402
    ConditionalInstanceNorm2d,
    MultiStyleNet,
    TransformerNet,
    style_weights,
)

__all__ += [
    "ConditionalInstanceNorm2d",
    "MultiStyleNet",
    "StyleSpec",
    "StyleTrainResult",
    "TransformerNet",
    "load_shipped_model",
    "load_style_model",
    "parse_style_args",
    "save_style_model",
    "style_weights",
    "stylize",
    "train_style",
]

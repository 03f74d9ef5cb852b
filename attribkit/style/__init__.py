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

# texture synthesis, Efros–Leung, style transfer, colour preservation (issue 5)
from attribkit.style.color import (  # noqa: E402
    luminance,
    match_color,
    match_histograms,
    match_luminance,
    rgb_to_yiq,
    transfer_chrominance,
    yiq_to_rgb,
)
from attribkit.style.efros_leung import efros_leung, image_quilting  # noqa: E402
from attribkit.style.texture import (  # noqa: E402
    TextureSynthesis,
    is_grayscale,
    texture_layer_sweep,
)
from attribkit.style.transfer import StyleTransfer  # noqa: E402

__all__ += [
    "StyleTransfer",
    "TextureSynthesis",
    "efros_leung",
    "image_quilting",
    "is_grayscale",
    "luminance",
    "match_color",
    "match_histograms",
    "match_luminance",
    "rgb_to_yiq",
    "texture_layer_sweep",
    "transfer_chrominance",
    "yiq_to_rgb",
]

# fast style (feed-forward networks; issue 6)
from attribkit.style.checkpoint import (  # noqa: E402
    load_shipped_model,
    load_style_model,
    save_style_model,
)
from attribkit.style.stylize import parse_style_args, stylize, stylize_files  # noqa: E402
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
    "stylize_files",
    "train_style",
]

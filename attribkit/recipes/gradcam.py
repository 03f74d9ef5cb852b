"""Recipe: Grad-CAM and Guided Grad-CAM (Selvaraju et al. 2017)."""

from __future__ import annotations

import torch
from torch import nn

from attribkit.attr.gradcam import GuidedGradCam, gradcam_map
from attribkit.recipes.context import Pictures, RecipeContext, timed
from attribkit.recipes.shared import demo_photos, top1
from attribkit.viz.grid import gradient_image, label, make_grid
from attribkit.viz.overlay import heatmap_overlay

__all__ = ["INTRO", "LAYER", "gradcam_overlay", "run"]

INTRO = (
    "Grad-CAM weights the last convolutional layer's channels by their average gradient, "
    "giving a coarse class-specific map; multiplying by guided backprop (Guided Grad-CAM) "
    "keeps the fine detail that belongs to the class."
)

#: EfficientNet-Lite0's last convolution.
LAYER = "_conv_head"


def gradcam_overlay(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    layer: str | None = None,
    *,
    title: str | None = None,
    size: float = 3.0,
) -> torch.Tensor:
    """The Grad-CAM map of ``target`` at ``layer`` (the last conv layer by default) over ``x``."""
    cam = gradcam_map(model, x, target, layer=layer)
    pic: torch.Tensor = heatmap_overlay(
        x, cam, sign="positive", title=title, cmap="jet", alpha=0.45, size=size
    )
    return pic


def run(ctx: RecipeContext) -> Pictures:
    """Grad-CAM at the last conv layer, and its product with guided backprop."""
    out = Pictures(INTRO)
    ggc = GuidedGradCam(ctx.model, LAYER)
    for name in ctx.progress(demo_photos(ctx), "grad-cam"):
        x = ctx.photo(name)
        pred = top1(ctx, x)
        with timed() as t:
            overlay = gradcam_overlay(ctx.model, x, pred.index, LAYER, size=2.24)
            guided = ggc.attribute(x, target=pred.index)
        assert isinstance(guided, torch.Tensor)
        side = x.shape[-1]
        row = make_grid(
            [
                label(x[0], "input"),
                label(overlay, "Grad-CAM"),
                label(gradient_image(guided)[0], "Guided Grad-CAM"),
            ],
            nrow=3,
            size=(side + 14, side),
        )
        out.add(
            row,
            f"{name}: {ctx.model_name}, layer {LAYER}, class {pred.index} ({pred.name}, "
            f"p={pred.probability:.3f}); {t[0]:.1f} s",
            f"gradcam-{name}",
        )
    return out

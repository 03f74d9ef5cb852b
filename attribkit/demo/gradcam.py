"""Demo section: Grad-CAM and Guided Grad-CAM."""

from __future__ import annotations

import torch

from attribkit.attr.gradcam import GuidedGradCam, gradcam_map
from attribkit.demo import DemoContext
from attribkit.demo._common import demo_photos, timed, top1
from attribkit.viz.grid import gradient_image, label, make_grid
from attribkit.viz.overlay import heatmap_overlay
from attribkit.viz.report import Section

LAYER = "_conv_head"


def run(ctx: DemoContext, section: Section) -> None:
    """Grad-CAM at the last conv layer, and its product with guided backprop."""
    section.intro = (
        "Grad-CAM weights the last convolutional layer's channels by their average gradient, "
        "giving a coarse class-specific map; multiplying by guided backprop (Guided Grad-CAM) "
        "keeps the fine detail that belongs to the class."
    )
    ggc = GuidedGradCam(ctx.model, LAYER)
    for name in ctx.progress(demo_photos(ctx), "grad-cam"):
        x = ctx.photo(name)
        pred = top1(ctx, x)
        with timed() as t:
            cam = gradcam_map(ctx.model, x, target=pred.index, layer=LAYER)
            guided = ggc.attribute(x, target=pred.index)
        assert isinstance(guided, torch.Tensor)
        overlay = heatmap_overlay(x, cam, sign="positive", size=2.24, cmap="jet", alpha=0.45)
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
        section.add_figure(
            row,
            f"{name}: {ctx.model_name}, layer {LAYER}, class {pred.index} ({pred.name}, "
            f"p={pred.probability:.3f}); {t[0]:.1f} s",
            name=f"gradcam-{name}",
        )

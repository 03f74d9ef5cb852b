"""Recipe: occlusion maps (Zeiler & Fergus 2014), the lecture's mean-pixel variant."""

from __future__ import annotations

import torch
from torch import nn

from attribkit.attr.occlusion import Occlusion
from attribkit.recipes.context import Pictures, RecipeContext, pick, timed
from attribkit.recipes.shared import demo_photos, imagenet_examples, top1
from attribkit.viz.overlay import attribution_figure

__all__ = ["INTRO", "default_window", "occlusion_figure", "run"]

INTRO = (
    "Each square of the image is covered in turn by a patch of the image's mean colour; the "
    "map shows how much the probability of the predicted class drops. Red: the evidence."
)


def default_window(side: int, quick: bool = False) -> tuple[int, int]:
    """The lecture's window and stride for an image of ``side`` px: 1/14 of the side (16 px at
    224, stride half of it); quick mode doubles both.

    Examples:
        >>> default_window(224), default_window(224, quick=True)
        ((16, 8), (32, 16))
    """
    window = max(4, side // 14) * pick(quick, 2, 1)
    return window, max(1, window // 2)


def occlusion_figure(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    window: int,
    stride: int,
    *,
    title: str = "",
    show_progress: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The photo with the drop in ``target``'s probability blended over it, and the map.

    Returns:
        ``(figure, attribution)``: the figure as ``3×H×W``; the attribution ``1×3×H×W``.
    """
    attr = Occlusion(model).attribute(
        x,
        window,
        strides=stride,
        target=target,
        baselines="mean",
        probability=True,
        show_progress=show_progress,
    )
    fig = attribution_figure(
        x,
        {"probability drop": attr[:, :1]},
        title=title,
        method="blended_heat_map",
        sign="positive",
        cmap="jet",
        alpha=0.45,
    )
    return fig, attr


def run(ctx: RecipeContext) -> Pictures:
    """Occlusion of the top class on the bundled photos, then of the labelled class on a few
    ImageNet photos (when ``foolbox`` is installed)."""
    window, stride = default_window(ctx.image_size, ctx.quick)
    out = Pictures(INTRO)
    for name in ctx.progress(demo_photos(ctx), "occlusion"):
        x = ctx.photo(name)
        pred = top1(ctx, x)
        with timed() as t:
            fig, attr = occlusion_figure(ctx.model, x, pred.index, window, stride, title=f"{pred}")
        out.add(
            fig,
            f"{name}: {ctx.model_name}, target {pred.index} ({pred.name}, "
            f"p={pred.probability:.3f}); window {window}×{window}, stride {stride}, mean-pixel "
            f"patch; largest drop in probability {float(attr.max()):.3f}; {t[0]:.1f} s",
            f"occlusion-{name}",
        )
    for i, (cls_name, x, cls) in enumerate(imagenet_examples(ctx, pick(ctx.quick, 1, 4))):
        with timed() as t:
            fig, attr = occlusion_figure(
                ctx.model, x, cls, window, stride, title=f"labelled {cls_name}"
            )
        out.add(
            fig,
            f"ImageNet photo labelled '{cls_name}' (class {cls}, read from the installed "
            f"foolbox package): drop in the labelled class's probability, window {window}, "
            f"stride {stride}; largest drop {float(attr.max()):.3f}; {t[0]:.1f} s",
            f"occlusion-imagenet-{i}",
        )
    return out

"""Recipe: saliency maps (Simonyan et al. 2014) and the GrabCut foreground they seed."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from attribkit.attr.grabcut import saliency_grabcut
from attribkit.attr.saliency import saliency_map
from attribkit.recipes.context import Pictures, RecipeContext, pick, timed
from attribkit.recipes.shared import demo_photos, imagenet_examples, top1
from attribkit.viz.grid import label, make_grid, normalize_each

__all__ = ["INTRO", "PANELS", "saliency_row", "run"]

INTRO = (
    "The saliency map is |∂score/∂pixel|, maximised over colour channels: the pixels whose "
    "change would move the class score most. Seeding GrabCut with its strongest and weakest "
    "pixels segments the object without any segmentation training."
)

#: The panels :func:`saliency_row` can draw.
PANELS = ("input", "saliency", "GrabCut")


def saliency_row(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    panels: Sequence[str] = PANELS,
) -> tuple[torch.Tensor, float]:
    """The photo, its saliency map (clipped at the 99th percentile) and/or the GrabCut cut-out.

    Args:
        model: the classifier.
        x: ``1×3×H×W`` in [0, 1].
        target: the class.
        panels: which of :data:`PANELS` to draw, in order.

    Returns:
        The row as one ``3×H×W'`` image, and the GrabCut foreground's share of the image
        (``nan`` when GrabCut is not drawn).

    Examples:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        >>> row, _ = saliency_row(net, torch.rand(1, 3, 32, 32), 1, panels=["input", "saliency"])
        >>> row.shape[0]
        3
    """
    unknown = [p for p in panels if p not in PANELS]
    if unknown or not panels:
        raise ValueError(f"panels must be some of {PANELS}, got {list(panels)}")
    sal = saliency_map(model, x, target=target)
    tiles = {"input": x[0]}
    share = float("nan")
    if "saliency" in panels:
        tiles["saliency"] = normalize_each(sal.clamp(max=torch.quantile(sal, 0.99)))[0]
    if "GrabCut" in panels:
        mask = saliency_grabcut(x, sal)
        tiles["GrabCut"] = (x * mask.to(x.dtype) + 0.15 * x * (~mask).to(x.dtype))[0]
        share = float(mask.float().mean())
    row = make_grid([label(tiles[p], p) for p in panels], nrow=len(panels))
    return row, share


def run(ctx: RecipeContext) -> Pictures:
    """Saliency and GrabCut of the top class for the bundled photos, then of the labelled
    class for a few ImageNet photos (when ``foolbox`` is installed)."""
    out = Pictures(INTRO)
    for name in ctx.progress(demo_photos(ctx), "saliency"):
        x = ctx.photo(name)
        pred = top1(ctx, x)
        with timed() as t:
            row, share = saliency_row(ctx.model, x, pred.index)
        out.add(
            row,
            f"{name}: {ctx.model_name}, saliency of class {pred.index} ({pred.name}, "
            f"p={pred.probability:.3f}); GrabCut foreground {share:.0%} of the image; "
            f"{t[0]:.1f} s",
            f"saliency-{name}",
        )
    labelled = imagenet_examples(ctx, pick(ctx.quick, 2, 6))
    for i, (cls_name, x, cls) in enumerate(labelled):
        with timed() as t:
            row, share = saliency_row(ctx.model, x, cls)
        pred = top1(ctx, x)
        out.add(
            row,
            f"ImageNet photo labelled '{cls_name}' (class {cls}, from the installed foolbox "
            f"package, not shipped): saliency of its labelled class; the model predicts "
            f"{pred.name} (p={pred.probability:.3f}); GrabCut foreground {share:.0%}; "
            f"{t[0]:.1f} s",
            f"saliency-imagenet-{i}",
        )
    if not labelled:
        out.note("Install foolbox to see saliency on ImageNet-labelled photos too.")
    return out

"""Demo section: saliency maps (Simonyan et al.) and saliency-seeded GrabCut."""

from __future__ import annotations

import torch

from attribkit.attr.grabcut import saliency_grabcut
from attribkit.attr.saliency import saliency_map
from attribkit.demo import DemoContext
from attribkit.demo._common import demo_photos, timed, top1
from attribkit.viz.grid import label, make_grid, normalize_each
from attribkit.viz.report import Section


def run(ctx: DemoContext, section: Section) -> None:
    """Saliency of the top class for each photo, and the GrabCut foreground it seeds."""
    section.intro = (
        "The saliency map is |∂score/∂pixel|, maximised over colour channels: the pixels whose "
        "change would move the class score most. Seeding GrabCut with its strongest and weakest "
        "pixels segments the object without any segmentation training."
    )
    for name in ctx.progress(demo_photos(ctx), "saliency"):
        x = ctx.photo(name)
        pred = top1(ctx, x)
        with timed() as t:
            sal = saliency_map(ctx.model, x, target=pred.index)
            mask = saliency_grabcut(x, sal)
        shown = normalize_each(sal.clamp(max=torch.quantile(sal, 0.99)))
        cutout = x * mask.to(x.dtype) + 0.15 * x * (~mask).to(x.dtype)
        row = make_grid(
            [label(x[0], "input"), label(shown[0], "saliency"), label(cutout[0], "GrabCut")],
            nrow=3,
        )
        section.add_figure(
            row,
            f"{name}: {ctx.model_name}, saliency of class {pred.index} ({pred.name}, "
            f"p={pred.probability:.3f}); GrabCut foreground {float(mask.float().mean()):.0%} of "
            f"the image; {t[0]:.1f} s",
            name=f"saliency-{name}",
        )

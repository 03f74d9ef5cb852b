"""Demo section: occlusion maps (Zeiler & Fergus), the lecture's mean-pixel variant."""

from __future__ import annotations

from attribkit.attr.occlusion import Occlusion
from attribkit.demo import DemoContext
from attribkit.demo._common import demo_photos, timed, top1
from attribkit.viz.overlay import attribution_figure
from attribkit.viz.report import Section


def run(ctx: DemoContext, section: Section) -> None:
    """Slide a mean-pixel patch over each photo and map the drop in the top class's probability."""
    window, stride = (32, 16) if ctx.quick else (16, 8)
    section.intro = (
        "Each square of the image is covered in turn by a patch of the image's mean colour; the "
        "map shows how much the probability of the predicted class drops. Red: the evidence."
    )
    occ = Occlusion(ctx.model)
    for name in ctx.progress(demo_photos(ctx), "occlusion"):
        x = ctx.photo(name)
        pred = top1(ctx, x)
        with timed() as t:
            attr = occ.attribute(
                x,
                window,
                strides=stride,
                target=pred.index,
                baselines="mean",
                probability=True,
                show_progress=False,
            )
        drop = float(attr.max())
        fig = attribution_figure(
            x,
            {"probability drop": attr[:, :1]},
            title=f"{pred}",
            method="blended_heat_map",
            sign="positive",
            cmap="jet",
            alpha=0.45,
        )
        section.add_figure(
            fig,
            f"{name}: {ctx.model_name}, target {pred.index} ({pred.name}, "
            f"p={pred.probability:.3f}); "
            f"window {window}×{window}, stride {stride}, mean-pixel patch; largest drop in "
            f"probability {drop:.3f}; {occ.last_perturbations_per_eval} perturbations per batch; "
            f"{t[0]:.1f} s",
            name=f"occlusion-{name}",
        )

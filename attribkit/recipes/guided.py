"""Recipe: guided backprop (Springenberg et al. 2015) for a class and for a layer's channel."""

from __future__ import annotations

import torch
from torch import nn

from attribkit.attr.guided import GuidedBackprop
from attribkit.attr.neuron import LayerChannels
from attribkit.recipes.context import Pictures, RecipeContext, timed
from attribkit.recipes.shared import demo_photos, top1
from attribkit.viz.grid import gradient_image, label, make_grid

__all__ = ["INTRO", "NEURON_LAYER", "guided_class", "guided_channel", "run"]

INTRO = (
    "Guided backprop lets only positive gradients through active ReLU6 units, which gives "
    "much cleaner pictures than the raw gradient. attribkit applies the rule to ReLU6; "
    "Captum's own GuidedBackprop would silently return plain gradients for this model."
)

#: The middle block whose most active channel the lecture follows.
NEURON_LAYER = "_blocks.10"


def guided_class(
    model: nn.Module, x: torch.Tensor, target: int, *, approximate: bool = False
) -> torch.Tensor:
    """Guided backprop of class ``target``, drawn as an image (``3×H×W``)."""
    g = GuidedBackprop(model, approximate=approximate).attribute(x, target=target)
    return gradient_image(g)[0]


def guided_channel(
    model: nn.Module,
    x: torch.Tensor,
    layer: str,
    channel: int | None = None,
    *,
    approximate: bool = False,
) -> tuple[torch.Tensor, int, float]:
    """Guided backprop of one channel of ``layer`` (its most active one by default).

    Returns:
        ``(picture 3×H×W, channel, the channel's max activation)``.
    """
    net = LayerChannels(model, layer)
    with torch.no_grad():
        acts = net(x)
    c = int(acts[0].argmax()) if channel is None else int(channel)
    g = GuidedBackprop(net, approximate=approximate).attribute(x, target=c)
    return gradient_image(g)[0], c, float(acts[0, c]) if c < acts.shape[1] else float("nan")


def run(ctx: RecipeContext) -> Pictures:
    """Guided backprop of the top class, and of the most active channel of a middle block."""
    out = Pictures(INTRO)
    for name in ctx.progress(demo_photos(ctx), "guided backprop"):
        x = ctx.photo(name)
        pred = top1(ctx, x)
        with timed() as t:
            g_class = guided_class(ctx.model, x, pred.index)
            g_neuron, c, peak = guided_channel(ctx.model, x, NEURON_LAYER)
        row = make_grid(
            [
                label(x[0], "input"),
                label(g_class, f"class {pred.index}"),
                label(g_neuron, f"{NEURON_LAYER} ch {c}"),
            ],
            nrow=3,
        )
        out.add(
            row,
            f"{name}: {ctx.model_name}; guided backprop of class {pred.index} ({pred.name}, "
            f"p={pred.probability:.3f}) and of channel {c} of {NEURON_LAYER} (its most active, "
            f"max activation {peak:.2f}); {t[0]:.1f} s",
            f"guided-{name}",
        )
    return out

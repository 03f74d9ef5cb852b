"""Demo section: guided backprop for a class and for an intermediate neuron."""

from __future__ import annotations

import torch

from attribkit.attr.guided import GuidedBackprop
from attribkit.attr.neuron import LayerChannels
from attribkit.demo import DemoContext
from attribkit.demo._common import demo_photos, timed, top1
from attribkit.viz.grid import gradient_image, label, make_grid
from attribkit.viz.report import Section

NEURON_LAYER = "_blocks.10"


def run(ctx: DemoContext, section: Section) -> None:
    """Guided backprop of the top class, and of the most active channel of a middle block."""
    section.intro = (
        "Guided backprop lets only positive gradients through active ReLU6 units, which gives "
        "much cleaner pictures than the raw gradient. attribkit applies the rule to ReLU6; "
        "Captum's own GuidedBackprop would silently return plain gradients for this model."
    )
    gb = GuidedBackprop(ctx.model)
    channels = LayerChannels(ctx.model, NEURON_LAYER)
    gb_neuron = GuidedBackprop(channels)
    for name in ctx.progress(demo_photos(ctx), "guided backprop"):
        x = ctx.photo(name)
        pred = top1(ctx, x)
        with timed() as t:
            g_class = gb.attribute(x, target=pred.index)
            with torch.no_grad():
                acts = channels(x)
            c = int(acts[0].argmax())
            g_neuron = gb_neuron.attribute(x, target=c)
        row = make_grid(
            [
                label(x[0], "input"),
                label(gradient_image(g_class)[0], f"class {pred.index}"),
                label(gradient_image(g_neuron)[0], f"{NEURON_LAYER} ch {c}"),
            ],
            nrow=3,
        )
        section.add_figure(
            row,
            f"{name}: {ctx.model_name}; guided backprop of class {pred.index} ({pred.name}, "
            f"p={pred.probability:.3f}) and of channel {c} of {NEURON_LAYER} (its most active, "
            f"max activation {float(acts[0, c]):.2f}); {t[0]:.1f} s",
            name=f"guided-{name}",
        )

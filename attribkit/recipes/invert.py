"""Recipe: feature inversion, shallow to deep (lecture item 12)."""

from __future__ import annotations

import torch

from attribkit.models import default_layers
from attribkit.optvis import FeatureInversion, inversion_sweep, psnr
from attribkit.recipes.context import Pictures, RecipeContext

__all__ = ["run"]


def run(ctx: RecipeContext) -> Pictures:
    """Invert one photo from the stem, middle and deep blocks; report PSNR per layer."""
    out = Pictures(
        "Starting from grey noise, the image is optimized (Adam) until its features at one "
        "layer match the photo's (normalized squared distance), with a total-variation prior "
        "whose weight grows with the layer's stride (Mahendran & Vedaldi 2015). Shallow layers "
        "give the photo back; deep ones keep the layout and the parts that matter to the class."
    )
    size, steps = (96, 100) if ctx.quick else (224, None)
    layers = list(default_layers(ctx.model, "inversion"))
    if ctx.quick:  # the stem, one middle and one deep layer
        layers = [layers[0], layers[1], layers[-2]] if len(layers) > 3 else layers
    x = ctx.photo("chelsea", size)
    sweep = inversion_sweep(
        ctx.model, x, layers, steps=steps, seed=ctx.seed, show_progress=ctx.show_progress
    )
    grey = float(psnr(torch.full_like(x, 0.5), x)[0])
    mean = float(psnr(x.mean((2, 3), keepdim=True).expand_as(x), x)[0])
    figures = ", ".join(f"{n} {p:.1f} dB" for n, p in zip(sweep.layers, sweep.psnr))
    out.add(
        sweep.grid(size=160),
        f"chelsea at {size} px inverted from {len(layers)} layers of {ctx.model_name}, "
        f"{steps or FeatureInversion.default_steps} Adam steps each, TV weights "
        f"{', '.join(f'{t:g}' for t in sweep.tv_weights)}. PSNR against the photo: {figures} "
        f"(a flat grey image scores {grey:.1f} dB, the mean colour {mean:.1f} dB); "
        f"{sum(sweep.seconds):.1f} s in all.",
        name="inversion-sweep",
    )
    return out

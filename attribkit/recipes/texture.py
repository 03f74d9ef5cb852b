"""Recipe: texture synthesis, neural (Gram) and Efros–Leung (lecture item 13)."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from attribkit.data import painting_path
from attribkit.io import load_image
from attribkit.models import default_layers
from attribkit.recipes.context import Pictures, RecipeContext
from attribkit.style import efros_leung, texture_layer_sweep
from attribkit.viz import label, make_grid

__all__ = ["center_square", "run"]


def center_square(x: torch.Tensor, size: int) -> torch.Tensor:
    """The central square of ``x`` (``N×C×H×W``) resized to ``size`` px (area filter): how a
    texture sample is taken from a photo or painting.

    Examples:
        >>> center_square(torch.rand(1, 3, 20, 30), 10).shape
        torch.Size([1, 3, 10, 10])
    """
    h, w = x.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return F.interpolate(
        x[..., top : top + side, left : left + side], size=(size, size), mode="area"
    )


_SHORT = {
    "stem_act": "stem",
    "_blocks.0": "b0",
    "_blocks.2": "b2",
    "_blocks.4": "b4",
    "_blocks.7": "b7",
    "_blocks.10": "b10",
}


def run(ctx: RecipeContext) -> Pictures:
    """Gram synthesis from growing layer sets, next to Efros–Leung, for two textures."""
    out = Pictures(
        "Neural: an image starting from noise is optimized (L-BFGS) until the Gram matrices of "
        "its features match the texture's, on more and more layers (stem activation, then "
        "block outputs); the Gram matrices of the image shifted by one pixel are matched too, "
        "since the stride-2 stem would otherwise leave a speckle. Efros–Leung grows the texture "
        "pixel by pixel, copying the centre of a randomly chosen well-matching sample window."
    )
    size, steps = (64, 25) if ctx.quick else (128, 150)
    style_layers = default_layers(ctx.model, "style")
    sets = [list(style_layers[:k]) for k in ((2, 6) if ctx.quick else (1, 3, 4, 6))]
    star = load_image(painting_path("starry_night"), size=3 * size).to(ctx.device)
    textures = {
        "starry crop": star[..., size // 4 : size // 4 + size, size // 2 : size // 2 + size],
        "gravel": ctx.photo("gravel", size),
    }
    if not ctx.quick:
        textures["brick"] = ctx.photo("brick", size)
    el_size, window = (40, 9) if ctx.quick else (96, 11)
    for name, tex in textures.items():
        imgs, names, losses = texture_layer_sweep(
            ctx.model,
            tex,
            sets,
            size=size,
            steps=steps,
            seed=ctx.seed,
            show_progress=ctx.show_progress,
        )
        small = F.interpolate(tex, size=(48 if ctx.quick else 64,) * 2, mode="area")
        t0 = time.perf_counter()
        el = efros_leung(
            small, el_size, window=window, seed=ctx.seed, show_progress=ctx.show_progress
        )
        el_secs = time.perf_counter() - t0
        tiles = [label(tex[0], name)]
        tiles += [
            label(im, f"{_SHORT.get(s[0], s[0])}..{_SHORT.get(s[-1], s[-1])}")
            for im, s in zip(imgs, names)
        ]
        tiles.append(label(F.interpolate(el, size=(size, size), mode="nearest")[0], "Efros-Leung"))
        loss_txt = ", ".join(f"{v:.2g}" for v in losses)
        out.add(
            make_grid(tiles, nrow=len(tiles), size=None),
            f"{name} ({size} px): Gram synthesis on {ctx.model_name} from layer sets "
            f"{' | '.join('+'.join(_SHORT.get(n, n) for n in s) for s in names)}, {steps} "
            f"L-BFGS steps each, final normalized Gram losses {loss_txt}; right: Efros–Leung "
            f"{el_size}×{el_size} from a {small.shape[-1]} px copy, window {window}, "
            f"{el_secs:.1f} s (every pixel copied from the sample).",
            name=f"texture-{name.replace(' ', '-')}",
        )
    return out

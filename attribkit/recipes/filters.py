"""Recipe: first-layer filters as RGB kernels, deeper filters as grayscale grids."""

from __future__ import annotations

import time

from torch import nn

from attribkit.layers import filter_grid
from attribkit.recipes.context import Pictures, RecipeContext
from attribkit.recipes.shared import digits_model

__all__ = ["run"]


def run(ctx: RecipeContext) -> Pictures:
    """The stem's RGB kernels, the first depthwise kernels, and the digits CNN's conv2."""
    out = Pictures(
        "Krizhevsky et al. (2012): the first layer's kernels, drawn as RGB images, are "
        "oriented edges, colour blobs and opponent colours. Deeper kernels act on many input "
        "channels at once, so each filter is shown as one row of grayscale kernels, one per "
        "input channel."
    )
    t0 = time.perf_counter()
    stem = ctx.model.get_submodule("_conv_stem")
    assert isinstance(stem, nn.Conv2d)
    g = filter_grid(stem, scale=12, padding=2, nrow=8)
    out.add(
        g,
        f"{ctx.model_name}, layer '_conv_stem': all {stem.weight.shape[0]} kernels of size "
        f"3×3×3 (stride 2) as RGB, each scaled to its own range "
        f"({time.perf_counter() - t0:.2f} s).",
        "filters-stem",
    )
    t0 = time.perf_counter()
    dw = ctx.model.get_submodule("_blocks.0._depthwise_conv")
    assert isinstance(dw, nn.Conv2d)
    g = filter_grid(dw, scale=12, padding=2, nrow=8)
    out.add(
        g,
        f"{ctx.model_name}, layer '_blocks.0._depthwise_conv': the {dw.weight.shape[0]} "
        "depthwise 3×3 kernels (one input channel each), grayscale, each scaled to its own "
        f"range ({time.perf_counter() - t0:.2f} s).",
        "filters-depthwise",
    )
    t0 = time.perf_counter()
    model, _, _, acc = digits_model(ctx)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = filter_grid(model, "conv2", scale=8, padding=1, max_filters=16, max_in_channels=16)
    out.add(
        g,
        f"Digits CNN (held-out accuracy {acc:.1%}; trained or reused in {t_train:.1f} s, "
        "shared with the other sections), layer 'conv2' (32 filters × 16 input channels × "
        "3×3): the first 16 filters (rows) × 16 input channels (columns), grayscale, each "
        "filter scaled to its own range — the lecture's '20 × (16 × 7 × 7)' picture "
        f"({time.perf_counter() - t0:.2f} s).",
        "filters-digits-conv2",
    )
    return out

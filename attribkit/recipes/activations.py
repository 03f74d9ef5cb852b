"""Recipe: a layer's activation maps for one image (Yosinski et al. 2015)."""

from __future__ import annotations

import time

from attribkit.layers import activation_grid
from attribkit.models import predict
from attribkit.recipes.context import Pictures, RecipeContext
from attribkit.recipes.shared import digits_model

__all__ = ["DEFAULT_LAYER", "run"]

#: The layer ``attribkit activations`` shows when none is given.
DEFAULT_LAYER = "_blocks.2"


def run(ctx: RecipeContext) -> Pictures:
    """Two layers of EfficientNet-Lite0 on 'chelsea', then all channels of the digits CNN."""
    out = Pictures(
        "Yosinski et al. (2015): a layer's channels for one image, each as a grayscale map. "
        "Early channels respond to edges and colours everywhere; deeper ones to parts, at "
        "coarser resolution. The most active channel (largest mean) is framed in red."
    )
    img = ctx.photo("chelsea")
    pred = predict(ctx.model, img, topk=1)[0][0]
    for layer, n in (("_blocks.1", 24), ("_blocks.5", 40)):
        t0 = time.perf_counter()
        first = activation_grid(ctx.model, layer, img, channels=1)
        top = first.most_active  # over all channels
        shown = list(range(n)) if top < n else [*range(n - 1), top]
        res = activation_grid(
            ctx.model, layer, img, channels=shown, highlight=[top], size=56, nrow=8
        )
        c, h, w = res.activations.shape
        out.add(
            res.image,
            f"{ctx.model_name}, 'chelsea' at 224 px (predicted {pred!s}), layer '{layer}' "
            f"({c} channels of {h}×{w}): the first {len(res.channels)} channels, each scaled "
            f"to its own range; most active channel {top} (mean "
            f"{float(res.scores[top]):.2f}) framed in red ({time.perf_counter() - t0:.2f} s).",
            f"activations-{layer.replace('.', '-')}",
        )
    t0 = time.perf_counter()
    model, x, y, acc = digits_model(ctx)
    digit = x[7:8]
    res = activation_grid(model, "relu2", digit, size=32, padding=2)
    res = activation_grid(model, "relu2", digit, size=32, padding=2, highlight=[res.most_active])
    out.add(
        res.image,
        f"Digits CNN (held-out accuracy {acc:.1%}), a '{int(y[7])}' (8×8), layer 'relu2': all "
        f"32 channels, most active {res.most_active} framed "
        f"({time.perf_counter() - t0:.2f} s).",
        "activations-digits",
    )
    return out

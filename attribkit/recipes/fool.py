"""Recipe: fooling images (lecture item 10)."""

from __future__ import annotations

import torch

from attribkit.adversarial.fooling import FoolingImage, fooling_figure, fooling_sweep
from attribkit.models import imagenet_classes
from attribkit.recipes.context import Pictures, RecipeContext
from attribkit.recipes.shared import demo_photos

__all__ = ["TARGET", "OPTIONS", "run"]

TARGET = 948  # Granny Smith

#: The lecture's budget, step and stopping probability (the CLI uses them too).
OPTIONS: dict[str, float] = {"epsilon": 8 / 255, "lr": 0.5 / 255, "threshold": 0.9}


def run(ctx: RecipeContext) -> Pictures:
    """Turn each photo into a Granny Smith, show the magnified change, and sweep the budget."""
    names = imagenet_classes()
    out = Pictures(
        "Iterative ascent on the target's score under an L∞ budget, stopping once the model "
        f"gives the target ({TARGET}, {names[TARGET]}) a probability of 0.9. The right panel "
        "shows the change magnified ×10 around grey."
    )
    fooler = FoolingImage(ctx.model)
    photos = demo_photos(ctx)
    size = 160 if ctx.quick else 224
    for name in photos:
        x = ctx.photo(name, size)
        res = fooler.run(
            x,
            TARGET,
            steps=60,
            **OPTIONS,  # type: ignore[arg-type]
            seed=ctx.seed,
            show_progress=ctx.show_progress,
        )
        fooled, rep = res.images, res.extras["report"]
        orig, after = int(rep.original_class[0]), int(rep.predicted_after[0])
        out.add(
            fooling_figure(x, fooled, magnify=10),
            f"{name} ({size} px, {ctx.model_name}): {names[orig]} → {names[after]} "
            f"(p target {float(rep.prob_before[0]):.4f} → {float(rep.prob_after[0]):.3f}) after "
            f"{int(rep.steps[0])} steps of 0.5/255; L∞ = {float(rep.linf[0]) * 255:.2f}/255, "
            f"L2 = {float(rep.l2[0]):.3f}; {res.seconds:.1f} s",
            name=f"fool-{name}",
        )
    eps = [e / 255 for e in ((0.5, 1.0, 2.0) if ctx.quick else (0.25, 0.5, 1.0, 2.0, 4.0))]
    batch = torch.cat([ctx.photo(n, size) for n in photos])
    sweep = fooling_sweep(
        ctx.model,
        batch,
        TARGET,
        eps,
        steps=12 if ctx.quick else 40,
        threshold=0.9,
        show_progress=False,
    )
    rows = "; ".join(
        f"ε={e * 255:.2f}/255: {r * 100:.0f}%" for e, r in zip(sweep.epsilons, sweep.success_rate)
    )
    out.note(
        f"Success rate against the L∞ budget on {len(photos)} photos ({size} px, target "
        f"{TARGET}, p ≥ 0.9, {12 if ctx.quick else 40} steps of ε/10): {rows}."
    )
    return out

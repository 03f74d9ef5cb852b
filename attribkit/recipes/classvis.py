"""Recipe: class-model and neuron visualization by gradient ascent (Simonyan 2014; Yosinski
2015), and multifaceted visualization seeded from one group of labelled photos (Nguyen 2016)."""

from __future__ import annotations

import torch

from attribkit.models import default_layers, imagenet_classes
from attribkit.optvis import PRESETS, ClassVisualization, NeuronVisualization, multifaceted_init
from attribkit.recipes.context import Pictures, RecipeContext, pick, timed
from attribkit.viz import label, make_grid

__all__ = ["INTRO", "CLASSES", "FACET_GROUP", "FACET_CLASS", "facets", "run"]

INTRO = (
    "Gradient ascent on the image to maximize one class score. The Yosinski recipe "
    "(normalized-gradient step 0.02, L2 decay 1e-3, Gaussian blur σ 0.6 every 4 steps, the 20% "
    "smallest-norm pixels reset to the mean, jitter ±8) gives recognizable objects; the Lucent "
    "recipe optimizes an FFT image in decorrelated colour under random transforms. All the "
    "classes run as one batch."
)

#: Egyptian cat, Granny Smith, dumbbell, pool table (the first is the CLI's default).
CLASSES = (285, 948, 543, 736)

#: The photo group that seeds the multifaceted visualization, and its ImageNet class (dam).
FACET_GROUP, FACET_CLASS = "dams and power stations", 525


def facets(
    ctx: RecipeContext, k: int, size: int, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Multifaceted visualization of :data:`FACET_CLASS` from the :data:`FACET_GROUP` photos.

    Returns:
        ``(the group's photos, the k start images, the k results, steps)``; probabilities of
        the class are in the results' order.
    """
    from attribkit.data import photo_set

    group = photo_set(size=size).subset(labels=[FACET_GROUP])
    photos = group.stack()[0].to(ctx.device)
    inits = multifaceted_init(ctx.model, photos, k, seed=ctx.seed)
    res = ClassVisualization(ctx.model).run(
        [FACET_CLASS] * k,
        "yosinski",
        init=inits,
        size=size,
        steps=steps,
        seed=ctx.seed,
        show_progress=ctx.show_progress,
    )
    return photos, inits, res.images, steps


def run(ctx: RecipeContext) -> Pictures:
    """Four classes with the Yosinski (and, in full mode, Lucent and Simonyan) recipes, the
    multifaceted facets of one class seeded from photos, then channels of one block."""
    names = imagenet_classes()
    size, steps = pick(ctx.quick, (128, 64), (224, 300))
    presets = pick(ctx.quick, ["yosinski"], ["yosinski", "lucent", "simonyan"])
    out = Pictures(INTRO)
    vis = ClassVisualization(ctx.model)
    for preset in presets:
        n_steps = steps if preset != "lucent" else pick(ctx.quick, steps, 256)
        res = vis.run(
            list(CLASSES),
            PRESETS[preset],
            steps=n_steps,
            size=size,
            seed=ctx.seed,
            snapshot_steps=[0, n_steps // 4, n_steps // 2, n_steps],
            show_progress=ctx.show_progress,
        )
        tiles = [
            label(img, f"{names[c][:18]} p={float(pr):.3f}")
            for img, c, pr in zip(res.images, CLASSES, res.extras["probs"])
        ]
        probs = ", ".join(f"{c} {float(pr):.3f}" for c, pr in zip(CLASSES, res.extras["probs"]))
        out.add(
            make_grid(tiles, nrow=len(tiles)),
            f"{preset} preset on {ctx.model_name}: classes {list(CLASSES)} at {size} px, "
            f"{n_steps} steps, one batch of {len(CLASSES)}; softmax probability of the target: "
            f"{probs}; {res.seconds:.1f} s",
            f"classvis-{preset}",
        )
        if preset == "yosinski":
            out.add(
                res.filmstrip(0, size=min(size, 128)),
                f"The optimization of class {CLASSES[0]} ({names[CLASSES[0]]}) at steps "
                f"{sorted(res.snapshots)} (yosinski preset).",
                "classvis-filmstrip",
            )
    # -- multifaceted: seeded from the photos of one group ---------------------------------
    k = pick(ctx.quick, 3, 4)
    with timed() as t:
        photos, inits, images, f_steps = facets(ctx, k, size, steps)
        f_probs, _ = vis.score(images, [FACET_CLASS])
    ncol = max(len(photos[:8]), k)
    rows = [
        [label(p, "photo") for p in photos[:8]],
        [label(i, f"facet {j + 1} start") for j, i in enumerate(inits)],
        [label(im, f"p={float(p):.3f}") for im, p in zip(images, f_probs)],
    ]
    tiles = [t for row in rows for t in row + [torch.ones_like(row[0])] * (ncol - len(row))]
    out.add(
        make_grid(tiles, nrow=ncol),
        f"Multifaceted visualization (Nguyen et al. 2016) of class {FACET_CLASS} "
        f"({names[FACET_CLASS]}): the {len(photos)} photos of the group '{FACET_GROUP}' "
        f"(first row) are clustered into {k} facets by k-means on the model's outputs; each "
        f"facet's mean image (second row) starts a yosinski ascent of {f_steps} steps at {size} "
        f"px (third row, with the probability reached); {t[0]:.1f} s.",
        "classvis-facets",
    )
    # -- neurons ----------------------------------------------------------------------------
    layer = default_layers(ctx.model, "neuron")[0]
    chans = list(range(pick(ctx.quick, 4, 8)))
    n_size, n_steps = pick(ctx.quick, (96, 32), (160, 200))
    nres = NeuronVisualization(ctx.model, layer).run(
        chans,
        "lucent",
        steps=n_steps,
        size=n_size,
        seed=ctx.seed,
        show_progress=ctx.show_progress,
    )
    vals = ", ".join(f"{float(v):.2f}" for v in nres.extras["values"])
    out.add(
        make_grid([label(img, f"ch {c}") for img, c in zip(nres.images, chans)], nrow=len(chans)),
        f"Channels {chans} of {layer} ({ctx.model_name}), lucent preset, {n_steps} steps at "
        f"{n_size} px, one batch of {len(chans)} images; mean activation reached: {vals}; "
        f"{nres.seconds:.1f} s",
        "classvis-channels",
    )
    out.note(
        "Probabilities are measured on the final image without transforms. Quick mode uses "
        f"{steps} steps at {size} px; the full mode runs the documented 300-step recipe "
        "at 224 px."
    )
    return out

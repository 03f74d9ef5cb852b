"""Demo section: class-model and neuron visualization by gradient ascent (lecture item 9)."""

from __future__ import annotations

from attribkit.demo import DemoContext
from attribkit.models import default_layers, imagenet_classes
from attribkit.optvis import PRESETS, ClassVisualization, NeuronVisualization
from attribkit.viz import label, make_grid
from attribkit.viz.report import Section

#: Egyptian cat, Granny Smith, dumbbell, pool table.
CLASSES = (285, 948, 543, 736)


def run(ctx: DemoContext, section: Section) -> None:
    """Visualize four classes with the Yosinski (and, in full mode, Lucent) recipe, then eight
    channels of one block as one batch."""
    names = imagenet_classes()
    size, steps = (128, 64) if ctx.quick else (224, 300)
    presets = ["yosinski"] if ctx.quick else ["yosinski", "lucent", "simonyan"]
    section.intro = (
        "Gradient ascent on the image to maximize one class score. The Yosinski recipe "
        "(normalized-gradient step 0.02, L2 decay 1e-3, Gaussian blur σ 0.6 every 4 steps, the 20% "
        "smallest-norm pixels reset to the mean, jitter ±8) gives recognizable objects; the Lucent "
        "recipe optimizes an FFT image in decorrelated colour under random transforms. All the "
        "classes run as one batch."
    )
    vis = ClassVisualization(ctx.model)
    for preset in presets:
        p = PRESETS[preset]
        n_steps = steps if preset != "lucent" else (256 if not ctx.quick else steps)
        res = vis.run(
            list(CLASSES),
            p,
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
        section.add_figure(
            make_grid(tiles, nrow=len(tiles)),
            f"{preset} preset on {ctx.model_name}: classes {list(CLASSES)} at {size} px, "
            f"{n_steps} steps, one batch of {len(CLASSES)}; softmax probability of the target: "
            f"{probs}; {res.seconds:.1f} s",
            name=f"classvis-{preset}",
        )
        if preset == "yosinski":
            section.add_figure(
                res.filmstrip(0, size=min(size, 128)),
                f"The optimization of class {CLASSES[0]} ({names[CLASSES[0]]}) at steps "
                f"{sorted(res.snapshots)} (yosinski preset).",
                name="classvis-filmstrip",
            )
    layer = default_layers(ctx.model, "neuron")[0]
    chans = list(range(8)) if not ctx.quick else list(range(4))
    n_size, n_steps = (96, 32) if ctx.quick else (160, 200)
    nres = NeuronVisualization(ctx.model, layer).run(
        chans,
        "lucent",
        steps=n_steps,
        size=n_size,
        seed=ctx.seed,
        show_progress=ctx.show_progress,
    )
    tiles = [label(img, f"ch {c}") for img, c in zip(nres.images, chans)]
    vals = ", ".join(f"{float(v):.2f}" for v in nres.extras["values"])
    section.add_figure(
        make_grid(tiles, nrow=len(tiles)),
        f"Channels {chans} of {layer} ({ctx.model_name}), lucent preset, {n_steps} steps at "
        f"{n_size} px, one batch of {len(chans)} images; mean activation reached: {vals}; "
        f"{nres.seconds:.1f} s",
        name="classvis-channels",
    )
    section.add_note(
        "Probabilities are measured on the final image without transforms. Quick mode uses "
        f"{steps} steps at {size} px; the full mode runs the documented 300-step recipe "
        "at 224 px."
    )

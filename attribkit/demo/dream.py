"""Demo section: DeepDream (lecture item 11)."""

from __future__ import annotations

from attribkit.demo import DemoContext
from attribkit.optvis.deepdream import DeepDream
from attribkit.optvis.objectives import channel
from attribkit.viz import label, make_grid
from attribkit.viz.report import Section


def run(ctx: DemoContext, section: Section) -> None:
    """Dream on a photo at two depths, and a guided dream on one channel."""
    section.intro = (
        "The gradient at the layer is set to its own activation (ascend ½‖a‖²), the image "
        "gradient is L1-normalized, the image is rolled by a random offset at each step and "
        "clipped to [0, 1]; details are carried from small octaves to large ones."
    )
    size = 192 if ctx.quick else 320
    octaves, steps = (3, 8) if ctx.quick else (4, 20)
    layers = ["_blocks.10"] if ctx.quick else ["_blocks.4", "_blocks.10"]
    photo_name = "chelsea"
    x = ctx.photo(photo_name, size)
    for layer in layers:
        res = DeepDream(ctx.model, layer).dream(
            x,
            octaves=octaves,
            octave_scale=1.4,
            steps_per_octave=steps,
            jitter=32,
            lr=0.01,
            seed=ctx.seed,
            show_progress=ctx.show_progress,
        )
        gain = float(res.history[-1][-1, 0]) / max(float(res.history[0][0, 0]), 1e-12)
        section.add_figure(
            make_grid([label(x[0], "photo"), label(res.images[0], f"dream {layer}")], nrow=2),
            f"{photo_name} at {size} px, DeepDream on {layer} of {ctx.model_name}: {octaves} "
            f"octaves × 1.4, {steps} L1-normalized steps of 0.01 each, roll jitter ±32; "
            f"½‖a‖² grew ×{gain:.1f} from the first step of the smallest octave to the last "
            f"step; {res.seconds:.1f} s",
            name=f"dream-{layer.replace('.', '')}",
        )
        if layer == layers[-1]:
            section.add_figure(
                res.filmstrip(0, size=128),
                f"The octaves of the {layer} dream, smallest first (details carried upwards).",
                name="dream-octaves",
            )
    if not ctx.quick:
        guided = DeepDream(ctx.model, "_blocks.10").dream(
            x,
            octaves=octaves,
            steps_per_octave=steps,
            objective=channel("_blocks.10", 7),
            seed=ctx.seed,
            show_progress=ctx.show_progress,
        )
        section.add_figure(
            guided.images[0],
            f"Guided dream: only channel 7 of _blocks.10 is amplified; {guided.seconds:.1f} s",
            name="dream-guided",
        )

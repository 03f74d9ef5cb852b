"""Recipe: DeepDream (lecture item 11)."""

from __future__ import annotations

from attribkit.models import default_layers
from attribkit.optvis import DeepDream, channel
from attribkit.recipes.context import Pictures, RecipeContext
from attribkit.viz import label, make_grid

__all__ = ["OPTIONS", "run"]

#: The lecture's DeepDream settings besides octaves and steps (the CLI uses them too).
OPTIONS: dict[str, float | int] = {"octave_scale": 1.4, "jitter": 32, "lr": 0.01}


def run(ctx: RecipeContext) -> Pictures:
    """Dream on a photo at two depths, and a guided dream on one channel."""
    out = Pictures(
        "The gradient at the layer is set to its own activation (ascend ½‖a‖²), the image "
        "gradient is L1-normalized, the image is rolled by a random offset at each step and "
        "clipped to [0, 1]; details are carried from small octaves to large ones."
    )
    size = 192 if ctx.quick else 320
    octaves, steps = (3, 8) if ctx.quick else (4, 20)
    dream_layers = default_layers(ctx.model, "dream")  # the default first
    layers = list(dream_layers[:1]) if ctx.quick else list(reversed(dream_layers[:2]))
    photo_name = "chelsea"
    x = ctx.photo(photo_name, size)
    for layer in layers:
        res = DeepDream(ctx.model, layer).run(
            x,
            octaves=octaves,
            steps=steps,
            **OPTIONS,  # type: ignore[arg-type]
            seed=ctx.seed,
            show_progress=ctx.show_progress,
        )
        gain = float(res.history[-1, 0]) / max(float(res.history[0, 0]), 1e-12)
        out.add(
            make_grid([label(x[0], "photo"), label(res.images[0], f"dream {layer}")], nrow=2),
            f"{photo_name} at {size} px, DeepDream on {layer} of {ctx.model_name}: {octaves} "
            f"octaves × 1.4, {steps} L1-normalized steps of 0.01 each, roll jitter ±32; "
            f"½‖a‖² grew ×{gain:.1f} from the first step of the smallest octave to the last "
            f"step; {res.seconds:.1f} s",
            name=f"dream-{layer.replace('.', '')}",
        )
        if layer == layers[-1]:
            octave_tiles = [
                label(o[0], f"octave {i + 1}") for i, o in enumerate(res.extras["octave_images"])
            ]
            out.add(
                make_grid(octave_tiles, nrow=len(octave_tiles), size=128),
                f"The octaves of the {layer} dream, smallest first (details carried upwards).",
                name="dream-octaves",
            )
    if not ctx.quick:
        guided_layer = dream_layers[0]
        guided = DeepDream(ctx.model, guided_layer).run(
            x,
            octaves=octaves,
            steps=steps,
            objective=channel(guided_layer, 7),
            seed=ctx.seed,
            show_progress=ctx.show_progress,
        )
        out.add(
            guided.images[0],
            f"Guided dream: only channel 7 of {guided_layer} is amplified; {guided.seconds:.1f} s",
            name="dream-guided",
        )
    return out

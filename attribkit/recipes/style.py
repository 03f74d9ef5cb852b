"""Recipe: neural style transfer (lecture item 14)."""

from __future__ import annotations

from attribkit.recipes.context import Pictures, RecipeContext
from attribkit.style import StyleTransfer
from attribkit.viz import label, make_grid

__all__ = ["run"]


def run(ctx: RecipeContext) -> Pictures:
    """A photo in the style of Starry Night and The Scream; in full mode a weight row too."""
    out = Pictures(
        "The image starts from the photo and is optimized (L-BFGS) so that its features at "
        "_blocks.4 stay the photo's while the Gram matrices of the stem activation and the "
        "outputs of _blocks.0, 2, 4, 7, 10 match the painting's; losses are normalized per "
        "layer, the input is reflect-padded by 16 px, style weight 100, TV weight 10."
    )
    size, steps = (128, 40) if ctx.quick else (256, 300)
    st = StyleTransfer(ctx.model)
    x = ctx.photo("chelsea", size)
    tiles = [label(x[0], "chelsea")]
    captions = []
    for painting in ("starry_night", "scream"):
        r = st.run(
            x,
            ctx.photo(painting, size),
            steps=steps,
            seed=ctx.seed,
            show_progress=ctx.show_progress,
        )
        tiles.append(label(r.images[0], painting))
        captions.append(
            f"{painting}: content loss {float(r.extras['content_loss'][0]):.3f}, style loss "
            f"{float(r.extras['style_loss'][0]):.3f} (weighted), {r.seconds:.1f} s"
        )
    out.add(
        make_grid(tiles, nrow=len(tiles)),
        f"chelsea at {size} px stylized with {ctx.model_name}, {steps} L-BFGS steps from the "
        f"photo; " + "; ".join(captions) + ".",
        name="style-grid",
    )
    if not ctx.quick:
        row = []
        parts = []
        small = ctx.photo("chelsea", 160)
        starry = ctx.photo("starry_night", 160)
        for sw in (1.0, 10.0, 100.0, 1000.0):
            r = st.run(
                small,
                starry,
                style_weight=sw,
                steps=150,
                seed=ctx.seed,
                show_progress=ctx.show_progress,
            )
            row.append(label(r.images[0], f"style weight {sw:g}"))
            parts.append(
                f"{sw:g}: content {float(r.extras['content_loss'][0]):.3f}, style "
                f"{float(r.extras['style_loss'][0]):.3f}"
            )
        out.add(
            make_grid(row, nrow=len(row)),
            "Trade-off at 160 px, 150 L-BFGS steps, Starry Night, style weight "
            + "; ".join(parts)
            + ".",
            name="style-weights",
        )
    return out

"""Neural style transfer on EfficientNet-Lite0 (used by docs/style-transfer.md).

Figures: contents × Starry Night / The Scream, the style-weight trade-off row, the style-scale
row, colour preservation, and a blend of the two paintings. Losses and times are printed.

python examples/style.py [--quick] [--out docs/img/style-transfer]
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from attribkit.data import sample_image
from attribkit.io import save_image
from attribkit.models import efficientnet_lite0
from attribkit.recipes.script import example_parser
from attribkit.style import StyleTransfer
from attribkit.viz import label, make_grid


def run(st: StyleTransfer, content: torch.Tensor, style: object, what: str, **kw: object) -> tuple:
    t0 = time.perf_counter()
    r = st.run(content, style, show_progress=False, **kw)  # type: ignore[arg-type]
    secs = time.perf_counter() - t0
    c, s, tv = (float(r.extras[k][0]) for k in ("content_loss", "style_loss", "tv_loss"))
    print(
        f"{what}: content {c:.3f}  style {s:.3f}  tv {tv:.3f}  steps {r.steps_run}  {secs:.1f} s",
        flush=True,
    )
    return r.images[0], f"c {c:.2f} s {s:.2f}"


def main() -> None:
    parser = example_parser(
        __doc__, "docs/img/style-transfer", quick_help="small images, few steps"
    )
    parser.add_argument("--only", default="", help="comma list of: grid,weights,scale,color,blend")
    parser.add_argument("--paintings", default="starry_night,scream", help="grid columns")
    parser.add_argument("--contents", default="", help="grid rows (default: per mode)")
    parser.add_argument("--grid-name", default="grid.png")
    parser.add_argument("--size", type=int, default=0, help="grid size in px (default: per mode)")
    parser.add_argument("--steps", type=int, default=0, help="grid steps (default: per mode)")
    args = parser.parse_args()
    out = Path(args.out)
    everything = {"grid", "weights", "scale", "color", "blend"}
    only = set(args.only.split(",")) if args.only else everything
    model = efficientnet_lite0()
    st = StyleTransfer(model)  # stem + _blocks.0,2,4,7,10 for style, _blocks.4 for content
    size, steps = (128, 40) if args.quick else (256, 200)
    row_size, row_steps = (112, 30) if args.quick else (128, 100)
    contents = ["chelsea"] if args.quick else ["chelsea", "grace_hopper"]
    contents = args.contents.split(",") if args.contents else contents
    paintings = args.paintings.split(",")
    size, steps = args.size or size, args.steps or steps
    print(f"EfficientNet-Lite0, style {st.style_layers}, content {st.content_layers}")
    print(f"grid: {size} px, {steps} L-BFGS steps; rows: {row_size} px, {row_steps} steps")

    if "grid" in only:
        tiles = [label(torch.ones(3, size, size), "")] + [
            label(sample_image(p, size=size)[0], p) for p in paintings
        ]
        for c in contents:
            x = sample_image(c, size=size)
            tiles.append(label(x[0], c))
            for p in paintings:
                img, cap = run(st, x, sample_image(p, size=size), f"{c} x {p}", steps=steps)
                tiles.append(label(img, cap))
            # saved after each content row, so a long run leaves a picture early
            save_image(make_grid(tiles, nrow=1 + len(paintings)), out / args.grid_name)

    x = sample_image("chelsea", size=row_size)
    starry = sample_image("starry_night", size=row_size)
    if "weights" in only:
        tiles = []
        for sw in [1.0, 10.0, 100.0, 1000.0]:
            img, cap = run(st, x, starry, f"style weight {sw:g}", style_weight=sw,
                           steps=row_steps)
            tiles.append(label(img, f"style weight {sw:g}"))
        save_image(make_grid(tiles, nrow=len(tiles)), out / "weights.png")
    if "scale" in only:
        tiles = []
        big = sample_image("starry_night", size=2 * row_size)
        for scale in [0.5, 1.0, 2.0]:
            # the style image is 2× the content; style_scale resizes it before the Grams
            img, cap = run(st, x, big, f"style scale {scale:g}", style_scale=scale / 2,
                           steps=row_steps)
            tiles.append(label(img, f"style scale {scale:g}"))
        save_image(make_grid(tiles, nrow=len(tiles)), out / "scale.png")
    if "color" in only:
        tiles = [label(x[0], "content")]
        for mode in [None, "luminance", "histogram"]:
            img, cap = run(st, x, starry, f"preserve_color={mode}", preserve_color=mode,
                           steps=row_steps)
            tiles.append(label(img, f"preserve_color={mode}"))
        save_image(make_grid(tiles, nrow=len(tiles)), out / "color.png")
    if "blend" in only:
        scream = sample_image("scream", size=row_size)
        tiles = []
        for w in [(1.0, 0.0), (0.5, 0.5), (0.0, 1.0)]:
            img, cap = run(st, x, [starry, scream], f"blend {w}", style_weights=w,
                           steps=row_steps)
            tiles.append(label(img, f"starry {w[0]:g} / scream {w[1]:g}"))
        save_image(make_grid(tiles, nrow=len(tiles)), out / "blend.png")
    print(f"pictures in {out}")


if __name__ == "__main__":
    main()

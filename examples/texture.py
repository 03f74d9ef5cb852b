"""Neural texture synthesis on EfficientNet-Lite0 next to Efros–Leung (used by docs/texture.md).

Rows: for each texture (gravel, brick, a crop of Starry Night), the source, Gram-matrix
synthesis from progressively deeper layer sets, and the Efros–Leung result. Also the effect
of matching the one-pixel-shifted Gram matrices.

python examples/texture.py [--quick] [--out docs/img/texture]
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from attribkit.data import painting_path, sample_image
from attribkit.io import load_image, save_image
from attribkit.models import default_layers, efficientnet_lite0
from attribkit.recipes.script import example_parser
from attribkit.style import TextureSynthesis, efros_leung, texture_layer_sweep
from attribkit.viz import label, make_grid

SHORT = {"stem_act": "stem", "_blocks.0": "b0", "_blocks.2": "b2", "_blocks.4": "b4",
         "_blocks.7": "b7", "_blocks.10": "b10"}


def textures(size: int) -> dict[str, torch.Tensor]:
    star = load_image(painting_path("starry_night"), size=3 * size)
    return {
        "gravel": sample_image("gravel", size=size),
        "brick": sample_image("brick", size=size),
        "starry crop": star[..., size // 4 : size // 4 + size, size // 2 : size // 2 + size],
    }


def main() -> None:
    parser = example_parser(__doc__, "docs/img/texture", quick_help="small textures, few steps")
    args = parser.parse_args()
    out = Path(args.out)
    model = efficientnet_lite0()
    size, steps = (64, 30) if args.quick else (96, 100)
    style_layers = default_layers(model, "style")
    sets = [list(style_layers[:k]) for k in ([2, 6] if args.quick else [1, 3, 6])]
    el_size, el_window = (48, 9) if args.quick else (64, 11)
    rows = []
    srcs = textures(size)
    if args.quick:
        srcs = {k: srcs[k] for k in ("gravel", "starry crop")}
    for name, tex in srcs.items():
        t0 = time.perf_counter()
        imgs, names, losses = texture_layer_sweep(model, tex, sets, size=size, steps=steps,
                                                  show_progress=False)
        neural = time.perf_counter() - t0
        small = torch.nn.functional.interpolate(tex, size=(64, 64), mode="area")
        t0 = time.perf_counter()
        el = efros_leung(small, el_size, window=el_window, seed=0, show_progress=False)
        el_secs = time.perf_counter() - t0
        print(f"{name}: Gram losses " + ", ".join(
            f"{'+'.join(SHORT.get(n, n) for n in s)} {v:.2g}" for s, v in zip(names, losses))
            + f" ({neural:.1f} s, {steps} L-BFGS steps each); Efros-Leung {el_size}px from 64px"
            f" window {el_window}: {el_secs:.1f} s", flush=True)
        tiles = [label(tex[0], name)]
        tiles += [label(im, "..".join([SHORT.get(s[0], s[0]), SHORT.get(s[-1], s[-1])]))
                  for im, s in zip(imgs, names)]
        el_up = torch.nn.functional.interpolate(el, size=(size, size), mode="nearest")
        tiles.append(label(el_up[0], "Efros-Leung"))
        rows.extend(tiles)
    ncol = len(sets) + 2
    save_image(make_grid(rows, nrow=ncol), out / "layers.png")

    # the shifted-Gram term: speckle without it on a stride-2 stem
    tex = srcs["starry crop"]
    tiles = [label(tex[0], "source")]
    for shift in (0, 1):
        ts = TextureSynthesis(model, shift=shift)
        r = ts.run(tex, size, steps=steps, show_progress=False)
        print(f"shift={shift}: Gram loss {float(r.extras['style_loss'][0]):.4f} "
              f"({r.seconds:.1f} s)")
        tiles.append(label(r.images[0], f"shift={shift}"))
    save_image(make_grid(tiles, nrow=3), out / "shift.png")
    print(f"pictures in {out}")


if __name__ == "__main__":
    main()

"""Style mixing with the shipped multi-style network (conditional instance norm, Dumoulin 2017).

    .venv/bin/python examples/fast_style_mixing.py [--quick] [--out docs/img/fast-style]

Writes to OUT:

* ``mix-strip.png`` — Starry Night → The Scream with weights (w, 1 − w), w = 1 … 0;
* ``mix-grid.png`` — a 2×2 grid of four-style mixes;
* ``mix-corners.png`` — the four styles in the corners of a square, bilinear mixes inside.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from attribkit.data import sample_image
from attribkit.recipes.script import example_parser, save_small
from attribkit.style import load_shipped_model, stylize
from attribkit.viz import label, make_grid


def main() -> None:
    ap = example_parser(__doc__, "docs/img/fast-style")
    ap.add_argument("--photo", default="chelsea")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    size = 128 if args.quick else 192
    net = load_shipped_model()
    names = net.style_names
    x = sample_image(args.photo, size=size)
    t0 = time.perf_counter()

    # 1. two-style strip
    a, b = "starry_night", "scream"
    ws = [1.0, 0.8, 0.6, 0.4, 0.2, 0.0] if not args.quick else [1.0, 0.5, 0.0]
    mixes = torch.tensor([[w if n == a else (1 - w) if n == b else 0.0 for n in names] for w in ws])
    strip = stylize(net, x.expand(len(ws), -1, -1, -1), mixes)
    tiles = [label(strip[i], f"{w:.1f} {a} + {1 - w:.1f} {b}"[:36]) for i, w in enumerate(ws)]  # type: ignore[index]
    save_small(make_grid(torch.stack(tiles), nrow=len(ws)), out / "mix-strip.png")

    # 2. a 2×2 grid of four-style mixes (each cell leans on one style, keeps some of all)
    cells = []
    for k in range(4):
        w = torch.full((4,), 0.1)
        w[k] = 0.7
        y = stylize(net, x, w)
        text = f"{names[k]} 0.7, others 0.1"
        cells.append(label(y[0], text))  # type: ignore[index]
    save_small(make_grid(torch.stack(cells), nrow=2), out / "mix-grid.png")

    # 3. bilinear mixes between the four styles at the corners of a square
    n = 3 if args.quick else 5
    corner_tiles = []
    for i in range(n):
        for j in range(n):
            u, v = i / (n - 1), j / (n - 1)
            w = torch.tensor([(1 - u) * (1 - v), (1 - u) * v, u * (1 - v), u * v])
            corner_tiles.append(stylize(net, x, w)[0])  # type: ignore[index]
    save_small(
        make_grid(torch.stack(corner_tiles), nrow=n, padding=1), out / "mix-corners.png", 500, 96
    )
    print(
        f"mixing figures for {args.photo} at {size} px in {time.perf_counter() - t0:.1f} s "
        "(corners: "
        + ", ".join(f"{c}={nm}" for c, nm in zip(("TL", "TR", "BL", "BR"), names))
        + ")"
    )


if __name__ == "__main__":
    main()

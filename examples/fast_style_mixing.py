"""Style mixing with the shipped 16-style network (conditional instance norm, Dumoulin 2017).

    .venv/bin/python examples/fast_style_mixing.py [--quick] [--out docs/img/fast-style]
        [--photo KEY]

On a held-out photo (``photo_set(split="holdout")``, never trained on), writes to OUT:

* ``mix-strip.png`` — The Starry Night → The Great Wave with weights (w, 1 − w), w = 1 … 0;
* ``mix-grid.png`` — a 2×2 grid of mixes of the four :data:`CORNERS` styles;
* ``mix-corners.png`` — the four :data:`CORNERS` styles in the corners of a square, bilinear
  mixes inside.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from attribkit.data import photo_set
from attribkit.recipes.script import example_parser, save_small
from attribkit.style import load_shipped_model, stylize
from attribkit.viz import label, make_grid

#: The two ends of the strip.
STRIP = ("starry_night", "great_wave")
#: Four styles unlike each other, for the grid and the corners (TL, TR, BL, BR).
CORNERS = ("great_wave", "composition_viii", "scream", "circus_sideshow")


def main() -> None:
    ap = example_parser(__doc__, "docs/img/fast-style")
    ap.add_argument(
        "--photo", default="mammals/erase-rhinoceros", help="a photo_set() key (see .keys)"
    )
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    size = 128 if args.quick else 192
    net = load_shipped_model()
    names = net.style_names
    photos = photo_set(size=size)
    x = photos[photos.index(args.photo)][0][None]
    t0 = time.perf_counter()

    # 1. two-style strip
    a, b = STRIP
    ws = [1.0, 0.8, 0.6, 0.4, 0.2, 0.0] if not args.quick else [1.0, 0.5, 0.0]
    mixes = torch.tensor([[w if n == a else (1 - w) if n == b else 0.0 for n in names] for w in ws])
    strip = stylize(net, x.expand(len(ws), -1, -1, -1), mixes)
    tiles = [label(strip[i], f"{w:.1f} {a} + {1 - w:.1f} {b}"[:36]) for i, w in enumerate(ws)]  # type: ignore[index]
    save_small(make_grid(torch.stack(tiles), nrow=len(ws)), out / "mix-strip.png")

    def mix(weights: list[float]) -> dict[str, float]:
        return dict(zip(CORNERS, weights))

    # 2. a 2×2 grid of four-style mixes (each cell leans on one style, keeps some of the others)
    cells = []
    for k, name in enumerate(CORNERS):
        w = [0.7 if j == k else 0.1 for j in range(4)]
        y = stylize(net, x, mix(w))
        cells.append(label(y[0], f"{name} 0.7, others 0.1"[:30]))  # type: ignore[index]
    save_small(make_grid(torch.stack(cells), nrow=2), out / "mix-grid.png")

    # 3. bilinear mixes between the four styles at the corners of a square
    n = 3 if args.quick else 5
    corner_tiles = []
    for i in range(n):
        for j in range(n):
            u, v = i / (n - 1), j / (n - 1)
            w = [(1 - u) * (1 - v), (1 - u) * v, u * (1 - v), u * v]
            corner_tiles.append(stylize(net, x, mix(w))[0])  # type: ignore[index]
    save_small(
        make_grid(torch.stack(corner_tiles), nrow=n, padding=1), out / "mix-corners.png", 500, 96
    )
    print(
        f"mixing figures for {args.photo} at {size} px in {time.perf_counter() - t0:.1f} s "
        "(corners: "
        + ", ".join(f"{c}={nm}" for c, nm in zip(("TL", "TR", "BL", "BR"), CORNERS))
        + ")"
    )


if __name__ == "__main__":
    main()

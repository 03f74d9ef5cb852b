"""A layer's activation maps for one image, most active channel framed.

    .venv/bin/python examples/activations.py [--quick] [--out docs/img/activations]

Writes ``chelsea.png`` (the input), ``blocks-1.png`` and ``blocks-5.png`` (EfficientNet-Lite0
channels for Chelsea the cat).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from attribkit.data import sample_image
from attribkit.io import save_image
from attribkit.layers import activation_grid
from attribkit.models import efficientnet_lite0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller input")
    ap.add_argument("--out", default="docs/img/activations", help="folder for the pictures")
    args = ap.parse_args()
    out = Path(args.out)
    model = efficientnet_lite0()
    image = sample_image("chelsea", size=160 if args.quick else 224)
    save_image(image, out / "chelsea.png")
    for layer, n in (("_blocks.1", 24), ("_blocks.5", 40)):
        top = activation_grid(model, layer, image, channels=1).most_active
        shown = list(range(n)) if top < n else [*range(n - 1), top]
        grid = activation_grid(
            model, layer, image, channels=shown, highlight=[top], size=56, nrow=8
        )
        grid.save(out / f"{layer.replace('_', '').replace('.', '-')}.png")
        print(
            f"{layer}: {grid.activations.shape[0]} channels, most active {top} "
            f"(mean {float(grid.scores[top]):.2f})"
        )


if __name__ == "__main__":
    main()

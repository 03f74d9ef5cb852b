"""First-layer filters as RGB images, deeper filters as per-input-channel grayscale grids.

    .venv/bin/python examples/filters.py [--quick] [--out docs/img/filters]

Writes ``stem.png`` (EfficientNet-Lite0's 32 first-layer kernels), ``depthwise.png`` (the
first block's depthwise kernels) and ``digits-conv2.png`` (the digits CNN's second layer:
one row per filter, one grayscale kernel per input channel).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from attribkit.layers import filter_grid
from attribkit.models import efficientnet_lite0, train_digits_cnn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer training epochs for the digits CNN")
    ap.add_argument("--out", default="docs/img/filters", help="folder for the pictures")
    args = ap.parse_args()
    out = Path(args.out)
    model = efficientnet_lite0()
    filter_grid(model, "_conv_stem", scale=12, padding=2, nrow=8, path=out / "stem.png")
    filter_grid(
        model, "_blocks.0._depthwise_conv", scale=12, padding=2, nrow=8, path=out / "depthwise.png"
    )
    torch.set_num_threads(1)  # a tiny network trains fastest on one thread
    digits, acc = train_digits_cnn(epochs=5 if args.quick else 15)
    filter_grid(
        digits,
        "conv2",
        scale=8,
        padding=1,
        max_filters=16,
        max_in_channels=16,
        path=out / "digits-conv2.png",
    )
    print(f"digits CNN held-out accuracy {acc:.1%}; pictures in {out}")


if __name__ == "__main__":
    main()

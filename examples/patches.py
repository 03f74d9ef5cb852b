"""Maximally activating patches, cropped to the receptive field.

    .venv/bin/python examples/patches.py [--quick] [--out docs/img/patches]

Scans random crops of the bundled photos with EfficientNet-Lite0 (layer ``_blocks.4``) and
all 1,797 digits with the digits CNN (layer ``relu3``); writes ``photos.png`` and
``digits.png`` (one row per channel, strongest hits first).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from attribkit.data import sample_image, sample_names
from attribkit.layers import MaxActivatingPatches, random_crops
from attribkit.models import efficientnet_lite0, load_digits_tensors, train_digits_cnn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer crops")
    ap.add_argument("--out", default="docs/img/patches", help="folder for the pictures")
    args = ap.parse_args()
    out = Path(args.out)

    photos = [sample_image(name, size=256) for name in sample_names("photos")]
    crops, _ = random_crops(photos, 8 if args.quick else 48, 128, seed=0)
    model = efficientnet_lite0()
    t0 = time.perf_counter()
    mp = MaxActivatingPatches(model, "_blocks.4", k=6, batch_size=16)
    mp.scan(crops)
    rf = mp.receptive_field()
    mp.grid(crops, mp.top_channels(8), size=56, pad_value=0.5, path=out / "photos.png")
    print(
        f"photos: {len(crops)} crops, receptive field {rf.size} stride {rf.jump} "
        f"({rf.method}), {time.perf_counter() - t0:.1f} s"
    )

    torch.set_num_threads(1)  # a tiny network trains fastest on one thread
    digits, acc = train_digits_cnn(epochs=5 if args.quick else 15)
    x, _ = load_digits_tensors()
    mp = MaxActivatingPatches(digits, "relu3", k=8, batch_size=256)
    mp.scan(x)
    mp.grid(x, mp.top_channels(10), size=40, pad_value=0.5, path=out / "digits.png")
    print(f"digits: accuracy {acc:.1%}, receptive field {mp.receptive_field().size}")


if __name__ == "__main__":
    main()

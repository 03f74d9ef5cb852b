"""Nearest neighbours in feature space vs pixel space (rows: query, then its neighbours).

    .venv/bin/python examples/neighbors.py [--quick] [--out docs/img/neighbors]

Writes ``digits.png`` (digits CNN penultimate features) and ``photos.png`` (EfficientNet-Lite0
pooled head features of random crops of the bundled photos). In each pair of rows, the upper
one is feature space, the lower one pixel space.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from attribkit.data import sample_image, sample_names
from attribkit.embed import FeatureBank, nearest_pixels, neighbor_grid
from attribkit.layers import random_crops
from attribkit.models import efficientnet_lite0, load_digits_tensors, train_digits_cnn


def agreement(found: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of neighbours that share their query's label."""
    return float((labels[found] == labels.view(-1, 1)).float().mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer crops and epochs")
    ap.add_argument("--out", default="docs/img/neighbors", help="folder for the pictures")
    args = ap.parse_args()
    out = Path(args.out)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network trains fastest on one thread
    digits, acc = train_digits_cnn(epochs=5 if args.quick else 15)
    torch.set_num_threads(threads)
    x, y = load_digits_tensors()
    bank = FeatureBank.from_model(digits, x, "flatten", pool=None, labels=y)
    queries = torch.tensor([int(torch.nonzero(y == c)[3]) for c in range(10)])
    feat = bank.nearest(queries, 8, metric="cosine")
    pix = nearest_pixels(x, queries, 8)
    neighbor_grid(x[queries], x, [feat, pix], size=24, path=out / "digits.png")
    every = torch.arange(len(x))
    print(
        f"digits (accuracy {acc:.1%}): 5-NN label agreement "
        f"{agreement(bank.nearest(every, 5).indices, y):.1%} (features) vs "
        f"{agreement(nearest_pixels(x, every, 5).indices, y):.1%} (pixels)"
    )

    per = 4 if args.quick else 12
    photos = [sample_image(name, size=256) for name in sample_names("photos")]
    crops, src = random_crops(photos, per, 128, seed=0)
    bank = FeatureBank.from_model(efficientnet_lite0(), crops, "_bn1", pool="avg", batch_size=16)
    qs = torch.arange(0, len(crops), per)
    feat = bank.nearest(qs, 5, metric="cosine")
    pix = nearest_pixels(crops, qs, 5)
    show = slice(0, 4)  # four queries keep the picture small
    feat_s = type(feat)(feat.indices[show], feat.distances[show], feat.metric, feat.backend)
    pix_s = type(pix)(pix.indices[show], pix.distances[show], pix.metric, pix.backend)
    neighbor_grid(crops[qs[show]], crops, [feat_s, pix_s], size=40, path=out / "photos.png")
    every = torch.arange(len(crops))
    print(
        f"photos: {len(crops)} crops; 3-NN from the same photo "
        f"{agreement(bank.nearest(every, 3).indices, src):.0%} (features) vs "
        f"{agreement(nearest_pixels(crops, every, 3).indices, src):.0%} (pixels)"
    )


if __name__ == "__main__":
    main()

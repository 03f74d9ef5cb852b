"""How often the k nearest neighbours of a photo share its label: feature vs pixel space.

Usage::

    OMP_NUM_THREADS=1 python tools/measure_neighbours.py [--k 5] [--size 224] [--layer _bn1]

Every photo of ``photo_set()`` (centre-cropped squares of ``--size`` px) is a query, so every
group has queries. Feature space: the bundled EfficientNet-Lite0's ``--layer`` output,
global-average-pooled, cosine distance (``FeatureBank``); pixel space: Euclidean distance
between the images themselves (``nearest_pixels``), at ``--size`` and at 32 px. Each query is
left out of its own neighbours. Printed: the share of neighbours with the query's label over
all queries, averaged per group (so the 84 monuments do not dominate), per group, and the
chance level (the share of the other photos that carry the query's label).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

import attribkit
from attribkit import FeatureBank, nearest_pixels


def agreement(neighbours: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per query: the fraction of its neighbours with the query's label."""
    return (labels[neighbours] == labels.view(-1, 1)).double().mean(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--layer", default="_bn1")
    args = parser.parse_args()
    t0 = time.perf_counter()
    photos = attribkit.photo_set(size=args.size)
    x, y = photos.stack()
    t_load = time.perf_counter() - t0
    model = attribkit.efficientnet_lite0()
    t1 = time.perf_counter()
    bank = FeatureBank.from_model(
        model, x, args.layer, pool="avg", batch_size=16, labels=y, show_progress=False
    )
    t_feat = time.perf_counter() - t1
    every = torch.arange(len(x))
    spaces = {
        f"features ({args.layer}, avg-pooled, cosine)": bank.nearest(
            every, args.k, metric="cosine"
        ).indices,
        f"pixels ({args.size} px, Euclidean)": nearest_pixels(x, every, args.k).indices,
        "pixels (32 px, Euclidean)": nearest_pixels(
            F.interpolate(x, size=32, mode="area"), every, args.k
        ).indices,
    }
    counts = torch.bincount(y, minlength=len(photos.classes)).double()
    chance = (counts[y] - 1) / (len(y) - 1)
    rows = {name: agreement(nn, y) for name, nn in spaces.items()}
    rows["chance (random neighbours)"] = chance

    def macro(v: torch.Tensor) -> float:
        return float(torch.stack([v[y == c].mean() for c in range(len(photos.classes))]).mean())

    print(
        f"{len(x)} photos, {len(photos.classes)} groups, k = {args.k}; load {t_load:.1f} s, "
        f"features {t_feat:.1f} s"
    )
    print("| space | all queries | mean over groups |")
    print("|---|---|---|")
    for name, v in rows.items():
        print(f"| {name} | {float(v.mean()):.1%} | {macro(v):.1%} |")
    names = list(rows)
    print("\n| group | n | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for c, label in enumerate(photos.classes):
        cells = " | ".join(f"{float(rows[n][y == c].mean()):.0%}" for n in names)
        print(f"| {label} | {int(counts[c])} | {cells} |")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()

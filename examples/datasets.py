"""The shipped photo and painting sets at a glance.

    .venv/bin/python examples/datasets.py [--quick] [--out docs/img/datasets]

Writes ``photos.jpg`` (one row per photo group, in ``photo_set().classes`` order, the first
photos of each group), ``styles.jpg`` (the 16 paintings of ``painting_set(split="multistyle")``)
and ``holdout.jpg`` (the held-out paintings, then the held-out photos).
"""

from __future__ import annotations

from pathlib import Path

import torch

from attribkit import make_grid, painting_set, photo_set, save_image
from attribkit.recipes.script import example_parser


def main() -> None:
    ap = example_parser(__doc__, "docs/img/datasets", quick_help="fewer photos per group")
    args = ap.parse_args()
    out = Path(args.out)
    per = 4 if args.quick else 8

    photos = photo_set(size=80)
    tiles = []
    for label in photos.classes:  # one row per group, filled up with white where it is short
        row = [photos[i][0] for i in photos.indices(label)[:per]]
        tiles += row + [torch.ones(3, 80, 80)] * (per - len(row))
    grid = make_grid(tiles, nrow=per, padding=2)
    save_image(grid, out / "photos.jpg", quality=85)
    print(f"photos.jpg: {len(photos.classes)} groups, one per row: {', '.join(photos.classes)}")

    styles = painting_set(size=128, split="multistyle")
    save_image(make_grid([im for im, _ in styles], nrow=8), out / "styles.jpg", quality=90)
    for p in styles.provenance:
        print(f"  style: {p['artist']}, {p['label']} ({p['date']})")

    held = [im for im, _ in painting_set(size=96, split="holdout")]
    held_photos = photo_set(size=96, split="holdout")
    if args.quick:
        held_photos = held_photos.subset(list(range(6)))
    held += [im for im, _ in held_photos]
    save_image(make_grid(held, nrow=12), out / "holdout.jpg", quality=90)
    print(f"holdout.jpg: {len(held)} images")


if __name__ == "__main__":
    main()

"""Held-out figures of multi-style networks: style and content losses on ``photos.holdout``.

Usage::

    python tools/eval_multistyle.py [--model NAME=PATH ...] [--size 256] [--photos 0]
        [--grid OUT.png] [--json OUT.json]

For every model (default: the shipped one) and every style it has, on the held-out photos of
``splits.json`` (``photo_set(split="holdout")``, never trained on by the shipped model; center
crops of ``--size`` px):

* **style loss**: :func:`attribkit.style.train.evaluate_style` (the Gram style distance of
  training: style weight 100 × mean over the style layers of ‖G − Gₛ‖² / ‖Gₛ‖² on
  EfficientNet-Lite0) of the stylized photo, and of the unstylized photo against the same style;
* **content loss**: the training's content term (‖F − F_c‖² / ‖F_c‖² at ``_blocks.4``, weight
  1) of the stylized photo against the photo (the unstylized photo scores 0).

Each model is scored against the style images its own training record names
(:func:`attribkit.style.train.training_styles`). Prints a Markdown table (means over the
photos) and, with ``--grid``, writes the photos × styles picture used to judge pilots.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def evaluate(path: Path, images: torch.Tensor, backbone: torch.nn.Module) -> dict[str, dict]:
    """``{style: {"stylized", "unstylized", "content"}}`` per-photo lists for one model."""
    from attribkit.style import load_style_model, stylize
    from attribkit.style.checkpoint import read_style_metadata
    from attribkit.style.losses import PerceptualLoss
    from attribkit.style.train import default_layers, evaluate_style, training_styles

    net = load_style_model(path)
    specs = training_styles(read_style_metadata(path))
    res = evaluate_style(net, images, specs, backbone=backbone)  # type: ignore[arg-type]
    c_layers, _ = default_layers(backbone)
    closs = PerceptualLoss(backbone, c_layers, [], content_weight=1.0, tv_weight=0.0)
    closs.set_content(images)
    out: dict[str, dict] = {}
    with torch.no_grad():
        for s, name in enumerate(specs):
            y = stylize(net, images, s)
            out[name] = {
                "stylized": res["stylized"][s].tolist(),
                "unstylized": res["content"][s].tolist(),
                "content": closs(y).content.tolist(),  # type: ignore[arg-type]
            }
    return out


def style_grid(path: Path, images: torch.Tensor, grid: Path, titles: list[str]) -> None:
    """Photos (rows) × styles (columns), labelled."""
    from attribkit.io import save_image
    from attribkit.style import load_style_model, stylize
    from attribkit.viz import label, make_grid

    net = load_style_model(path)
    tiles = []
    for i in range(images.shape[0]):
        x = images[i : i + 1]
        tiles.append(label(x[0], titles[i][:18]))
        for s, name in enumerate(net.style_names):  # type: ignore[arg-type]
            tiles.append(label(stylize(net, x, s)[0], name[:18]))  # type: ignore[index]
    save_image(make_grid(torch.stack(tiles), nrow=len(net.style_names) + 1), grid)  # type: ignore[arg-type]


def mean(v: list[float]) -> float:
    return sum(v) / len(v)


def main() -> None:
    from attribkit.data import photo_set
    from attribkit.models import efficientnet_lite0
    from attribkit.style.checkpoint import shipped_model_path

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", action="append", default=[], help="NAME=PATH (without suffix)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--photos", type=int, default=0, help="first N held-out photos (0: all)")
    ap.add_argument("--grid", default=None, help="write a photos × styles picture")
    ap.add_argument("--grid-photos", type=int, default=4)
    ap.add_argument("--json", default=None, help="write the per-photo figures")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    models = [m.partition("=")[::2] for m in args.model] or [("shipped", str(shipped_model_path()))]
    held = photo_set(size=args.size, split="holdout")
    n = len(held) if args.photos <= 0 else min(args.photos, len(held))
    images = torch.stack([held[i][0] for i in range(n)])
    bb = efficientnet_lite0()
    t0 = time.perf_counter()
    results = {name: evaluate(Path(p), images, bb) for name, p in models}
    print(
        f"held-out photos: {n} of photo_set(split='holdout') at {args.size} px; "
        f"{time.perf_counter() - t0:.0f} s"
    )
    print("| model | style | style loss, stylized | style loss, unstylized | content loss |")
    print("|---|---|---|---|---|")
    for name, res in results.items():
        for style, r in res.items():
            print(
                f"| {name} | {style} | {mean(r['stylized']):.1f} | {mean(r['unstylized']):.1f} | "
                f"{mean(r['content']):.3f} |"
            )
        every = [x for r in res.values() for x in r["stylized"]]
        plain = [x for r in res.values() for x in r["unstylized"]]
        cont = [x for r in res.values() for x in r["content"]]
        print(
            f"| {name} | **mean of {len(res)}** | **{mean(every):.1f}** | **{mean(plain):.1f}** |"
            f" **{mean(cont):.3f}** |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"photos": held.keys[:n], **results}, indent=1))
    if args.grid:
        k = min(args.grid_photos, n)
        style_grid(Path(models[-1][1]), images[:k], Path(args.grid), held.keys[:k])


if __name__ == "__main__":
    main()

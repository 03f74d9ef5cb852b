"""Fooling images: turn the bundled photos into a Granny Smith with an invisible change.

    .venv/bin/python examples/fool.py [--quick] [--out docs/img/fooling]

Writes ``fool-<photo>.png`` (original | fooled | change ×10) for two photos and prints, for every
bundled photo, the L∞ budget at which it flips to the target (p ≥ 0.9), the success rate and
median L∞, and a success-rate sweep against ε.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import torch

from attribkit.adversarial import FoolingImage, fooling_figure, fooling_sweep
from attribkit.data import sample_image, sample_names
from attribkit.models import efficientnet_lite0, imagenet_classes
from attribkit.recipes.fool import TARGET  # Granny Smith
from attribkit.recipes.script import example_parser, save_small


def main() -> None:
    ap = example_parser(__doc__, "docs/img/fooling", quick_help="two photos at 128 px, short sweep")
    ap.add_argument("--target", type=int, default=TARGET, help="target class")
    ap.add_argument(
        "--sweep-eps",
        type=float,
        nargs="*",
        default=None,
        help="budgets of the sweep in /255 units (default 0.25 0.5 1 2 [4])",
    )
    ap.add_argument("--sweep-steps", type=int, default=None, help="steps per budget (20/40)")
    ap.add_argument("--skip-flip", action="store_true", help="only run the sweep")
    args = ap.parse_args()
    out = Path(args.out)
    names = imagenet_classes()
    model = efficientnet_lite0()
    size = 128 if args.quick else 224
    photos = ["chelsea", "coffee"] if args.quick else list(sample_names("photos"))
    x = torch.cat([sample_image(n, size=size) for n in photos])
    if not args.skip_flip:
        t = time.perf_counter()
        # a generous budget with small steps: each image stops as soon as it is fooled, so its L∞
        # is the budget at which it flips
        res = FoolingImage(model).run(
            x,
            args.target,
            epsilon=16 / 255,
            lr=0.25 / 255,
            steps=80,
            threshold=0.9,
            show_progress=False,
        )
        fooled, rep = res.images, res.extras["report"]
        secs = time.perf_counter() - t
        for i, n in enumerate(photos):
            print(
                f"{n:13s} {names[int(rep.original_class[i])][:22]:22s} -> "
                f"{names[int(rep.predicted_after[i])][:16]:16s} {rep.summary(i)}"
            )
        ok = rep.linf[rep.success] * 255
        med = statistics.median(ok.tolist()) if ok.numel() else float("nan")
        print(
            f"target {args.target} ({names[args.target]}), {size} px, L∞ ≤ 16/255, step 0.25/255, "
            f"p ≥ 0.9: success {rep.success_rate * 100:.0f}% of {len(photos)}, "
            f"median L∞ at flip {med:.2f}/255; {secs:.1f} s"
        )
        for i, n in enumerate(photos[:2]):
            save_small(
                fooling_figure(x[i : i + 1], fooled[i : i + 1], magnify=10), out / f"fool-{n}.png"
            )
    eps = args.sweep_eps or ([0.25, 0.5, 1.0, 2.0] if args.quick else [0.25, 0.5, 1.0, 2.0, 4.0])
    n_steps = args.sweep_steps or (20 if args.quick else 40)
    sweep = fooling_sweep(
        model,
        x,
        args.target,
        [e / 255 for e in eps],
        steps=n_steps,
        threshold=0.9,
        show_progress=False,
    )
    for e, r, m in zip(eps, sweep.success_rate, sweep.median_linf):
        print(
            f"sweep eps={e:.2f}/255 (step eps/10, {n_steps} steps): "
            f"success {r * 100:.0f}%, median L∞ {m * 255:.2f}/255"
        )


if __name__ == "__main__":
    main()

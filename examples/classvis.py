"""Class and neuron visualization on EfficientNet-Lite0 with the lecture's presets.

    .venv/bin/python examples/classvis.py [--quick] [--out docs/img/classvis]
        [--presets yosinski lucent] [--steps N] [--size PX]

Writes ``<preset>.png`` (Egyptian cat, Granny Smith, dumbbell, pool table, one batch),
``filmstrip-<preset>.png`` (snapshots of the first class), ``channels.png`` (eight channels of
``_blocks.10`` in one batch) and prints each target's softmax probability.
"""

from __future__ import annotations

from pathlib import Path

from attribkit.models import efficientnet_lite0, imagenet_classes
from attribkit.optvis import PRESETS, ClassVisualization, NeuronVisualization
from attribkit.recipes.classvis import CLASSES as RECIPE_CLASSES
from attribkit.recipes.script import example_parser, save_small
from attribkit.viz import label, make_grid

CLASSES = list(RECIPE_CLASSES)  # the classvis recipe's classes




def main() -> None:
    ap = example_parser(__doc__, "docs/img/classvis", quick_help="128 px, 40 steps")
    ap.add_argument("--presets", nargs="*", default=["yosinski", "lucent"], choices=sorted(PRESETS))
    ap.add_argument("--steps", type=int, default=None, help="steps (default: the preset's)")
    ap.add_argument("--size", type=int, default=None, help="image size (default 224)")
    ap.add_argument("--no-channels", action="store_true", help="skip the channel grid")
    args = ap.parse_args()
    out = Path(args.out)
    names = imagenet_classes()
    model = efficientnet_lite0()
    size = args.size or (128 if args.quick else 224)
    steps = args.steps or (40 if args.quick else None)
    vis = ClassVisualization(model)
    for preset in args.presets:
        n = steps or PRESETS[preset].steps
        res = vis.run(
            CLASSES,
            preset,
            steps=n,
            size=size,
            seed=0,
            snapshot_steps=[0, n // 8, n // 4, n // 2, n],
        )
        probs_reached = res.extras["probs"]
        tiles = [
            label(img, f"{names[c][:16]} {float(p):.3f}")
            for img, c, p in zip(res.images, CLASSES, probs_reached)
        ]
        save_small(make_grid(tiles, nrow=4), out / f"{preset}.png")
        save_small(res.filmstrip(0, size=112), out / f"filmstrip-{preset}.png")
        probs = ", ".join(f"{c}: {float(p):.4f}" for c, p in zip(CLASSES, probs_reached))
        print(
            f"{preset}: {n} steps at {size} px, batch of 4, {res.seconds:.0f} s; p(target) {probs}"
        )
    if not args.no_channels:
        chans = list(range(8))
        nsize, nsteps = (96, 32) if args.quick else (128, 96)
        nres = NeuronVisualization(model, "_blocks.10").run(
            chans, "lucent", steps=nsteps, size=nsize, seed=0
        )
        save_small(
            make_grid([label(i, f"ch {c}") for i, c in zip(nres.images, chans)], nrow=8),
            out / "channels.png",
        )
        print(f"_blocks.10 channels {chans}: {nsteps} steps at {nsize} px, {nres.seconds:.0f} s")


if __name__ == "__main__":
    main()

"""DeepDream on a bundled photo with EfficientNet-Lite0.

    .venv/bin/python examples/dream.py [--quick] [--out docs/img/deepdream]

Writes ``photo.png``, ``dream-blocks4.png``, ``dream-blocks10.png``, ``octaves.png`` (the octaves
of the _blocks.10 dream) and ``guided.png`` (only channel 7 of _blocks.10 amplified).
"""

from __future__ import annotations

from pathlib import Path

from attribkit.data import sample_image
from attribkit.models import efficientnet_lite0
from attribkit.optvis import DeepDream, channel
from attribkit.recipes.dream import OPTIONS  # the lecture's jitter, step, octave scale
from attribkit.recipes.script import example_parser, save_small
from attribkit.viz import label, make_grid


def main() -> None:
    ap = example_parser(__doc__, "docs/img/deepdream", quick_help="192 px, 3 octaves of 8 steps")
    ap.add_argument("--photo", default="chelsea")
    args = ap.parse_args()
    out = Path(args.out)
    model = efficientnet_lite0()
    size, octaves, steps = (192, 3, 8) if args.quick else (320, 4, 20)
    x = sample_image(args.photo, size=size)
    save_small(x, out / "photo.png")
    for layer in ("_blocks.4", "_blocks.10"):
        res = DeepDream(model, layer).run(x, octaves=octaves, steps=steps, **OPTIONS)
        tag = layer.replace("_", "").replace(".", "")
        save_small(res.images, out / f"dream-{tag}.png")
        if layer == "_blocks.10":
            frames = [label(o[0], f"octave {i + 1}")
                      for i, o in enumerate(res.extras["octave_images"])]
            save_small(make_grid(frames, nrow=len(frames), size=128), out / "octaves.png")
        print(
            f"{layer}: {octaves} octaves x {steps} steps at {size} px, {res.seconds:.1f} s; "
            f"objective {float(res.history[0, 0]):.3g} -> {float(res.history[-1, 0]):.3g}"
        )
    guided = DeepDream(model, "_blocks.10").run(
        x, octaves=octaves, steps=steps, objective=channel("_blocks.10", 7)
    )
    save_small(guided.images, out / "guided.png")
    print(f"guided (channel 7 of _blocks.10): {guided.seconds:.1f} s")


if __name__ == "__main__":
    main()

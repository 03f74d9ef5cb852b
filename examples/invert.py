"""Feature inversion of EfficientNet-Lite0, shallow to deep (used by docs/inversion.md).

One photo is reconstructed from the features of each layer (Adam from grey noise, TV prior
growing with the layer's stride) and the PSNR against the original is printed.

python examples/invert.py [--quick] [--out docs/img/inversion]
"""

from __future__ import annotations

from pathlib import Path

import torch

from attribkit.data import sample_image
from attribkit.models import default_layers, efficientnet_lite0
from attribkit.optvis import FeatureInversion, inversion_sweep, psnr
from attribkit.recipes.script import example_parser


def main() -> None:
    parser = example_parser(__doc__, "docs/img/inversion", quick_help="small image, few steps")
    args = parser.parse_args()
    out = Path(args.out)
    model = efficientnet_lite0()
    size, steps = (96, 100) if args.quick else (224, FeatureInversion.default_steps)
    layers = default_layers(model, "inversion")  # stem activation, _blocks.2, 5, 10, 15
    photos = ["chelsea"]
    for name in photos:
        img = sample_image(name, size=size)
        sweep = inversion_sweep(model, img, layers, steps=steps, show_progress=False)
        grey = float(psnr(torch.full_like(img, 0.5), img)[0])
        mean = float(psnr(img.mean((2, 3), keepdim=True).expand_as(img), img)[0])
        print(f"{name} {size} px, {steps} Adam steps (flat grey {grey:.1f} dB, mean colour "
              f"{mean:.1f} dB)")
        for layer, p, tv, s in zip(sweep.layers, sweep.psnr, sweep.tv_weights, sweep.seconds):
            print(f"  {layer:<11} PSNR {p:5.1f} dB  tv_weight {tv:g}  {s:.1f} s", flush=True)
        sweep.save(out / f"sweep-{name}.png", size=160)
    print(f"pictures in {out}")


if __name__ == "__main__":
    main()

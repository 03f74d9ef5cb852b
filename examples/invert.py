"""Feature inversion of EfficientNet-Lite0, shallow to deep (used by docs/inversion.md).

One photo is reconstructed from the features of each layer (Adam from grey noise, TV prior
growing with the layer's stride) and the PSNR against the original is printed.

python examples/invert.py [--quick] [--out docs/img/inversion]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from attribkit.data import sample_image
from attribkit.models import efficientnet_lite0
from attribkit.optvis.inversion import inversion_sweep, psnr

LAYERS = ["_bn0", "_blocks.2", "_blocks.5", "_blocks.10", "_blocks.15"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small image, few steps")
    parser.add_argument("--out", default="docs/img/inversion")
    args = parser.parse_args()
    out = Path(args.out)
    model = efficientnet_lite0()
    size, steps = (96, 40) if args.quick else (224, 200)
    photos = ["chelsea"]
    for name in photos:
        img = sample_image(name, size=size)
        # "_bn0" + ReLU6 is the stem activation (the model's ReLU6 module is shared with the head)
        sweep = inversion_sweep(model, img, LAYERS, steps=steps, layer_fns={"_bn0": F.relu6},
                                show_progress=False)
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

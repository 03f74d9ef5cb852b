"""Attribution maps of EfficientNet-Lite0 on the bundled photos (used by docs/attribution.md).

python examples/attribution.py [--quick] [--out docs/img/attribution]
"""

from __future__ import annotations

import time
from pathlib import Path

from attribkit import (
    GuidedBackprop,
    Occlusion,
    efficientnet_lite0,
    gradcam_map,
    predict,
    saliency_grabcut,
    saliency_map,
    sample_image,
    save_image,
    to_pil,
)
from attribkit.recipes.occlusion import default_window
from attribkit.recipes.script import example_parser
from attribkit.recipes.shared import DEMO_PHOTOS
from attribkit.viz import attribution_figure, label, make_grid


def main() -> None:
    parser = example_parser(
        __doc__, "docs/img/attribution", quick_help="one photo, coarse occlusion"
    )
    args = parser.parse_args()
    out = Path(args.out)
    model = efficientnet_lite0()
    photos = list(DEMO_PHOTOS[:1]) if args.quick else list(DEMO_PHOTOS)
    window, stride = default_window(224, quick=args.quick)
    for name in photos:
        x = sample_image(name, size=224)
        top = predict(model, x, topk=1)[0][0]
        t0 = time.perf_counter()
        maps = {
            "saliency": saliency_map(model, x, top.index),
            "occlusion": Occlusion(model).attribute(
                x, window, strides=stride, target=top.index, baselines="mean", probability=True
            )[:, :1],
            "guided backprop": GuidedBackprop(model).attribute(x, target=top.index),
            "Grad-CAM": gradcam_map(model, x, top.index),
        }
        fig = attribution_figure(
            x,
            maps,
            title=f"EfficientNet-Lite0: {top}",
            methods={"saliency": "heat_map", "guided backprop": "heat_map"},
            signs={"occlusion": "positive", "Grad-CAM": "positive"},
            cmap=None,
        )
        # a 256-colour palette keeps the docs' PNGs small
        save_image(to_pil(fig).quantize(256), out / f"{name}.png", optimize=True)
        mask = saliency_grabcut(x, maps["saliency"])
        cut = x * mask.to(x.dtype)
        save_image(
            make_grid([label(x[0], "input"), label(cut[0], "GrabCut")]), out / f"{name}-grabcut.png"
        )
        print(f"{name}: {top} — {time.perf_counter() - t0:.1f} s -> {out / (name + '.png')}")


if __name__ == "__main__":
    main()

"""Efros–Leung and image quilting on the bundled textures (used by docs/texture.md).

python examples/efros_leung.py [--quick] [--out docs/img/texture]
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from attribkit.data import painting_path, sample_image
from attribkit.io import load_image, save_image
from attribkit.recipes.script import example_parser
from attribkit.style import efros_leung, image_quilting
from attribkit.viz import label, make_grid


def main() -> None:
    parser = example_parser(__doc__, "docs/img/texture", quick_help="smaller outputs")
    args = parser.parse_args()
    out = Path(args.out)
    star = load_image(painting_path("starry_night"), size=192)
    samples = {
        "brick": sample_image("brick", size=64)[:, :1],  # grayscale: one channel
        "gravel": sample_image("gravel", size=64)[:, :1],
        "starry crop": star[..., 16:80, 32:96],
    }
    size = 48 if args.quick else 96
    tiles = []
    for name, s in samples.items():
        t0 = time.perf_counter()
        el = efros_leung(s, size, window=11, seed=0, show_progress=False)
        t_el = time.perf_counter() - t0
        t0 = time.perf_counter()
        q = image_quilting(s, size, block=20, seed=0)
        t_q = time.perf_counter() - t0
        assert bool(torch.isin(el, s).all())  # every pixel copied from the sample
        print(f"{name}: Efros-Leung {size}x{size} from 64x64, window 11: {t_el:.1f} s; "
              f"quilting (block 20): {t_q:.2f} s", flush=True)
        up = lambda t: torch.nn.functional.interpolate(  # noqa: E731
            t.expand(-1, 3, -1, -1), size=(2 * size, 2 * size), mode="nearest")[0]
        tiles += [label(up(s), f"{name} 64px"), label(up(el), "Efros-Leung"),
                  label(up(q), "quilting")]
    save_image(make_grid(tiles, nrow=3), out / "efros-leung.png")
    print(f"pictures in {out}")


if __name__ == "__main__":
    main()

"""Fast style transfer with the shipped 16-style network: every style on held-out photos,
colour preservation, the held-out style loss, and a comparison with optimization-based transfer.

    .venv/bin/python examples/fast_style.py [--quick] [--out docs/img/fast-style]

Writes ``styles.png`` (held-out photos × the 16 styles), ``preserve-color.png`` and
``vs-optimization.png`` to OUT and prints the held-out style losses and timings. The photos
are from ``photo_set(split="holdout")``, which the shipped network never trained on (the full
held-out table of style and content losses is ``tools/eval_multistyle.py``).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from attribkit.data import photo_set
from attribkit.io import save_image
from attribkit.recipes.script import example_parser, save_small
from attribkit.style import load_shipped_model, stylize
from attribkit.style.checkpoint import read_style_metadata, shipped_model_path
from attribkit.style.train import evaluate_style, training_styles
from attribkit.viz import label, make_grid

#: Held-out photos (``splits.json`` ``photos.holdout``) shown in the style grid.
GRID_PHOTOS = (
    "mammals/erase-rhinoceros",
    "monuments/categorization-uscapitol",
    "landscapes/plasma-eveningglow",
)
#: Styles per block of the style grid (16 styles: two blocks).
BLOCK = 8


def optimization_transfer(
    content: torch.Tensor, style: torch.Tensor, steps: int
) -> tuple[torch.Tensor, str]:
    """Gatys transfer with the same backbone/losses; attribkit.style.transfer when present."""
    from attribkit.models import efficientnet_lite0

    bb = efficientnet_lite0()
    try:
        from attribkit.style.transfer import StyleTransfer
    except ImportError:
        StyleTransfer = None  # noqa: N806
    if StyleTransfer is not None:
        out = StyleTransfer(bb).transfer(content, style, steps=steps, show_progress=False, seed=0)
        return out, "attribkit.style.StyleTransfer (L-BFGS)"
    from attribkit.style.losses import PerceptualLoss
    from attribkit.style.train import EFFICIENTNET_CONTENT_LAYERS, EFFICIENTNET_STYLE_LAYERS

    loss = PerceptualLoss(
        bb,
        EFFICIENTNET_CONTENT_LAYERS,
        EFFICIENTNET_STYLE_LAYERS,
        style_weight=100.0,
        tv_weight=10.0,
    )
    loss.set_content(content)
    loss.set_style(style)
    x = content.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    opt = torch.optim.LBFGS([x], max_iter=steps, tolerance_grad=0.0, tolerance_change=0.0)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        total = loss(x.clamp(0, 1)).total.sum()
        total.backward()
        return total

    opt.step(closure)
    return x.detach().clamp(0, 1), "plain L-BFGS loop over PerceptualLoss"


def cached_optimization(
    content: torch.Tensor, style: torch.Tensor, steps: int, cache: str | None, size: int
) -> tuple[torch.Tensor, str, float]:
    """Run (or reuse from ``cache``) the optimization-based transfer; returns image, how, secs."""
    import json

    from attribkit.io import load_image

    if cache is not None:
        img, meta = (
            Path(cache) / f"opt-{size}-{steps}.png",
            Path(cache) / f"opt-{size}-{steps}.json",
        )
        if img.is_file() and meta.is_file():
            m = json.loads(meta.read_text())
            return load_image(img), m["how"] + " (cached run)", float(m["seconds"])
    t = time.perf_counter()
    slow, how = optimization_transfer(content, style, steps)
    seconds = time.perf_counter() - t
    if cache is not None:
        Path(cache).mkdir(parents=True, exist_ok=True)
        save_image(slow[0], img)
        meta.write_text(json.dumps({"how": how, "seconds": seconds}))
    return slow, how, seconds


def held_out(keys: tuple[str, ...] | list[str], size: int) -> torch.Tensor:
    """Held-out photos by key, center-cropped squares of ``size`` px, as one batch."""
    photos = photo_set(size=size, split="holdout")
    return torch.stack([photos[photos.index(k)][0] for k in keys])


def style_grid(net: torch.nn.Module, photos: torch.Tensor, names: list[str]) -> torch.Tensor:
    """Rows of (photo, its stylization in ``BLOCK`` styles), the styles in blocks of ``BLOCK``."""
    tiles = []
    for first in range(0, len(names), BLOCK):
        block = names[first : first + BLOCK]
        for x in photos.split(1):
            tiles.append(label(x[0], "held-out photo"))
            for s in block:
                tiles.append(label(stylize(net, x, s)[0], s[:21]))  # type: ignore[index]
            tiles += [torch.ones_like(tiles[-1])] * (BLOCK - len(block))
    return make_grid(torch.stack(tiles), nrow=BLOCK + 1)


def main() -> None:
    ap = example_parser(__doc__, "docs/img/fast-style")
    ap.add_argument(
        "--cache",
        default=None,
        help="folder to keep / reuse the optimization-based result and its time (it does not "
        "depend on the network, and takes minutes)",
    )
    ap.add_argument("--only-optimization", action="store_true", help="compute the cache only")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    size = 96 if args.quick else 256
    content = held_out(GRID_PHOTOS[:1], size)
    net = load_shipped_model()
    names = list(net.style_names)
    meta = read_style_metadata(shipped_model_path())
    specs = training_styles(meta)
    if args.only_optimization:
        sty = specs["starry_night"].load()
        _, how, secs = cached_optimization(
            content, sty, 20 if args.quick else 300, args.cache, size
        )
        print(f"optimization ({how}): {secs:.1f} s")
        return

    # 1. every style on held-out photos
    photos = held_out(GRID_PHOTOS[: 1 if args.quick else 3], 128 if not args.quick else size)
    t0 = time.perf_counter()
    grid = style_grid(net, photos, names)
    per_image = (time.perf_counter() - t0) / (len(photos) * len(names))
    save_small(grid, out / "styles.png", 1200, 128)
    print(
        f"styles.png: {len(photos)} held-out photos x {len(names)} styles at {photos.shape[-1]} "
        f"px, {per_image * 1000:.0f} ms per image"
    )

    # 2. colour preservation (luminance-only transfer)
    x = held_out(["windmills/categorization-windmill3"], size)
    row = [label(x[0], "held-out photo")]
    for s in ("starry_night", "great_wave"):
        row.append(label(stylize(net, x, s)[0], s))  # type: ignore[index]
        row.append(label(stylize(net, x, s, preserve_color=True)[0], s + ", colours kept"))  # type: ignore[index]
    save_small(make_grid(torch.stack(row), nrow=len(row)), out / "preserve-color.png")

    # 3. held-out style loss: stylized vs the unstylized photo
    keys = photo_set(split="holdout").keys[: 2 if args.quick else 6]
    held = held_out(keys, 128 if args.quick else size)
    res = evaluate_style(net, held, specs)
    print(
        f"held-out style loss at {held.shape[-1]} px (style weight 100), mean over {len(keys)} "
        "photos of photo_set(split='holdout')"
    )
    for i, s in enumerate(names):
        print(
            f"  {s:>24}: stylized {float(res['stylized'][i].mean()):6.1f}   unstylized "
            f"{float(res['content'][i].mean()):6.1f}"
        )
    print(f"  mean: stylized {res['stylized'].mean():.2f}, unstylized {res['content'].mean():.2f}")

    # 4. feed-forward vs optimization for the same content, style and size
    steps = 20 if args.quick else 300
    style_img = specs["starry_night"].load()
    t = time.perf_counter()
    fast = stylize(net, content, "starry_night")
    t_fast = time.perf_counter() - t
    slow, how, t_slow = cached_optimization(content, style_img, steps, args.cache, size)
    from attribkit.models import efficientnet_lite0
    from attribkit.style.losses import PerceptualLoss
    from attribkit.style.train import default_layers

    bb = efficientnet_lite0()
    _, s_layers = default_layers(bb, [], None)
    pl = PerceptualLoss(bb, [], s_layers)  # the style term of evaluate_style (weight 100)
    pl.set_style(style_img)
    with torch.no_grad():
        l_slow, l_fast, l_content = (float(pl(y).style[0]) for y in (slow, fast, content))
    tiles = [
        label(content[0], f"content: style loss {l_content:.1f}"),
        label(fast[0], f"feed-forward, 1 pass: style loss {l_fast:.1f}"),  # type: ignore[index]
        label(slow[0], f"{steps} L-BFGS steps: style loss {l_slow:.1f}"),
    ]
    save_small(make_grid(torch.stack(tiles), nrow=3), out / "vs-optimization.png")
    print(
        f"vs-optimization.png ({how}, {GRID_PHOTOS[0]}): feed-forward {t_fast * 1000:.0f} ms, "
        f"style loss {l_fast:.2f}; optimization {steps} steps {t_slow:.1f} s, style loss "
        f"{l_slow:.2f}; unstylized {l_content:.2f}; time ratio x{t_slow / t_fast:.0f} (only "
        "meaningful when both ran now, not from --cache)"
    )


if __name__ == "__main__":
    main()

"""Fast style transfer with the shipped multi-style network: every style on several photos,
colour preservation, the held-out style loss, and a comparison with optimization-based transfer.

    .venv/bin/python examples/fast_style.py [--quick] [--out docs/img/fast-style]

Writes ``styles.png``, ``preserve-color.png`` and ``vs-optimization.png`` to OUT and prints
the held-out style losses and timings.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from attribkit.data import sample_image
from attribkit.io import save_image
from attribkit.recipes.script import example_parser, save_small
from attribkit.style import load_shipped_model, stylize
from attribkit.style.checkpoint import read_style_metadata, shipped_model_path
from attribkit.style.train import evaluate_style, training_styles
from attribkit.viz import label, make_grid

HELD_OUT = ("chelsea", "coffee")  # never seen in training
TRAIN_PHOTOS = ("grace_hopper", "china")


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
    size = 128 if args.quick else 256
    if args.only_optimization:
        cs = sample_image("chelsea", size=size)
        sty = sample_image("starry_night", size=256, crop=None)
        _, how, secs = cached_optimization(cs, sty, 20 if args.quick else 300, args.cache, size)
        print(f"optimization ({how}): {secs:.1f} s")
        return
    net = load_shipped_model()
    names = net.style_names
    photos = list(HELD_OUT + TRAIN_PHOTOS)[: 2 if args.quick else 4]

    # 1. every style on several photos
    tiles = []
    t0 = time.perf_counter()
    n_runs = 0
    for p in photos:
        x = sample_image(p, size=size)
        tiles.append(label(x[0], p + (" (held out)" if p in HELD_OUT else "")))
        for s in names:
            y = stylize(net, x, s)
            n_runs += 1
            tiles.append(label(y[0], s))  # type: ignore[index]
    per_image = (time.perf_counter() - t0) / n_runs
    save_small(make_grid(torch.stack(tiles), nrow=len(names) + 1), out / "styles.png", 760, 80)
    print(
        f"styles.png: {len(photos)} photos x {len(names)} styles at {size} px, "
        f"{per_image * 1000:.0f} ms per image"
    )

    # 2. colour preservation (luminance-only transfer)
    x = sample_image("coffee", size=size)
    row = [label(x[0], "content")]
    for s in names[:2]:
        row.append(label(stylize(net, x, s)[0], s))  # type: ignore[index]
        row.append(label(stylize(net, x, s, preserve_color=True)[0], s + ", colours kept"))  # type: ignore[index]
    save_small(make_grid(torch.stack(row), nrow=len(row)), out / "preserve-color.png")

    # 3. held-out style loss: stylized vs the unstylized photo
    meta = read_style_metadata(shipped_model_path())
    specs = training_styles(meta)
    held = torch.cat([sample_image(p, size=size) for p in HELD_OUT])
    res = evaluate_style(net, held, specs)
    print(f"held-out style loss at {size} px (style weight 100; rows: styles, cols: {HELD_OUT})")
    for i, s in enumerate(names):
        st = ", ".join(f"{v:.1f}" for v in res["stylized"][i].tolist())
        ct = ", ".join(f"{v:.1f}" for v in res["content"][i].tolist())
        print(f"  {s:>14}: stylized {st}   unstylized {ct}")
    print(f"  mean: stylized {res['stylized'].mean():.2f}, unstylized {res['content'].mean():.2f}")

    # 4. feed-forward vs optimization for the same content, style and size
    steps = 20 if args.quick else 300
    content = sample_image("chelsea", size=size)
    style_img = specs["starry_night"].load()
    t = time.perf_counter()
    fast = stylize(net, content, "starry_night")
    t_fast = time.perf_counter() - t
    slow, how, t_slow = cached_optimization(content, style_img, steps, args.cache, size)
    ev = evaluate_style(net, content, specs)
    from attribkit.models import efficientnet_lite0
    from attribkit.style.losses import PerceptualLoss
    from attribkit.style.train import default_layers

    bb = efficientnet_lite0()
    _, s_layers = default_layers(bb, [], None)
    pl = PerceptualLoss(bb, [], s_layers)
    pl.set_style(style_img)
    with torch.no_grad():
        l_slow = float(pl(slow).style[0])
    l_fast = float(ev["stylized"][names.index("starry_night"), 0])
    l_content = float(ev["content"][names.index("starry_night"), 0])
    tiles = [
        label(content[0], f"content: style loss {l_content:.1f}"),
        label(fast[0], f"feed-forward, 1 pass: style loss {l_fast:.1f}"),  # type: ignore[index]
        label(slow[0], f"{steps} L-BFGS steps: style loss {l_slow:.1f}"),
    ]
    save_small(make_grid(torch.stack(tiles), nrow=3), out / "vs-optimization.png")
    print(
        f"vs-optimization.png ({how}): feed-forward {t_fast * 1000:.0f} ms, style loss "
        f"{l_fast:.2f}; optimization {steps} steps {t_slow:.1f} s, style loss {l_slow:.2f}; "
        f"unstylized {l_content:.2f}; time ratio x{t_slow / t_fast:.0f} (only meaningful "
        "when both ran now, not from --cache)"
    )


if __name__ == "__main__":
    main()

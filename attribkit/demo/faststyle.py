"""Demo sections 15–16: fast style transfer with the shipped multi-style network, mixing, and
the arbitrary-style (AdaIN) network on held-out paintings."""

from __future__ import annotations

import time

import torch

from attribkit.demo import DemoContext
from attribkit.viz.report import Section

__all__ = ["run"]


def run(ctx: DemoContext, section: Section) -> None:
    from attribkit.style import load_shipped_model, stylize
    from attribkit.style.checkpoint import read_style_metadata, shipped_model_path
    from attribkit.style.train import evaluate_style, training_styles
    from attribkit.viz import label, make_grid

    section.intro = (
        "Johnson et al. (2016) train a feed-forward network to do in one pass what "
        "optimization-based style transfer does in hundreds: the network is trained with the "
        "same perceptual losses (content features + Gram matrices) over many content images. "
        "Dumoulin et al. (2017) put many styles in one network through conditional instance "
        "normalization — one (γ, β) per style in every normalization layer — so styles can be "
        "mixed at test time by mixing their (γ, β)."
    )
    t0 = time.perf_counter()
    net = load_shipped_model(device=ctx.device)
    meta = read_style_metadata(shipped_model_path())
    tr = meta["training"]
    names = net.style_names
    size = 192 if ctx.quick else 256
    photos = ["chelsea", "coffee"] if ctx.quick else ["chelsea", "coffee", "grace_hopper", "china"]
    tiles = []
    n = 0
    t_net = 0.0
    for p in ctx.progress(photos, "stylize"):
        x = ctx.photo(p, size)
        tiles.append(label(x[0].cpu(), p))
        for s in names:
            t = time.perf_counter()
            y = stylize(net, x, s)
            t_net += time.perf_counter() - t
            n += 1
            tiles.append(label(y[0].cpu(), s))  # type: ignore[index]
    section.add_figure(
        make_grid(torch.stack(tiles), nrow=len(names) + 1),
        f"The shipped MultiStyleNet (width {meta['arch']['width']}, "
        f"{meta['arch']['n_residual']} residual blocks; trained {tr['steps']} steps on "
        f"{tr['crop']} px crops of {str(tr['content']).split(':')[0]}) applied to "
        f"{len(photos)} photos it never saw, at {size} px, in each of its {len(names)} styles: "
        f"one forward pass each, {t_net / n * 1000:.0f} ms per image on {ctx.device}.",
        name="faststyle-styles",
    )

    # style mixing: Starry Night → The Scream
    x = ctx.photo("chelsea", size)
    ws = [1.0, 0.75, 0.5, 0.25, 0.0]
    a, b = names.index("starry_night"), names.index("scream")
    mixes = torch.zeros(len(ws), len(names))
    for i, w in enumerate(ws):
        mixes[i, a], mixes[i, b] = w, 1 - w
    t = time.perf_counter()
    strip = stylize(net, x.expand(len(ws), -1, -1, -1), mixes)
    t_mix = time.perf_counter() - t
    section.add_figure(
        make_grid(
            torch.stack([label(strip[i].cpu(), f"w={w:.2f}") for i, w in enumerate(ws)]),  # type: ignore[index]
            nrow=len(ws),
        ),
        f"Style mixing: weights (w, 1 − w) on (starry_night, scream), w = 1 → 0, one batch of "
        f"{len(ws)} at {size} px ({t_mix:.2f} s).",
        name="faststyle-mixing",
    )

    # held-out style loss: the network's output vs the photo itself
    t = time.perf_counter()
    held = torch.cat([ctx.photo(p, 128) for p in ("chelsea", "coffee")])
    res = evaluate_style(net, held, training_styles(meta), backbone=ctx.model)
    section.add_note(
        f"Style loss on held-out photos (chelsea, coffee at 128 px; {ctx.model_name}, style "
        f"layers {', '.join(tr['style_layers'])}, style weight 100): stylized "
        f"{float(res['stylized'].mean()):.2f} vs the unstylized photo "
        f"{float(res['content'].mean()):.2f}, averaged over the {len(names)} styles "
        f"({time.perf_counter() - t:.1f} s). Total section time "
        f"{time.perf_counter() - t0:.1f} s."
    )
    _arbitrary(ctx, section)


def _arbitrary(ctx: DemoContext, section: Section) -> None:
    """The shipped arbitrary-style (AdaIN) network on held-out photos × held-out paintings."""
    from attribkit.data import painting_set, photo_set
    from attribkit.style import load_shipped_model, stylize
    from attribkit.viz import label, make_grid

    net = load_shipped_model("arbitrary", device=ctx.device)
    size = 128 if ctx.quick else 192
    photos = photo_set(size=size, split="holdout")
    paintings = painting_set(size=size, split="holdout")
    n_photos, n_paintings = (2, 3) if ctx.quick else (3, 5)

    styles = [paintings[j][0] for j in range(n_paintings)]
    artists = [str(paintings.provenance[j].get("artist", "")) for j in range(n_paintings)]
    tiles = [torch.ones(3, size, size)]  # the corner above the photo column
    tiles += styles  # photo_set/painting_set(size=S) give S×S centre crops
    tiles = [label(t, a[:18]) for t, a in zip(tiles, ["held-out painting", *artists])]
    n, t_net = 0, 0.0
    for i in ctx.progress(list(range(n_photos)), "arbitrary style"):
        x = photos[i][0][None].to(ctx.device)
        tiles.append(label(x[0].cpu(), photos.keys[i].split("/")[-1][:18]))
        for s, a in zip(styles, artists):
            t = time.perf_counter()
            y = stylize(net, x, style=s[None].to(ctx.device))
            t_net += time.perf_counter() - t
            n += 1
            tiles.append(label(y[0].cpu(), a[:18]))  # type: ignore[index]
    section.add_figure(
        make_grid(torch.stack(tiles), nrow=n_paintings + 1),
        f"Any painting in one forward pass: the shipped AdaINStyleNet (Huang & Belongie 2017; "
        f"EfficientNet-Lite0 encoder to {net.layer}, trained decoder) on photos and paintings "
        f"it never saw (photo_set and painting_set, split='holdout'), {size} px: "
        f"{t_net / max(n, 1) * 1000:.0f} ms per stylization on {ctx.device}.",
        name="faststyle-arbitrary",
    )

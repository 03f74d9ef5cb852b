"""Arbitrary style transfer with the shipped AdaIN network: paintings it never saw.

    .venv/bin/python examples/arbitrary_style.py [--quick] [--out docs/img/arbitrary-style]
    .venv/bin/python examples/arbitrary_style.py --figures /tmp/arbitrary.json \
        [--gatys-pairs 4] [--gatys-steps 300]

Writes to OUT: ``grid.png`` (held-out photos × held-out paintings, first row the paintings),
``alpha.png`` (alpha 0 → 1) and ``blend.png`` (two paintings blended 0 → 1). With
``--figures``, measures on the held-out photos and paintings (each photo resized to a 256 px
shorter side and centre-cropped square, each painting to a 256 px shorter side): the Gram
style distance of the output to the painting and the content distance to the photo
(EfficientNet-Lite0, per-layer-normalized Gram loss over the Gatys style layers, normalized
feature loss at ``_blocks.4``: :class:`attribkit.style.PerceptualLoss` with weights 1), for
the AdaIN output, the unstylized photo, the painting itself and Gatys ``StyleTransfer`` (its
defaults, on the first ``--gatys-pairs`` pairs); and the time of one stylization at 256 and
512 px against the multi-style network's and Gatys's whole optimization (one thread,
interleaved, median of the repeats). Prints and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from attribkit import efficientnet_lite0
from attribkit.data import painting_set, photo_set
from attribkit.io import load_image
from attribkit.models.backbones import default_layers
from attribkit.recipes.script import save_small
from attribkit.style import PerceptualLoss, StyleTransfer, load_shipped_model, stylize
from attribkit.viz import make_grid


def square(path: Path, size: int) -> torch.Tensor:
    """A photo resized to a ``size`` shorter side and centre-cropped square."""
    x = load_image(path, size=size)
    h, w = x.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top : top + size, left : left + size].contiguous()


def held_out(n_photos: int | None, n_paintings: int | None, size: int):  # noqa: ANN201
    photos = photo_set(split="holdout").paths[:n_photos]
    paintings = painting_set(split="holdout").paths[:n_paintings]
    return (
        [(p.stem, square(p, size)) for p in photos],
        [(p.stem, load_image(p, size=size)) for p in paintings],
    )


def pictures(out: Path, quick: bool) -> None:
    net = load_shipped_model("arbitrary")
    size = 96 if quick else 192
    photos, paintings = held_out(2 if quick else 4, 2 if quick else 4, size)
    thumbs = [square_like(s, size) for _, s in paintings]
    tiles = [torch.ones(1, 3, size, size)] + thumbs
    for _, x in photos:
        tiles.append(x)
        tiles += [stylize(net, x, style=s) for _, s in paintings]
    out.mkdir(parents=True, exist_ok=True)
    save_small(make_grid(torch.cat(tiles), nrow=len(paintings) + 1), out / "grid.png")
    x, (_, s) = photos[0][1], paintings[0]
    alphas = [0.0, 0.25, 0.5, 0.75, 1.0]
    row = [stylize(net, x, style=s, alpha=a) for a in alphas] + [thumbs[0]]
    save_small(make_grid(torch.cat(row), nrow=len(row)), out / "alpha.png")
    s2 = paintings[1][1]
    row = [thumbs[0]] + [stylize(net, x, [1 - w, w], style=[s, s2]) for w in alphas]
    save_small(make_grid(torch.cat(row + [thumbs[1]]), nrow=len(row) + 1), out / "blend.png")
    print(json.dumps({"wrote": [str(out / n) for n in ("grid.png", "alpha.png", "blend.png")]}))


def square_like(s: torch.Tensor, size: int) -> torch.Tensor:
    h, w = s.shape[-2:]
    top, left = (h - min(h, w)) // 2, (w - min(h, w)) // 2
    c = s[..., top : top + min(h, w), left : left + min(h, w)]
    return F.interpolate(c, size=(size, size), mode="bilinear", antialias=True).clamp(0, 1)


def distances(loss: PerceptualLoss, x: torch.Tensor, s: torch.Tensor, y: torch.Tensor):  # noqa: ANN201
    with torch.no_grad():
        loss.set_content(x)
        loss.set_style(s)
        t = loss(y)
    return float(t.style), float(t.content)


def timed(f, repeats: int) -> float:  # noqa: ANN001
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def distance_rows(net: torch.nn.Module, loss: PerceptualLoss, quick: bool) -> dict[str, object]:
    """AdaIN output, photo and painting distances over every held-out photo × painting."""
    photos, paintings = held_out(2 if quick else None, 2 if quick else None, 256)
    rows = []
    for pname, x in photos:
        for sname, s in paintings:
            y = stylize(net, x, style=s)
            assert isinstance(y, torch.Tensor)
            paint = F.interpolate(s, size=x.shape[-2:], mode="bilinear", antialias=True)
            out_s, out_c = distances(loss, x, s, y)
            photo_s, _ = distances(loss, x, s, x)
            _, paint_c = distances(loss, x, s, paint.clamp(0, 1))
            rows.append(
                {
                    "photo": pname,
                    "painting": sname,
                    "style_out": out_s,
                    "style_photo": photo_s,
                    "content_out": out_c,
                    "content_painting": paint_c,
                }
            )
    keys = [k for k in rows[0] if k not in ("photo", "painting")]
    ratio = [float(r["style_out"]) / float(r["style_photo"]) for r in rows]  # type: ignore[arg-type]
    return {
        "pairs": len(rows),
        "photos": len(photos),
        "paintings": len(paintings),
        "median": {k: statistics.median(float(r[k]) for r in rows) for k in keys},  # type: ignore[arg-type]
        "style_ratio_median": statistics.median(ratio),
        "style_ratio_max": max(ratio),
        "pairs_at_most_half": sum(r <= 0.5 for r in ratio),
        "pairs_content_closer_to_photo": sum(
            float(r["content_out"]) < float(r["content_painting"])  # type: ignore[arg-type]
            for r in rows
        ),
        "rows": rows,
    }


def gatys_rows(loss: PerceptualLoss, pairs: int, steps: int | None) -> dict[str, object]:
    """Gatys ``StyleTransfer`` (defaults) on the first pairs (photo i × painting i; the AdaIN
    figures of the same pairs are in the ``distances`` rows)."""
    photos, paintings = held_out(pairs, None, 256)
    st = StyleTransfer(efficientnet_lite0())
    rows = []
    for i, (pname, x) in enumerate(photos):
        sname, s = paintings[i % len(paintings)]
        opts = {} if steps is None else {"steps": steps}
        t0 = time.perf_counter()
        g = st.transfer(x, s, show_progress=False, seed=0, **opts)
        seconds = time.perf_counter() - t0
        gs, gc = distances(loss, x, s, g)
        ps, _ = distances(loss, x, s, x)
        rows.append(
            {
                "photo": pname,
                "painting": sname,
                "seconds": seconds,
                "style_gatys": gs,
                "content_gatys": gc,
                "style_photo": ps,
            }
        )
    return {"steps": steps or StyleTransfer.default_steps, "rows": rows}


def speed(net: torch.nn.Module, repeats: int) -> dict[str, object]:
    """One stylization (content and style the same size), interleaved with the peer."""
    multi = load_shipped_model()
    out: dict[str, object] = {}
    for size in (256, 512):
        x = square(photo_set(split="holdout").paths[0], size)
        s = load_image(painting_set(split="holdout").paths[0], size=size)
        calls = {
            "adain": lambda x=x, s=s: stylize(net, x, style=s),
            "multistyle": lambda x=x: stylize(multi, x, 0),
        }
        for f in calls.values():
            f()
        times: dict[str, list[float]] = {k: [] for k in calls}
        for _ in range(repeats):
            for k, f in calls.items():
                times[k].append(timed(f, 1))
        out[str(size)] = {k: statistics.median(v) for k, v in times.items()}
    return {"median_s": out, "repeats": repeats}


def figures(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    net = load_shipped_model("arbitrary")
    backbone = efficientnet_lite0()
    loss = PerceptualLoss(
        backbone, ["_blocks.4"], default_layers(backbone, "style"), style_weight=1.0
    )
    path: Path = args.figures
    result = json.loads(path.read_text()) if path.is_file() else {}
    for part in args.parts:
        load = os.getloadavg()[0]
        if part == "distances":
            got = distance_rows(net, loss, args.quick)
        elif part == "gatys":
            got = gatys_rows(loss, args.gatys_pairs, args.gatys_steps)
        else:
            got = speed(net, args.repeats)
        got.update(load_before=round(load, 2), load_after=round(os.getloadavg()[0], 2))
        result[part] = got
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1))
        print(json.dumps({part: {k: v for k, v in got.items() if k != "rows"}}, indent=1))
        if part == "gatys":
            print(json.dumps(got["rows"], indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--quick", action="store_true", help="2 photos × 2 paintings (pictures at 96 px)"
    )
    p.add_argument("--out", type=Path, default=Path("docs/img/arbitrary-style"))
    p.add_argument("--figures", type=Path, help="measure and write the figures (JSON) here")
    p.add_argument(
        "--parts",
        nargs="+",
        choices=["distances", "gatys", "speed"],
        default=["distances", "gatys", "speed"],
    )
    p.add_argument("--gatys-pairs", type=int, default=4)
    p.add_argument("--gatys-steps", type=int, default=None, help="default: StyleTransfer's")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    if args.figures is not None:
        figures(args)
    else:
        pictures(args.out, args.quick)


if __name__ == "__main__":
    main()

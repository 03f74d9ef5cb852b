"""Commands ``texture``, ``efros-leung`` and ``style`` (optimization-based textures and style
transfer): options, then one synthesis call."""

from __future__ import annotations

import argparse
from typing import Any

from attribkit.cli.common import (
    IMAGE_OPTS,
    Command,
    images_arg,
    load_named,
    model_arg,
    out_path,
    written,
)

__all__ = ["COMMANDS"]


def _texture_source(args: argparse.Namespace) -> tuple[str, Any]:
    from attribkit.recipes.texture import center_square

    name, tex = load_named(args, args.texture, None, None)
    return name, center_square(tex, args.source_size)


def _run_texture(args: argparse.Namespace) -> int:
    from attribkit.io import save_image
    from attribkit.style import TextureSynthesis

    model, model_name = model_arg(args)
    name, tex = _texture_source(args)
    layers = args.layers.split(",") if args.layers else None
    out = TextureSynthesis(model, layers).synthesize(
        tex, args.size, steps=args.steps, seed=args.seed, show_progress=args.progress
    )
    path = save_image(out, out_path(args, f"texture-{name}.png"))
    print(f"{name}: Gram synthesis on {model_name}, {args.size} px")
    written(path)
    return 0


def _run_efros_leung(args: argparse.Namespace) -> int:
    from attribkit.io import save_image
    from attribkit.style import efros_leung

    name, sample = _texture_source(args)
    out = efros_leung(
        sample, args.size, window=args.window, seed=args.seed, show_progress=args.progress
    )
    path = save_image(out, out_path(args, f"efros-leung-{name}.png"))
    written(path)
    return 0


def _run_style(args: argparse.Namespace) -> int:
    from attribkit.io import save_image
    from attribkit.style import StyleTransfer

    model, model_name = model_arg(args)
    content_name, content = images_arg(args)[0]
    styles = [load_named(args, item, args.size, None, "--style ")[1] for item in args.style]
    out = StyleTransfer(model).transfer(
        content,
        styles,
        style_weight=args.style_weight,
        style_scale=args.style_scale,
        steps=args.steps,
        optimizer=args.optimizer,
        preserve_color=args.preserve_color,
        seed=args.seed,
        show_progress=args.progress,
    )
    path = save_image(out, out_path(args, f"style-{content_name}.png"))
    print(f"{content_name} in the style of {', '.join(args.style)} ({model_name})")
    written(path)
    return 0


def _texture_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("texture", help="texture image file or bundled name (gravel, starry_night…)")
    p.add_argument("--layers", help="comma-separated layers (default: the model's style set)")
    p.add_argument("--source-size", type=int, default=128, help="side of the source crop")


def _efros_leung_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("texture", help="sample image file or bundled name (gravel, brick…)")
    p.add_argument("--window", type=int, default=11, help="neighbourhood window (odd)")
    p.add_argument("--source-size", type=int, default=64, help="side of the sample crop")


def _style_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--style", nargs="+", default=["starry_night"], help="style image(s)")
    p.add_argument("--style-weight", type=float, default=100.0)
    p.add_argument("--style-scale", type=float, default=1.0)
    p.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    p.add_argument(
        "--preserve-color",
        choices=["luminance", "histogram", "linear"],
        default=None,
        help="keep the content's colours",
    )


COMMANDS: list[Command] = [
    Command(
        "texture",
        "neural texture synthesis by Gram-matrix matching",
        "attribkit texture starry_night --size 128\nattribkit texture gravel --steps 300",
        ("model", "steps", "size", "seed", "out", "device", "no-progress"),
        _run_texture,
        _texture_arguments,
    ),
    Command(
        "efros-leung",
        "non-parametric texture synthesis, pixel by pixel (Efros & Leung 1999)",
        "attribkit efros-leung gravel --size 64 --window 11",
        ("size", "seed", "out", "device", "no-progress"),
        _run_efros_leung,
        _efros_leung_arguments,
    ),
    Command(
        "style",
        "neural style transfer (content + Gram style losses)",
        "attribkit style chelsea --style starry_night\n"
        "attribkit style my.jpg --style scream starry_night --preserve-color luminance",
        (*IMAGE_OPTS, "steps"),
        _run_style,
        _style_arguments,
    ),
]

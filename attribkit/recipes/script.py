"""What the scripts in ``examples/`` share: the ``--quick``/``--out`` options, small docs
PNGs, and running one recipe into a folder."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

import torch

from attribkit.recipes.context import Pictures, RecipeContext

__all__ = ["example_parser", "save_small", "run_example"]


def example_parser(
    doc: str | None, default_out: str, *, quick_help: str = "small, fast settings (CI)"
) -> argparse.ArgumentParser:
    """An argument parser with the examples' ``--quick`` and ``--out`` options.

    Args:
        doc: the script's docstring (shown by ``--help``).
        default_out: the folder for the pictures (the docs' image folder).
        quick_help: what ``--quick`` changes.

    Examples:
        >>> args = example_parser("demo", "docs/img/x").parse_args(["--quick"])
        >>> args.quick, args.out
        (True, 'docs/img/x')
    """
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--out", default=default_out, help="folder for the pictures")
    return parser


def save_small(
    image: torch.Tensor, path: str | Path, max_side: int = 1000, colors: int = 256
) -> Path:
    """Save a docs PNG small: at most ``max_side`` px and a ``colors``-colour palette.

    Examples:
        >>> import tempfile
        >>> p = save_small(torch.rand(3, 8, 8), Path(tempfile.mkdtemp()) / "x.png")
        >>> p.stat().st_size > 0
        True
    """
    from PIL import Image

    from attribkit.io import to_pil

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pil = to_pil(image)
    if max(pil.size) > max_side:
        s = max_side / max(pil.size)
        pil = pil.resize((round(pil.width * s), round(pil.height * s)), Image.Resampling.LANCZOS)
    pil.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(
        out, optimize=True
    )
    return out


def run_example(
    name: str,
    doc: str | None,
    default_out: str,
    *,
    files: Mapping[str, str] | None = None,
    argv: list[str] | None = None,
) -> Pictures:
    """Parse ``--quick``/``--out``, run recipe ``name`` on the bundled model, save its pictures.

    Args:
        name: a recipe of :data:`attribkit.recipes.RECIPES`.
        doc: the script's docstring.
        default_out: the default ``--out``.
        files: file names (without ``.png``) for some pictures, by picture name.
        argv: the arguments (default: the command line).

    Returns:
        The recipe's pictures (captions and notes are printed).
    """
    from attribkit.recipes import recipe

    args = example_parser(doc, default_out).parse_args(argv)
    pictures: Pictures = recipe(name).run(RecipeContext.default(quick=args.quick))
    files = files or {}
    for pic in pictures.pictures:
        path = save_small(pic.image, Path(args.out) / f"{files.get(pic.name, pic.name)}.png")
        print(f"wrote {path}: {pic.caption}")
    for text in pictures.notes:
        print(text)
    return pictures

"""What every command shares: the :class:`Command` record, the common options, and turning
them into a device, a model, images and a target. Bad arguments raise :class:`UsageError`."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "UsageError",
    "Command",
    "IMAGE_OPTS",
    "add_common",
    "check_numbers",
    "device_arg",
    "model_arg",
    "load_named",
    "images_arg",
    "target_arg",
    "class_arg",
    "out_path",
    "written",
]


class UsageError(Exception):
    """A problem with the command line (exit code 2)."""


@dataclass(frozen=True)
class Command:
    """One sub-command: its options and what it runs."""

    name: str
    help: str
    examples: str
    options: tuple[str, ...]
    run: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None


#: The options of a command that works on images.
IMAGE_OPTS = ("model", "target", "size", "seed", "out", "device", "no-progress", "images")


def device_arg(args: argparse.Namespace) -> Any:
    """``--device`` as a ``torch.device`` (CUDA only when there is one)."""
    import torch

    try:
        dev = torch.device(args.device)
    except RuntimeError as err:
        raise UsageError(f"--device {args.device!r} is not a device: {err}") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for but no CUDA device is available")
    return dev


def model_arg(args: argparse.Namespace) -> tuple[Any, str]:
    """``--model`` loaded on ``--device``, and its display name."""
    from attribkit.models.registry import load_model

    try:
        model, name = load_model(args.model)
    except (ValueError, FileNotFoundError, TypeError) as err:
        raise UsageError(str(err)) from err
    return model.to(device_arg(args)), name


def load_named(
    args: argparse.Namespace, item: str, size: int | None, crop: int | None, what: str = ""
) -> tuple[str, Any]:
    """An image file or a bundled sample by name, as ``(name, 1×3×H×W tensor on --device)``."""
    from attribkit.data import sample_image, sample_names
    from attribkit.io import load_image

    path = Path(item)
    if path.is_file():
        name, x = path.stem, load_image(path, size=size, crop=crop)
    elif item in sample_names():
        name, x = item, sample_image(item, size=size)
    else:
        raise UsageError(
            f"{what}{item!r} is neither an image file nor a bundled sample "
            f"({', '.join(sample_names())})"
        )
    return name, x.to(device_arg(args))


def images_arg(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """``args.images``: paths or bundled sample names, loaded as square crops of ``--size``."""
    return [load_named(args, item, args.size, args.size) for item in args.images or ["chelsea"]]


def class_arg(value: str | int) -> int:
    """A class index or ImageNet class name as an index."""
    from attribkit.models.imagenet import class_index

    try:
        return class_index(value)
    except ValueError as err:
        raise UsageError(f"--target: {err}") from err


def target_arg(args: argparse.Namespace, model: Any, image: Any) -> tuple[int, str]:
    """``--target`` as an index, or the model's top class when it is not given."""
    from attribkit.models.imagenet import imagenet_classes, predict

    if args.target is None:
        top = predict(model, image, topk=1)[0][0]
        return top.index, top.name
    idx = class_arg(args.target)
    return idx, imagenet_classes()[idx]


def out_path(args: argparse.Namespace, name: str) -> Path:
    """``--out``/``name`` (the folder is created)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return out / name


def written(path: Path) -> None:
    """Tell the user where a file went."""
    print(f"wrote {path}")


def add_common(p: argparse.ArgumentParser, options: Sequence[str], default_size: int) -> None:
    """Add the shared options a command lists."""
    from attribkit.models.registry import MODEL_HELP

    if "images" in options:
        p.add_argument(
            "images",
            nargs="*",
            metavar="IMAGE",
            help="image files or bundled sample names (default: chelsea)",
        )
    if "model" in options:
        p.add_argument("--model", default=None, help=MODEL_HELP)
    if "layer" in options:
        p.add_argument("--layer", help="dotted layer name, e.g. _blocks.10 or relu4_1")
    if "target" in options:
        p.add_argument("--target", help="class index or ImageNet class name (default: top class)")
    if "steps" in options:
        p.add_argument("--steps", type=int, help="optimization steps")
    if "size" in options:
        p.add_argument("--size", type=int, default=default_size, help="image size in pixels")
    if "seed" in options:
        p.add_argument("--seed", type=int, default=0, help="random seed")
    if "out" in options:
        p.add_argument("--out", default="attribkit-out", help="output folder")
    if "device" in options:
        p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, …")
    if "no-progress" in options:
        bars = p.add_mutually_exclusive_group()
        bars.add_argument(
            "--progress",
            dest="progress",
            action="store_const",
            const=True,
            default=None,
            help="always draw progress bars (default: only on a terminal)",
        )
        bars.add_argument(
            "--no-progress",
            dest="progress",
            action="store_const",
            const=False,
            help="hide progress bars",
        )


#: Options that must be positive integers when given.
POSITIVE = ("size", "steps", "window", "stride", "k", "crops", "rows", "octaves", "source_size")


def check_numbers(args: argparse.Namespace) -> None:
    """Refuse non-positive sizes and counts before anything runs."""
    for name in POSITIVE:
        value = getattr(args, name, None)
        if value is not None and value <= 0:
            raise UsageError(f"--{name} must be a positive integer, got {value}")

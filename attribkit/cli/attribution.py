"""Commands ``saliency``, ``occlusion``, ``guided``, ``gradcam`` and ``grabcut``: options, then
one call of the technique's recipe per image."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from attribkit.cli.common import (
    IMAGE_OPTS,
    Command,
    images_arg,
    model_arg,
    out_path,
    target_arg,
    written,
)

__all__ = ["COMMANDS"]


def _picture(
    kind: str, args: argparse.Namespace, model: Any, x: Any, target: int, title: str
) -> Any:
    from attribkit.recipes import gradcam, guided, occlusion, saliency

    if kind == "saliency":
        return saliency.saliency_row(model, x, target, panels=("input", "saliency"))[0]
    if kind == "grabcut":
        return saliency.saliency_row(model, x, target, panels=("input", "GrabCut"))[0]
    if kind == "occlusion":
        window, stride = occlusion.default_window(x.shape[-1])
        window = args.window or window
        stride = args.stride or max(1, window // 2)
        return occlusion.occlusion_figure(
            model, x, target, window, stride, title=title, show_progress=args.progress
        )[0]
    if kind == "gradcam":
        return gradcam.gradcam_overlay(model, x, target, args.layer, title=title)
    from attribkit.viz.grid import label, make_grid

    if args.layer:
        channel = target if args.target is not None else None
        g = guided.guided_channel(model, x, args.layer, channel, approximate=args.approximate)[0]
    else:
        g = guided.guided_class(model, x, target, approximate=args.approximate)
    return make_grid([label(x[0], "input"), label(g, "guided")])


def _command(kind: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from attribkit.io import save_image

        model, model_name = model_arg(args)
        for name, x in images_arg(args):
            target, cls = target_arg(args, model, x)
            title = f"{model_name}: class {target} ({cls})"
            pic = _picture(kind, args, model, x, target, title)
            path = save_image(pic, out_path(args, f"{kind}-{name}.png"))
            print(f"{name}: {title}")
            written(path)
        return 0

    return run


def _occlusion_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--window", type=int, help="occluding patch size in pixels (default size/14)")
    p.add_argument("--stride", type=int, help="patch stride in pixels (default window / 2)")


def _guided_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--approximate",
        action="store_true",
        help="let gradients through activations with no guided rule (SiLU, GELU, …)",
    )


COMMANDS: list[Command] = [
    Command(
        "saliency",
        "saliency map: |gradient| of the class score, max over channels",
        "attribkit saliency chelsea coffee\nattribkit saliency my.jpg --target 'tabby'",
        IMAGE_OPTS,
        _command("saliency"),
    ),
    Command(
        "occlusion",
        "occlusion map: drop in class probability under a sliding mean-pixel patch",
        "attribkit occlusion chelsea --window 16 --stride 8",
        IMAGE_OPTS,
        _command("occlusion"),
        _occlusion_arguments,
    ),
    Command(
        "guided",
        "guided backprop for a class, or for a layer's channel with --layer",
        "attribkit guided chelsea\nattribkit guided chelsea --layer _blocks.10 --target 7",
        (*IMAGE_OPTS, "layer"),
        _command("guided"),
        _guided_arguments,
    ),
    Command(
        "gradcam",
        "Grad-CAM heat map (last conv layer unless --layer)",
        "attribkit gradcam coffee --layer _conv_head",
        (*IMAGE_OPTS, "layer"),
        _command("gradcam"),
    ),
    Command(
        "grabcut",
        "foreground segmentation by GrabCut seeded from the saliency map",
        "attribkit grabcut chelsea",
        IMAGE_OPTS,
        _command("grabcut"),
    ),
]

"""Commands ``classvis``, ``dream``, ``fool`` and ``invert``: options, then one synthesis call
with the recipe's settings."""

from __future__ import annotations

import argparse

from attribkit.cli.common import (
    IMAGE_OPTS,
    Command,
    class_arg,
    images_arg,
    model_arg,
    out_path,
    written,
)

__all__ = ["COMMANDS"]


def _run_classvis(args: argparse.Namespace) -> int:
    from attribkit.optvis import ClassVisualization, NeuronVisualization
    from attribkit.recipes.classvis import CLASSES

    model, model_name = model_arg(args)
    options = {
        "steps": args.steps,
        "size": args.size,
        "seed": args.seed,
        "show_progress": args.progress,
    }
    if args.layer:
        channel = int(args.target or 0)
        res = NeuronVisualization(model, args.layer).run(channel, args.preset, **options)
        label = f"{args.layer}-ch{channel}"
    else:
        target = class_arg(args.target if args.target is not None else CLASSES[0])
        res = ClassVisualization(model).run(target, args.preset, **options)
        label = f"class{target}"
        prob = float(res.extras["probs"][0])
        print(f"{model_name}: class {target}, probability reached {prob:.3f}")
    path = out_path(args, f"classvis-{label}-{args.preset}.png")
    res.save(path)
    written(path)
    return 0


def _run_dream(args: argparse.Namespace) -> int:
    from attribkit.io import save_image
    from attribkit.models import default_layers
    from attribkit.optvis import DeepDream
    from attribkit.recipes.dream import OPTIONS

    model, _ = model_arg(args)
    layer = args.layer or default_layers(model, "dream")[0]
    for name, x in images_arg(args):
        out = DeepDream(model, layer).dream(
            x,
            octaves=args.octaves,
            steps=args.steps,
            seed=args.seed,
            show_progress=args.progress,
            **OPTIONS,  # type: ignore[arg-type]
        )
        path = save_image(out, out_path(args, f"dream-{name}-{layer.replace('.', '_')}.png"))
        written(path)
    return 0


def _run_fool(args: argparse.Namespace) -> int:
    from attribkit.adversarial import FoolingImage, fooling_figure
    from attribkit.io import save_image
    from attribkit.recipes.fool import OPTIONS

    model, _ = model_arg(args)
    target = class_arg(args.target) if args.target is not None else None
    options = {**OPTIONS, **({} if args.epsilon is None else {"epsilon": args.epsilon})}
    for name, x in images_arg(args):
        res = FoolingImage(model).run(
            x,
            target,
            steps=args.steps,
            seed=args.seed,
            show_progress=args.progress,
            **options,  # type: ignore[arg-type]
        )
        path = save_image(fooling_figure(x, res.images), out_path(args, f"fool-{name}.png"))
        print(f"{name}: {res.extras['report'].summary()}")
        written(path)
    return 0


def _run_invert(args: argparse.Namespace) -> int:
    from attribkit.optvis import inversion_sweep

    model, model_name = model_arg(args)
    layers = [x for x in args.layers.split(",") if x] if args.layers else None
    for name, x in images_arg(args):
        sweep = inversion_sweep(
            model, x, layers, steps=args.steps, seed=args.seed, show_progress=args.progress
        )
        path = out_path(args, f"invert-{name}.png")
        sweep.save(path)
        psnrs = ", ".join(f"{n} {p:.1f} dB" for n, p in zip(sweep.layers, sweep.psnr))
        print(f"{name}: {model_name}, PSNR by layer: {psnrs}")
        written(path)
    return 0


def _classvis_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="yosinski", help="simonyan, yosinski or lucent")


def _dream_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--octaves", type=int, default=4)


def _fool_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epsilon", type=float, default=None, help="L∞ budget (default 8/255)")


def _invert_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--layers", help="comma-separated layers, shallow to deep")


COMMANDS: list[Command] = [
    Command(
        "classvis",
        "class (or, with --layer, channel) visualization by gradient ascent",
        "attribkit classvis --target 'Granny Smith' --preset yosinski\n"
        "attribkit classvis --layer _blocks.10 --target 7 --preset lucent",
        ("model", "layer", "target", "steps", "size", "seed", "out", "device", "no-progress"),
        _run_classvis,
        _classvis_arguments,
    ),
    Command(
        "dream",
        "DeepDream: amplify what a layer sees, over octaves",
        "attribkit dream grace_hopper --layer _blocks.10",
        (*IMAGE_OPTS, "layer", "steps"),
        _run_dream,
        _dream_arguments,
    ),
    Command(
        "fool",
        "fooling image: change an image until it is classified as --target",
        "attribkit fool chelsea --target 'Granny Smith'",
        (*IMAGE_OPTS, "steps"),
        _run_fool,
        _fool_arguments,
    ),
    Command(
        "invert",
        "feature inversion from shallow to deep layers, with PSNR per layer",
        "attribkit invert chelsea --steps 200\n"
        "attribkit invert coffee --layers _blocks.2,_blocks.10",
        (*IMAGE_OPTS, "steps"),
        _run_invert,
        _invert_arguments,
    ),
]

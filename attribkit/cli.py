"""The ``attribkit`` command: ``attribkit demo`` and one command per technique.

Every command takes the same options where they apply (``--model``, ``--layer``, ``--target``
given as an index or an ImageNet class name, ``--steps``, ``--size``, ``--seed``, ``--out``,
``--device``, ``--no-progress``), writes PNGs, and prints where. Bad arguments get a message
and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser", "COMMANDS", "Command"]


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


# ----------------------------------------------------------------------------- shared helpers


def _device(args: argparse.Namespace) -> Any:
    import torch

    try:
        dev = torch.device(args.device)
    except RuntimeError as err:
        raise UsageError(f"--device {args.device!r} is not a device: {err}") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for but no CUDA device is available")
    return dev


def _model(args: argparse.Namespace) -> tuple[Any, str]:
    from attribkit.models.registry import load_model

    try:
        model, name = load_model(args.model)
    except (ValueError, FileNotFoundError, TypeError) as err:
        raise UsageError(str(err)) from err
    return model.to(_device(args)), name


def _load_named(
    args: argparse.Namespace, item: str, size: int | None, crop: int | None, what: str
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
    return name, x.to(_device(args))


def _images(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """``args.images``: paths or bundled sample names, loaded as square crops of ``--size``."""
    return [
        _load_named(args, item, args.size, args.size, "") for item in args.images or ["chelsea"]
    ]


def _target(args: argparse.Namespace, model: Any, image: Any) -> tuple[int, str]:
    """``--target`` as an index, or the model's top class when it is not given."""
    from attribkit.models.imagenet import class_index, imagenet_classes, predict

    if args.target is None:
        top = predict(model, image, topk=1)[0][0]
        return top.index, top.name
    try:
        idx = class_index(args.target)
    except ValueError as err:
        raise UsageError(f"--target: {err}") from err
    return idx, imagenet_classes()[idx]


def _out(args: argparse.Namespace, name: str) -> Path:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return out / name


def _written(path: Path) -> None:
    print(f"wrote {path}")


# ----------------------------------------------------------------------------- commands


def _run_demo(args: argparse.Namespace) -> int:
    from attribkit.demo import run_demo, section_keys

    keys = section_keys()
    if args.only:
        unknown = [k for k in args.only if k not in keys]
        if unknown:
            raise UsageError(f"--only: unknown section(s) {unknown}; choose from {keys}")
    model, name = _model(args)
    report = run_demo(
        args.out,
        quick=args.quick,
        only=args.only,
        model=model,
        model_name=name,
        seed=args.seed,
        device=_device(args),
        show_progress=args.progress,
    )
    print(f"wrote {Path(args.out) / 'index.html'}")
    for sec in report.failed:
        first = (sec.error or "").splitlines()[0]
        print(f"section {sec.key} failed: {first}", file=sys.stderr)
    return 1 if report.failed else 0


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small step counts (minutes on a CPU)")
    p.add_argument("--only", nargs="+", metavar="SECTION", help="run only these sections")


def _attribution_command(kind: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        import torch

        from attribkit import attr
        from attribkit.io import save_image
        from attribkit.viz.grid import gradient_image, label, make_grid, normalize_each
        from attribkit.viz.overlay import attribution_figure, heatmap_overlay

        model, model_name = _model(args)
        for name, x in _images(args):
            target, cls = _target(args, model, x)
            title = f"{model_name}: class {target} ({cls})"
            if kind == "saliency":
                sal = attr.saliency_map(model, x, target)
                pic = make_grid([label(x[0], "input"), label(normalize_each(sal)[0], "saliency")])
            elif kind == "occlusion":
                window = args.window or max(4, x.shape[-1] // 14)
                stride = args.stride or max(1, window // 2)
                occ = attr.Occlusion(model).attribute(
                    x,
                    window,
                    strides=stride,
                    target=target,
                    baselines="mean",
                    probability=True,
                    show_progress=args.progress,
                )
                pic = attribution_figure(
                    x,
                    {"probability drop": occ[:, :1]},
                    title=title,
                    sign="positive",
                    cmap="jet",
                    alpha=0.45,
                )
            elif kind == "guided":
                if args.layer:
                    net = attr.LayerChannels(model, args.layer)
                    g = attr.GuidedBackprop(net, approximate=args.approximate).attribute(
                        x, target=target if args.target is not None else int(net(x)[0].argmax())
                    )
                else:
                    g = attr.GuidedBackprop(model, approximate=args.approximate).attribute(
                        x, target=target
                    )
                pic = make_grid([label(x[0], "input"), label(gradient_image(g)[0], "guided")])
            elif kind == "gradcam":
                cam = attr.gradcam_map(model, x, target, layer=args.layer)
                pic = heatmap_overlay(x, cam, sign="positive", title=title, cmap="jet", alpha=0.45)
            else:  # grabcut
                sal = attr.saliency_map(model, x, target)
                mask = attr.saliency_grabcut(x, sal)
                cut = x * mask.to(x.dtype)
                pic = make_grid([label(x[0], "input"), label(cut[0], "GrabCut foreground")])
            assert isinstance(pic, torch.Tensor)
            path = save_image(pic, _out(args, f"{kind}-{name}.png"))
            print(f"{name}: {title}")
            _written(path)
        return 0

    return run


def _occlusion_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--window", type=int, help="occluding patch size in pixels")
    p.add_argument("--stride", type=int, help="patch stride in pixels (default window / 2)")


def _guided_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--approximate",
        action="store_true",
        help="let gradients through activations with no guided rule (SiLU, GELU, …)",
    )


def _photo_crops(args: argparse.Namespace, per_image: int, size: int) -> Any:
    """Random crops of the bundled photos, or a (per-rank) DataLoader over ``--data``."""
    from attribkit.data import sample_image, sample_names
    from attribkit.layers import random_crops
    from attribkit.layers.distributed import image_folder_loader

    if getattr(args, "data", None):
        folder = Path(args.data)
        if not folder.is_dir():
            raise UsageError(f"--data {folder} is not a folder")
        try:
            return image_folder_loader(
                folder,
                size,
                batch_size=16,
                workers=getattr(args, "workers", 0) or 0,
                crops_per_image=per_image,
                seed=args.seed,
            )
        except ValueError as err:
            raise UsageError(f"--data: {err}") from err
    photos = [sample_image(n, size=256) for n in sample_names("photos")]
    crops, _ = random_crops(photos, per_image, size, seed=args.seed)
    return crops.to(_device(args))


def _run_filters(args: argparse.Namespace) -> int:
    from attribkit.layers import filter_grid

    model, _ = _model(args)
    path = _out(args, f"filters-{(args.layer or 'first').replace('.', '_')}.png")
    filter_grid(model, args.layer, path=path)
    _written(path)
    return 0


def _run_activations(args: argparse.Namespace) -> int:
    from attribkit.layers import activation_grid

    model, _ = _model(args)
    layer = args.layer or "_blocks.2"
    for name, x in _images(args):
        grid = activation_grid(model, layer, x)
        path = _out(args, f"activations-{name}-{layer.replace('.', '_')}.png")
        grid.save(path)
        print(f"{name}: layer {layer}, most active channel {grid.most_active}")
        _written(path)
    return 0


def _run_patches(args: argparse.Namespace) -> int:
    from attribkit.layers import MaxActivatingPatches
    from attribkit.layers.distributed import (
        atomic_path,
        process_group_from_env,
        quiet_unless_main,
        rank_device,
    )

    # under torchrun every rank scans its shard; rank 0 merges exactly and writes
    with process_group_from_env(args.device), quiet_unless_main() as main:
        model, _ = _model(args)
        model = model.to(rank_device(_device(args)))
        layer = args.layer or "_blocks.4"
        data = _photo_crops(args, args.crops, 128)
        mp = MaxActivatingPatches(
            model, layer, k=args.k, show_progress=args.progress if main else False
        )
        mp.scan(data)
        if not main:
            return 0
        images = getattr(data, "dataset", data)
        path = _out(args, f"patches-{layer.replace('.', '_')}.png")
        with atomic_path(path) as tmp:
            mp.grid(images, mp.top_channels(args.rows), size=64, path=tmp)
        rf = mp.receptive_field().size
        print(f"layer {layer}: {mp.n_images} crops scanned, receptive field {rf}")
        _written(path)
    return 0


def _digits(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from attribkit.models import load_digits_tensors, train_digits_cnn

    model, acc = train_digits_cnn(seed=args.seed)
    x, y = load_digits_tensors()
    print(f"digits CNN trained (held-out accuracy {acc:.1%})")
    return model, x, y


def _run_neighbors(args: argparse.Namespace) -> int:
    import torch

    from attribkit.embed import FeatureBank, nearest_pixels, neighbor_grid
    from attribkit.layers.distributed import (
        atomic_path,
        gather_images,
        process_group_from_env,
        quiet_unless_main,
        rank_device,
    )

    # under torchrun every rank extracts its shard; the bank is gathered, rank 0 writes
    with process_group_from_env(args.device), quiet_unless_main() as main:
        if args.model is None and not getattr(args, "data", None):
            model, x, y = _digits(args)
            bank = FeatureBank.from_model(model, x, "flatten", pool=None, show_progress=False)
            queries = torch.tensor([int(torch.nonzero(y == c)[0]) for c in range(10)])
        else:
            model, _ = _model(args)
            model = model.to(rank_device(_device(args)))
            data = _photo_crops(args, args.crops, 128)
            bank = FeatureBank.from_model(
                model,
                data,
                args.layer or "_bn1",
                pool="avg",
                show_progress=args.progress if main else False,
            )
            x = data if isinstance(data, torch.Tensor) else gather_images(data)
            queries = torch.arange(0, len(x), max(1, len(x) // 8))[:8]
        if not main:
            return 0
        nf = bank.nearest(queries, args.k, metric="cosine")
        npix = nearest_pixels(x, queries, args.k)
        path = _out(args, "neighbors.png")
        with atomic_path(path) as tmp:
            neighbor_grid(x[queries], x, [nf, npix], size=48, path=tmp)
        print("rows: query, then its nearest neighbours in feature space / in pixel space")
        _written(path)
    return 0


def _run_tsne(args: argparse.Namespace) -> int:
    from attribkit.embed import embed, grid_layout, scatter_thumbnails
    from attribkit.layers import extract_features

    model, x, _ = _digits(args)
    feats = extract_features(model, x, "flatten", show_progress=args.progress)
    assert not isinstance(feats, dict)
    coords = embed(feats, args.method, seed=args.seed)
    side = int(len(x) ** 0.5)
    n = side * side
    path = _out(args, f"{args.method}-grid.png")
    grid_layout(x[:n], coords[:n], side, side, thumb=16, path=path)
    _written(path)
    path = _out(args, f"{args.method}-scatter.png")
    scatter_thumbnails(x, coords, canvas=1024, thumb=16, path=path)
    _written(path)
    return 0


def _run_classvis(args: argparse.Namespace) -> int:
    from attribkit.optvis import ClassVisualization, NeuronVisualization

    model, model_name = _model(args)
    if args.layer:
        channel = int(args.target or 0)
        res = NeuronVisualization(model, args.layer).run(
            channel,
            args.preset,
            steps=args.steps,
            size=args.size,
            seed=args.seed,
            show_progress=args.progress,
        )
        label = f"{args.layer}-ch{channel}"
    else:
        from attribkit.models.imagenet import class_index

        try:
            target = class_index(args.target if args.target is not None else 285)
        except ValueError as err:
            raise UsageError(f"--target: {err}") from err
        res = ClassVisualization(model).run(
            target,
            args.preset,
            steps=args.steps,
            size=args.size,
            seed=args.seed,
            show_progress=args.progress,
        )
        label = f"class{target}"
        prob = float(res.extras["probs"][0])
        print(f"{model_name}: class {target}, probability reached {prob:.3f}")
    path = _out(args, f"classvis-{label}-{args.preset}.png")
    res.save(path)
    _written(path)
    return 0


def _run_dream(args: argparse.Namespace) -> int:
    from attribkit.io import save_image
    from attribkit.models import default_layers
    from attribkit.optvis import DeepDream

    model, _ = _model(args)
    layer = args.layer or default_layers(model, "dream")[0]
    for name, x in _images(args):
        out = DeepDream(model, layer).dream(
            x,
            octaves=args.octaves,
            steps=args.steps,
            seed=args.seed,
            show_progress=args.progress,
        )
        path = save_image(out, _out(args, f"dream-{name}-{layer.replace('.', '_')}.png"))
        _written(path)
    return 0


def _run_fool(args: argparse.Namespace) -> int:
    from attribkit.adversarial import FoolingImage, fooling_figure
    from attribkit.io import save_image
    from attribkit.models.imagenet import class_index

    model, _ = _model(args)
    try:
        target = class_index(args.target) if args.target is not None else None
    except ValueError as err:
        raise UsageError(f"--target: {err}") from err
    for name, x in _images(args):
        res = FoolingImage(model).run(
            x,
            target,
            epsilon=args.epsilon,
            steps=args.steps,
            seed=args.seed,
            show_progress=args.progress,
        )
        path = save_image(fooling_figure(x, res.images), _out(args, f"fool-{name}.png"))
        print(f"{name}: {res.extras['report'].summary()}")
        _written(path)
    return 0


def _run_invert(args: argparse.Namespace) -> int:
    from attribkit.optvis import inversion_sweep

    model, model_name = _model(args)
    layers = [x for x in args.layers.split(",") if x] if args.layers else None
    for name, x in _images(args):
        sweep = inversion_sweep(
            model,
            x,
            layers,
            steps=args.steps,
            seed=args.seed,
            show_progress=args.progress,
        )
        path = _out(args, f"invert-{name}.png")
        sweep.save(path)
        psnrs = ", ".join(f"{n} {p:.1f} dB" for n, p in zip(sweep.layers, sweep.psnr))
        print(f"{name}: {model_name}, PSNR by layer: {psnrs}")
        _written(path)
    return 0


def _texture_source(args: argparse.Namespace) -> tuple[str, Any]:
    return _load_named(args, args.texture, None, None, "")


def _crop_source(x: Any, size: int) -> Any:
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    side = min(h, w)
    x = x[..., (h - side) // 2 : (h - side) // 2 + side, (w - side) // 2 : (w - side) // 2 + side]
    return F.interpolate(x, size=(size, size), mode="area")


def _run_texture(args: argparse.Namespace) -> int:
    from attribkit.io import save_image
    from attribkit.style import TextureSynthesis

    model, model_name = _model(args)
    name, tex = _texture_source(args)
    tex = _crop_source(tex, args.source_size)
    layers = args.layers.split(",") if args.layers else None
    out = TextureSynthesis(model, layers).synthesize(
        tex,
        args.size,
        steps=args.steps,
        seed=args.seed,
        show_progress=args.progress,
    )
    path = save_image(out, _out(args, f"texture-{name}.png"))
    print(f"{name}: Gram synthesis on {model_name}, {args.size} px")
    _written(path)
    return 0


def _run_efros_leung(args: argparse.Namespace) -> int:
    from attribkit.io import save_image
    from attribkit.style import efros_leung

    name, tex = _texture_source(args)
    sample = _crop_source(tex, args.source_size)
    out = efros_leung(
        sample,
        args.size,
        window=args.window,
        seed=args.seed,
        show_progress=args.progress,
    )
    path = save_image(out, _out(args, f"efros-leung-{name}.png"))
    _written(path)
    return 0


def _run_style(args: argparse.Namespace) -> int:
    from attribkit.io import save_image
    from attribkit.style import StyleTransfer

    model, model_name = _model(args)
    content_name, content = _images(args)[0]
    styles = [_load_named(args, item, args.size, None, "--style ")[1] for item in args.style]
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
    path = save_image(out, _out(args, f"style-{content_name}.png"))
    print(f"{content_name} in the style of {', '.join(args.style)} ({model_name})")
    _written(path)
    return 0


def _invert_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--layers", help="comma-separated layers, shallow to deep")


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


def _run_stylize(args: argparse.Namespace) -> int:
    from attribkit.style.stylize import stylize_files

    written = stylize_files(
        list(args.images or ["chelsea"]),
        args.style,
        args.out,
        model=args.weights,
        size=args.size,
        preserve_color=args.preserve_color,
        device=_device(args),
        half=args.half,
    )
    for path in written:
        _written(path)
    return 0


def _run_train_style(args: argparse.Namespace) -> int:
    from attribkit.style import train_style

    styles: dict[str, str] = {}
    for item in args.style:
        name, sep, source = item.partition("=")
        styles[name if sep else Path(item).stem] = source if sep else item
    backbone = None
    if args.model is not None:
        backbone, _ = _model(args)
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
        device=_device(args),
        show_progress=args.progress,
    )
    print(f"trained {len(styles)} style(s) for {args.steps or 2000} steps")
    if result.path is not None:
        _written(result.path)
    return 0


def _stylize_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--style",
        action="append",
        default=None,
        required=True,
        help="style name, index or NAME=WEIGHT; repeat to mix (weights are normalized)",
    )
    p.add_argument("--weights", help="a trained model (.safetensors); the shipped one by default")
    p.add_argument("--preserve-color", action="store_true", help="keep the content's colours")
    p.add_argument("--half", action="store_true", help="half precision (GPU only)")


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


def _k_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--k", type=int, default=8, help="how many per row")
    p.add_argument("--crops", type=int, default=16, help="random crops per photo")
    p.add_argument("--data", help="folder of images to scan instead of the bundled photos")
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers for --data")


def _patches_arguments(p: argparse.ArgumentParser) -> None:
    _k_arguments(p)
    p.add_argument("--rows", type=int, default=8, help="channels to show")


def _tsne_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", choices=["tsne", "pca"], default="tsne")


def _classvis_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="yosinski", help="simonyan, yosinski or lucent")


def _dream_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--octaves", type=int, default=4)


def _fool_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epsilon", type=float, default=None, help="L∞ budget (default: method's)")


IMAGE_OPTS = ("model", "target", "size", "seed", "out", "device", "no-progress", "images")

COMMANDS: list[Command] = [
    Command(
        "demo",
        "run every technique offline and write an HTML report",
        "attribkit demo --quick --out demo-out\nattribkit demo --only saliency occlusion",
        ("model", "seed", "out", "device", "no-progress"),
        _run_demo,
        _demo_arguments,
    ),
    Command(
        "saliency",
        "saliency map: |gradient| of the class score, max over channels",
        "attribkit saliency chelsea coffee\nattribkit saliency my.jpg --target 'tabby'",
        IMAGE_OPTS,
        _attribution_command("saliency"),
    ),
    Command(
        "occlusion",
        "occlusion map: drop in class probability under a sliding mean-pixel patch",
        "attribkit occlusion chelsea --window 16 --stride 8",
        IMAGE_OPTS,
        _attribution_command("occlusion"),
        _occlusion_arguments,
    ),
    Command(
        "guided",
        "guided backprop for a class, or for a layer's channel with --layer",
        "attribkit guided chelsea\nattribkit guided chelsea --layer _blocks.10 --target 7",
        (*IMAGE_OPTS, "layer"),
        _attribution_command("guided"),
        _guided_arguments,
    ),
    Command(
        "gradcam",
        "Grad-CAM heat map (last conv layer unless --layer)",
        "attribkit gradcam coffee --layer _conv_head",
        (*IMAGE_OPTS, "layer"),
        _attribution_command("gradcam"),
    ),
    Command(
        "grabcut",
        "foreground segmentation by GrabCut seeded from the saliency map",
        "attribkit grabcut chelsea",
        IMAGE_OPTS,
        _attribution_command("grabcut"),
    ),
    Command(
        "filters",
        "grid of a conv layer's kernels (first layer as RGB, deeper as grayscale)",
        "attribkit filters\nattribkit filters --layer _blocks.1._expand_conv",
        ("model", "layer", "seed", "out", "device", "no-progress"),
        _run_filters,
    ),
    Command(
        "activations",
        "a layer's feature maps for an image, as a grayscale grid",
        "attribkit activations chelsea --layer _blocks.2",
        (*IMAGE_OPTS, "layer"),
        _run_activations,
    ),
    Command(
        "patches",
        "maximally activating patches per channel, cropped to the receptive field",
        "attribkit patches --layer _blocks.4 --k 6\nattribkit patches --data my_photos/\n"
        "torchrun --standalone --nproc_per_node 2 --no-python attribkit patches --data my_photos/",
        ("model", "layer", "seed", "out", "device", "no-progress"),
        _run_patches,
        _patches_arguments,
    ),
    Command(
        "neighbors",
        "nearest neighbours in feature space vs pixel space (digits CNN by default)",
        "attribkit neighbors\nattribkit neighbors --model efficientnet_lite0 --layer _bn1",
        ("model", "layer", "seed", "out", "device", "no-progress"),
        _run_neighbors,
        _k_arguments,
    ),
    Command(
        "tsne",
        "t-SNE (or PCA) of the digits CNN's features, as a scatter and a full image grid",
        "attribkit tsne\nattribkit tsne --method pca",
        ("seed", "out", "no-progress"),
        _run_tsne,
        _tsne_arguments,
    ),
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
    Command(
        "stylize",
        "fast style transfer with the shipped (or your) multi-style network; mix styles",
        "attribkit stylize chelsea --style starry_night\n"
        "attribkit stylize my.jpg --style starry_night=0.7 --style scream=0.3",
        ("size", "out", "device", "images"),
        _run_stylize,
        _stylize_arguments,
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


def _add_common(p: argparse.ArgumentParser, options: Sequence[str], default_size: int) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="attribkit",
        description="Visualize and understand convolutional networks (offline).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  attribkit demo --quick\n  attribkit saliency chelsea\n"
        "  attribkit COMMAND --help",
    )
    from attribkit import __version__

    parser.add_argument("--version", action="version", version=f"attribkit {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS:
        sp = subs.add_parser(
            cmd.name,
            help=cmd.help,
            description=cmd.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog="examples:\n" + textwrap.indent(cmd.examples, "  "),
        )
        _add_common(sp, cmd.options, 224)
        if cmd.add_arguments:
            cmd.add_arguments(sp)
        if cmd.name == "demo":
            sp.set_defaults(out="demo-out")
        sp.set_defaults(_run=cmd.run)
    return parser


def _check_numbers(args: argparse.Namespace) -> None:
    for name in (
        "size",
        "steps",
        "window",
        "stride",
        "k",
        "crops",
        "rows",
        "octaves",
        "window",
        "source_size",
    ):
        value = getattr(args, name, None)
        if value is not None and value <= 0:
            raise UsageError(f"--{name} must be a positive integer, got {value}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        _check_numbers(args)
        return int(args._run(args))
    except UsageError as err:
        print(f"attribkit {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"attribkit {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

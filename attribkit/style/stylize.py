"""Stylize images with a trained feed-forward style network (one forward pass per image).

The per-style networks (:class:`TransformerNet`, :class:`MultiStyleNet`) take the style by
index, name or mix; the arbitrary-style network (:class:`AdaINStyleNet`) takes the style
image itself (``style=``), so it works with any painting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import check_image_batch, check_positive_int
from attribkit.layers.state import frozen
from attribkit.style.arbitrary import AdaINStyleNet
from attribkit.style.color import transfer_chrominance
from attribkit.style.transformer import MultiStyleNet, TransformerNet, style_weights_tensor

__all__ = ["StyleImages", "stylize", "parse_style_args", "load_style_images", "stylize_files"]

#: Style images for an :class:`AdaINStyleNet`: a tensor, a path, a bundled painting name, or
#: a list of them (blended).
StyleImages = torch.Tensor | str | Path | Sequence[torch.Tensor | str | Path]


def parse_style_args(args: Sequence[str] | str, names: Sequence[str]) -> dict[str, float]:
    """Parse command-line style choices ``NAME[=w]`` into ``{name: weight}``.

    A name without a weight gets weight 1. Weights are not normalized here.

    Args:
        args: e.g. ``["starry_night=0.7", "scream=0.3"]`` or ``"scream"``.
        names: the network's style names (indices ``0 … S−1`` are accepted too).

    Examples:
        >>> parse_style_args(["a=0.25", "b=0.75"], ["a", "b"])
        {'a': 0.25, 'b': 0.75}
    """
    if isinstance(args, str):
        items = [args]
    elif isinstance(args, (list, tuple)) and all(isinstance(a, str) for a in args):
        items = list(args)
    else:
        raise TypeError(f"styles must be strings like 'NAME' or 'NAME=0.5', got {args!r:.80}")
    if not items:
        raise ValueError(f"choose at least one style among {list(names)}")
    out: dict[str, float] = {}
    for item in items:
        name, _, w = item.partition("=")
        name = name.strip()
        if name.isdigit() and name not in names:
            i = int(name)
            if not 0 <= i < len(names):
                raise ValueError(
                    f"style index {i} is out of range: the network has {len(names)} styles"
                )
            name = names[i]
        if name not in names:
            import difflib

            close = difflib.get_close_matches(name, list(names), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"no style called {name!r}{hint} (styles: {list(names)})")
        try:
            weight = float(w) if w else 1.0
        except ValueError:
            raise ValueError(f"bad weight in {item!r}: write NAME=0.5") from None
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"bad weight in {item!r}: weights must be finite and >= 0")
        out[name] = out.get(name, 0.0) + weight
    return out


def _pad_to(x: torch.Tensor, stride: int, min_size: int) -> tuple[torch.Tensor, tuple[int, int]]:
    h, w = x.shape[-2:]
    th = max(min_size, -(-h // stride) * stride)
    tw = max(min_size, -(-w // stride) * stride)
    ph, pw = th - h, tw - w
    if ph or pw:
        x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode="reflect")
    return x, (ph // 2, pw // 2)


def stylize(
    model: nn.Module,
    images: torch.Tensor | Sequence[torch.Tensor],
    style_weights: int
    | str
    | Sequence[float]
    | Sequence[int]
    | Mapping[str, float]
    | torch.Tensor
    | None = None,
    *,
    preserve_color: bool = False,
    half: bool = False,
    batch_size: int = 8,
    normalize_weights: bool = False,
    style: StyleImages | None = None,
    alpha: float = 1.0,
) -> torch.Tensor | list[torch.Tensor]:
    """Stylize ``images`` with a :class:`TransformerNet`, :class:`MultiStyleNet` or
    :class:`~attribkit.style.arbitrary.AdaINStyleNet`.

    Images of any size are reflect-padded to the network's stride (4) and cropped back; the
    batch is cut into chunks of ``batch_size``; the work runs on the model's device (results
    come back on the images' device and dtype). The model is left as it was found.

    Args:
        model: the style network.
        images: ``N×3×H×W`` in [0, 1], or a list of ``1×3×H×W`` images of different sizes.
        style_weights: for a multi-style network, a style index or name, one per image, a mix
            ``[w₀, …]`` / ``{name: w}`` for all images, or an ``N×S`` tensor (see
            :func:`attribkit.style.style_weights`). Required when the network has several
            styles. For an :class:`AdaINStyleNet` given several ``style`` images, their blend
            weights (a sequence, one per style image; equal by default).
        preserve_color: keep the content's colours and take only the luminance of the
            stylized image (YIQ colour space).
        half: run in float16 autocast (CUDA only).
        batch_size: images per forward pass.
        normalize_weights: rescale non-negative weights to sum to 1 instead of refusing them.
        style: for an :class:`AdaINStyleNet` (required there, refused otherwise): the style
            image, as a ``1×3×h×w`` tensor in [0, 1], an image path or a bundled painting
            name, or a list of them to blend.
        alpha: for an :class:`AdaINStyleNet`, ``0`` (the content) to ``1`` (full style).

    Returns:
        The stylized images, shaped like ``images`` (a list for a list), in [0, 1].

    Raises:
        ValueError: an image smaller than the network's stride, bad style weights, or no
            style chosen for a multi-style network.

    Examples:
        >>> import torch
        >>> net = MultiStyleNet(2, width=4, n_residual=1, style_names=["a", "b"])
        >>> stylize(net, torch.rand(1, 3, 30, 21), {"a": 0.5, "b": 0.5}).shape
        torch.Size([1, 3, 30, 21])
        >>> from attribkit.style import load_shipped_model
        >>> arbitrary = load_shipped_model("arbitrary")
        >>> stylize(arbitrary, torch.rand(1, 3, 40, 60), style="scream").shape
        torch.Size([1, 3, 40, 60])
    """
    if not isinstance(model, (TransformerNet, MultiStyleNet, AdaINStyleNet)):
        raise TypeError(
            "model must be a TransformerNet, MultiStyleNet or AdaINStyleNet, got "
            f"{type(model).__name__}"
        )
    if isinstance(model, AdaINStyleNet):
        if style is None:
            raise ValueError(
                "an AdaINStyleNet needs style=: a style image (1×3×h×w tensor in [0, 1]), an "
                "image path or a bundled painting name, or a list of them to blend"
            )
    elif style is not None:
        raise ValueError(
            f"style= is for an AdaINStyleNet; a {type(model).__name__} has its styles built "
            "in: choose them with style_weights"
        )
    check_positive_int(batch_size, "batch_size")
    if isinstance(images, torch.Tensor):
        check_image_batch(images, "images", channels=3, unit_range=True)
        batches = [images]
        as_list = False
    elif isinstance(images, (list, tuple)):
        batches = list(images)
        if not batches:
            raise ValueError("images is an empty list; give at least one image")
        for i, im in enumerate(batches):
            check_image_batch(im, f"images[{i}]", channels=3, unit_range=True)
        as_list = True
    else:
        raise TypeError(
            f"images must be an N×3×H×W tensor or a list of them, got {type(images).__name__}"
        )
    for i, b in enumerate(batches):
        if b.shape[0] == 0:
            name = "images" if not as_list else f"images[{i}]"
            raise ValueError(f"{name} is an empty batch (0 images); give at least one image")
    param = next(model.parameters())
    device = param.device
    if half and device.type != "cuda":
        raise ValueError("half precision is only offered on a CUDA device; move the model there")
    if isinstance(model, AdaINStyleNet):
        assert style is not None
        stylized = _stylize_arbitrary(
            model,
            batches,
            style,
            style_weights,
            alpha=alpha,
            preserve_color=preserve_color,
            half=half,
            batch_size=batch_size,
            normalize_weights=normalize_weights,
        )
        return stylized if as_list else stylized[0]
    n_total = sum(b.shape[0] for b in batches)
    n_styles = int(model.n_styles)
    names = list(getattr(model, "style_names", [])) or None
    if style_weights is None:
        if n_styles > 1:
            raise ValueError(
                f"this network has {n_styles} styles {names}: choose one with style_weights "
                "(an index, a name, or a mix like {name: weight})"
            )
        style_weights = 0
    stride, min_size = model.stride, model.min_size  # type: ignore[union-attr]
    for b in batches:
        h, w = b.shape[-2:]
        if h < stride or w < stride:
            raise ValueError(
                f"images must be at least {stride}×{stride} px (the network's stride), got {h}×{w}"
            )
    weights = style_weights_tensor(
        style_weights, n_styles, n_total, None, names, normalize=normalize_weights
    )
    outs: list[torch.Tensor] = []
    offset = 0
    with frozen(model), torch.no_grad():
        for b in batches:
            res = []
            for i in range(0, b.shape[0], batch_size):
                x = b[i : i + batch_size]
                xin = x.to(device=device, dtype=param.dtype)
                padded, (top, left) = _pad_to(xin, stride, min_size)
                sw = weights[offset + i : offset + i + x.shape[0]].to(device)
                with torch.autocast("cuda", dtype=torch.float16, enabled=half):
                    y = model(padded, sw)
                y = y.float()[..., top : top + x.shape[-2], left : left + x.shape[-1]]
                if preserve_color:  # luminance of the stylized image, colours of the content
                    y = transfer_chrominance(y, xin.float())
                res.append(y.clamp(0, 1).to(device=x.device, dtype=x.dtype))
            offset += b.shape[0]
            outs.append(torch.cat(res))
    return outs if as_list else outs[0]


def load_style_images(style: StyleImages) -> list[torch.Tensor]:
    """Style images as ``1×3×h×w`` tensors in [0, 1] from tensors, paths or bundled names.

    Examples:
        >>> [tuple(s.shape) for s in load_style_images([torch.rand(1, 3, 8, 9), "scream"])][0]
        (1, 3, 8, 9)
    """
    from attribkit.style.train_data import load_image_source

    items = list(style) if isinstance(style, (list, tuple)) else [style]
    if not items:
        raise ValueError("style is an empty list; give at least one style image")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, torch.Tensor):
            x = check_image_batch(item, f"style[{i}]", channels=3, unit_range=True)
            out.append(x)
        elif isinstance(item, (str, Path)):
            out.append(load_image_source(item))
        else:
            raise TypeError(
                f"style[{i}] is a {type(item).__name__}: give an image tensor, a path or a "
                "bundled painting name"
            )
    return out


def _stylize_arbitrary(
    model: AdaINStyleNet,
    batches: list[torch.Tensor],
    style: StyleImages,
    style_weights: object,
    *,
    alpha: float,
    preserve_color: bool,
    half: bool,
    batch_size: int,
    normalize_weights: bool,
) -> list[torch.Tensor]:
    param = next(model.parameters())
    styles = [s.to(device=param.device, dtype=param.dtype) for s in load_style_images(style)]
    weights: list[float] | None = None
    if style_weights is not None:
        if isinstance(style_weights, (str, bytes, Mapping)) or not isinstance(
            style_weights, (Sequence, torch.Tensor)
        ):
            raise TypeError(
                f"with an AdaINStyleNet, style_weights blends the {len(styles)} style images: "
                f"give {len(styles)} numbers, got {style_weights!r:.60}"
            )
        weights = [float(v) for v in style_weights]
        if normalize_weights and all(math.isfinite(v) and v >= 0 for v in weights):
            total = sum(weights)
            if total > 0:
                weights = [v / total for v in weights]
    outs: list[torch.Tensor] = []
    with frozen(model), torch.no_grad():
        given = styles if preserve_color else [model.style_stats(s) for s in styles]
        for b in batches:
            res = []
            for i in range(0, b.shape[0], batch_size):
                x = b[i : i + batch_size]
                xin = x.to(device=param.device, dtype=param.dtype)
                with torch.autocast("cuda", dtype=torch.float16, enabled=half):
                    y = model(
                        xin,
                        given if len(given) > 1 else given[0],
                        alpha,
                        weights=weights,
                        preserve_color="luminance" if preserve_color else None,
                    )
                res.append(y.float().clamp(0, 1).to(device=x.device, dtype=x.dtype))
            outs.append(torch.cat(res))
    return outs


def stylize_files(
    images: Sequence[str | Path],
    styles: Sequence[str] | str,
    out_dir: str | Path = ".",
    *,
    model: str | Path | nn.Module | None = None,
    size: int | None = None,
    preserve_color: bool = False,
    device: str | torch.device | None = None,
    half: bool = False,
) -> list[Path]:
    """Stylize image files and write PNGs: the function behind ``attribkit stylize``.

    Args:
        images: image paths, or names of bundled images (``chelsea``, …).
        styles: ``NAME[=w]`` choices (see :func:`parse_style_args`); several make a mix,
            normalized to sum to 1. With the shipped models, a style that is not one of the
            multi-style network's (an image path, ``PATH=w`` to blend) uses the shipped
            arbitrary-style network (``load_shipped_model("arbitrary")``).
        out_dir: folder for ``<image stem>_<styles>.png``.
        model: a saved model path, a loaded network, or ``None`` for the shipped models.
        size: resize each image's shorter side to this many pixels first (``None``: as is).
        preserve_color: keep the content's colours (luminance-only transfer).
        device: where to run (default CPU).
        half: float16 on CUDA.

    Returns:
        The written paths.
    """
    from attribkit.data import sample_image, sample_names
    from attribkit.io import load_image, save_image
    from attribkit.style.checkpoint import load_shipped_model, load_style_model

    if isinstance(images, (str, Path)):
        images = [images]
    if not isinstance(images, (list, tuple)) or not images:
        raise ValueError(f"images must be a non-empty list of image paths, got {images!r:.80}")
    if size is not None:
        check_positive_int(size, "size")
    if not isinstance(out_dir, (str, Path)):
        raise TypeError(f"out_dir must be a folder path, got {type(out_dir).__name__}")
    if isinstance(styles, str):
        styles = [styles]
    if model is None:
        multi = load_shipped_model(device=device)
        # a style that is not one of the multi-style net's takes the arbitrary-style net
        known = set(multi.style_names) | {str(i) for i in range(multi.n_styles)}
        chosen = [str(s).partition("=")[0].strip() for s in styles]
        arbitrary = not all(c in known for c in chosen)
        net: nn.Module = load_shipped_model("arbitrary", device=device) if arbitrary else multi
    elif isinstance(model, nn.Module):
        net = model
    else:
        net = load_style_model(model, device=device)
    if isinstance(net, AdaINStyleNet):
        images_by_style = _style_files(styles)
        # decoded once for all the content images
        style_images = load_style_images([p for p, _ in images_by_style])
        blend = [w for _, w in images_by_style]
        tag = "+".join(
            Path(p).stem if len(blend) == 1 else f"{Path(p).stem}{w / sum(blend):.2f}"
            for p, w in images_by_style
        )
    else:
        names = list(getattr(net, "style_names", ["style0"]))
        mix = parse_style_args(styles, names)
        tag = "+".join(
            f"{k}" if len(mix) == 1 else f"{k}{v / sum(mix.values()):.2f}" for k, v in mix.items()
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for src in images:
        p = Path(src)
        if not p.exists() and str(src) in sample_names("all"):
            x = sample_image(str(src), size=size, crop=None) if size else sample_image(str(src))
        else:
            x = load_image(p, size=size)
        if isinstance(net, AdaINStyleNet):
            y = stylize(
                net,
                x,
                blend,
                style=style_images,
                preserve_color=preserve_color,
                half=half,
                normalize_weights=True,
            )
        else:
            y = stylize(
                net, x, mix, preserve_color=preserve_color, half=half, normalize_weights=True
            )
        assert isinstance(y, torch.Tensor)
        written.append(save_image(y[0], out / f"{p.stem}_{tag}.png"))
    return written


def _style_files(styles: Sequence[str]) -> list[tuple[str | Path, float]]:
    """``PATH[=w]`` items as (image path or bundled painting name, weight)."""
    from attribkit.data import sample_names

    out: list[tuple[str | Path, float]] = []
    for item in styles:
        if not isinstance(item, str):
            raise TypeError(f"styles must be image paths (PATH or PATH=w), got {item!r:.60}")
        src, weight = item, 1.0
        head, sep, tail = item.rpartition("=")
        if sep and not Path(item).exists():
            try:
                src, weight = head, float(tail)
            except ValueError:
                raise ValueError(f"bad weight in {item!r}: write PATH=0.5") from None
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"bad weight in {item!r}: weights must be finite and >= 0")
        if not Path(src).is_file() and src not in sample_names("paintings"):
            raise FileNotFoundError(
                f"no style image at {src!r} (and it is not a style of the multi-style model "
                f"nor a bundled painting {sample_names('paintings')}); give an image path"
            )
        out.append((src if src in sample_names("paintings") else Path(src), weight))
    if sum(w for _, w in out) <= 0:
        raise ValueError("the style weights sum to 0; give at least one positive weight")
    return out

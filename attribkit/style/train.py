"""Train a fast style network (Johnson 2016; many styles in one net, Dumoulin 2017).

The network learns to map content images to stylized ones by minimizing, over random crops of
the content images, the same perceptual loss as optimization-based style transfer: the
per-layer-normalized feature (content) loss, the Gram (style) loss and total variation of
:class:`attribkit.style.PerceptualLoss`, on a frozen backbone run only up to its deepest loss
layer.

Run the same code under ``torchrun --nproc_per_node N`` and it trains with
``torch.distributed`` DDP: each process draws its content images through a
``DistributedSampler``, gradients are averaged across processes, and process 0 writes the
checkpoints and samples.

This module is the recipe; the parts live by job: content and style data in
:mod:`~attribkit.style.train_data`, the loss and step in :mod:`~attribkit.style.train_loss`,
the loop in :mod:`~attribkit.style.train_loop`, checkpoints in
:mod:`~attribkit.style.train_state`, and evaluation in :mod:`~attribkit.style.train_eval`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import nn

from attribkit._checks import (
    check_finite_number,
    check_non_negative_int,
    check_positive_int,
)
from attribkit.layers.distributed import process_group_from_env
from attribkit.layers.hooks import LayerRef
from attribkit.style.train_data import (
    CropSource,
    ImageSet,
    ImageSource,
    StyleCycle,
    StyleSpec,
    image_sources,
)
from attribkit.style.train_eval import evaluate_style, sample_grid, sample_images, training_styles
from attribkit.style.train_loop import Callback, StyleTrainResult, run_training, training_device
from attribkit.style.train_loss import (
    EFFICIENTNET_CONTENT_LAYERS,
    EFFICIENTNET_STYLE_LAYERS,
    VGG_CONTENT_LAYERS,
    VGG_STYLE_LAYERS,
    MultiStyleLoss,
    PerceptualStep,
    default_layers,
)
from attribkit.style.transformer import MultiStyleNet, TransformerNet

__all__ = [
    "train_style",
    "StyleTrainResult",
    "StyleSpec",
    "EFFICIENTNET_STYLE_LAYERS",
    "EFFICIENTNET_CONTENT_LAYERS",
    "VGG_STYLE_LAYERS",
    "VGG_CONTENT_LAYERS",
    "default_layers",
    "training_styles",
    "evaluate_style",
]


def _style_items(
    styles: object,
) -> tuple[list[str], list[StyleSpec]]:
    if isinstance(styles, Mapping):
        items = list(styles.items())
    elif isinstance(styles, (str, Path, torch.Tensor, StyleSpec)) or not isinstance(
        styles, (list, tuple)
    ):
        raise TypeError(
            f"styles must be a list or a mapping of style images, got {type(styles).__name__}"
        )
    else:
        items = []
        for i, s in enumerate(styles):
            src = s.image if isinstance(s, StyleSpec) else s
            nm = Path(src).stem if isinstance(src, (str, Path)) else f"style{i}"
            items.append((nm, s))
    if not items:
        raise ValueError("give at least one style image")
    names = [str(k) for k, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"style names must be distinct, got {names}")
    specs = [s if isinstance(s, StyleSpec) else StyleSpec(s) for _, s in items]  # type: ignore[arg-type]
    return names, specs


def train_style(
    styles: Mapping[str, ImageSource | StyleSpec] | Sequence[ImageSource | StyleSpec],
    content: str | Path | Sequence[ImageSource] | None = None,
    *,
    out_dir: str | Path | None = None,
    steps: int = 2000,
    batch_size: int = 4,
    crop: int = 128,
    content_size: int | None = None,
    lr: float = 1e-3,
    width: int = 32,
    n_residual: int = 5,
    backbone: nn.Module | None = None,
    content_layers: Sequence[LayerRef] | None = None,
    style_layers: Sequence[LayerRef] | None = None,
    content_weight: float = 1.0,
    style_weight: float = 100.0,
    tv_weight: float = 10.0,
    pad: int = 16,
    holdout: Sequence[str] = ("chelsea", "coffee"),
    model: MultiStyleNet | TransformerNet | None = None,
    seed: int = 0,
    checkpoint_every: int = 100,
    sample_every: int = 0,
    resume: bool = True,
    device: torch.device | str | None = None,
    show_progress: bool | None = None,
    callbacks: Sequence[Callback] = (),
) -> StyleTrainResult:
    """Train a (multi-)style network with perceptual losses; DDP under ``torchrun``.

    Each step takes ``batch_size`` random crops (random scale, position and flip) of the
    content images; crop ``j`` of step ``t`` is stylized with style ``(t·B·world + rank·B + j)
    mod S``, so every style gets the same share. The loss is the per-layer-normalized content
    loss, the Gram style loss against that style's targets, and total variation.

    Args:
        styles: ``{name: image}`` or a list of images / :class:`StyleSpec` (names are then the
            bundled names or file stems). Images are bundled names, paths or tensors.
        content: a folder of images, a list of images, or ``None`` for the bundled photos
            minus ``holdout``.
        out_dir: where to write ``checkpoint.*`` (every ``checkpoint_every`` steps, and at the
            end), ``model.*`` (the final network) and ``samples/``; ``None`` writes nothing.
        steps: total optimizer steps (resuming continues up to this number).
        batch_size: crops per step and per process.
        crop: crop size in pixels (a multiple of 4).
        content_size: content images are loaded with this shorter side (default ``2·crop``);
            bundled photos (given by name) are also center-cropped to a square of this size.
        lr: Adam learning rate.
        width: first-layer width of a new network (Johnson: 32).
        n_residual: residual blocks of a new network (Johnson: 5).
        backbone: loss network taking images in [0, 1]; EfficientNet-Lite0 by default.
            It is never changed.
        content_layers: content layers (default: ``_blocks.4`` / VGG ``relu2_2``).
        style_layers: style layers (default: stem + ``_blocks.0,2,4,7,10`` / VGG
            ``relu1_2 … relu4_3``).
        content_weight: weight of the content term.
        style_weight: weight of the style term.
        tv_weight: weight of the total-variation term.
        pad: reflect padding before the backbone.
        holdout: bundled photos kept out of training (used for samples).
        model: a network to train further (in place) instead of a new one.
        seed: seeds the initialization, the crops and the sampler; same seed, same result.
        checkpoint_every: steps between checkpoints (0: only at the end).
        sample_every: steps between sample grids written to ``out_dir/samples`` (0: never).
        resume: continue from ``out_dir/checkpoint`` when it exists.
        device: where to train (default: the model's, else CPU; under torchrun with CUDA,
            ``cuda:LOCAL_RANK``).
        show_progress: a bar with the losses (process 0 only); ``None`` draws it on a
            terminal or in a notebook only.
        callbacks: ``f(step, losses)`` after every step (process 0 only).

    Returns:
        A :class:`StyleTrainResult` with the network (eval mode; unwrapped from DDP).

    Raises:
        ValueError: bad sizes, counts, weights or images (checked before anything is
            written), or a checkpoint in ``out_dir`` for another run.
        FloatingPointError: the loss became NaN or infinite (the last checkpoint stays).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> bb = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> r = train_style({"noise": torch.rand(1, 3, 16, 16)}, [torch.rand(1, 3, 24, 24)],
        ...                 backbone=bb, content_layers=["1"], style_layers=["0", "1"],
        ...                 steps=2, batch_size=1, crop=16, width=4, n_residual=1,
        ...                 show_progress=False, holdout=())
        >>> r.steps
        2
    """
    for name, v in (("steps", steps), ("batch_size", batch_size), ("crop", crop)):
        check_positive_int(v, name)
    if crop % 4 or crop < 16:
        raise ValueError(f"crop must be a multiple of 4 and at least 16, got {crop}")
    if content_size is not None:
        check_positive_int(content_size, "content_size")
    check_finite_number(lr, "lr", positive=True)
    for name, w in (
        ("content_weight", content_weight),
        ("style_weight", style_weight),
        ("tv_weight", tv_weight),
    ):
        check_finite_number(w, name, minimum=0.0)
    for name, v in (
        ("pad", pad),
        ("checkpoint_every", checkpoint_every),
        ("sample_every", sample_every),
        ("seed", seed),
    ):
        check_non_negative_int(v, name)
    if isinstance(holdout, str) or not all(isinstance(h, str) for h in holdout):
        raise TypeError(f"holdout must be a list of bundled photo names, got {holdout!r:.60}")
    if model is not None and not isinstance(model, (MultiStyleNet, TransformerNet)):
        raise TypeError(
            f"model must be a MultiStyleNet or TransformerNet, got {type(model).__name__}"
        )
    if backbone is not None and not isinstance(backbone, nn.Module):
        raise TypeError(f"backbone must be an nn.Module, got {type(backbone).__name__}")
    names, specs = _style_items(styles)
    if model is not None and int(model.n_styles) != len(specs):
        raise ValueError(f"the model has {model.n_styles} styles but {len(specs)} were given")
    sources = image_sources(content, holdout)
    dev = training_device(device, model)
    with process_group_from_env(dev) as (rank, world):
        return _train(
            names,
            specs,
            sources,
            "bundled photos" if content is None else str(content)[:200],
            bundled=content is None,
            out_dir=out_dir,
            steps=steps,
            batch_size=batch_size,
            crop=crop,
            content_size=content_size or 2 * crop,
            lr=lr,
            width=width,
            n_residual=n_residual,
            backbone=backbone,
            content_layers=content_layers,
            style_layers=style_layers,
            weights=(content_weight, style_weight, tv_weight),
            pad=pad,
            holdout=holdout,
            model=model,
            seed=seed,
            checkpoint_every=checkpoint_every,
            sample_every=sample_every,
            resume=resume,
            device=dev,
            show_progress=show_progress,
            callbacks=callbacks,
            rank=rank,
            world=world,
        )


def _train(
    names: list[str],
    specs: list[StyleSpec],
    sources: list[ImageSource],
    content_desc: str,
    *,
    bundled: bool,
    out_dir: str | Path | None,
    steps: int,
    batch_size: int,
    crop: int,
    content_size: int,
    lr: float,
    width: int,
    n_residual: int,
    backbone: nn.Module | None,
    content_layers: Sequence[LayerRef] | None,
    style_layers: Sequence[LayerRef] | None,
    weights: tuple[float, float, float],
    pad: int,
    holdout: Sequence[str],
    model: MultiStyleNet | TransformerNet | None,
    seed: int,
    checkpoint_every: int,
    sample_every: int,
    resume: bool,
    device: torch.device,
    show_progress: bool | None,
    callbacks: Sequence[Callback],
    rank: int,
    world: int,
) -> StyleTrainResult:
    if backbone is None:
        from attribkit.models import efficientnet_lite0

        backbone = efficientnet_lite0().to(device)
    c_layers, s_layers = default_layers(backbone, content_layers, style_layers)
    cw, sw, tw = weights
    criterion = MultiStyleLoss(
        backbone,
        c_layers,
        s_layers,
        [spec.load().to(device) for spec in specs],
        content_weight=cw,
        style_weight=sw,
        tv_weight=tw,
        pad=pad,
    )
    images = ImageSet(sources, content_size, cache=len(sources) <= 64)
    if images[0].shape[-1] < 4:
        raise ValueError("content images are too small")
    settings = {
        "styles": names,
        "style_sources": [s.source_name for s in specs],
        "style_sizes": [s.size for s in specs],
        "style_crops": [list(s.crop) if s.crop else None for s in specs],
        "content": content_desc,
        "holdout": list(holdout) if bundled else [],
        "steps": steps,
        "batch_size": batch_size,
        "world_size": world,
        "crop": crop,
        "content_size": content_size,
        "lr": lr,
        "backbone": type(backbone).__name__,
        "content_layers": c_layers,
        "style_layers": s_layers,
        "content_weight": cw,
        "style_weight": sw,
        "tv_weight": tw,
        "pad": pad,
        "seed": seed,
        "device": str(device),
    }
    if model is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net: MultiStyleNet | TransformerNet = MultiStyleNet(
                len(specs), width=width, n_residual=n_residual, style_names=names
            )
    else:
        net = model
    net = net.to(device)
    data = StyleCycle(
        CropSource(images, crop, batch_size, seed=seed, rank=rank, world=world),
        len(specs),
        rank=rank,
        world=world,
    )
    photos = list(holdout) if bundled else []
    shown = sample_images(photos, images[0], crop) if sample_every and rank == 0 else []
    return run_training(
        net,
        PerceptualStep(criterion),
        data,
        steps=steps,
        lr=lr,
        out_dir=out_dir,
        checkpoint_every=checkpoint_every,
        sample_every=sample_every,
        samples=(lambda n: sample_grid(n, shown)) if shown else None,
        resume=resume,
        settings=settings,
        show_progress=show_progress,
        callbacks=callbacks,
    )

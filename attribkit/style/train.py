"""Train a fast style network (Johnson 2016; many styles in one net, Dumoulin 2017).

The network learns to map content images to stylized ones by minimizing, over random crops of
the content images, the same perceptual loss as optimization-based style transfer: the
per-layer-normalized feature (content) loss, the Gram (style) loss and total variation, from
:mod:`attribkit.style.losses`, on a frozen backbone run only up to its deepest loss layer.

Run the same code under ``torchrun --nproc_per_node N`` and it trains with
``torch.distributed`` DDP: each process draws its content images through a
``DistributedSampler``, gradients are averaged across processes, and process 0 writes the
checkpoints and samples.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._progress import progress_bar
from attribkit.layers.hooks import LayerRef, layer_name
from attribkit.models.backbones import BACKBONES, default_layers
from attribkit.style.checkpoint import load_style_model, read_style_metadata, save_style_model
from attribkit.style.losses import PerceptualLoss, feature_loss, gram_loss, gram_matrix
from attribkit.style.losses import total_variation as _tv
from attribkit.style.transformer import MultiStyleNet, TransformerNet

__all__ = [
    "train_style",
    "StyleTrainResult",
    "StyleSpec",
    "EFFICIENTNET_STYLE_LAYERS",
    "EFFICIENTNET_CONTENT_LAYERS",
    "VGG_STYLE_LAYERS",
    "VGG_CONTENT_LAYERS",
    "style_loss_of",
    "training_styles",
    "evaluate_style",
]

#: Style layers on EfficientNet-Lite0 (stem activation and five blocks; DESIGN.md §4).
EFFICIENTNET_STYLE_LAYERS = BACKBONES["efficientnet_lite0"].fast_style
#: Content layer on EfficientNet-Lite0.
EFFICIENTNET_CONTENT_LAYERS = BACKBONES["efficientnet_lite0"].fast_content
#: Johnson's style layers on VGG16/19.
VGG_STYLE_LAYERS = BACKBONES["vgg"].fast_style
#: Johnson's content layer on VGG16/19.
VGG_CONTENT_LAYERS = BACKBONES["vgg"].fast_content

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
_CKPT = "checkpoint"

ImageSource = str | Path | torch.Tensor
Callback = Callable[[int, dict[str, float]], None]


@dataclass
class StyleSpec:
    """One style to learn: an image, and how to take its Gram matrices.

    Args:
        image: a bundled image name (``"starry_night"``), a path, or a ``1×3×H×W`` tensor.
        size: resize the shorter side to this many pixels before taking Gram matrices
            (``None`` keeps the size). Larger means smaller strokes relative to the crops.
        crop: optional ``(top, left, height, width)`` in fractions of the image, to learn the
            style of a detail (taken before resizing).
    """

    image: ImageSource
    size: int | None = 256
    crop: tuple[float, float, float, float] | None = None

    def load(self) -> torch.Tensor:
        """The style image as ``1×3×H×W`` in [0, 1]."""
        img = _load_source(self.image, None)
        if self.crop is not None:
            t, left, h, w = self.crop
            if not (
                0 <= t < 1 and 0 <= left < 1 and 0 < h <= 1 - t + 1e-9 and 0 < w <= 1 - left + 1e-9
            ):
                raise ValueError(
                    f"crop must be fractions (top, left, height, width), got {self.crop}"
                )
            H, W = img.shape[-2:]
            img = img[
                ...,
                int(t * H) : int(t * H) + max(1, int(h * H)),
                int(left * W) : int(left * W) + max(1, int(w * W)),
            ]
        if self.size is not None:
            H, W = img.shape[-2:]
            s = self.size / min(H, W)
            img = F.interpolate(
                img,
                size=(max(1, round(H * s)), max(1, round(W * s))),
                mode="bilinear",
                align_corners=False,
                antialias=True,
            ).clamp(0, 1)
        return img


@dataclass
class StyleTrainResult:
    """What :func:`train_style` returns."""

    model: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    path: Path | None = None


def _load_source(src: ImageSource, size: int | None) -> torch.Tensor:
    from attribkit.data import sample_names
    from attribkit.io import load_image

    if isinstance(src, torch.Tensor):
        x = src.detach()
        if x.ndim == 3:
            x = x.unsqueeze(0)
        if x.ndim != 4 or x.shape[0] != 1 or x.shape[1] != 3:
            raise ValueError(f"an image tensor must be 1×3×H×W, got shape {tuple(src.shape)}")
        if not x.is_floating_point() or float(x.min()) < 0 or float(x.max()) > 1:
            raise ValueError("an image tensor must be floating point with values in [0, 1]")
        x = x.float().cpu()
        if size is not None:
            h, w = x.shape[-2:]
            s = size / min(h, w)
            x = F.interpolate(
                x,
                size=(round(h * s), round(w * s)),
                mode="bilinear",
                align_corners=False,
                antialias=True,
            ).clamp(0, 1)
        return x
    if isinstance(src, str) and src in sample_names("all") and not Path(src).exists():
        from attribkit.data import sample_image

        return sample_image(src, size=size, crop=None) if size else sample_image(src)
    p = Path(src)
    if not p.exists():
        raise FileNotFoundError(f"no image at {p} (and no bundled image called {str(src)!r})")
    return load_image(p, size=size)


def _content_list(content: object, holdout: Sequence[str]) -> list[ImageSource]:
    from attribkit.data import sample_names

    if content is None:
        names = [n for n in sample_names("photos") if n not in set(holdout)]
        if not names:
            raise ValueError("every bundled photo is held out; keep at least one for training")
        return list(names)
    if isinstance(content, (str, Path)) and Path(content).is_dir():
        files = sorted(p for p in Path(content).rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"no images ({sorted(_IMAGE_SUFFIXES)}) under {content}")
        return list(files)
    if isinstance(content, (str, Path, torch.Tensor)):
        return [content]
    items = list(content)  # type: ignore[call-overload]
    if not items:
        raise ValueError("content is empty")
    return items


class _Content:
    """Content images, loaded at ``size`` (shorter side), cached when they are few."""

    def __init__(self, sources: Sequence[ImageSource], size: int, cache: bool) -> None:
        self.sources = list(sources)
        self.size = size
        self._cache: dict[int, torch.Tensor] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, i: int) -> torch.Tensor:
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        img = _load_source(self.sources[i], self.size)
        if self._cache is not None:
            self._cache[i] = img
        return img


def _random_crop(img: torch.Tensor, crop: int, gen: torch.Generator) -> torch.Tensor:
    h, w = img.shape[-2:]
    lo, hi = min(crop, h, w), min(h, w)
    s = int(torch.randint(lo, hi + 1, (1,), generator=gen))
    top = int(torch.randint(0, h - s + 1, (1,), generator=gen))
    left = int(torch.randint(0, w - s + 1, (1,), generator=gen))
    x = img[..., top : top + s, left : left + s]
    if s != crop:
        x = F.interpolate(
            x, size=(crop, crop), mode="bilinear", align_corners=False, antialias=s > crop
        ).clamp(0, 1)
    if bool(torch.rand(1, generator=gen) < 0.5):
        x = x.flip(-1)
    return x


def _default_layers(
    backbone: nn.Module,
    content_layers: Sequence[LayerRef] | None,
    style_layers: Sequence[LayerRef] | None,
) -> tuple[list[str], list[str]]:
    if content_layers is None:
        content_layers = default_layers(backbone, "fast_content")
    if style_layers is None:
        style_layers = default_layers(backbone, "fast_style")
    return (
        [layer_name(backbone, c) for c in content_layers],
        [layer_name(backbone, s) for s in style_layers],
    )


def style_loss_of(
    loss: PerceptualLoss, images: torch.Tensor, style_grams: Mapping[str, torch.Tensor]
) -> torch.Tensor:
    """Per-image style term (weighted as in training) of ``images`` against target Grams.

    Args:
        loss: the :class:`PerceptualLoss` whose backbone, layers and weights are used.
        images: ``N×3×H×W`` in [0, 1].
        style_grams: per style layer, a ``1×C×C`` or ``N×C×C`` target Gram.

    Returns:
        ``(N,)`` style losses (``style_weight × Σ_layers w_l ‖G − Gₜ‖² / ‖Gₜ‖²``).
    """
    feats = loss.features(images, loss.style_layers)
    out = images.new_zeros(images.shape[0])
    n = len(loss.style_layers)
    for k in loss.style_layers:
        out = out + loss.layer_weights.get(k, 1.0 / n) * gram_loss(feats[k], style_grams[k])
    return loss.style_weight * out


def _dist_info() -> tuple[bool, int, int, int]:
    """(distributed?, rank, world size, local rank) from torchrun's environment."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return True, dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        return True, int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", 0))
    return False, 0, 1, 0


def _index_stream(n: int, rank: int, world: int, seed: int, epoch: int, pos: int) -> Any:
    """Endless (epoch, position, index) stream from a DistributedSampler, re-entrant."""
    from torch.utils.data import DistributedSampler

    sampler: DistributedSampler[int] = DistributedSampler(
        range(n),  # type: ignore[arg-type]
        num_replicas=world,
        rank=rank,
        shuffle=True,
        seed=seed,
    )
    while True:
        sampler.set_epoch(epoch)
        order = list(sampler)
        while pos < len(order):
            yield epoch, pos + 1, order[pos]
            pos += 1
        epoch, pos = epoch + 1, 0


def _optim_tensors(
    opt: torch.optim.Optimizer, params: list[nn.Parameter]
) -> dict[str, torch.Tensor]:
    out = {}
    for i, p in enumerate(params):
        for k, v in opt.state.get(p, {}).items():
            out[f"optim.{i}.{k}"] = torch.as_tensor(v).detach().cpu().clone()
    return out


def _restore_optim(
    opt: torch.optim.Optimizer, params: list[nn.Parameter], extra: Mapping[str, torch.Tensor]
) -> None:
    for key, v in extra.items():
        if not key.startswith("optim."):
            continue
        _, i, k = key.split(".", 2)
        p = params[int(i)]
        opt.state[p][k] = v.to(p.device) if k != "step" else v.clone()


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
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if crop % 4 or crop < 16:
        raise ValueError(f"crop must be a multiple of 4 and at least 16, got {crop}")
    if lr <= 0 or not math.isfinite(lr):
        raise ValueError(f"lr must be positive, got {lr}")
    if checkpoint_every < 0 or sample_every < 0:
        raise ValueError("checkpoint_every and sample_every must be >= 0")

    # ---- styles
    if isinstance(styles, Mapping):
        style_items = list(styles.items())
    elif isinstance(styles, (str, Path, torch.Tensor, StyleSpec)):
        raise TypeError("styles must be a list or a mapping of style images")
    else:
        style_items = []
        for i, s in enumerate(styles):
            src = s.image if isinstance(s, StyleSpec) else s
            nm = Path(src).stem if isinstance(src, (str, Path)) else f"style{i}"
            style_items.append((nm, s))
    if not style_items:
        raise ValueError("give at least one style image")
    style_names = [str(k) for k, _ in style_items]
    if len(set(style_names)) != len(style_names):
        raise ValueError(f"style names must be distinct, got {style_names}")
    specs = [s if isinstance(s, StyleSpec) else StyleSpec(s) for _, s in style_items]
    n_styles = len(specs)

    # ---- distributed set-up
    import torch.distributed as dist

    distributed, rank, world, local_rank = _dist_info()
    we_initialized = False
    if distributed and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and device is None else "gloo"
        if device is not None and torch.device(device).type == "cuda":
            backend = "nccl"
        dist.init_process_group(backend=backend)
        we_initialized = True
    try:
        if device is None:
            if model is not None:
                device = next(model.parameters()).device
            elif distributed and torch.cuda.is_available():
                device = torch.device("cuda", local_rank)
            else:
                device = torch.device("cpu")
        device = torch.device(device)
        if device.type == "cuda" and device.index is not None:
            torch.cuda.set_device(device)
        return _train(
            specs=specs,
            style_names=style_names,
            content=content,
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
            content_weight=content_weight,
            style_weight=style_weight,
            tv_weight=tv_weight,
            pad=pad,
            holdout=holdout,
            model=model,
            seed=seed,
            checkpoint_every=checkpoint_every,
            sample_every=sample_every,
            resume=resume,
            device=device,
            show_progress=show_progress,
            callbacks=callbacks,
            n_styles=n_styles,
            distributed=distributed,
            rank=rank,
            world=world,
        )
    finally:
        if we_initialized and dist.is_initialized():
            dist.destroy_process_group()


def _train(
    *,
    specs: list[StyleSpec],
    style_names: list[str],
    content: Any,
    out_dir: Any,
    steps: int,
    batch_size: int,
    crop: int,
    content_size: int,
    lr: float,
    width: int,
    n_residual: int,
    backbone: nn.Module | None,
    content_layers: Any,
    style_layers: Any,
    content_weight: float,
    style_weight: float,
    tv_weight: float,
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
    n_styles: int,
    distributed: bool,
    rank: int,
    world: int,
) -> StyleTrainResult:
    import torch.distributed as dist

    if backbone is None:
        from attribkit.models import efficientnet_lite0

        backbone = efficientnet_lite0().to(device)
    c_layers, s_layers = _default_layers(backbone, content_layers, style_layers)
    loss_fn = PerceptualLoss(
        backbone,
        c_layers,
        s_layers,
        content_weight=content_weight,
        style_weight=style_weight,
        tv_weight=tv_weight,
        pad=pad,
    )

    # per-style target Gram matrices, stacked: layer -> S×C×C
    with torch.no_grad():
        per_style: dict[str, list[torch.Tensor]] = {k: [] for k in s_layers}
        for spec in specs:
            img = spec.load().to(device)
            feats = loss_fn.features(img, s_layers)
            for k in s_layers:
                per_style[k].append(gram_matrix(feats[k]))
        targets = {k: torch.cat(v) for k, v in per_style.items()}

    # content
    sources = _content_list(content, holdout)
    data = _Content(sources, content_size, cache=len(sources) <= 64)
    if data[0].shape[-1] < 4:
        raise ValueError("content images are too small")

    # network
    settings = {
        "styles": style_names,
        "style_sources": [
            str(s.image) if not isinstance(s.image, torch.Tensor) else "tensor" for s in specs
        ],
        "style_sizes": [s.size for s in specs],
        "style_crops": [list(s.crop) if s.crop else None for s in specs],
        "content": "bundled photos" if content is None else str(content)[:200],
        "holdout": list(holdout) if content is None else [],
        "steps": steps,
        "batch_size": batch_size,
        "world_size": world,
        "crop": crop,
        "content_size": content_size,
        "lr": lr,
        "backbone": type(backbone).__name__,
        "content_layers": c_layers,
        "style_layers": s_layers,
        "content_weight": content_weight,
        "style_weight": style_weight,
        "tv_weight": tv_weight,
        "pad": pad,
        "seed": seed,
        "device": str(device),
    }
    if model is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net: MultiStyleNet | TransformerNet = MultiStyleNet(
                n_styles, width=width, n_residual=n_residual, style_names=style_names
            )
    else:
        net = model
        if net.n_styles != n_styles:
            raise ValueError(f"the model has {net.n_styles} styles but {n_styles} were given")
    net = net.to(device).train()
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed * 1_000_003 + rank)
    start, epoch, pos = 0, 0, 0
    history: list[dict[str, float]] = []
    out = Path(out_dir) if out_dir is not None else None
    ckpt = out / _CKPT if out is not None else None

    if resume and ckpt is not None and (out / f"{_CKPT}.json").is_file():  # type: ignore[operator]
        meta = read_style_metadata(ckpt)
        if meta["styles"] != style_names:
            raise ValueError(
                f"the checkpoint in {out} is for styles {meta['styles']}, not {style_names}; "
                "use another out_dir or resume=False"
            )
        loaded, extra, meta = load_style_model(ckpt, device=device, return_extra=True)
        if type(loaded) is not type(net) or loaded.width != net.width:
            raise ValueError(f"the checkpoint in {out} holds another architecture")
        net.load_state_dict(loaded.state_dict())
        net.train()
        _restore_optim(opt, params, extra)
        start = int(meta["state"]["step"])
        epoch, pos = int(meta["state"]["epoch"]), int(meta["state"]["pos"])
        history = list(meta.get("history", []))
        gkey = f"gen.{rank}"
        if gkey in extra:
            gen.set_state(extra[gkey].to(torch.uint8))

    train_net: nn.Module = net
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        train_net = DistributedDataParallel(
            net, device_ids=[device] if device.type == "cuda" else None
        )
    stream = _index_stream(len(data), rank, world, seed, epoch, pos)
    n_c, n_s = len(c_layers), len(s_layers)
    bar = progress_bar(
        total=steps,
        initial=start,
        desc="train-style",
        show_progress=show_progress if rank == 0 else False,
        leave=True,
        dynamic_ncols=True,
    )
    t0 = time.perf_counter()
    step = start
    try:
        for step in range(start + 1, steps + 1):
            crops = []
            for _ in range(batch_size):
                epoch, pos, idx = next(stream)
                crops.append(_random_crop(data[idx], crop, gen))
            x = torch.cat(crops).to(device)
            first = ((step - 1) * world + rank) * batch_size
            sidx = torch.tensor([(first + j) % n_styles for j in range(batch_size)], device=device)
            w = F.one_hot(sidx, n_styles).to(x.dtype)
            with torch.no_grad():
                c_feats = loss_fn.features(x, c_layers)
            y = train_net(x, w)
            feats = loss_fn.features(y, loss_fn.layers)
            c_loss = y.new_zeros(batch_size)
            for k in c_layers:
                c_loss = c_loss + loss_fn.layer_weights.get(k, 1 / n_c) * feature_loss(
                    feats[k], c_feats[k]
                )
            s_loss = y.new_zeros(batch_size)
            for k in s_layers:
                s_loss = s_loss + loss_fn.layer_weights.get(k, 1 / n_s) * gram_loss(
                    feats[k], targets[k][sidx]
                )
            tv = _tv(y)
            c_loss, s_loss, tv = content_weight * c_loss, style_weight * s_loss, tv_weight * tv
            total = (c_loss + s_loss + tv).mean()
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            stats = torch.stack(
                [total.detach(), c_loss.mean().detach(), s_loss.mean().detach(), tv.mean().detach()]
            )
            if distributed:
                dist.all_reduce(stats)
                stats = stats / world
            if not torch.isfinite(stats).all():
                raise FloatingPointError(
                    f"the loss became {stats.tolist()} at step {step}; lower lr or the loss weights"
                )
            rec = {
                "step": float(step),
                "loss": float(stats[0]),
                "content": float(stats[1]),
                "style": float(stats[2]),
                "tv": float(stats[3]),
            }
            history.append(rec)
            if rank == 0:
                bar.update(1)
                bar.set_postfix(
                    loss=f"{rec['loss']:.3g}",
                    content=f"{rec['content']:.3g}",
                    style=f"{rec['style']:.3g}",
                    tv=f"{rec['tv']:.3g}",
                )
                for cb in callbacks:
                    cb(step, rec)
            last = step == steps
            if out is not None and sample_every and (step % sample_every == 0 or last):
                if rank == 0:
                    _write_samples(
                        net,
                        out / "samples" / f"step{step:06d}.png",
                        holdout,
                        content is None,
                        data,
                        crop,
                    )
            if out is not None and ((checkpoint_every and step % checkpoint_every == 0) or last):
                _checkpoint(
                    net,
                    opt,
                    params,
                    gen,
                    ckpt,
                    settings,
                    history,
                    step,
                    epoch,
                    pos,
                    rank,
                    world,
                    distributed,
                    time.perf_counter() - t0,
                )
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    net.eval()
    path = None
    if out is not None and rank == 0:
        settings["seconds"] = round(seconds, 1)
        path = save_style_model(net, out / "model", training=settings)
    if distributed:
        dist.barrier()
    return StyleTrainResult(model=net, history=history, steps=step, seconds=seconds, path=path)


def _checkpoint(
    net: nn.Module,
    opt: torch.optim.Optimizer,
    params: list[nn.Parameter],
    gen: torch.Generator,
    ckpt: Path | None,
    settings: dict[str, Any],
    history: list[dict[str, float]],
    step: int,
    epoch: int,
    pos: int,
    rank: int,
    world: int,
    distributed: bool,
    seconds: float,
) -> None:
    import torch.distributed as dist

    state = gen.get_state()
    if distributed:
        gathered = [torch.empty_like(state) for _ in range(world)]
        dist.all_gather(gathered, state)
        epochs = [torch.zeros(2, dtype=torch.int64) for _ in range(world)]
        dist.all_gather(epochs, torch.tensor([epoch, pos]))
    else:
        gathered = [state]
    if rank == 0 and ckpt is not None:
        extra = _optim_tensors(opt, params)
        extra.update({f"gen.{r}": g for r, g in enumerate(gathered)})
        save_style_model(
            net,
            ckpt,
            training=settings,
            extra_tensors=extra,
            extra={
                "state": {"step": step, "epoch": epoch, "pos": pos, "seconds": round(seconds, 1)},
                "history": history[-2000:],
            },
        )
    if distributed:
        dist.barrier()


def _write_samples(
    net: nn.Module, path: Path, holdout: Sequence[str], bundled: bool, data: _Content, crop: int
) -> None:
    from attribkit.data import sample_image
    from attribkit.io import save_image
    from attribkit.viz import make_grid

    size = max(crop, 128)
    size -= size % 4
    imgs = (
        [sample_image(n, size=size) for n in holdout][:2]
        if bundled and holdout
        else [F.interpolate(data[0], size=(size, size), mode="bilinear", align_corners=False)]
    )
    was_training = net.training
    net.eval()
    dev = next(net.parameters()).device
    rows = []
    with torch.no_grad():
        for img in imgs:
            x = img.to(dev)
            rows.append(x)
            for s in range(net.n_styles):  # type: ignore[arg-type]
                w = F.one_hot(torch.tensor([s], device=dev), int(net.n_styles)).float()  # type: ignore[arg-type]
                rows.append(net(x, w) if isinstance(net, MultiStyleNet) else net(x))
    net.train(was_training)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(make_grid(torch.cat(rows).cpu(), nrow=int(net.n_styles) + 1), path)  # type: ignore[arg-type]


def training_styles(meta: Mapping[str, Any]) -> dict[str, StyleSpec]:
    """The styles a saved model was trained on, rebuilt from its JSON ``training`` record.

    Args:
        meta: a saved model's metadata (see
            :func:`attribkit.style.checkpoint.read_style_metadata`).

    Raises:
        ValueError: the record does not name its style images (e.g. they were tensors).
    """
    tr = meta.get("training", {})
    names, sources = tr.get("styles"), tr.get("style_sources")
    if not names or not sources or "tensor" in sources:
        raise ValueError("this model's record does not say which style images it learned")
    sizes = tr.get("style_sizes") or [256] * len(names)
    crops = tr.get("style_crops") or [None] * len(names)
    return {
        n: StyleSpec(src, size=sz, crop=tuple(c) if c else None)  # type: ignore[arg-type]
        for n, src, sz, c in zip(names, sources, sizes, crops)
    }


@torch.no_grad()
def evaluate_style(
    model: MultiStyleNet | TransformerNet,
    images: torch.Tensor,
    styles: Mapping[str, StyleSpec],
    *,
    backbone: nn.Module | None = None,
    style_layers: Sequence[LayerRef] | None = None,
    style_weight: float = 100.0,
    pad: int = 16,
) -> dict[str, torch.Tensor]:
    """Style loss of each image stylized in each style, and of the unstylized image.

    The loss is the training style term (``style_weight × mean over layers of
    ‖G − Gₛ‖² / ‖Gₛ‖²``), so a model that learned its styles scores far below the content
    image itself.

    Args:
        model: the style network (its style ``s`` is evaluated against ``styles``' ``s``-th).
        images: ``N×3×H×W`` content images in [0, 1] (held out from training).
        styles: the style images, in the model's order.
        backbone: loss network (EfficientNet-Lite0 by default).
        style_layers: style layers (defaults as in :func:`train_style`).
        style_weight: weight of the style term.
        pad: reflect padding before the backbone.

    Returns:
        ``{"stylized": S×N, "content": S×N}`` style losses.
    """
    from attribkit.style.stylize import stylize

    if backbone is None:
        from attribkit.models import efficientnet_lite0

        backbone = efficientnet_lite0().to(images.device)
    c_layers, s_layers = _default_layers(backbone, None, style_layers)
    loss = PerceptualLoss(backbone, c_layers, s_layers, style_weight=style_weight, pad=pad)
    n_styles = int(model.n_styles)
    if len(styles) != n_styles:
        raise ValueError(
            f"the model has {n_styles} styles but {len(styles)} style images were given"
        )
    stylized, plain = [], []
    for s, spec in enumerate(styles.values()):
        feats = loss.features(spec.load().to(images.device), s_layers)
        grams = {k: gram_matrix(feats[k]) for k in s_layers}
        out = stylize(model, images, s if n_styles > 1 else None)
        assert isinstance(out, torch.Tensor)
        stylized.append(style_loss_of(loss, out, grams))
        plain.append(style_loss_of(loss, images, grams))
    return {"stylized": torch.stack(stylized), "content": torch.stack(plain)}

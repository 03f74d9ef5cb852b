"""Neural style transfer (Gatys, Ecker & Bethge 2016) on any backbone.

The output image is optimized so that its features at the content layers match the content
image's, and the Gram matrices of its features at the style layers match the style image's
(several style images may be blended). Losses are normalized per layer
(:class:`~attribkit.style.losses.PerceptualLoss`), so one set of weights works across
backbones; the input is reflect-padded so that the network's zero padding draws no frame. The
optimization runs through the shared loop :func:`attribkit.optvis.optimize` (L-BFGS or Adam),
with the network cut after the deepest layer used.

Offline default (EfficientNet-Lite0): style from the stem activation (the stem batch-norm
output ``_bn0`` passed through ReLU6 — the model's ``_swish`` module is shared with the head,
so it is not hooked) and the outputs of ``_blocks.0, 2, 4, 7, 10``; content from
``_blocks.4``. For VGG (``relu1_1`` … names): style ``relu1_1, relu2_1, relu3_1, relu4_1,
relu5_1``, content ``relu4_2``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import check_image_batch
from attribkit.layers.hooks import LayerRef, layer_name
from attribkit.optvis.loop import Callback, OptimizationResult, OptimizerSpec, optimize
from attribkit.optvis.objectives import Objective, ObjectiveContext
from attribkit.optvis.param import PixelImage
from attribkit.style.color import (
    luminance,
    match_color,
    match_histograms,
    match_luminance,
    transfer_chrominance,
)
from attribkit.style.losses import PerceptualLoss, total_variation

__all__ = ["StyleTransfer", "StyleResult", "default_style_layers"]

LayerFns = Mapping[str, Callable[[torch.Tensor], torch.Tensor]]

_EFFICIENTNET_STYLE = ("_bn0", "_blocks.0", "_blocks.2", "_blocks.4", "_blocks.7", "_blocks.10")
_EFFICIENTNET_CONTENT = ("_blocks.4",)
_VGG_STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
_VGG_CONTENT = ("relu4_2",)
_COLOR_MODES = (None, "luminance", "histogram", "linear")


def default_style_layers(
    model: nn.Module,
) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, Callable[[torch.Tensor], torch.Tensor]]]:
    """Content layers, style layers and layer functions that work well on ``model``.

    Recognized by their layer names: EfficientNet-style (``_bn0``, ``_blocks.N``) and VGG
    (``relu1_1`` … ``relu5_1``). Other backbones need explicit layers.

    Returns:
        ``(content_layers, style_layers, layer_fns)``; ``layer_fns`` maps ``"_bn0"`` to ReLU6
        for EfficientNet (the stem activation).

    Raises:
        ValueError: the backbone is not recognized.

    Examples:
        >>> from attribkit.models import vgg19
        >>> default_style_layers(vgg19())[0]
        ('relu4_2',)
    """
    names = {n for n, _ in model.named_modules()}
    if set(_EFFICIENTNET_STYLE) <= names:
        return _EFFICIENTNET_CONTENT, _EFFICIENTNET_STYLE, {"_bn0": F.relu6}
    if set(_VGG_STYLE + _VGG_CONTENT) <= names:
        return _VGG_CONTENT, _VGG_STYLE, {}
    raise ValueError(
        f"no default style/content layers for {model.__class__.__name__}; pass content_layers "
        "and style_layers (dotted names from model.named_modules())"
    )


@dataclass
class StyleResult:
    """Images and final losses of a style transfer or texture synthesis.

    Attributes:
        images: ``N×C×H×W`` in [0, 1].
        content_loss: per-image weighted content loss at the end, ``(N,)``.
        style_loss: per-image weighted style (Gram) loss at the end, ``(N,)``.
        tv_loss: per-image weighted total-variation term, ``(N,)``.
        seconds: wall time of the optimization.
        steps: optimizer steps run.
        history: ``steps × N`` total losses (lower is better).
        snapshots: images at the requested steps.
    """

    images: torch.Tensor
    content_loss: torch.Tensor
    style_loss: torch.Tensor
    tv_loss: torch.Tensor
    seconds: float
    steps: int
    history: torch.Tensor
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)

    def save(self, path: str | Path) -> Path:
        """Save the images as one row (a PNG) and return the path."""
        from attribkit.io import save_image
        from attribkit.viz import make_grid

        return save_image(make_grid(self.images, nrow=len(self.images)), path)


def _as_rgb(x: torch.Tensor, name: str) -> torch.Tensor:
    check_image_batch(x, name, unit_range=True)
    if x.shape[1] == 1:
        return x.expand(-1, 3, -1, -1)
    if x.shape[1] != 3:
        raise ValueError(
            f"{name} has {x.shape[1]} channels; give RGB (3) or grayscale (1) images "
            "(drop an alpha channel with x[:, :3])"
        )
    return x


def _check_weight(name: str, v: float) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
        raise ValueError(f"{name} must be a non-negative number, got {v!r}")
    return float(v)


def _perceptual_objective(
    loss: PerceptualLoss, name: str, fold: int = 1, tv_weight: float = 0.0
) -> Objective:
    """Score = −loss over the layers the loop captured.

    With ``fold > 1`` the model saw ``fold`` versions of each image stacked along the batch
    (phase-shifted crops); their losses are averaged and ``tv_weight`` × TV of the image added.
    """

    def fn(ctx: ObjectiveContext) -> torch.Tensor:
        if fold == 1:
            return -loss.terms(ctx.acts, ctx.image).total
        total = loss.terms(ctx.acts, ctx.input).total.view(fold, -1).mean(0)
        if tv_weight:
            total = total + tv_weight * total_variation(ctx.image)
        return -total

    return Objective(fn, layers=tuple(loss.layers), name=name)


def _history(res: OptimizationResult) -> torch.Tensor:
    return -res.history


class StyleTransfer:
    """Gatys-style neural style transfer on any backbone.

    Args:
        model: backbone taking images in [0, 1].
        content_layers: layers whose features the output shares with the content image
            (default: see :func:`default_style_layers`).
        style_layers: layers whose Gram matrices the output shares with the style image(s).
        layer_weights: weight per layer name (default ``1 / number of layers`` of its kind).
        layer_fns: function applied to a layer's output before its loss (default: ReLU6 on
            EfficientNet's ``_bn0``, i.e. the stem activation).
        pad: reflect padding in pixels before the network (0 disables).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        >>> st = StyleTransfer(net, content_layers=["1"], style_layers=["0", "1"], pad=2)
        >>> out = st.transfer(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), steps=3,
        ...                   show_progress=False, seed=0)
        >>> out.shape
        torch.Size([1, 3, 16, 16])
    """

    def __init__(
        self,
        model: nn.Module,
        content_layers: Sequence[LayerRef] | None = None,
        style_layers: Sequence[LayerRef] | None = None,
        *,
        layer_weights: Mapping[str, float] | None = None,
        layer_fns: LayerFns | None = None,
        pad: int = 16,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        if content_layers is None or style_layers is None or layer_fns is None:
            try:
                dc, ds, dfns = default_style_layers(model)
            except ValueError:
                if content_layers is None or style_layers is None:
                    raise
                dc, ds, dfns = (), (), {}
            content_layers = dc if content_layers is None else content_layers
            style_layers = ds if style_layers is None else style_layers
            if layer_fns is None:
                used = {layer_name(model, x) for x in [*content_layers, *style_layers]}
                layer_fns = {k: f for k, f in dfns.items() if k in used}
        for what, layers in (("content_layers", content_layers), ("style_layers", style_layers)):
            if isinstance(layers, (str, nn.Module)):
                raise TypeError(f"{what} must be a sequence of layers, e.g. [{layers!r}]")
        self.model = model
        self.content_layers = [layer_name(model, x) for x in content_layers]
        self.style_layers = [layer_name(model, x) for x in style_layers]
        if not self.style_layers:
            raise ValueError("style transfer needs at least one style layer")
        self.layer_weights = dict(layer_weights or {})
        self.layer_fns = dict(layer_fns or {})
        if not isinstance(pad, int) or pad < 0:
            raise ValueError(f"pad must be a non-negative int, got {pad!r}")
        self.pad = pad
        self.last_result: StyleResult | None = None
        # fail early on bad layer_weights / layer_fns names
        self._loss(1.0, 1.0, 0.0)

    def _loss(self, content_weight: float, style_weight: float, tv_weight: float) -> PerceptualLoss:
        return PerceptualLoss(
            self.model,
            self.content_layers,
            self.style_layers,
            content_weight=content_weight,
            style_weight=style_weight,
            tv_weight=tv_weight,
            layer_weights=self.layer_weights,
            pad=self.pad,
            layer_fns=self.layer_fns,
        )

    def transfer(
        self,
        content: torch.Tensor,
        style: torch.Tensor | Sequence[torch.Tensor],
        *,
        content_weight: float = 1.0,
        style_weight: float = 100.0,
        tv_weight: float = 10.0,
        style_weights: Sequence[float] | None = None,
        style_scale: float = 1.0,
        init: str | torch.Tensor = "content",
        optimizer: OptimizerSpec = "lbfgs",
        steps: int = 300,
        lr: float | None = None,
        preserve_color: str | None = None,
        seed: int | None = None,
        callbacks: Sequence[Callback] = (),
        snapshot_steps: Sequence[int] = (),
        show_progress: bool | None = None,
    ) -> torch.Tensor:
        """Render ``content`` in the style of ``style``.

        Args:
            content: ``N×3×H×W`` in [0, 1] (each image is stylized; grayscale is expanded).
            style: a ``1×3×h×w`` image, or a list of images (any sizes) blended with
                ``style_weights``.
            content_weight: weight of the (normalized) content loss.
            style_weight: weight of the (normalized) Gram loss; ``0`` keeps only the content.
            tv_weight: weight of the total-variation smoothness term.
            style_weights: blend weights, one per style image (normalized to sum to 1).
            style_scale: resize the style image(s) by this factor before taking Gram
                matrices (larger → larger brush strokes).
            init: ``"content"``, ``"noise"`` (uniform, from ``seed``) or a ``[0, 1]`` tensor.
            optimizer: ``"lbfgs"`` (default), ``"adam"`` (``lr`` ≈ 0.02), or any spec
                accepted by :func:`attribkit.optvis.optimize`.
            steps: optimizer steps.
            lr: learning rate (``None``: the optimizer's default).
            preserve_color: ``None``; ``"luminance"`` (transfer on luminance only, colours
                of the content kept); ``"histogram"`` (the style image's colour histograms
                are first matched to the content's); ``"linear"`` (mean/covariance match).
            seed: seed for the noise start and the loop.
            callbacks: ``cb(step, state)`` after each step (see
                :class:`~attribkit.optvis.OptimizationState`).
            snapshot_steps: steps at which to keep the images (in ``last_result``).
            show_progress: show a progress bar.

        Returns:
            ``N×3×H×W`` stylized images in [0, 1]. Final losses and history are in
            :attr:`last_result`.

        Raises:
            ValueError: images of the wrong shape or channels, no positive weight,
                unknown ``preserve_color`` or ``init``.
        """
        content = _as_rgb(content, "content")
        styles = [style] if isinstance(style, torch.Tensor) else list(style)
        if not styles:
            raise ValueError("give at least one style image")
        styles = [_as_rgb(s, f"style[{i}]") for i, s in enumerate(styles)]
        cw = _check_weight("content_weight", content_weight)
        sw = _check_weight("style_weight", style_weight)
        tw = _check_weight("tv_weight", tv_weight)
        if sw == 0 and (cw == 0 or not self.content_layers):
            raise ValueError(
                "style_weight is 0 and there is no content term: nothing to optimize; "
                "give a positive style_weight or a content_weight with content layers"
            )
        if not (isinstance(style_scale, (int, float)) and style_scale > 0):
            raise ValueError(f"style_scale must be positive, got {style_scale!r}")
        if preserve_color not in _COLOR_MODES:
            raise ValueError(
                f"preserve_color must be one of {_COLOR_MODES}, got {preserve_color!r}"
            )
        original = content
        if preserve_color == "luminance":
            content = luminance(content)
            styles = [match_luminance(s, original) for s in styles]
        elif preserve_color in ("histogram", "linear"):
            match = match_histograms if preserve_color == "histogram" else match_color
            styles = [
                torch.cat([match(s[i : i + 1], original[:1]) for i in range(len(s))])
                for s in styles
            ]

        start_image = self._start(init, content, seed)
        loss = self._loss(cw, sw, tw)
        ref = next(iter(self.model.parameters()), None)
        if ref is not None:
            content = content.to(device=ref.device, dtype=ref.dtype)
            styles = [s.to(device=ref.device, dtype=ref.dtype) for s in styles]
            start_image = start_image.to(device=ref.device, dtype=ref.dtype)
        loss.set_content(content)
        loss.set_style(styles, weights=style_weights, scale=float(style_scale))
        param = PixelImage(tuple(content.shape), init=start_image, squash="clamp")
        t0 = time.perf_counter()
        res = optimize(
            self.model,
            _perceptual_objective(loss, "style transfer"),
            param,
            transforms=lambda x, _g: loss.pad_input(x),
            steps=steps,
            optimizer=optimizer,
            lr=lr,
            callbacks=callbacks,
            snapshot_steps=snapshot_steps,
            show_progress=show_progress,
            seed=seed,
            desc="style transfer",
        )
        images = res.images.detach()
        with torch.no_grad():
            terms = loss(images)
        if preserve_color == "luminance":
            images = transfer_chrominance(images, original.to(images))
        self.last_result = StyleResult(
            images=images,
            content_loss=terms.content.detach(),
            style_loss=terms.style.detach(),
            tv_loss=terms.tv.detach(),
            seconds=time.perf_counter() - t0,
            steps=res.steps_run,
            history=_history(res),
            snapshots=res.snapshots,
        )
        return images

    @staticmethod
    def _start(init: str | torch.Tensor, content: torch.Tensor, seed: int | None) -> torch.Tensor:
        if isinstance(init, torch.Tensor):
            check_image_batch(init, "init", unit_range=True)
            if init.shape[-2:] != content.shape[-2:]:
                raise ValueError(
                    f"init is {tuple(init.shape[-2:])} but the content is "
                    f"{tuple(content.shape[-2:])}; give an image of the content's size"
                )
            return _as_rgb(init, "init").expand_as(content).detach().clone()
        if init == "content":
            return content.detach().clone()
        if init == "noise":
            g = torch.Generator().manual_seed(0 if seed is None else seed)
            return torch.rand(content.shape, generator=g, dtype=torch.float64).to(content)
        raise ValueError(f"init must be 'content', 'noise' or an image tensor, got {init!r}")

"""Neural style transfer (Gatys, Ecker & Bethge 2016) on any backbone.

The output image is optimized so that its features at the content layers match the content
image's, and the Gram matrices of its features at the style layers match the style image's
(several style images may be blended). Losses are normalized per layer
(:class:`~attribkit.style.losses.PerceptualLoss`), so one set of weights works across
backbones; the input is reflect-padded so that the network's zero padding draws no frame. The
optimization runs on the shared base :class:`~attribkit.optvis.ImageSynthesis` (L-BFGS by
default), with the network cut after the deepest layer used.

Default layers come from the backbone table (:data:`attribkit.models.BACKBONES`): on
EfficientNet-Lite0, style from the stem activation (``stem_act``) and the outputs of
``_blocks.0, 2, 4, 7, 10``, content from ``_blocks.4``; on VGG, style ``relu1_1 … relu5_1``,
content ``relu4_2``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from attribkit._checks import check_image_batch, check_non_negative_number, check_positive_number
from attribkit.layers.hooks import LayerRef
from attribkit.models.backbones import default_layers
from attribkit.optvis import (
    ImageSynthesis,
    OptimizationResult,
    Problem,
    SynthesisResult,
)
from attribkit.optvis.synthesis import RunOptions
from attribkit.style.color import (
    luminance,
    match_color,
    match_histograms,
    match_luminance,
    transfer_chrominance,
)
from attribkit.style.losses import PerceptualLoss

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from attribkit.optvis import SynthesisOptions

__all__ = ["StyleTransfer", "as_rgb"]

_COLOR_MODES = (None, "luminance", "histogram", "linear")


def as_rgb(x: object, name: str) -> torch.Tensor:
    """Check an ``N×C×H×W`` image batch in [0, 1] and return it with 3 channels (grey is
    expanded; other channel counts are refused).

    Examples:
        >>> import torch
        >>> as_rgb(torch.rand(1, 1, 4, 4), "image").shape
        torch.Size([1, 3, 4, 4])
    """
    x = check_image_batch(x, name, unit_range=True)
    if x.shape[1] == 1:
        return x.expand(-1, 3, -1, -1)
    if x.shape[1] != 3:
        raise ValueError(
            f"{name} has {x.shape[1]} channels; give RGB (3) or grayscale (1) images "
            "(drop an alpha channel with x[:, :3])"
        )
    return x


@dataclass
class _Request:
    loss: PerceptualLoss
    content: torch.Tensor
    original: torch.Tensor
    start: torch.Tensor
    preserve_color: str | None


class StyleTransfer(ImageSynthesis[_Request]):
    """Gatys-style neural style transfer on any backbone.

    Args:
        model: backbone taking images in [0, 1].
        content_layers: layers whose features the output shares with the content image
            (default: the backbone's ``content`` layers in :data:`attribkit.models.BACKBONES`).
        style_layers: layers whose Gram matrices the output shares with the style image(s)
            (default: the backbone's ``style`` layers).
        layer_weights: weight per layer name (default ``1 / number of layers`` of its kind).
        pad: reflect padding in pixels before the network (0 disables).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        >>> st = StyleTransfer(net, content_layers=["1"], style_layers=["0", "1"], pad=2)
        >>> st.transfer(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), steps=3,
        ...             show_progress=False).shape
        torch.Size([1, 3, 16, 16])
    """

    default_steps, default_optimizer = 300, "lbfgs"

    def __init__(
        self,
        model: nn.Module,
        content_layers: Sequence[LayerRef] | None = None,
        style_layers: Sequence[LayerRef] | None = None,
        *,
        layer_weights: Mapping[str, float] | None = None,
        pad: int = 16,
    ) -> None:
        super().__init__(model)
        if content_layers is None:
            content_layers = default_layers(model, "content")
        if style_layers is None:
            style_layers = default_layers(model, "style")
        self.content_layers = self._layers(content_layers, "content_layers")
        self.style_layers = self._layers(style_layers, "style_layers")
        if not self.style_layers:
            raise ValueError("style transfer needs at least one style layer")
        self.layer_weights = dict(layer_weights or {})
        self.pad = pad
        self._loss(1.0, 1.0, 0.0)  # fail early on bad layer_weights or pad

    transfer = ImageSynthesis.images
    """The verb: ``run(...).images`` with the same arguments as :meth:`run`, ``N×C×H×W`` in
    [0, 1]."""

    def run(
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
        preserve_color: str | None = None,
        **options: Unpack[SynthesisOptions],
    ) -> SynthesisResult:
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
            preserve_color: ``None``; ``"luminance"`` (transfer on luminance only, colours
                of the content kept); ``"histogram"`` (the style image's colour histograms
                are first matched to the content's); ``"linear"`` (mean/covariance match).
            **options: the common keywords (:class:`~attribkit.optvis.SynthesisOptions`); ``steps``
                default :attr:`default_steps` (300), ``optimizer`` L-BFGS (Adam wants ``lr`` about
                0.02).

        Returns:
            A :class:`~attribkit.optvis.SynthesisResult`; ``extras``: the weighted final
            loss terms per image, ``"content_loss"``, ``"style_loss"`` and ``"tv_loss"``.

        Raises:
            ValueError: images of the wrong shape or channels, no positive weight,
                unknown ``preserve_color`` or ``init``.
        """
        run_options = self._options(options)
        content = self._to_model(as_rgb(content, "content"))
        styles = [style] if isinstance(style, torch.Tensor) else list(style)
        if not styles:
            raise ValueError("give at least one style image")
        styles = [self._to_model(as_rgb(s, f"style[{i}]")) for i, s in enumerate(styles)]
        cw = check_non_negative_number(content_weight, "content_weight")
        sw = check_non_negative_number(style_weight, "style_weight")
        tw = check_non_negative_number(tv_weight, "tv_weight")
        if sw == 0 and (cw == 0 or not self.content_layers):
            raise ValueError(
                "style_weight is 0 and there is no content term: nothing to optimize; "
                "give a positive style_weight or a content_weight with content layers"
            )
        scale = check_positive_number(style_scale, "style_scale")
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
        start = self._start_image(init, content, run_options.seed)
        loss = self._loss(cw, sw, tw)
        loss.set_content(content)
        loss.set_style(styles, weights=style_weights, scale=scale)
        request = _Request(loss, content, original, start, preserve_color)
        return self._synthesize(request, run_options)

    def _start_image(self, init: object, content: torch.Tensor, seed: int) -> torch.Tensor:
        if isinstance(init, torch.Tensor):
            init = as_rgb(init, "init")
            if init.shape[-2:] != content.shape[-2:]:
                raise ValueError(
                    f"init is {tuple(init.shape[-2:])} but the content is "
                    f"{tuple(content.shape[-2:])}; give an image of the content's size"
                )
            return self._start(init, content.shape, seed)
        if init == "content":
            return content.clone()
        if init == "noise":
            return self._start(None, content.shape, seed, noise="uniform", scale=1.0)
        raise ValueError(f"init must be 'content', 'noise' or an image tensor, got {init!r}")

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
        )

    def _stages(
        self, request: _Request, options: RunOptions, done: list[OptimizationResult]
    ) -> Iterator[Problem]:
        loss = request.loss
        yield Problem(
            loss.objective(name="style transfer"),
            self._pixels(request.start),
            transforms=lambda x, _g: loss.pad_input(x),
            desc="style transfer",
        )

    def _finish(
        self, request: _Request, runs: list[OptimizationResult]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        images = runs[-1].images
        terms = request.loss(images)
        if request.preserve_color == "luminance":
            images = transfer_chrominance(images, request.original)
        extras = {"content_loss": terms.content, "style_loss": terms.style, "tv_loss": terms.tv}
        return images, extras

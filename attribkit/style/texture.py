"""Neural texture synthesis: match Gram matrices of a texture over several layers (Gatys 2015).

An image starting from noise is optimized (through :func:`attribkit.optvis.optimize`) so that
the Gram matrices of its features at the chosen layers match the texture's. The output size is
free: Gram matrices are averaged over positions, so they do not depend on the image size.

On backbones whose first convolution has stride 2 (EfficientNet-Lite0), the image's odd pixels
are seen only through neighbours and the synthesis comes out speckled. With ``shift=1`` (the
default) the Gram matrices of the image shifted by one pixel diagonally are matched too, which
constrains both pixel phases and removes the speckle at twice the cost per step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from attribkit._checks import (
    check_image_batch,
    check_non_negative_number,
    check_positive_int,
    check_size,
)
from attribkit.layers.hooks import LayerRef
from attribkit.models.backbones import default_layers
from attribkit.optvis import ImageSynthesis, OptimizationResult, Problem, SynthesisResult
from attribkit.optvis.synthesis import RunOptions
from attribkit.style.losses import PerceptualLoss

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from attribkit.optvis import SynthesisOptions

__all__ = ["TextureSynthesis", "texture_layer_sweep", "is_grayscale"]


def is_grayscale(image: torch.Tensor, tol: float = 2.0 / 255) -> bool:
    """True when ``image`` has one channel, or three channels equal within ``tol``.

    Examples:
        >>> import torch
        >>> is_grayscale(torch.rand(1, 1, 4, 4).expand(-1, 3, -1, -1))
        True
    """
    check_image_batch(image, "image")
    if image.shape[1] == 1:
        return True
    if image.shape[1] != 3:
        return False
    return bool((image - image.mean(1, keepdim=True)).abs().max() <= tol)


def _phase_crops(x: torch.Tensor, shift: int) -> torch.Tensor:
    """Stack ``x`` cropped at offset 0 and at offset ``shift`` (both diagonally)."""
    if not shift:
        return x
    return torch.cat([x[..., :-shift, :-shift], x[..., shift:, shift:]])


@dataclass
class _Request:
    loss: PerceptualLoss
    size: tuple[int, int]
    n: int
    gray: bool
    tv_weight: float
    init: torch.Tensor | None


class TextureSynthesis(ImageSynthesis[_Request]):
    """Synthesize textures by Gram-matrix matching over any backbone's layers.

    Args:
        model: backbone taking images in [0, 1].
        layers: layers whose Gram matrices are matched (default: the backbone's ``style``
            layers in :data:`attribkit.models.BACKBONES`).
        layer_weights: weight per layer (default ``1 / len(layers)`` each).
        pad: reflect padding before the network.
        shift: also match the Gram matrices of the image shifted by this many pixels
            (0 disables; 1 removes the speckle of stride-2 stems).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        >>> ts = TextureSynthesis(net, ["0", "1"], pad=0)
        >>> ts.synthesize(torch.rand(1, 3, 16, 16), (8, 12), steps=2, show_progress=False).shape
        torch.Size([1, 3, 8, 12])
    """

    default_steps, default_optimizer = 200, "lbfgs"

    def __init__(
        self,
        model: nn.Module,
        layers: Sequence[LayerRef] | None = None,
        *,
        layer_weights: Mapping[str, float] | None = None,
        pad: int = 16,
        shift: int = 1,
    ) -> None:
        super().__init__(model)
        self.layers = self._layers(
            default_layers(model, "style") if layers is None else layers, "layers"
        )
        if not self.layers:
            raise ValueError("texture synthesis needs at least one layer")
        if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
            raise ValueError(f"shift must be a non-negative int, got {shift!r}")
        self.shift, self.pad = shift, pad
        self.layer_weights = dict(layer_weights or {})
        self._loss()  # validate names, weights and pad early

    synthesize = ImageSynthesis.images
    """The verb: ``run(...).images`` with the same arguments as :meth:`run`, ``N×C×H×W`` in
    [0, 1]."""

    def run(
        self,
        texture: torch.Tensor,
        size: int | tuple[int, int] | None = None,
        *,
        n: int = 1,
        tv_weight: float = 0.0,
        grayscale: bool | None = None,
        init: torch.Tensor | None = None,
        **options: Unpack[SynthesisOptions],
    ) -> SynthesisResult:
        """Synthesize ``n`` textures of ``size`` that share ``texture``'s Gram matrices.

        Args:
            texture: ``1×C×h×w`` in [0, 1], ``C`` = 1 or 3.
            size: output ``(height, width)`` or an int (default: the texture's size).
            n: number of textures (different noise starts).
            tv_weight: optional total-variation smoothing.
            grayscale: optimize one channel shown as grey (default: when the texture is
                grayscale, see :func:`is_grayscale`).
            init: a ``[0, 1]`` start image of the output size (default: noise from ``seed``).
            **options: the common keywords (:class:`~attribkit.optvis.SynthesisOptions`); ``steps``
                default :attr:`default_steps` (200), ``optimizer`` L-BFGS (Adam wants ``lr`` about
                0.02).

        Returns:
            A :class:`~attribkit.optvis.SynthesisResult` with ``n×3×H×W`` textures;
            ``extras["style_loss"]``: the final normalized Gram loss per texture.
        """
        run_options = self._options(options)
        init = self._checked_init(init)
        texture = check_image_batch(texture, "texture", unit_range=True)
        if texture.shape[0] != 1:
            raise ValueError(f"give one texture (1×C×h×w), got a batch of {texture.shape[0]}")
        if texture.shape[1] not in (1, 3):
            raise ValueError(f"texture must have 1 or 3 channels, got {texture.shape[1]}")
        h, w = check_size(size) if size is not None else tuple(texture.shape[-2:])
        if min(h, w) <= 2 * self.shift or min(texture.shape[-2:]) <= 2 * self.shift:
            raise ValueError(f"size {h}×{w} is too small for shift={self.shift}")
        n = check_positive_int(n, "n")
        tw = check_non_negative_number(tv_weight, "tv_weight")
        if grayscale is not None and not isinstance(grayscale, bool):
            raise TypeError(f"grayscale must be True, False or None, got {grayscale!r}")
        gray = is_grayscale(texture) if grayscale is None else grayscale
        rgb = self._to_model(texture.expand(-1, 3, -1, -1) if texture.shape[1] == 1 else texture)
        if gray:
            rgb = rgb.mean(1, keepdim=True).expand(-1, 3, -1, -1)
        loss = self._loss()
        loss.set_style(_phase_crops(rgb, self.shift))  # the Gram target averages both phases
        if not self.shift and tw:
            loss.tv_weight = tw
        return self._synthesize(_Request(loss, (int(h), int(w)), n, gray, tw, init), run_options)

    def _loss(self) -> PerceptualLoss:
        return PerceptualLoss(
            self.model,
            [],
            self.layers,
            style_weight=1.0,
            layer_weights=self.layer_weights,
            pad=self.pad,
        )


    def _stages(
        self, request: _Request, options: RunOptions, done: list[OptimizationResult]
    ) -> Iterator[Problem]:
        loss, shift = request.loss, self.shift
        channels = 1 if request.gray else 3
        init = request.init
        if init is not None and request.gray:
            init = check_image_batch(init, "init", unit_range=True).mean(1, keepdim=True)
        shape = (request.n, channels, *request.size)
        start = self._start(init, shape, options.seed, noise="uniform", scale=0.2)

        def transforms(x: torch.Tensor, _g: torch.Generator) -> torch.Tensor:
            if x.shape[1] == 1:
                x = x.expand(-1, 3, -1, -1)
            return loss.pad_input(_phase_crops(x, shift))

        fold = 2 if shift else 1
        yield Problem(
            loss.objective(fold=fold, tv_weight=request.tv_weight if fold > 1 else 0.0),
            self._pixels(start),
            transforms=transforms,
            desc="texture",
        )

    def _finish(
        self, request: _Request, runs: list[OptimizationResult]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        images = runs[-1].images
        if request.gray:
            images = images.expand(-1, 3, -1, -1).contiguous()
        crops = _phase_crops(images, self.shift)
        loss = request.loss
        style = loss.terms(loss.features(crops, loss.layers), crops).style
        fold = 2 if self.shift else 1
        return images, {"style_loss": style.view(fold, -1).mean(0)}


def texture_layer_sweep(
    model: nn.Module,
    texture: torch.Tensor,
    layer_sets: Sequence[Sequence[LayerRef]] | None = None,
    size: int | tuple[int, int] | None = None,
    *,
    pad: int = 16,
    shift: int = 1,
    **kwargs: Any,
) -> tuple[torch.Tensor, list[list[str]], list[float]]:
    """The lecture's figure: textures from Gram matrices of progressively deeper layer sets.

    Args:
        model: backbone.
        texture: ``1×C×h×w`` texture.
        layer_sets: one list of layers per picture (default: the growing prefixes of the
            backbone's style layers).
        size: output size.
        pad: reflect padding (see :class:`TextureSynthesis`).
        shift: phase shift (see :class:`TextureSynthesis`).
        **kwargs: the keywords of :meth:`TextureSynthesis.run` (``steps``, ``seed`` — the same
            noise start for every set, so they differ only by the layers —, …).

    Returns:
        ``(images L×3×H×W, layer names per picture, final Gram loss per picture)``.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3))
        >>> imgs, sets, losses = texture_layer_sweep(net, torch.rand(1, 3, 12, 12),
        ...     [["1"], ["1", "2"]], steps=2, show_progress=False)
        >>> imgs.shape[0], sets
        (2, [['1'], ['1', '2']])
    """
    if layer_sets is None:
        style_layers = default_layers(model, "style")
        layer_sets = [list(style_layers[: i + 1]) for i in range(len(style_layers))]
    if isinstance(layer_sets, (str, nn.Module)) or not layer_sets:
        raise ValueError("give at least one layer set, e.g. [['_blocks.0'], ['_blocks.0', ...]]")
    images, names, losses = [], [], []
    for layers in layer_sets:
        ts = TextureSynthesis(model, layers, pad=pad, shift=shift)
        res = ts.run(texture, size, **kwargs)
        images.append(res.images)
        names.append(ts.layers)
        losses.append(float(res.extras["style_loss"].mean()))
    return torch.cat(images), names, losses

"""Feature inversion (Mahendran & Vedaldi 2015): which image has these features?

Starting from grey noise, an image is optimized so that its features at one layer match a
target's, normalized per layer (``‖Φ(x) − Φ₀‖² / ‖Φ₀‖²``), plus a total-variation prior
``λ_TV · TV(x)`` whose weight grows with the layer's stride, and an optional α-norm prior
``λ_α · mean(|2x − 1|^α)`` that keeps pixels in a natural range. Shallow layers give the image
back almost exactly; deeper ones keep the layout and the parts that matter to the class, and
lose colour and detail. :func:`inversion_sweep` runs the lecture's figure and reports the PSNR
against the original for each layer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from attribkit._checks import (
    check_feature_map,
    check_image_batch,
    check_non_negative_number,
    check_positive_number,
    check_size,
)
from attribkit.layers.hooks import LayerRef, forward_to, layer_name
from attribkit.layers.state import frozen
from attribkit.models.backbones import default_layers
from attribkit.optvis.distances import alpha_norm, feature_loss, psnr, total_variation
from attribkit.optvis.loop import OptimizationResult
from attribkit.optvis.objectives import Objective, ObjectiveContext
from attribkit.optvis.synthesis import ImageSynthesis, Problem, RunOptions, SynthesisResult

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from attribkit.optvis.synthesis import SynthesisOptions

__all__ = [
    "FeatureInversion",
    "InversionSweep",
    "inversion_sweep",
    "psnr",
    "default_tv_weight",
    "inversion_defaults",
    "INVERSION_DEFAULTS",
]


#: Defaults by the inverted layer's stride (its downsampling factor): ``(TV weight, Adam lr)``,
#: measured on EfficientNet-Lite0 at 224 px with 400 steps (docs/perf/style.md). A shallow layer
#: pins the image down: a light prior and small steps let Adam converge (the stem went from
#: 33.3 dB with TV 3 and lr 0.05 to 41 dB). A deep layer constrains it little: the prior must
#: carry the picture, and larger steps explore.
INVERSION_DEFAULTS: dict[int, tuple[float, float]] = {
    1: (0.3, 0.01),
    2: (0.3, 0.01),
    4: (6.0, 0.02),
    8: (24.0, 0.05),
    16: (64.0, 0.05),
    32: (400.0, 0.02),
}


def inversion_defaults(stride: float) -> tuple[float, float]:
    """``(tv_weight, lr)`` for a layer of this stride: the entry of :data:`INVERSION_DEFAULTS`
    at the nearest power of two (strides beyond 32 take 32's).

    Examples:
        >>> inversion_defaults(4), inversion_defaults(28)
        ((6.0, 0.02), (400.0, 0.02))
    """
    s = max(float(stride), 1.0)
    key = min(INVERSION_DEFAULTS, key=lambda k: abs(math.log2(k) - math.log2(s)))
    return INVERSION_DEFAULTS[key]


def default_tv_weight(stride: float) -> float:
    """The TV weight for a layer of this stride: it grows with the stride, since deeper layers
    constrain the image less and the prior must carry more of the picture.

    Examples:
        >>> default_tv_weight(2), default_tv_weight(16)
        (0.3, 64.0)
    """
    return inversion_defaults(stride)[0]


@dataclass(frozen=True)
class _Request:
    target: torch.Tensor
    original: torch.Tensor | None
    size: tuple[int, int]
    tv_weight: float
    tv_beta: float
    alpha: float
    alpha_weight: float
    init: torch.Tensor | None
    lr: float


class FeatureInversion(ImageSynthesis[_Request]):
    """Reconstruct images from one layer's features.

    Args:
        model: the network (images in [0, 1]).
        layer: the layer to invert (dotted name or module).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        >>> inv = FeatureInversion(net, "1")
        >>> inv.invert(torch.rand(1, 3, 12, 12), steps=3, show_progress=False).shape
        torch.Size([1, 3, 12, 12])
        >>> inv.run(torch.rand(1, 3, 12, 12), steps=3, show_progress=False).extras["psnr"].shape
        torch.Size([1])
    """

    default_steps, default_optimizer = 400, "adam"

    def __init__(self, model: nn.Module, layer: LayerRef) -> None:
        super().__init__(model)
        self.layer = self._layer(layer)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The features of ``images`` at the layer, detached; the model is left untouched."""
        images = check_image_batch(images, "images", channels=3)
        with torch.no_grad(), frozen(self.model):
            return forward_to(self.model, self._to_model(images), [self.layer], detach=True)[
                self.layer
            ]

    invert = ImageSynthesis.images
    """The verb: ``run(...).images`` with the same arguments as :meth:`run`, ``N×C×H×W`` in
    [0, 1]."""

    def run(
        self,
        target: torch.Tensor,
        *,
        size: int | tuple[int, int] | None = None,
        tv_weight: float | None = None,
        tv_beta: float = 2.0,
        alpha: float = 6.0,
        alpha_weight: float = 0.0,
        init: torch.Tensor | None = None,
        **options: Unpack[SynthesisOptions],
    ) -> SynthesisResult:
        """Find images whose features at the layer match ``target``'s.

        Args:
            target: ``N×3×H×W`` images in [0, 1] (when ``size`` is ``None``), or the layer's
                ``N×C×h×w`` features (then ``size`` gives the image size).
            size: image ``(height, width)`` or int — only when inverting features.
            tv_weight: weight of the total-variation prior (default: grows with the layer's
                stride, see :func:`default_tv_weight`).
            tv_beta: exponent of the TV prior (2 smooth; 1 preserves edges).
            alpha: exponent of the α-norm prior (Mahendran & Vedaldi use 6).
            alpha_weight: weight of the α-norm prior (0 disables).
            init: start image (default: grey plus small noise from ``seed``).
            **options: the common keywords (:class:`~attribkit.optvis.SynthesisOptions`); ``steps``
                default :attr:`default_steps` (400), ``optimizer`` Adam with ``lr`` by the layer's
                stride (:func:`inversion_defaults`).

        Returns:
            A :class:`~attribkit.optvis.synthesis.SynthesisResult`; ``extras``:
            ``"feature_loss"`` (normalized feature distance at the end, ``(N,)``), ``"psnr"``
            (against the original, ``None`` when inverting features) and ``"tv_weight"``.

        Raises:
            ValueError: features without ``size``, features of the wrong shape for the
                layer, negative or non-finite weights.
        """
        run_options = self._options(options)
        init = self._checked_init(init)
        tvw = None if tv_weight is None else check_non_negative_number(tv_weight, "tv_weight")
        beta = check_positive_number(tv_beta, "tv_beta")
        a = check_positive_number(alpha, "alpha")
        aw = check_non_negative_number(alpha_weight, "alpha_weight")
        original: torch.Tensor | None = None
        if size is None:
            target = check_image_batch(target, "target", unit_range=True)
            if target.shape[1] != 3:
                raise ValueError(
                    f"got a {target.shape[1]}-channel tensor and no size: pass an RGB image, "
                    "or the layer's features together with size=(H, W)"
                )
            original = self._to_model(target)
            feats = self.features(original)
            hw = (int(target.shape[2]), int(target.shape[3]))
        else:
            check_feature_map(target, "target features")
            if not bool(torch.isfinite(target).all()):
                raise ValueError("target features contain NaN or infinite values")
            hw = check_size(size)
            feats = self._to_model(target)
        probe = self.features(torch.zeros(1, 3, *hw, dtype=self.dtype, device=self.device))
        if probe.shape[1:] != feats.shape[1:]:
            raise ValueError(
                f"features of shape {tuple(feats.shape[1:])} do not match layer "
                f"{self.layer!r} at {hw[0]}×{hw[1]}, which gives {tuple(probe.shape[1:])}"
            )
        stride = math.sqrt((hw[0] * hw[1]) / max(probe.shape[-1] * probe.shape[-2], 1))
        default_tv, lr = inversion_defaults(stride)
        tvw = default_tv if tvw is None else tvw
        request = _Request(feats, original, hw, tvw, beta, a, aw, init, lr)
        return self._synthesize(request, run_options)

    def _stages(
        self, request: _Request, options: RunOptions, done: list[OptimizationResult]
    ) -> Iterator[Problem]:
        n = request.target.shape[0]
        start = self._start(request.init, (n, 3, *request.size), options.seed)
        layer, target, r = self.layer, request.target, request

        def score(ctx: ObjectiveContext) -> torch.Tensor:
            loss = feature_loss(ctx.acts[layer], target)
            if r.tv_weight:
                loss = loss + r.tv_weight * total_variation(ctx.image, r.tv_beta)
            if r.alpha_weight:
                loss = loss + r.alpha_weight * alpha_norm(ctx.image, r.alpha)
            return -loss

        yield Problem(
            Objective(score, layers=(layer,), name=f"invert {layer}"),
            self._pixels(start),
            lr=request.lr,
            desc=f"invert {layer}",
        )

    def _finish(
        self, request: _Request, runs: list[OptimizationResult]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        images = runs[-1].images
        extras: dict[str, Any] = {
            "feature_loss": feature_loss(self.features(images), request.target),
            "psnr": None if request.original is None else psnr(images, request.original),
            "tv_weight": request.tv_weight,
        }
        return images, extras


@dataclass
class InversionSweep:
    """One image inverted from a series of layers (the lecture's row of pictures).

    Attributes:
        original: the image, ``1×3×H×W``.
        layers: the layers, shallow to deep.
        images: reconstructions, ``L×3×H×W``.
        psnr: dB against the original, per layer.
        tv_weights: TV weight used per layer.
        seconds: time per layer.
    """

    original: torch.Tensor
    layers: list[str]
    images: torch.Tensor
    psnr: list[float]
    tv_weights: list[float]
    seconds: list[float]

    def grid(self, size: int | None = None) -> torch.Tensor:
        """The original then each reconstruction, labelled with layer and PSNR (``3×H×W``)."""
        from attribkit.viz import label, make_grid

        tiles = [label(self.original[0], "original")]
        tiles += [
            label(img, f"{name} {p:.1f} dB")
            for img, name, p in zip(self.images, self.layers, self.psnr)
        ]
        return make_grid(tiles, nrow=len(tiles), size=size)

    def save(self, path: str | Path, size: int | None = None) -> Path:
        """Save :meth:`grid` as a PNG."""
        from attribkit.io import save_image

        return save_image(self.grid(size), path)


def inversion_sweep(
    model: nn.Module,
    image: torch.Tensor,
    layers: Sequence[LayerRef] | None = None,
    *,
    tv_weights: Sequence[float] | None = None,
    **kwargs: Any,
) -> InversionSweep:
    """Invert one image from each of ``layers`` (shallow to deep) and measure PSNR.

    Args:
        model: the network.
        image: ``1×3×H×W`` in [0, 1].
        layers: layers to invert from (default: the model's inversion sweep in
            :data:`attribkit.models.BACKBONES`).
        tv_weights: one TV weight per layer (default: :func:`default_tv_weight` of its stride).
        **kwargs: the keywords of :meth:`FeatureInversion.run` (``steps``, ``lr``, ``seed`` —
            the same noise start for every layer —, ``show_progress``, …).

    Returns:
        An :class:`InversionSweep` (``.grid()`` / ``.save(path)`` for the picture).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        >>> sw = inversion_sweep(net, torch.rand(1, 3, 8, 8), ["1", "2"], steps=2,
        ...                      show_progress=False)
        >>> len(sw.psnr), sw.images.shape
        (2, torch.Size([2, 3, 8, 8]))
    """
    image = check_image_batch(image, "image", channels=3, unit_range=True)
    if image.shape[0] != 1:
        raise ValueError("inversion_sweep takes one image (1×3×H×W)")
    if layers is None:
        layers = default_layers(model, "inversion")
    if isinstance(layers, (str, nn.Module)) or not layers:
        raise ValueError("layers must be a non-empty sequence of layers, e.g. ['_blocks.2']")
    if tv_weights is not None and len(tv_weights) != len(layers):
        raise ValueError(f"got {len(tv_weights)} tv_weights for {len(layers)} layers")
    for key in ("tv_weight", "size"):
        if key in kwargs:
            raise TypeError(f"inversion_sweep takes no {key!r}; use tv_weights=[...] per layer")
    names, images, scores, tvs, secs = [], [], [], [], []
    for i, layer in enumerate(layers):
        name = layer_name(model, layer)
        tw = None if tv_weights is None else tv_weights[i]
        res = FeatureInversion(model, name).run(image, tv_weight=tw, **kwargs)
        names.append(name)
        images.append(res.images)
        scores.append(float(res.extras["psnr"][0]))
        tvs.append(float(res.extras["tv_weight"]))
        secs.append(res.seconds)
    return InversionSweep(image.detach(), names, torch.cat(images), scores, tvs, secs)

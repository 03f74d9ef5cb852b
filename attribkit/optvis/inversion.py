"""Feature inversion (Mahendran & Vedaldi 2015): which image has these features?

Starting from noise, an image is optimized (through :func:`attribkit.optvis.optimize`) so that
its features at one layer match a target's, normalized per layer
(``‖Φ(x) − Φ₀‖² / ‖Φ₀‖²``), plus a total-variation prior ``λ_TV · TV(x)`` and an optional
α-norm prior ``λ_α · mean(|2x − 1|^α)`` that keeps pixels in a natural range. Shallow layers
give the image back almost exactly; deeper ones keep the layout and the parts that matter to
the class, and lose colour and detail. :func:`inversion_sweep` runs the lecture's figure and
reports the PSNR against the original for each layer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from attribkit._checks import check_image_batch
from attribkit.layers.hooks import LayerRef, forward_to, layer_name
from attribkit.layers.state import frozen
from attribkit.optvis.loop import Callback, OptimizationResult, OptimizerSpec, optimize
from attribkit.optvis.objectives import Objective, ObjectiveContext
from attribkit.optvis.param import PixelImage

__all__ = ["FeatureInversion", "InversionSweep", "inversion_sweep", "psnr", "default_tv_weight"]


def psnr(image: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB of ``[0, 1]`` images, per image ``(N,)``.

    Examples:
        >>> import torch
        >>> float(psnr(torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.1)))
        20.0
    """
    check_image_batch(image, "image")
    check_image_batch(reference, "reference")
    if image.shape[1:] != reference.shape[1:]:
        raise ValueError(f"shapes differ: {tuple(image.shape)} vs {tuple(reference.shape)}")
    mse = (image.detach() - reference.detach().to(image)).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-12))


def default_tv_weight(stride: float) -> float:
    """TV weight that grows with a layer's downsampling factor (``2e-3 · stride``).

    Deeper layers constrain the image less, so the prior must carry more of the picture.
    """
    return 1.5 * max(float(stride), 1.0)


def _alpha_norm(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return (2 * x - 1).abs().pow(alpha).flatten(1).mean(1)


@dataclass
class InversionResult:
    """Images reconstructed by :meth:`FeatureInversion.invert`, with their losses.

    Attributes:
        images: ``N×3×H×W`` in [0, 1].
        feature_loss: normalized feature distance at the end, ``(N,)``.
        psnr: against the original image (``None`` when inverting given features).
        tv_weight: the TV weight used.
        seconds: wall time.
        steps: steps run.
        history: ``steps × N`` total losses.
        snapshots: images at the requested steps.
    """

    images: torch.Tensor
    feature_loss: torch.Tensor
    psnr: torch.Tensor | None
    tv_weight: float
    seconds: float
    steps: int
    history: torch.Tensor
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)


class FeatureInversion:
    """Reconstruct images from one layer's features.

    Args:
        model: the network (images in [0, 1]).
        layer: the layer to invert (dotted name or module).
        layer_fn: optional function applied to the layer's output first (e.g.
            ``torch.nn.functional.relu6`` on EfficientNet's ``_bn0`` for the stem activation).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        >>> inv = FeatureInversion(net, "1")
        >>> inv.invert(torch.rand(1, 3, 12, 12), steps=3, show_progress=False, seed=0).shape
        torch.Size([1, 3, 12, 12])
    """

    def __init__(
        self,
        model: nn.Module,
        layer: LayerRef,
        *,
        layer_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        self.model = model
        self.layer = layer_name(model, layer)
        self.layer_fn = layer_fn
        self.last_result: InversionResult | None = None

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The (processed) features of ``images`` at the layer, detached; model untouched."""
        check_image_batch(images, "images", channels=3)
        with torch.no_grad(), frozen(self.model):
            f = forward_to(self.model, images, [self.layer], detach=True)[self.layer]
        return self.layer_fn(f) if self.layer_fn is not None else f

    def invert(
        self,
        image_or_features: torch.Tensor,
        *,
        size: int | tuple[int, int] | None = None,
        steps: int = 400,
        tv_weight: float | None = None,
        tv_beta: float = 2.0,
        alpha: float = 6.0,
        alpha_weight: float = 0.0,
        optimizer: OptimizerSpec = "adam",
        lr: float | None = None,
        init: torch.Tensor | None = None,
        seed: int | None = None,
        callbacks: Sequence[Callback] = (),
        snapshot_steps: Sequence[int] = (),
        show_progress: bool | None = None,
    ) -> torch.Tensor:
        """Find images whose features at the layer match the target's.

        Args:
            image_or_features: ``N×3×H×W`` images in [0, 1] (when ``size`` is ``None``), or
                the layer's ``N×C×h×w`` features (then ``size`` gives the image size).
            size: image ``(height, width)`` or int — only when inverting features.
            steps: optimizer steps.
            tv_weight: weight of the total-variation prior (default: grows with the layer's
                stride, see :func:`default_tv_weight`).
            tv_beta: exponent of the TV prior (2 smooth; 1 preserves edges).
            alpha: exponent of the α-norm prior (Mahendran & Vedaldi use 6).
            alpha_weight: weight of the α-norm prior (0 disables).
            optimizer: ``"adam"`` (default, lr 0.05) or ``"lbfgs"`` or any spec of
                :func:`attribkit.optvis.optimize`.
            lr: learning rate.
            init: start image (default: grey plus small noise from ``seed``).
            seed: seed of the noise start and the loop.
            callbacks: ``cb(step, state)`` after each step.
            snapshot_steps: steps at which to keep the images.
            show_progress: show a progress bar.

        Returns:
            ``N×3×H×W`` reconstructions in [0, 1] (details in :attr:`last_result`).

        Raises:
            ValueError: features without ``size``, features of the wrong shape for the
                layer, negative weights.
        """
        from attribkit.style.efros_leung import _check_size
        from attribkit.style.losses import feature_loss, total_variation

        original: torch.Tensor | None = None
        if size is None:
            check_image_batch(image_or_features, "image", unit_range=True)
            if image_or_features.shape[1] != 3:
                raise ValueError(
                    f"got a {image_or_features.shape[1]}-channel tensor and no size: pass an "
                    "RGB image, or the layer's features together with size=(H, W)"
                )
            original = image_or_features.detach()
            target = self.features(original)
            h, w = original.shape[-2:]
        else:
            check_image_batch(image_or_features, "features")
            h, w = _check_size(size)
            target = image_or_features.detach()
        for name, v in (("tv_weight", tv_weight), ("alpha_weight", alpha_weight)):
            if v is not None and not v >= 0:
                raise ValueError(f"{name} must be non-negative, got {v}")
        if alpha <= 0:
            raise ValueError(f"alpha must be positive, got {alpha}")
        n = target.shape[0]
        ref = next(iter(self.model.parameters()), None)
        dtype = ref.dtype if ref is not None else torch.float32
        # check the target against the layer's features at this size
        probe = self.features(torch.zeros(1, 3, h, w, dtype=dtype, device=target.device))
        if probe.shape[1:] != target.shape[1:]:
            raise ValueError(
                f"features of shape {tuple(target.shape[1:])} do not match layer "
                f"{self.layer!r} at {h}×{w}, which gives {tuple(probe.shape[1:])}"
            )
        stride = math.sqrt((h * w) / max(probe.shape[-1] * probe.shape[-2], 1))
        tvw = default_tv_weight(stride) if tv_weight is None else float(tv_weight)

        if init is None:
            g = torch.Generator().manual_seed(0 if seed is None else seed)
            start = (0.5 + 0.05 * torch.randn((n, 3, h, w), generator=g, dtype=torch.float64))
            start = start.clamp(0, 1).to(dtype)
        else:
            check_image_batch(init, "init", channels=3, unit_range=True)
            start = init.detach()
        param = PixelImage((n, 3, h, w), init=start, squash="clamp")
        layer, fn_post = self.layer, self.layer_fn

        def fn(ctx: ObjectiveContext) -> torch.Tensor:
            f = ctx.acts[layer]
            if fn_post is not None:
                f = fn_post(f)
            loss = feature_loss(f, target)
            if tvw:
                loss = loss + tvw * total_variation(ctx.image, tv_beta)
            if alpha_weight:
                loss = loss + alpha_weight * _alpha_norm(ctx.image, alpha)
            return -loss

        t0 = time.perf_counter()
        res: OptimizationResult = optimize(
            self.model,
            Objective(fn, layers=(layer,), name=f"invert {layer}"),
            param,
            steps=steps,
            optimizer=optimizer,
            lr=lr,
            callbacks=callbacks,
            snapshot_steps=snapshot_steps,
            show_progress=show_progress,
            seed=seed,
            desc=f"invert {layer}",
        )
        images = res.images.detach()
        final = feature_loss(self.features(images), target)
        self.last_result = InversionResult(
            images=images,
            feature_loss=final,
            psnr=psnr(images, original) if original is not None else None,
            tv_weight=tvw,
            seconds=time.perf_counter() - t0,
            steps=res.steps_run,
            history=-res.history,
            snapshots=res.snapshots,
        )
        return images


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
    layers: Sequence[LayerRef],
    *,
    steps: int = 400,
    tv_weights: Sequence[float] | None = None,
    layer_fns: dict[str, Callable[[torch.Tensor], torch.Tensor]] | None = None,
    seed: int | None = 0,
    show_progress: bool | None = None,
    **kwargs: object,
) -> InversionSweep:
    """Invert one image from each of ``layers`` (shallow to deep) and measure PSNR.

    Args:
        model: the network.
        image: ``1×3×H×W`` in [0, 1].
        layers: layers to invert from.
        steps: optimizer steps per layer.
        tv_weights: one TV weight per layer (default: :func:`default_tv_weight` of its stride).
        layer_fns: optional function per layer name (see :class:`FeatureInversion`).
        seed: seed (the same noise start for every layer).
        show_progress: progress bars.
        **kwargs: passed to :meth:`FeatureInversion.invert`.

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
    check_image_batch(image, "image", channels=3, unit_range=True)
    if image.shape[0] != 1:
        raise ValueError("inversion_sweep takes one image (1×3×H×W)")
    if isinstance(layers, (str, nn.Module)) or not layers:
        raise ValueError("layers must be a non-empty sequence of layers")
    if tv_weights is not None and len(tv_weights) != len(layers):
        raise ValueError(f"got {len(tv_weights)} tv_weights for {len(layers)} layers")
    fns = dict(layer_fns or {})
    names, images, scores, tvs, secs = [], [], [], [], []
    for i, layer in enumerate(layers):
        name = layer_name(model, layer)
        inv = FeatureInversion(model, name, layer_fn=fns.get(name))
        tw = None if tv_weights is None else tv_weights[i]
        out = inv.invert(image, steps=steps, tv_weight=tw, seed=seed,
                         show_progress=show_progress, **kwargs)  # type: ignore[arg-type]
        r = inv.last_result
        assert r is not None and r.psnr is not None
        names.append(name)
        images.append(out)
        scores.append(float(r.psnr[0]))
        tvs.append(r.tv_weight)
        secs.append(r.seconds)
    return InversionSweep(image.detach(), names, torch.cat(images), scores, tvs, secs)

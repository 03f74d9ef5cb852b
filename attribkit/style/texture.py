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

import time
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from attribkit._checks import check_image_batch
from attribkit.layers.hooks import LayerRef, layer_name
from attribkit.optvis.loop import Callback, OptimizerSpec, optimize
from attribkit.optvis.param import PixelImage
from attribkit.style.efros_leung import _check_size
from attribkit.style.losses import PerceptualLoss
from attribkit.style.transfer import (
    LayerFns,
    StyleResult,
    _history,
    _perceptual_objective,
    default_style_layers,
)

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


class TextureSynthesis:
    """Synthesize textures by Gram-matrix matching over any backbone's layers.

    Args:
        model: backbone taking images in [0, 1].
        layers: layers whose Gram matrices are matched (default: the style layers of
            :func:`~attribkit.style.default_style_layers`).
        layer_weights: weight per layer (default ``1 / len(layers)`` each).
        layer_fns: function applied to a layer's output first (default: ReLU6 on
            EfficientNet's ``_bn0``, the stem activation).
        pad: reflect padding before the network.
        shift: also match the Gram matrices of the image shifted by this many pixels
            (0 disables; 1 removes the speckle of stride-2 stems).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        >>> ts = TextureSynthesis(net, ["0", "1"], pad=0)
        >>> ts.synthesize(torch.rand(1, 3, 16, 16), size=(8, 12), steps=2,
        ...               show_progress=False, seed=0).shape
        torch.Size([1, 3, 8, 12])
    """

    def __init__(
        self,
        model: nn.Module,
        layers: Sequence[LayerRef] | None = None,
        *,
        layer_weights: Mapping[str, float] | None = None,
        layer_fns: LayerFns | None = None,
        pad: int = 16,
        shift: int = 1,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        if isinstance(layers, (str, nn.Module)):
            raise TypeError(f"layers must be a sequence of layers, e.g. [{layers!r}]")
        if layers is None or layer_fns is None:
            try:
                _, default_layers, dfns = default_style_layers(model)
            except ValueError:
                if layers is None:
                    raise
                default_layers, dfns = (), {}
            layers = default_layers if layers is None else layers
            if layer_fns is None:
                used = {layer_name(model, x) for x in layers}
                layer_fns = {k: f for k, f in dfns.items() if k in used}
        self.model = model
        self.layers = [layer_name(model, x) for x in layers]
        if not self.layers:
            raise ValueError("texture synthesis needs at least one layer")
        if not isinstance(shift, int) or shift < 0:
            raise ValueError(f"shift must be a non-negative int, got {shift!r}")
        if not isinstance(pad, int) or pad < 0:
            raise ValueError(f"pad must be a non-negative int, got {pad!r}")
        self.shift, self.pad = shift, pad
        self.layer_weights = dict(layer_weights or {})
        self.layer_fns = dict(layer_fns or {})
        self.last_result: StyleResult | None = None
        self._loss()  # validate names early

    def _loss(self) -> PerceptualLoss:
        return PerceptualLoss(
            self.model,
            [],
            self.layers,
            style_weight=1.0,
            layer_weights=self.layer_weights,
            pad=self.pad,
            layer_fns=self.layer_fns,
        )

    def synthesize(
        self,
        texture: torch.Tensor,
        size: int | tuple[int, int] | None = None,
        *,
        steps: int = 200,
        optimizer: OptimizerSpec = "lbfgs",
        lr: float | None = None,
        tv_weight: float = 0.0,
        n: int = 1,
        grayscale: bool | None = None,
        init: torch.Tensor | None = None,
        seed: int | None = None,
        callbacks: Sequence[Callback] = (),
        snapshot_steps: Sequence[int] = (),
        show_progress: bool | None = None,
    ) -> torch.Tensor:
        """Synthesize ``n`` textures of ``size`` that share ``texture``'s Gram matrices.

        Args:
            texture: ``1×C×h×w`` in [0, 1], ``C`` = 1 or 3.
            size: output ``(height, width)`` or an int (default: the texture's size).
            steps: optimizer steps.
            optimizer: ``"lbfgs"`` (default) or ``"adam"`` (``lr`` ≈ 0.02) or any spec of
                :func:`attribkit.optvis.optimize`.
            lr: learning rate (``None``: the optimizer's default).
            tv_weight: optional total-variation smoothing.
            n: number of textures (different noise starts).
            grayscale: optimize one channel shown as grey (default: when the texture is
                grayscale, see :func:`is_grayscale`).
            init: a ``[0, 1]`` start image of the output size (default: noise from ``seed``).
            seed: seed of the noise start and the loop.
            callbacks: ``cb(step, state)`` after each step.
            snapshot_steps: steps at which to keep the images.
            show_progress: show a progress bar.

        Returns:
            ``n×3×H×W`` textures in [0, 1]; final Gram losses in :attr:`last_result`.
        """
        check_image_batch(texture, "texture", unit_range=True)
        if texture.shape[0] != 1:
            raise ValueError(f"give one texture (1×C×h×w), got a batch of {texture.shape[0]}")
        if texture.shape[1] not in (1, 3):
            raise ValueError(f"texture must have 1 or 3 channels, got {texture.shape[1]}")
        h, w = _check_size(size) if size is not None else tuple(texture.shape[-2:])
        if min(h, w) <= 2 * self.shift or min(texture.shape[-2:]) <= 2 * self.shift:
            raise ValueError(f"size {h}×{w} is too small for shift={self.shift}")
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        if not (isinstance(tv_weight, (int, float)) and tv_weight >= 0):
            raise ValueError(f"tv_weight must be non-negative, got {tv_weight!r}")
        gray = is_grayscale(texture) if grayscale is None else bool(grayscale)
        rgb = texture.expand(-1, 3, -1, -1) if texture.shape[1] == 1 else texture
        if gray:
            rgb = rgb.mean(1, keepdim=True).expand(-1, 3, -1, -1)
        channels = 1 if gray else 3
        ref = next(iter(self.model.parameters()), None)
        if ref is not None:
            rgb = rgb.to(device=ref.device, dtype=ref.dtype)

        loss = self._loss()
        shift = self.shift
        phases = _phase_crops(rgb, shift)
        loss.set_style(phases)  # the Gram target averages both phases of the texture

        g = torch.Generator().manual_seed(0 if seed is None else seed)
        if init is None:
            start = torch.rand((n, channels, h, w), generator=g, dtype=torch.float64)
            start = (0.5 + 0.2 * (start - 0.5)).to(rgb)
        else:
            check_image_batch(init, "init", unit_range=True)
            start = init.mean(1, keepdim=True) if gray else init
        param = PixelImage((n, channels, h, w), init=start, squash="clamp")

        def transforms(x: torch.Tensor, _g: torch.Generator) -> torch.Tensor:
            if x.shape[1] == 1:
                x = x.expand(-1, 3, -1, -1)
            return loss.pad_input(_phase_crops(x, shift))

        fold = 2 if shift else 1
        if fold == 1 and tv_weight:
            loss.tv_weight = float(tv_weight)
        objective = _perceptual_objective(loss, "Gram texture", fold=fold, tv_weight=tv_weight)
        t0 = time.perf_counter()
        res = optimize(
            self.model,
            objective,
            param,
            transforms=transforms,
            steps=steps,
            optimizer=optimizer,
            lr=lr,
            callbacks=callbacks,
            snapshot_steps=snapshot_steps,
            show_progress=show_progress,
            seed=seed,
            desc="texture",
        )
        images = res.images.detach()
        if gray:
            images = images.expand(-1, 3, -1, -1).contiguous()
        with torch.no_grad():
            crops = _phase_crops(images, shift)
            style = loss.terms(loss.features(crops, loss.layers), crops, processed=True).style
            style = style.view(fold, -1).mean(0)
        zero = torch.zeros_like(style)
        self.last_result = StyleResult(
            images=images,
            content_loss=zero,
            style_loss=style,
            tv_loss=zero,
            seconds=time.perf_counter() - t0,
            steps=res.steps_run,
            history=_history(res),
            snapshots=res.snapshots,
        )
        return images


def texture_layer_sweep(
    model: nn.Module,
    texture: torch.Tensor,
    layer_sets: Sequence[Sequence[LayerRef]] | None = None,
    size: int | tuple[int, int] | None = None,
    *,
    steps: int = 200,
    seed: int | None = 0,
    show_progress: bool | None = None,
    **kwargs: object,
) -> tuple[torch.Tensor, list[list[str]], list[float]]:
    """The lecture's figure: textures from Gram matrices of progressively deeper layer sets.

    Args:
        model: backbone.
        texture: ``1×C×h×w`` texture.
        layer_sets: one list of layers per picture (default: the growing prefixes of the
            default style layers).
        size: output size.
        steps: optimizer steps per picture.
        seed: seed (the same noise start for every set, so they differ only by the layers).
        show_progress: progress bars.
        **kwargs: passed to :meth:`TextureSynthesis.synthesize`.

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
        _, style_layers, _ = default_style_layers(model)
        layer_sets = [list(style_layers[: i + 1]) for i in range(len(style_layers))]
    if not layer_sets:
        raise ValueError("give at least one layer set")
    images, names, losses = [], [], []
    for layers in layer_sets:
        ts = TextureSynthesis(model, layers, **{k: v for k, v in kwargs.items()
                                                 if k in ("pad", "shift", "layer_fns")})  # type: ignore[arg-type]
        extra = {k: v for k, v in kwargs.items() if k not in ("pad", "shift", "layer_fns")}
        images.append(
            ts.synthesize(texture, size, steps=steps, seed=seed, show_progress=show_progress,
                          **extra)  # type: ignore[arg-type]
        )
        names.append(ts.layers)
        assert ts.last_result is not None
        losses.append(float(ts.last_result.style_loss.mean()))
    return torch.cat(images), names, losses

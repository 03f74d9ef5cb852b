"""Gram-matrix, feature (content) and total-variation losses, in functional and module form.

Every loss is normalized per layer (``‖G − Gₜ‖² / ‖Gₜ‖²``), so that one set of weights works
across backbones whose activations differ in scale by orders of magnitude. The feature distance
and the total variation themselves live in :mod:`attribkit.optvis.distances` (feature inversion
uses them too) and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import (
    check_feature_map,
    check_image_batch,
    check_non_negative_number,
    check_positive_number,
)
from attribkit.layers.hooks import LayerRef, forward_to, layer_name
from attribkit.layers.state import frozen
from attribkit.optvis.distances import feature_loss, total_variation
from attribkit.optvis.objectives import Objective, ObjectiveContext

__all__ = [
    "gram_matrix",
    "gram_loss",
    "feature_loss",
    "total_variation",
    "GramLoss",
    "FeatureLoss",
    "TotalVariation",
    "PerceptualLoss",
    "PerceptualTerms",
]

_EPS = 1e-12


def gram_matrix(features: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """Channel-by-channel inner products of a feature map: ``G[c, d] = Σₚ F[c, p] F[d, p]``.

    Args:
        features: ``N×C×H×W`` activations.
        normalize: divide by the number of positions ``H·W`` (so the Gram matrix does not
            grow with the image size).

    Returns:
        ``N×C×C`` Gram matrices.

    Examples:
        >>> import torch
        >>> gram_matrix(torch.ones(1, 2, 3, 3))
        tensor([[[1., 1.],
                 [1., 1.]]])
    """
    check_feature_map(features)
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    gram = flat @ flat.transpose(1, 2)
    return gram / (h * w) if normalize else gram


def gram_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Per-image ``‖G(features) − Gₜ‖²_F / ‖Gₜ‖²_F``.

    Args:
        features: ``N×C×H×W`` activations.
        target_gram: ``C×C`` or ``1×C×C`` or ``N×C×C`` target Gram matrices (normalized).

    Returns:
        ``(N,)`` losses.
    """
    g = gram_matrix(features)
    t = target_gram if target_gram.ndim == 3 else target_gram.unsqueeze(0)
    if t.shape[-2:] != g.shape[-2:]:
        raise ValueError(
            f"target Gram is {tuple(t.shape[-2:])} but the features have {g.shape[1]} channels; "
            "was the target computed at another layer?"
        )
    t = t.to(g.dtype)
    num = (g - t).pow(2).sum(dim=(1, 2))
    den = t.pow(2).sum(dim=(1, 2)).clamp_min(_EPS)
    return num / den


class GramLoss(nn.Module):
    """Gram (style) loss against fixed target features.

    Args:
        target_features: ``N×C×H×W`` activations of the style image(s); with several images
            their Gram matrices are averaged with ``weights``.
        weights: blend weights for several targets (normalized to sum to 1).

    Examples:
        >>> import torch
        >>> loss = GramLoss(torch.rand(1, 4, 8, 8))
        >>> loss(torch.rand(2, 4, 6, 6)).shape
        torch.Size([2])
    """

    target: torch.Tensor

    def __init__(
        self, target_features: torch.Tensor, weights: Sequence[float] | None = None
    ) -> None:
        super().__init__()
        check_feature_map(target_features, "target_features")
        with torch.no_grad():
            grams = gram_matrix(target_features.detach())
            w = _blend_weights(weights, grams.shape[0], grams)
            target = (grams * w.view(-1, 1, 1)).sum(0, keepdim=True)
        self.register_buffer("target", target, persistent=False)

    @classmethod
    def from_gram(cls, target_gram: torch.Tensor) -> GramLoss:
        """Build the loss from a target Gram matrix (``C×C`` or ``1×C×C``) instead of features."""
        if target_gram.ndim == 2:
            target_gram = target_gram.unsqueeze(0)
        if target_gram.ndim != 3 or target_gram.shape[1] != target_gram.shape[2]:
            raise ValueError(f"a Gram matrix must be C×C, got shape {tuple(target_gram.shape)}")
        c = target_gram.shape[1]
        loss = cls(torch.zeros(1, c, 1, 1, dtype=target_gram.dtype, device=target_gram.device))
        loss.target = target_gram.detach().clone()
        return loss

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return gram_loss(features, self.target)


class FeatureLoss(nn.Module):
    """Feature (content) loss against fixed target features, stored as a non-persistent buffer.

    Examples:
        >>> import torch
        >>> t = torch.rand(1, 4, 8, 8)
        >>> float(FeatureLoss(t)(t))
        0.0
    """

    target: torch.Tensor

    def __init__(self, target_features: torch.Tensor) -> None:
        super().__init__()
        check_feature_map(target_features, "target_features")
        self.register_buffer("target", target_features.detach().clone(), persistent=False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return feature_loss(features, self.target)


class TotalVariation(nn.Module):
    """Module form of :func:`total_variation`."""

    def __init__(self, beta: float = 2.0) -> None:
        super().__init__()
        self.beta = check_positive_number(beta, "beta")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return total_variation(x, self.beta)


def _blend_weights(weights: Sequence[float] | None, n: int, like: torch.Tensor) -> torch.Tensor:
    if weights is None:
        return torch.full((n,), 1.0 / n, dtype=like.dtype, device=like.device)
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise TypeError(f"style weights must be a list of numbers, got {weights!r}")
    values = [check_non_negative_number(v, "each style weight") for v in weights]
    if len(values) != n:
        raise ValueError(f"got {len(values)} weights for {n} style images; give one per image")
    if sum(values) <= 0:
        raise ValueError(f"style weights must have a positive sum, got {list(weights)}")
    w = torch.tensor(values, dtype=like.dtype, device=like.device)
    return w / w.sum()


@dataclass
class PerceptualTerms:
    """Per-image loss terms of :class:`PerceptualLoss` (each ``(N,)``), already weighted."""

    content: torch.Tensor
    style: torch.Tensor
    tv: torch.Tensor
    total: torch.Tensor


class PerceptualLoss(nn.Module):
    """Content + Gram style + total-variation loss over any backbone's layers.

    The backbone runs only up to the deepest layer used (:func:`attribkit.layers.forward_to`),
    on input reflect-padded by ``pad`` pixels (the network's zero padding would otherwise draw a
    dark frame), and is left exactly as it was found.

    Args:
        model: backbone taking images in [0, 1].
        content_layers: layers for the content loss (dotted names or modules).
        style_layers: layers for the Gram loss.
        content_weight: weight of the content term.
        style_weight: weight of the style term.
        tv_weight: weight of the total-variation term.
        layer_weights: optional per-layer weights (by name), default 1 / number of layers.
        pad: reflect padding in pixels (0 disables).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> loss = PerceptualLoss(net, ["1"], ["0", "1"], pad=0)
        >>> loss.set_content(torch.rand(1, 3, 16, 16)); loss.set_style(torch.rand(1, 3, 16, 16))
        >>> loss(torch.rand(2, 3, 16, 16)).total.shape
        torch.Size([2])
    """

    def __init__(
        self,
        model: nn.Module,
        content_layers: Sequence[LayerRef],
        style_layers: Sequence[LayerRef],
        *,
        content_weight: float = 1.0,
        style_weight: float = 100.0,
        tv_weight: float = 0.0,
        layer_weights: Mapping[str, float] | None = None,
        pad: int = 16,
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        for what, layers in (("content_layers", content_layers), ("style_layers", style_layers)):
            if isinstance(layers, (str, nn.Module)) or not isinstance(layers, Sequence):
                raise TypeError(f"{what} must be a sequence of layers, e.g. [{layers!r}]")
        if not content_layers and not style_layers:
            raise ValueError("give at least one content or style layer")
        self.content_weight = check_non_negative_number(content_weight, "content_weight")
        self.style_weight = check_non_negative_number(style_weight, "style_weight")
        self.tv_weight = check_non_negative_number(tv_weight, "tv_weight")
        if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
            raise ValueError(f"pad must be a non-negative int, got {pad!r}")
        # keep the backbone out of this module's parameters / state_dict
        self._model = [model]
        self.content_layers = [layer_name(model, layer) for layer in content_layers]
        self.style_layers = [layer_name(model, layer) for layer in style_layers]
        self.pad = pad
        lw = dict(layer_weights or {})
        unknown = set(lw) - set(self.content_layers) - set(self.style_layers)
        if unknown:
            raise ValueError(f"layer_weights names layers not in use: {sorted(unknown)}")
        self.layer_weights = {
            k: check_non_negative_number(v, f"layer_weights[{k!r}]") for k, v in lw.items()
        }
        self.content_losses = nn.ModuleDict()
        self.style_losses = nn.ModuleDict()

    @property
    def model(self) -> nn.Module:
        """The backbone."""
        return self._model[0]

    @property
    def layers(self) -> list[str]:
        """All layers the loss reads, without repeats."""
        return list(dict.fromkeys(self.content_layers + self.style_layers))

    def pad_input(self, images: torch.Tensor) -> torch.Tensor:
        """Reflect-pad ``images`` by ``pad`` pixels (less for images smaller than that)."""
        if not self.pad:
            return images
        p = min(self.pad, images.shape[-1] - 1, images.shape[-2] - 1)
        return F.pad(images, (p, p, p, p), mode="reflect")

    def features(self, images: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Features of ``layers`` for ``images`` (reflect-padded), model state untouched."""
        images = check_image_batch(images, "images", channels=3)
        x = self.pad_input(images)
        with frozen(self.model):
            return dict(forward_to(self.model, x, list(layers)))

    def set_content(self, images: torch.Tensor) -> None:
        """Fix the content target(s): one image, or one per image to be optimized."""
        if not self.content_layers:
            return
        with torch.no_grad():
            feats = self.features(images, self.content_layers)
        self.content_losses = nn.ModuleDict(
            {_key(k): FeatureLoss(feats[k]) for k in self.content_layers}
        )

    def set_style(
        self,
        images: torch.Tensor | Sequence[torch.Tensor],
        weights: Sequence[float] | None = None,
        scale: float = 1.0,
    ) -> None:
        """Fix the style target: Gram matrices of one or several style images, blended.

        Args:
            images: a ``1×3×H×W`` style image, an ``N×3×H×W`` batch, or a list of images of
                different sizes.
            weights: blend weights, one per style image.
            scale: resize each style image by this factor before taking its Gram matrices.
        """
        if not self.style_layers:
            return
        scale = check_positive_number(scale, "scale")
        imgs = [images] if isinstance(images, torch.Tensor) else list(images)
        singles = [im[i : i + 1] for im in imgs for i in range(im.shape[0])]
        with torch.no_grad():
            grams: dict[str, list[torch.Tensor]] = {k: [] for k in self.style_layers}
            for im in singles:
                if scale != 1.0:
                    im = F.interpolate(
                        im, scale_factor=scale, mode="bilinear", align_corners=False, antialias=True
                    ).clamp(0, 1)
                feats = self.features(im, self.style_layers)
                for k in self.style_layers:
                    grams[k].append(gram_matrix(feats[k]))
            w = None if weights is None else list(weights)
            losses = {}
            for k in self.style_layers:
                stacked = torch.cat(grams[k])
                blend = _blend_weights(w, stacked.shape[0], stacked)
                target = (stacked * blend.view(-1, 1, 1)).sum(0, keepdim=True)
                losses[_key(k)] = GramLoss.from_gram(target)
        self.style_losses = nn.ModuleDict(losses)

    def _weight(self, layer: str, n_layers: int) -> float:
        return self.layer_weights.get(layer, 1.0 / max(n_layers, 1))

    def forward(self, images: torch.Tensor) -> PerceptualTerms:
        """Compute the weighted loss terms for ``images`` (``N×3×H×W`` in [0, 1])."""
        self._check_targets()
        return self.terms(self.features(images, self.layers), images)

    def _check_targets(self) -> None:
        if self.content_layers and not len(self.content_losses):
            raise RuntimeError("call set_content(images) before computing the loss")
        if self.style_layers and not len(self.style_losses):
            raise RuntimeError("call set_style(images) before computing the loss")

    def terms(self, acts: Mapping[str, torch.Tensor], images: torch.Tensor) -> PerceptualTerms:
        """Loss terms from layer outputs captured elsewhere (e.g. by an optimization loop).

        Args:
            acts: the outputs of :attr:`layers` for the padded ``images``, keyed by name.
            images: the images themselves (for the total-variation term).
        """
        self._check_targets()
        missing = [k for k in self.layers if k not in acts]
        if missing:
            raise ValueError(f"activations missing for layers {missing}")
        zero = images.new_zeros(images.shape[0])
        content = zero
        for k in self.content_layers:
            layer_loss = self.content_losses[_key(k)](acts[k])
            content = content + self._weight(k, len(self.content_layers)) * layer_loss
        style = zero
        for k in self.style_layers:
            layer_loss = self.style_losses[_key(k)](acts[k])
            style = style + self._weight(k, len(self.style_layers)) * layer_loss
        tv = total_variation(images) if self.tv_weight else zero
        content = self.content_weight * content
        style = self.style_weight * style
        tv = self.tv_weight * tv
        return PerceptualTerms(content=content, style=style, tv=tv, total=content + style + tv)

    def objective(self, *, fold: int = 1, tv_weight: float = 0.0, name: str = "") -> Objective:
        """This loss as an optimization objective (score = −loss over the captured layers).

        Args:
            fold: the model saw ``fold`` versions of each image stacked along the batch
                (phase-shifted crops); their losses are averaged.
            tv_weight: with ``fold > 1``, ``tv_weight`` × TV of the image itself is added.
            name: a label for the objective.

        Examples:
            >>> from torch import nn
            >>> loss = PerceptualLoss(nn.Sequential(nn.Conv2d(3, 2, 1)), [], ["0"])
            >>> loss.objective().layers
            ('0',)
        """
        fold = int(fold)
        extra_tv = check_non_negative_number(tv_weight, "tv_weight")

        def score(ctx: ObjectiveContext) -> torch.Tensor:
            if fold == 1:
                return -self.terms(ctx.acts, ctx.image).total
            total = self.terms(ctx.acts, ctx.input).total.view(fold, -1).mean(0)
            if extra_tv:
                total = total + extra_tv * total_variation(ctx.image)
            return -total

        return Objective(score, layers=tuple(self.layers), name=name or "perceptual loss")


def _key(layer: str) -> str:
    # ModuleDict keys may not contain dots
    return layer.replace(".", "__")

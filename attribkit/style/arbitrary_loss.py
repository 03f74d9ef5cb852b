"""The training loss of the arbitrary-style network (Huang & Belongie, ICCV 2017, eq. 11–13).

* **Content**: the decoder's output, encoded again, against the AdaIN features it was decoded
  from, ``‖f(g(t)) − t‖² / ‖t‖²`` (:func:`attribkit.style.losses.feature_loss`): the decoder
  learns to draw the features it was asked for, not the content photo.
* **Style**: at each style layer ``i`` of the backbone (by default the Gatys layers of
  :data:`attribkit.models.backbones.BACKBONES`), the channel means and standard deviations of
  the output against the style image's,
  ``(‖μᵢ(g(t)) − μᵢ(s)‖² + ‖σᵢ(g(t)) − σᵢ(s)‖²) / (‖μᵢ(s)‖² + ‖σᵢ(s)‖²)``, normalized per
  layer like the Gram losses of :mod:`attribkit.style.losses`, averaged over the layers.

Both run on the network's own frozen encoder, in one truncated pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch

from attribkit.layers.hooks import layer_name
from attribkit.models.backbones import default_layers
from attribkit.style.adain import FeatureStats, feature_stats
from attribkit.style.arbitrary import AdaINResult, AdaINStyleNet
from attribkit.style.losses import feature_loss

__all__ = ["AdaINLoss", "AdaINLossTerms", "mean_std_loss"]

Stats = tuple[torch.Tensor, torch.Tensor]
LayerFn = Callable[[torch.Tensor], torch.Tensor]


def mean_std_loss(features: torch.Tensor, target: Stats) -> torch.Tensor:
    """Per-image ``(‖μ − μₜ‖² + ‖σ − σₜ‖²) / (‖μₜ‖² + ‖σₜ‖²)`` over channels.

    Args:
        features: ``N×C×H×W`` activations.
        target: ``(mean, std)`` of the target, each ``N×C×1×1`` or ``1×C×1×1``
            (:func:`attribkit.style.adain.feature_stats`).

    Returns:
        ``(N,)`` losses (0 when the statistics match).

    Examples:
        >>> import torch
        >>> from attribkit.style.adain import feature_stats
        >>> x = torch.rand(2, 4, 8, 8)
        >>> bool(mean_std_loss(x, feature_stats(x)).abs().max() < 1e-6)
        True
    """
    mean, std = feature_stats(features)
    if not (isinstance(target, (tuple, list)) and len(target) == 2):
        raise ValueError(
            "target must be a (mean, std) pair of tensors, as feature_stats(style_features) "
            f"returns; got {type(target).__name__}"
        )
    t_mean, t_std = (t.to(features.dtype) for t in target)
    if t_mean.shape[1] != mean.shape[1]:
        raise ValueError(
            f"target statistics have {t_mean.shape[1]} channels, the features {mean.shape[1]}; "
            "were they taken at another layer?"
        )
    num = (mean - t_mean).pow(2).flatten(1).sum(1) + (std - t_std).pow(2).flatten(1).sum(1)
    den = (t_mean.pow(2).flatten(1).sum(1) + t_std.pow(2).flatten(1).sum(1)).clamp_min(1e-12)
    return num / den


@dataclass
class AdaINLossTerms:
    """Per-image loss terms (each ``(N,)``), weighted, plus the unweighted style term of each
    layer for logging.

    Attributes:
        content: ``content_weight`` × the content loss.
        style: ``style_weight`` × the layer-averaged style loss.
        total: ``content + style`` (call ``total.mean().backward()``).
        layers: the unweighted style loss of each style layer, by name.
    """

    content: torch.Tensor
    style: torch.Tensor
    total: torch.Tensor
    layers: dict[str, torch.Tensor] = field(default_factory=dict)


class AdaINLoss(torch.nn.Module):
    """Content loss on the AdaIN target features plus mean/std style loss over style layers.

    The loss holds no parameters; it runs the network's frozen encoder (gradients reach the
    decoder through the output image only). Style statistics can be computed once with
    :meth:`style_stats` and passed instead of the style images (cache them per painting).

    Args:
        net: the :class:`~attribkit.style.arbitrary.AdaINStyleNet` being trained.
        style_layers: backbone layers for the style statistics (default: the Gatys style
            layers of the backbone table, :data:`attribkit.models.backbones.BACKBONES`).
        content_weight: weight of the content term.
        style_weight: weight of the (layer-averaged, normalized) style term.
        layer_fns: function applied to a layer's output before its statistics, by name
            (default: none; every default layer, EfficientNet-Lite0's ``stem_act`` too, is a
            module that can be hooked).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from attribkit.style.arbitrary import AdaINStyleNet
        >>> enc = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        >>> net = AdaINStyleNet(enc, "1", width=4, pad=0)
        >>> loss = AdaINLoss(net, ["0", "1"], style_weight=2.0)
        >>> style = torch.rand(2, 3, 16, 16)
        >>> terms = loss(net.run(torch.rand(2, 3, 16, 16), style), style)
        >>> terms.total.shape, sorted(terms.layers)
        (torch.Size([2]), ['0', '1'])
    """

    def __init__(
        self,
        net: AdaINStyleNet,
        style_layers: Sequence[str] | None = None,
        *,
        content_weight: float = 1.0,
        style_weight: float = 1.0,
        layer_fns: Mapping[str, LayerFn] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(net, AdaINStyleNet):
            raise TypeError(f"net must be an AdaINStyleNet, got {type(net).__name__}")
        backbone = net.encoder.backbone
        if style_layers is None:
            style_layers = default_layers(backbone, "style")
        if isinstance(style_layers, str) or not all(isinstance(s, str) for s in style_layers):
            raise TypeError(
                f"style_layers must be a sequence of layer names, e.g. [{style_layers!r}]"
            )
        if not style_layers:
            raise ValueError("give at least one style layer")
        self.style_layers = [layer_name(backbone, s) for s in style_layers]
        if layer_fns is None:
            layer_fns = {}
        unknown = sorted(set(layer_fns) - set(self.style_layers))
        if unknown:
            raise ValueError(f"layer_fns names layers that are not style layers: {unknown}")
        if net.layer in layer_fns:
            raise ValueError(
                f"layer_fns must not change the encoder layer {net.layer!r}: the content loss "
                "compares its raw output with the AdaIN features"
            )
        self.layer_fns = dict(layer_fns)
        for name, v in (("content_weight", content_weight), ("style_weight", style_weight)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{name} must be a finite non-negative number, got {v!r}")
            if v < 0:
                raise ValueError(f"{name} must be a finite non-negative number, got {v!r}")
        self.content_weight = float(content_weight)
        self.style_weight = float(style_weight)
        self._net = [net]  # not a submodule: the loss owns no parameters

    @property
    def net(self) -> AdaINStyleNet:
        """The network whose encoder the loss runs."""
        return self._net[0]

    def _style_features(self, acts: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        fns = self.layer_fns
        return {k: fns[k](acts[k]) if k in fns else acts[k] for k in self.style_layers}

    def style_stats(self, style: torch.Tensor) -> dict[str, FeatureStats]:
        """Statistics of ``N×3×h×w`` style images in [0, 1] (padded as the network pads its
        inputs), in one encoder pass and without gradient: the target ``(mean, std)`` of each
        style layer, and under the network's own :attr:`~AdaINStyleNet.layer` what
        ``net.run`` takes as ``style`` (so a training step encodes each style once)::

            stats = loss.style_stats(style)
            terms = loss(net.run(content, stats[net.layer]), stats)
        """
        x = self.net.as_input(style, "style")
        layer = self.net.layer
        with torch.no_grad():
            acts = self.net.features(self.net.pad_images(x)[0], [layer, *self.style_layers])
            stats = {k: feature_stats(v) for k, v in self._style_features(acts).items()}
            stats[layer] = feature_stats(acts[layer])
        return stats

    def forward(
        self, result: AdaINResult, style: torch.Tensor | Mapping[str, Stats]
    ) -> AdaINLossTerms:
        """Loss terms of one :meth:`AdaINStyleNet.run` result against its style.

        Args:
            result: what ``net.run(content, style)`` returned (it holds the decoder output
                and the AdaIN target features).
            style: the style images given to ``run`` (one, or one per content image), or
                their :meth:`style_stats`.
        """
        if not isinstance(result, AdaINResult):
            raise TypeError(
                f"result must be what net.run(...) returns, got {type(result).__name__}"
            )
        targets = self.style_stats(style) if isinstance(style, torch.Tensor) else dict(style)
        missing = [k for k in self.style_layers if k not in targets]
        if missing:
            raise ValueError(f"style statistics missing for layers {missing}")
        layer = self.net.layer
        acts = self.net.features(result.decoded, [layer, *self.style_layers])
        content = feature_loss(acts[layer], result.target.detach())
        feats = self._style_features(acts)
        per_layer = {k: mean_std_loss(feats[k], targets[k]) for k in self.style_layers}
        style_term = torch.stack(list(per_layer.values())).mean(0)
        content = self.content_weight * content
        style_term = self.style_weight * style_term
        return AdaINLossTerms(content, style_term, content + style_term, per_layer)

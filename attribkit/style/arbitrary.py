"""Arbitrary style transfer in one forward pass: AdaIN (Huang & Belongie, ICCV 2017).

A frozen encoder (the offline backbone cut at one layer) maps the content and the style image
to feature maps; the adaptive instance normalization layer (:func:`attribkit.style.adain.adain`)
gives the content features the channel means and standard deviations of the style features; a
decoder (:class:`~attribkit.style.adain.AdaINDecoder`) maps the result back to an image.
Because the style enters only through its feature statistics, one decoder serves any
painting, including paintings it never saw in training.

At test time ``alpha`` blends the AdaIN features with the content's own
(``t = α·AdaIN(f(c), f(s)) + (1 − α)·f(c)``), several styles are blended by interpolating
their statistics, and a ``mask`` applies each style to its own region (the content
statistics are then taken per region, as in the paper's spatial control). The training loss
is :class:`attribkit.style.arbitrary_loss.AdaINLoss`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, overload

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import check_image_batch
from attribkit.layers.hooks import forward_to, layer_name
from attribkit.style.adain import AdaINDecoder, FeatureStats, adain, feature_stats
from attribkit.style.color import (
    luminance,
    match_color,
    match_histograms,
    match_luminance,
    transfer_chrominance,
)

__all__ = ["ADAIN_LAYER", "AdaINResult", "AdaINStyleNet"]

#: The encoder layer of the offline backbone (EfficientNet-Lite0), chosen by measurement
#: (``tools/measure_adain.py``): stride 8, 40 channels, the Gatys content layer. After the same
#: short training it keeps the photo's structure where the stride-16 cuts (``_blocks.7``,
#: ``_blocks.10``) lose it, and it is the cheapest to run.
ADAIN_LAYER = "_blocks.4"
_COLOR_MODES = (None, "luminance", "histogram", "linear")
#: One style (images, or their statistics at the encoder layer) or a list of them.
StyleInput = torch.Tensor | FeatureStats | Sequence[torch.Tensor | FeatureStats]


class _FrozenEncoder(nn.Module):
    """A private copy of a backbone whose weights are non-persistent buffers, always in eval
    mode: nothing the caller does to the owning network trains it, moves its statistics or
    saves it (it is rebuilt from the backbone, not read from a checkpoint)."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        for module in backbone.modules():
            for name, p in list(module.named_parameters(recurse=False)):
                delattr(module, name)
                module.register_buffer(name, p.detach(), persistent=False)
            for name, b in list(module.named_buffers(recurse=False)):
                delattr(module, name)
                module.register_buffer(name, b, persistent=False)
        # channels-last runs the depthwise and 1×1 convolutions of mobile backbones through
        # oneDNN on the CPU: 1.5–1.8× faster at 512 px (tools/measure_adain.py)
        self.to(memory_format=torch.channels_last)
        super().train(False)

    def train(self, mode: bool = True) -> _FrozenEncoder:
        return super().train(False)

    def forward(self, images: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        if any(m.training for m in self.backbone.modules()):
            super().train(False)  # a caller reached inside: the encoder stays in eval mode
        x = images.contiguous(memory_format=torch.channels_last)
        return dict(forward_to(self.backbone, x, list(layers)))


@dataclass
class AdaINResult:
    """Everything one :meth:`AdaINStyleNet.run` computed (what the training loss needs).

    Attributes:
        images: ``N×3×H×W`` stylized images in [0, 1], the size of the content.
        decoded: the decoder's output before cropping (the padded size).
        target: the AdaIN features ``t`` the decoder was given (the content-loss target).
        box: ``(top, left, height, width)`` of ``images`` inside ``decoded``.
    """

    images: torch.Tensor
    decoded: torch.Tensor
    target: torch.Tensor
    box: tuple[int, int, int, int]


class AdaINStyleNet(nn.Module):
    """Arbitrary style transfer: frozen encoder → AdaIN → trained decoder (Huang 2017).

    The encoder is a private frozen copy of ``backbone`` (the caller's model is not touched),
    cut at ``layer``: it stays in eval mode whatever is done to the network, its weights are
    not parameters (``parameters()`` and ``state_dict()`` hold the decoder only) and no
    gradient reaches it. Images of any size are reflect-padded by ``pad`` pixels and up to the
    encoder's stride, and the output is cropped back.

    Args:
        backbone: the encoder network taking images in [0, 1] (default: EfficientNet-Lite0
            with its ImageNet weights, :func:`attribkit.efficientnet_lite0`).
        layer: the encoder layer (a dotted name of ``backbone.named_modules()``).
        width: decoder channels at full resolution (see :class:`AdaINDecoder`).
        max_width: decoder channel cap.
        convs: decoder convolutions per level.
        pad: reflect margin in pixels around the content before encoding (0 disables).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> enc = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        >>> net = AdaINStyleNet(enc, "1", width=4, pad=2)
        >>> net(torch.rand(1, 3, 21, 30), torch.rand(1, 3, 16, 16), alpha=0.5).shape
        torch.Size([1, 3, 21, 30])
    """

    def __init__(
        self,
        backbone: nn.Module | None = None,
        layer: str = ADAIN_LAYER,
        *,
        width: int = 8,
        max_width: int = 128,
        convs: int = 2,
        pad: int = 16,
    ) -> None:
        super().__init__()
        if backbone is None:
            from attribkit.models import efficientnet_lite0

            backbone = efficientnet_lite0()
        elif isinstance(backbone, nn.Module):
            backbone = copy.deepcopy(backbone)
        else:
            raise TypeError(f"backbone must be an nn.Module, got {type(backbone).__name__}")
        if not isinstance(layer, str):
            raise TypeError(f"layer must be a dotted layer name, got {type(layer).__name__}")
        self.layer = layer_name(backbone, layer)
        if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
            raise ValueError(f"pad must be a non-negative int, got {pad!r}")
        self.pad = pad
        self.encoder = _FrozenEncoder(backbone)
        self.channels, self.stride = self._probe()
        self.decoder = AdaINDecoder(self.channels, self.stride, width, max_width, convs)

    def _probe(self) -> tuple[int, int]:
        size = 256
        dtype = next((b.dtype for b in self.encoder.buffers() if b.is_floating_point()), None)
        x = torch.zeros(1, 3, size, size, dtype=dtype or torch.float32)
        with torch.no_grad():
            f = self.encoder(x, [self.layer])[self.layer]
        if f.ndim != 4 or f.shape[-1] < 1 or size % f.shape[-1] or f.shape[-1] != f.shape[-2]:
            raise ValueError(
                f"layer {self.layer!r} does not downsample by a whole factor (a {size} px image "
                f"gives {tuple(f.shape)}); choose a convolutional layer of a network with "
                "'same' padding, whose maps are the input size divided by the stride"
            )
        stride = size // f.shape[-1]
        if stride & (stride - 1):
            raise ValueError(f"layer {self.layer!r} has stride {stride}; it must be a power of 2")
        return int(f.shape[1]), stride

    @property
    def min_size(self) -> int:
        """Smallest height and width accepted (one encoder stride)."""
        return self.stride

    def train(self, mode: bool = True) -> AdaINStyleNet:
        """Set the decoder's mode; the encoder stays in eval mode."""
        super().train(mode)
        self.encoder.train(False)
        return self

    def config(self) -> dict[str, int | str]:
        """The constructor arguments (besides the backbone) that rebuild this network."""
        d = self.decoder
        return {
            "layer": self.layer,
            "width": d.width,
            "max_width": d.max_width,
            "convs": d.convs,
            "pad": self.pad,
        }

    # -- pieces (used by the training loss) -------------------------------------------------
    def features(self, images: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Encoder outputs of ``layers`` for ``images``, in one pass cut after the deepest (no
        padding; gradients flow to the images, never to the encoder)."""
        return self.encoder(images, list(dict.fromkeys(layers)))

    def pad_images(self, images: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """Reflect-pad by ``pad`` and then up to a multiple of the stride.

        Returns:
            The padded images and the ``(top, left)`` offset of the original inside them.
        """
        padding = self._padding(images.shape[-2], images.shape[-1])
        padded = F.pad(images, padding, mode="reflect") if any(padding) else images
        return padded, (padding[2], padding[0])

    def _padding(self, h: int, w: int) -> tuple[int, int, int, int]:
        """``(left, right, top, bottom)``: ``pad`` each side (less when the image is smaller
        than that, as reflection needs) plus the remainder to the stride."""
        top, bottom = _pad_1d(h, self.pad, self.stride)
        left, right = _pad_1d(w, self.pad, self.stride)
        return left, right, top, bottom

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Features at :attr:`layer` of already padded ``images``."""
        return self.features(images, [self.layer])[self.layer]

    def style_stats(self, style: torch.Tensor) -> FeatureStats:
        """The channel statistics of ``style`` (``N×3×h×w`` in [0, 1]) at :attr:`layer`,
        padded as the content is: pass them as ``style`` to reuse them."""
        return self._stats(self.as_input(style, "style"))

    def _stats(self, style: torch.Tensor) -> FeatureStats:
        return feature_stats(self.encode(self.pad_images(style)[0]))

    def _check_stats(self, stats: FeatureStats, name: str) -> None:
        shape = (self.channels, 1, 1)
        for t in stats:
            if not isinstance(t, torch.Tensor) or t.ndim != 4 or tuple(t.shape[1:]) != shape:
                raise ValueError(
                    f"{name} statistics must be N×{self.channels}×1×1 tensors, as "
                    "net.style_stats(style) returns"
                )

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Decode the images' own features (the ``alpha=0`` path): pad, encode, decode, crop."""
        x = self.as_input(images, "images")
        padded, (top, left) = self.pad_images(x)
        out = self.decoder(self.encode(padded))
        return (
            out[..., top : top + x.shape[-2], left : left + x.shape[-1]]
            .to(images.dtype)
            .contiguous()
        )

    # -- the transfer -----------------------------------------------------------------------
    @overload
    def forward(
        self,
        content: torch.Tensor,
        style: StyleInput,
        alpha: float = ...,
        *,
        weights: Sequence[float] | torch.Tensor | None = ...,
        mask: torch.Tensor | None = ...,
        preserve_color: str | None = ...,
        details: Literal[False] = ...,
    ) -> torch.Tensor: ...

    @overload
    def forward(
        self,
        content: torch.Tensor,
        style: StyleInput,
        alpha: float = ...,
        *,
        weights: Sequence[float] | torch.Tensor | None = ...,
        mask: torch.Tensor | None = ...,
        preserve_color: str | None = ...,
        details: Literal[True],
    ) -> AdaINResult: ...

    def forward(
        self,
        content: torch.Tensor,
        style: StyleInput,
        alpha: float = 1.0,
        *,
        weights: Sequence[float] | torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        preserve_color: str | None = None,
        details: bool = False,
    ) -> torch.Tensor | AdaINResult:
        """Stylize ``content`` with ``style``: see :meth:`run`. Returns ``run().images``, or
        with ``details=True`` the whole :class:`AdaINResult` (for training through a wrapper
        such as DDP, which must see the module call)."""
        result = self.run(
            content, style, alpha, weights=weights, mask=mask, preserve_color=preserve_color
        )
        return result if details else result.images

    def run(
        self,
        content: torch.Tensor,
        style: StyleInput,
        alpha: float = 1.0,
        *,
        weights: Sequence[float] | torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        preserve_color: str | None = None,
    ) -> AdaINResult:
        """Stylize ``content`` and return the images with the intermediates.

        Args:
            content: ``N×3×H×W`` in [0, 1] (grayscale ``N×1×H×W`` is expanded), at least
                :attr:`min_size` pixels each way.
            style: one style, ``1×3×h×w`` (for every content image) or ``N×3×h×w`` (one per
                content image), of any size, or its :meth:`style_stats`; or a list of ``K``
                such styles to blend.
            alpha: ``0`` decodes the content's own features, ``1`` the AdaIN features.
            weights: with ``K`` styles, ``K`` non-negative weights summing to 1 (or an ``N×K``
                tensor, one mix per image): the style statistics are interpolated with them.
                Default: equal weights.
            mask: with ``K`` styles, a ``K×H×W`` or ``N×K×H×W`` map in [0, 1] (``H×W`` for one
                style) whose channels sum to at most 1: style ``k`` applies where channel ``k``
                is 1, the content's own features where the channels sum to 0.
            preserve_color: keep the content's colours: ``"linear"`` or ``"histogram"`` match
                the style image's colours to the content first; ``"luminance"`` transfers on
                luminance and puts the content's chrominance back (as in ``StyleTransfer``).

        Returns:
            An :class:`AdaINResult`; ``images`` has the content's shape, device and dtype.
        """
        x = self.as_input(content, "content")
        given: list[torch.Tensor | FeatureStats] = (
            [style] if isinstance(style, (torch.Tensor, FeatureStats)) else list(style)
        )
        if not given:
            raise ValueError("give at least one style image")
        n, k = x.shape[0], len(given)
        styles: list[torch.Tensor] = []
        for i, s in enumerate(given):
            if isinstance(s, FeatureStats):
                if preserve_color is not None:
                    raise ValueError("preserve_color needs the style images, not their statistics")
                self._check_stats(s, f"style[{i}]")
            else:
                styles.append(self.as_input(s, f"style[{i}]"))
            batch = s.mean.shape[0] if isinstance(s, FeatureStats) else s.shape[0]
            if batch not in (1, n):
                raise ValueError(
                    f"style[{i}] has {batch} images for {n} content images; give one "
                    "style image, or one per content image"
                )
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise TypeError(f"alpha must be a number in [0, 1], got {alpha!r}")
        if not (math.isfinite(alpha) and 0.0 <= alpha <= 1.0):
            raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
        if preserve_color not in _COLOR_MODES:
            raise ValueError(
                f"preserve_color must be one of {_COLOR_MODES}, got {preserve_color!r}"
            )
        if weights is not None and mask is not None:
            raise ValueError(
                "give weights (a blend everywhere) or mask (a region per style), not both"
            )
        w = self._weights(weights, n, k, x)
        m = None if mask is None else self._mask(mask, n, k, x)
        if preserve_color == "luminance":
            styles = [
                torch.cat(
                    [match_luminance(s[min(i, len(s) - 1)][None], x[i : i + 1]) for i in range(n)]
                )
                for s in styles
            ]
            x = luminance(x)
        elif preserve_color is not None:
            match = match_histograms if preserve_color == "histogram" else match_color
            styles = [
                torch.cat([match(s[min(i, len(s) - 1)][None], x[i : i + 1]) for i in range(n)])
                for s in styles
            ]

        images_iter = iter(styles)
        stats = [
            s if isinstance(s, FeatureStats) else self._stats(next(images_iter)) for s in given
        ]
        padded, (top, left) = self.pad_images(x)
        feats = self.encode(padded)
        if m is None:
            s_mean = torch.zeros_like(feats[:, :, :1, :1])
            s_std = torch.zeros_like(s_mean)
            for j, (mean, std) in enumerate(stats):
                s_mean = s_mean + w[:, j, None, None, None] * mean
                s_std = s_std + w[:, j, None, None, None] * std
            t = adain(feats, (s_mean, s_std))
        else:
            m = F.adaptive_avg_pool2d(
                self._pad_like(m, (x.shape[-2], x.shape[-1])), (feats.shape[-2], feats.shape[-1])
            )
            t = feats * (1 - m.sum(1, keepdim=True))
            for j in range(k):
                region = m[:, j : j + 1]
                c_mean, c_std = feature_stats(feats, region)
                t = t + region * ((feats - c_mean) / c_std * stats[j][1] + stats[j][0])
        if alpha < 1:
            t = alpha * t + (1 - alpha) * feats
        decoded = self.decoder(t)
        images = decoded[..., top : top + x.shape[-2], left : left + x.shape[-1]]
        if preserve_color == "luminance":
            images = transfer_chrominance(images, self.as_input(content, "content"))
        box = (top, left, x.shape[-2], x.shape[-1])
        images = images.to(content.dtype).contiguous()
        return AdaINResult(images, decoded, t, box)

    # -- checks -----------------------------------------------------------------------------
    def as_input(self, x: object, name: str = "images") -> torch.Tensor:
        """Check ``x`` (``N×3×H×W`` or ``N×1×H×W`` in [0, 1], at least :attr:`min_size`, on
        the network's device) and return it as RGB in the network's dtype."""
        x = check_image_batch(x, name, unit_range=True)
        if x.shape[1] not in (1, 3):
            raise ValueError(
                f"{name} has {x.shape[1]} channels; give RGB (3) or grayscale (1) images "
                "(drop an alpha channel with x[:, :3])"
            )
        h, w = x.shape[-2:]
        if h < self.min_size or w < self.min_size:
            raise ValueError(
                f"{name} must be at least {self.min_size}×{self.min_size} px (the encoder's "
                f"stride), got {h}×{w}; upsample it first"
            )
        ref = next(iter(self.decoder.parameters()))
        if x.device != ref.device:
            raise ValueError(
                f"{name} is on {x.device} but the network is on {ref.device}; move the images "
                "there (or the network, with .to(device))"
            )
        return x.to(ref.dtype).expand(-1, 3, -1, -1)

    def _weights(
        self, weights: Sequence[float] | torch.Tensor | None, n: int, k: int, like: torch.Tensor
    ) -> torch.Tensor:
        if weights is None:
            return like.new_full((n, k), 1.0 / k)
        if isinstance(weights, (str, bytes)) or not isinstance(weights, (Sequence, torch.Tensor)):
            raise TypeError(f"weights must be a sequence of {k} numbers, got {weights!r}")
        t = torch.as_tensor(
            weights if isinstance(weights, torch.Tensor) else [float(v) for v in weights],
            dtype=torch.float64,
        ).cpu()
        if t.ndim == 1:
            t = t[None]
        if t.ndim != 2 or t.shape[1] != k or t.shape[0] not in (1, n):
            raise ValueError(
                f"weights must hold {k} numbers (one per style), or be an {n}×{k} tensor; "
                f"got shape {tuple(t.shape)}"
            )
        if not bool(torch.isfinite(t).all()) or bool((t < 0).any()):
            raise ValueError(f"weights must be finite and non-negative, got {t.tolist()}")
        if bool(((t.sum(1) - 1).abs() > 1e-4).any()):
            raise ValueError(
                f"weights must sum to 1 (got sums {t.sum(1).tolist()}); divide them by their sum"
            )
        return t.expand(n, k).to(like)

    def _mask(self, mask: object, n: int, k: int, like: torch.Tensor) -> torch.Tensor:
        if not isinstance(mask, torch.Tensor) or not mask.is_floating_point():
            raise TypeError(f"mask must be a float tensor in [0, 1], got {type(mask).__name__}")
        m = mask
        if m.ndim == 2 and k == 1:
            m = m[None]
        if m.ndim == 3:
            m = m[None]
        h, w = like.shape[-2:]
        if m.ndim != 4 or m.shape[1] != k or m.shape[0] not in (1, n) or m.shape[-2:] != (h, w):
            raise ValueError(
                f"mask must be {k}×{h}×{w} or {n}×{k}×{h}×{w} (one channel per style, the "
                f"content's size), got shape {tuple(mask.shape)}"
            )
        if m.device != like.device:
            raise ValueError(f"mask is on {m.device} but the content is on {like.device}")
        if not bool(torch.isfinite(m).all()) or float(m.min()) < 0 or float(m.max()) > 1:
            raise ValueError("mask values must be finite and in [0, 1]")
        if float(m.sum(1).max()) > 1 + 1e-4:
            raise ValueError(
                "mask channels must sum to at most 1 at every pixel (each pixel takes at most "
                "one whole style); normalize them by their sum"
            )
        return m.to(like.dtype).expand(n, -1, -1, -1)

    def _pad_like(self, m: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        # pad a mask exactly as pad_images pads the content of this size
        padding = self._padding(*size)
        return F.pad(m, padding, mode="reflect") if any(padding) else m


def _pad_1d(size: int, pad: int, stride: int) -> tuple[int, int]:
    for p in range(min(pad, size - 1), -1, -1):
        extra = (-(size + 2 * p)) % stride
        before, after = p + extra // 2, p + extra - extra // 2
        if after <= size - 1:  # reflection pads by less than the size
            return before, after
    raise ValueError(f"a size of {size} px cannot be padded to a multiple of {stride}")

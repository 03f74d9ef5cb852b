"""Adaptive instance normalization (Huang & Belongie, ICCV 2017) and its decoder.

``AdaIN(x, y) = σ(y) · (x − μ(x)) / σ(x) + μ(y)`` gives content features ``x`` the channel
means and standard deviations of style features ``y``: :func:`feature_stats`, :func:`adain`
and its module form :class:`AdaIN`. :class:`AdaINDecoder` maps features back to an image with
nearest-neighbour upsampling and reflection-padded convolutions (no transposed convolutions,
which draw checkerboards). The whole network is :class:`attribkit.style.arbitrary.AdaINStyleNet`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from attribkit._checks import check_feature_map

__all__ = ["FeatureStats", "feature_stats", "adain", "AdaIN", "AdaINDecoder"]

_EPS = 1e-5


class FeatureStats(NamedTuple):
    """Channel means and standard deviations of a feature map, each ``N×C×1×1``."""

    mean: torch.Tensor
    std: torch.Tensor


Stats = FeatureStats | tuple[torch.Tensor, torch.Tensor]


def feature_stats(
    features: torch.Tensor, mask: torch.Tensor | None = None, eps: float = _EPS
) -> FeatureStats:
    """Channel means and standard deviations of a feature map, over its positions.

    Args:
        features: ``N×C×H×W`` activations.
        mask: optional ``N×1×H×W`` (or ``1×1×H×W``) non-negative weights: the statistics of
            the weighted region.
        eps: added to the variance before the square root (keeps the gradient finite).

    Returns:
        :class:`FeatureStats` ``(mean, std)``, each ``N×C×1×1``.

    Examples:
        >>> import torch
        >>> mean, std = feature_stats(torch.tensor([[[[1.0, 3.0]]]]), eps=0.0)
        >>> mean.flatten().tolist(), std.flatten().tolist()
        ([2.0], [1.0])
    """
    check_feature_map(features, "features")
    _check_eps(eps)
    if mask is None:
        mean = features.mean(dim=(2, 3), keepdim=True)
        var = (features - mean).pow(2).mean(dim=(2, 3), keepdim=True)
    else:
        check_feature_map(mask, "mask")
        n, _, h, w = features.shape
        if mask.shape[1] != 1 or mask.shape[0] not in (1, n) or mask.shape[-2:] != (h, w):
            raise ValueError(
                f"mask must be {n}×1×{h}×{w} or 1×1×{h}×{w} (one weight per position), got "
                f"shape {tuple(mask.shape)}"
            )
        m = mask.to(features.dtype)
        total = m.sum(dim=(2, 3), keepdim=True).clamp_min(1e-12)
        mean = (features * m).sum(dim=(2, 3), keepdim=True) / total
        var = ((features - mean).pow(2) * m).sum(dim=(2, 3), keepdim=True) / total
    return FeatureStats(mean, (var + eps).sqrt())


def adain(content: torch.Tensor, style: torch.Tensor | Stats, *, eps: float = _EPS) -> torch.Tensor:
    """Adaptive instance normalization: ``content`` with the channel statistics of ``style``.

    Args:
        content: ``N×C×H×W`` content features.
        style: ``N×C×h×w`` (or ``1×C×h×w``) style features of any spatial size, or their
            ``(mean, std)`` from :func:`feature_stats`.
        eps: added to the variances.

    Returns:
        ``N×C×H×W`` features whose channel means and stds are the style's.

    Examples:
        >>> import torch
        >>> out = adain(torch.randn(2, 4, 8, 8), 3 + 2 * torch.randn(1, 4, 5, 5), eps=0.0)
        >>> out.shape
        torch.Size([2, 4, 8, 8])
    """
    check_feature_map(content, "content")
    if isinstance(style, torch.Tensor):
        check_feature_map(style, "style")
        if style.shape[0] not in (1, content.shape[0]):
            raise ValueError(
                f"style has {style.shape[0]} images for {content.shape[0]} content images; "
                "give one style, or one per content image"
            )
        s_mean, s_std = feature_stats(style, eps=eps)
    elif isinstance(style, (tuple, list)) and len(style) == 2:
        s_mean, s_std = style
    else:
        raise TypeError(
            "style must be a tensor of style features or their (mean, std) pair from "
            f"feature_stats, got {type(style).__name__}"
        )
    if s_mean.shape[1] != content.shape[1] or s_std.shape[1] != content.shape[1]:
        raise ValueError(
            f"style has {s_mean.shape[1]} channels but the content has {content.shape[1]}; "
            "take both from the same encoder layer"
        )
    c_mean, c_std = feature_stats(content, eps=eps)
    return (content - c_mean) / c_std * s_std.to(content) + s_mean.to(content)


class AdaIN(nn.Module):
    """Module form of :func:`adain` (no parameters).

    Examples:
        >>> import torch
        >>> AdaIN()(torch.randn(1, 3, 4, 4), torch.randn(1, 3, 6, 6)).shape
        torch.Size([1, 3, 4, 4])
    """

    def __init__(self, eps: float = _EPS) -> None:
        super().__init__()
        _check_eps(eps)
        self.eps = float(eps)

    def forward(self, content: torch.Tensor, style: torch.Tensor | Stats) -> torch.Tensor:
        return adain(content, style, eps=self.eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


def _check_eps(eps: object) -> None:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps):
        raise ValueError(f"eps must be a finite non-negative number, got {eps!r}")
    if eps < 0:
        raise ValueError(f"eps must be a finite non-negative number, got {eps!r}")


class _Conv(nn.Sequential):
    """(Upsample ×2, nearest) → reflection pad → 3×3 conv → (ReLU)."""

    def __init__(self, c_in: int, c_out: int, *, upsample: bool = False, relu: bool = True):
        layers: list[nn.Module] = []
        if upsample:
            layers.append(nn.Upsample(scale_factor=2.0, mode="nearest"))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3)]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class AdaINDecoder(nn.Module):
    """Decoder from encoder features at ``stride`` back to an RGB image in [0, 1].

    One level per factor 2 of ``stride``: each upsamples by nearest neighbour and applies
    ``convs`` reflection-padded 3×3 convolutions with ReLU; level ``l`` (at stride ``2ˡ``) has
    ``min(width · 2ˡ, max_width)`` channels. A 3×3 convolution and a sigmoid end it.

    Args:
        in_channels: channels of the encoder features.
        stride: the encoder's total downsampling (a power of 2).
        width: channels at full resolution.
        max_width: channel cap of the deep levels.
        convs: convolutions per level (at least 1).

    Examples:
        >>> import torch
        >>> dec = AdaINDecoder(8, stride=4, width=4)
        >>> dec(torch.rand(1, 8, 5, 6)).shape
        torch.Size([1, 3, 20, 24])
    """

    def __init__(
        self, in_channels: int, stride: int, width: int = 8, max_width: int = 128, convs: int = 2
    ) -> None:
        super().__init__()
        for name, v in (
            ("in_channels", in_channels),
            ("width", width),
            ("max_width", max_width),
            ("convs", convs),
            ("stride", stride),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if stride & (stride - 1):
            raise ValueError(f"stride must be a power of 2, got {stride}")
        self.in_channels, self.stride = in_channels, stride
        self.width, self.max_width, self.convs = width, max_width, convs
        levels = stride.bit_length() - 1
        widths = [min(width * 2**level, max_width) for level in range(levels + 1)]
        layers: list[nn.Module] = [_Conv(in_channels, widths[levels])]
        layers += [_Conv(widths[levels], widths[levels]) for _ in range(convs - 1)]
        for level in range(levels, 0, -1):
            c_in, c_out = widths[level], widths[level - 1]
            layers.append(_Conv(c_in, c_out, upsample=True))
            layers += [_Conv(c_out, c_out) for _ in range(convs - 1)]
        layers.append(_Conv(widths[0], 3, relu=False))
        self.body = nn.Sequential(*layers)
        self.to(memory_format=torch.channels_last)  # faster convolutions on the CPU

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = features.contiguous(memory_format=torch.channels_last)
        return torch.sigmoid(self.body(x))

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, stride={self.stride}, width={self.width}, "
            f"max_width={self.max_width}, convs={self.convs}"
        )

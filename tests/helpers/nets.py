"""Tiny networks and images shared by the synthesis tests (optvis, style, adversarial).

Every model draws its weights from a local generator, so building one never touches the global
random state, and every model is returned in eval mode (tests put it in train mode on purpose).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "tiny_net",
    "feature_net",
    "identity_net",
    "pool_net",
    "linear_net",
    "small_cnn",
    "bn_net",
    "RaiseOnCall",
    "image",
    "smooth_image",
    "overshoot",
    "assert_unit_images",
]


def _init(net: nn.Module, seed: int, scale: float = 0.5) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)


def tiny_net(seed: int = 0, dtype: torch.dtype = torch.float32, n_classes: int = 5) -> nn.Module:
    """A classifier: conv1 -> relu1 -> conv2 -> relu2 -> pool -> flat -> fc (``n_classes``)."""
    net = nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(3, 4, 3, padding=1),
            relu1=nn.ReLU(),
            conv2=nn.Conv2d(4, 6, 3, padding=1),
            relu2=nn.ReLU(),
            pool=nn.AdaptiveAvgPool2d(1),
            flat=nn.Flatten(),
            fc=nn.Linear(6, n_classes),
        )
    )
    _init(net, seed)
    return net.to(dtype).eval()


def bn_net(seed: int = 0, n_classes: int = 5) -> nn.Module:
    """:func:`tiny_net` with BatchNorm and dropout, for the train-mode and buffer checks:
    conv1 -> bn1 -> relu1 -> conv2 -> relu2 -> drop -> pool -> flat -> fc."""
    net = nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(3, 4, 3, padding=1),
            bn1=nn.BatchNorm2d(4),
            relu1=nn.ReLU(),
            conv2=nn.Conv2d(4, 6, 3, stride=2, padding=1),
            relu2=nn.ReLU(),
            drop=nn.Dropout(0.5),
            pool=nn.AdaptiveAvgPool2d(1),
            flat=nn.Flatten(),
            fc=nn.Linear(6, n_classes),
        )
    )
    _init(net, seed)
    with torch.no_grad():
        net.bn1.weight.fill_(1.0)
        net.bn1.running_var.fill_(2.0)
        net.bn1.running_mean.fill_(0.1)
    return net.eval()


def feature_net(seed: int = 0) -> nn.Module:
    """A feature extractor for style, texture and inversion: conv0 (3→8) -> relu1 -> conv2
    (stride 2) -> relu3, named ``"0"`` … ``"3"``."""
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU()
    )
    _init(net, seed, scale=0.3)
    return net.eval()


def identity_net() -> nn.Module:
    """A 1×1 identity convolution then ReLU: its features are the image itself."""
    conv = nn.Conv2d(3, 3, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
        conv.bias.zero_()
    return nn.Sequential(conv, nn.ReLU()).eval()


def pool_net(seed: int = 0) -> nn.Module:
    """conv (3→8) -> ReLU -> 4×4 average pool, named ``"0"``, ``"1"``, ``"2"``."""
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(4))
    _init(net, seed, scale=0.3)
    return net.eval()


def linear_net(dtype: torch.dtype = torch.float32) -> nn.Module:
    """logit0 = Σx, logit1 = 6 - Σx, logit2 = -100 on 1×3×2×2 images (12 pixels)."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).to(dtype)
    with torch.no_grad():
        net[1].weight.copy_(torch.stack([torch.ones(12), -torch.ones(12), torch.zeros(12)]))
        net[1].bias.copy_(torch.tensor([0.0, 6.0, -100.0]))
    return net.eval()


def small_cnn(seed: int = 0) -> nn.Module:
    """conv (3→8) -> ReLU -> 2×2 adaptive pool -> flatten -> linear (4 classes)."""
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(32, 4),
    )
    _init(net, seed)
    return net.eval()


class RaiseOnCall(nn.Module):
    """Wraps a net (as ``net``) and raises ``exc`` on its k-th forward call."""

    def __init__(self, net: nn.Module, k: int, exc: type[BaseException] = RuntimeError) -> None:
        super().__init__()
        self.net, self.k, self.exc, self.calls = net, k, exc, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == self.k:
            raise self.exc("boom")
        return self.net(x)


def image(seed: int = 0, size: int = 16, n: int = 1, channels: int = 3) -> torch.Tensor:
    """Uniform noise in [0, 1] from a local generator."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, channels, size, size, generator=g)


def smooth_image(seed: int = 0, size: int = 12) -> torch.Tensor:
    """Bilinearly upsampled noise: an image with structure at a quarter of its size."""
    small = image(seed, max(size // 4, 1))
    return F.interpolate(small, size=(size, size), mode="bilinear", align_corners=False)


def overshoot(x: torch.Tensor) -> torch.Tensor:
    """A copy of ``x`` whose first pixel is 1.0000001: what antialiased resizing of a [0, 1]
    image gives, and what every image input must accept (clamped)."""
    out = x.clone()
    out.view(-1)[0] = 1.0000001
    return out


def assert_unit_images(out: object) -> None:
    """``out`` is an image tensor with every value in [0, 1]."""
    assert isinstance(out, torch.Tensor) and float(out.min()) >= 0 and float(out.max()) <= 1

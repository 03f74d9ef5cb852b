"""Tiny models for the incremental-occlusion tests: every local rule, a squeeze-and-excitation
block, and models that must fall back to full passes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "DataDependent",
    "InPlaceShared",
    "OpZoo",
    "SqueezeExcite",
    "seeded",
]


def seeded(model: nn.Module, seed: int = 0) -> nn.Module:
    """Fill every parameter and batch-norm statistic from a seeded generator; eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.4)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model.eval()


class OpZoo(nn.Module):
    """One of each operation with a local rule, on ``N×3×20×20`` images, then a linear head.

    Convolutions with stride, dilation, groups, depthwise and ``padding='same'``; eval-mode
    batch norm; ReLU6, LeakyReLU, Hardswish, SiLU, sigmoid, GELU; constant ``F.pad``; max
    pooling with ``ceil_mode``; average pooling; evenly divisible adaptive pooling; residual
    sums, a product of two changed maps, channel concatenation, arithmetic with constants and
    a per-channel constant tensor; functional ``F.conv2d`` with a parameter.

    Args:
        dilation: of the depthwise convolution (PyTorch's CPU kernel for dilated convolutions
            is very slow in float64, so float64 tests use 1).
    """

    def __init__(self, dilation: int = 2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2)
        self.dw = nn.Conv2d(8, 8, 3, padding="same", dilation=dilation, groups=8, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.w3 = nn.Parameter(torch.zeros(6, 8, 3, 3))
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.branch = nn.Conv2d(6, 4, 1)
        self.avg = nn.AvgPool2d(3, stride=1, padding=1)
        self.res = nn.Conv2d(10, 10, 3, padding=1)
        self.scale = nn.Parameter(torch.zeros(1, 10, 1, 1))
        self.adapt = nn.AdaptiveAvgPool2d((7, 3))
        self.fc = nn.Linear(210, 5)
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self.bn1(self.conv1(x)))
        x = self.act(self.conv2(x))
        x = F.hardswish(self.bn2(self.dw(x)))
        x = F.pad(x, (1, 2, 2, 2))
        x = F.silu(F.conv2d(x, self.w3))
        x = self.pool(x)
        x = torch.cat([self.branch(x), self.avg(x)], dim=1)
        y = x + self.res(x)
        y = torch.sigmoid(y) * y * 0.5 - 0.1 + self.scale
        y = F.gelu(y)
        return self.fc(self.adapt(y).flatten(1))


class SqueezeExcite(nn.Module):
    """A convolution, a squeeze-and-excitation block (global, so not local), more convolution."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.reduce = nn.Conv2d(8, 2, 1)
        self.expand = nn.Conv2d(2, 8, 1)
        self.out = nn.Conv2d(8, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv(x))
        s = torch.sigmoid(self.expand(F.relu(self.reduce(F.adaptive_avg_pool2d(x, 1)))))
        x = F.relu(self.out(x * s))
        return self.fc(x.mean(dim=(2, 3)))


class DataDependent(nn.Module):
    """Branches on the input's values: ``torch.fx`` cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if x.mean() > 0:
            x = x * 2
        return self.fc(x.mean(dim=(2, 3)))


class InPlaceShared(nn.Module):
    """Writes in place into a tensor that another branch reads."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        z = self.relu(y)
        return self.fc((z + y).mean(dim=(2, 3)))

"""Tiny networks shared by the optvis tests (pytest puts this folder on sys.path)."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


def tiny_net(seed: int = 0, dtype: torch.dtype = torch.float32, n_classes: int = 5) -> nn.Module:
    """conv1 -> relu1 -> conv2 -> relu2 -> pool -> flat -> fc, random weights from a local RNG."""
    g = torch.Generator().manual_seed(seed)
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
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return net.to(dtype).eval()


class RaiseOnCall(nn.Module):
    """Wraps a net and raises ``exc`` on its k-th forward call."""

    def __init__(self, net: nn.Module, k: int, exc: type[BaseException] = RuntimeError) -> None:
        super().__init__()
        self.net, self.k, self.exc, self.calls = net, k, exc, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == self.k:
            raise self.exc("boom")
        return self.net(x)

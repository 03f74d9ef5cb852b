"""Tiny backbones for the arbitrary-style (AdaIN) network tests."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from attribkit.style.arbitrary import AdaINStyleNet

__all__ = ["tiny_backbone", "tiny_adain_net"]


def tiny_backbone(seed: int = 0) -> nn.Sequential:
    """Stride-4 encoder with a BatchNorm (to prove its statistics never move): layers
    ``conv1, bn1, relu1`` (stride 2, 8 channels) and ``conv2, relu2`` (stride 4, 12 channels)."""
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(3, 8, 3, stride=2, padding=1),
            bn1=nn.BatchNorm2d(8),
            relu1=nn.ReLU(),
            conv2=nn.Conv2d(8, 12, 3, stride=2, padding=1),
            relu2=nn.ReLU(),
        )
    )
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
        net.bn1.running_mean.copy_(torch.randn(8, generator=g) * 0.1)
        net.bn1.running_var.copy_(torch.rand(8, generator=g) + 0.5)
    return net.eval()


def tiny_adain_net(seed: int = 0, pad: int = 2) -> AdaINStyleNet:
    """An :class:`AdaINStyleNet` on :func:`tiny_backbone` cut at ``relu2`` (decoder width 4)."""
    torch.manual_seed(seed)
    return AdaINStyleNet(tiny_backbone(seed), "relu2", width=4, max_width=8, pad=pad)

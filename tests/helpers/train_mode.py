"""A tiny image model left in train mode, with BatchNorm and Dropout: a read-only method must
run it in eval mode (dropout off, statistics used, not updated) and give it back unchanged."""

from __future__ import annotations

import torch
from torch import nn


def bn_dropout_net(seed: int = 0) -> nn.Sequential:
    """Conv → BatchNorm → ReLU → Dropout(0.5) → Conv → ReLU, in train mode, with non-trivial
    running statistics (so a forward pass in train mode would visibly change them)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Conv2d(6, 4, 3, padding=1),
            nn.ReLU(),
        )
        with torch.no_grad():
            bn = net[1]
            assert isinstance(bn, nn.BatchNorm2d)
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    return net.train()


def eval_copy(net: nn.Module) -> nn.Module:
    """An eval-mode deep copy, for the reference answer."""
    import copy

    return copy.deepcopy(net).eval()

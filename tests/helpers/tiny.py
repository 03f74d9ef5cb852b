"""Tiny models and images shared by the looking-inside, feature-space and fast-style tests.

:func:`bn_dropout_net` is a model left in train mode, with BatchNorm and Dropout: a read-only
method must run it in eval mode (dropout off, statistics used, not updated) and give it back
unchanged. :func:`conv_net` is a small classifier for 8×8 images.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn


def bn_dropout_net(seed: int = 0) -> nn.Sequential:
    """A train-mode image model: Conv → BatchNorm → ReLU → Dropout(0.5) → Conv → ReLU, with
    non-trivial running statistics (a forward pass in train mode would visibly change them)."""
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


def conv_net(in_channels: int = 3, seed: int = 0) -> nn.Sequential:
    """Conv(3→4) → ReLU → Conv(4→4, stride 2) → ReLU → Flatten → Linear: layers ``0``–``5``
    (spatial up to ``3``), for 8×8 inputs (the Linear takes 4×4×4)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(in_channels, 4, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(4, 4, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64, 3),
        ).eval()


def images(n: int = 4, size: int = 8, channels: int = 3, seed: int = 0) -> torch.Tensor:
    """``n`` random images in [0, 1], from a local generator."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, channels, size, size, generator=g)


def with_nan(x: torch.Tensor) -> torch.Tensor:
    """A copy of ``x`` with one NaN pixel."""
    y = x.clone()
    y.view(-1)[0] = float("nan")
    return y


def style_backbone() -> nn.Sequential:
    """A two-conv loss network for training tests: layers ``1`` (content, 6 channels) and
    ``3`` (stride 2, 8 channels)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(6, 8, 3, stride=2, padding=1),
            nn.ReLU(),
        )


def tiny_training(**overrides: object) -> dict[str, object]:
    """``train_style`` keywords for a network and a run small enough for a unit test."""
    args: dict[str, object] = dict(
        backbone=style_backbone(),
        content_layers=["1"],
        style_layers=["1", "3"],
        steps=2,
        batch_size=1,
        crop=16,
        width=4,
        n_residual=1,
        show_progress=False,
        holdout=(),
        pad=0,
    )
    args.update(overrides)
    return args


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny tensors: extra threads only add synchronization (badly so on a busy machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

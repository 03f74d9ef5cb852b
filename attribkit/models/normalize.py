"""Input normalization as part of the model, so that every public API takes images in [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Normalize", "NormalizedModel", "IMAGENET_MEAN", "IMAGENET_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Normalize(nn.Module):
    """Subtract a per-channel mean and divide by a per-channel std.

    Args:
        mean: per-channel mean.
        std: per-channel standard deviation.

    Examples:
        >>> import torch
        >>> Normalize()(torch.ones(1, 3, 2, 2)).shape
        torch.Size([1, 3, 2, 2])
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD
    ) -> None:
        super().__init__()
        for name, v in (("mean", mean), ("std", std)):
            if (
                not isinstance(v, (list, tuple))
                or not v
                or not all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in v)
            ):
                raise TypeError(f"{name} must be a non-empty list of numbers, got {v!r:.60}")
            if not all(math.isfinite(e) for e in v):
                raise ValueError(f"{name} must hold finite numbers, got {list(v)}")
        if len(mean) != len(std):
            raise ValueError("mean and std must have one entry per channel")
        if any(s <= 0 for s in std):
            raise ValueError("std entries must be positive")
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.mean.shape[1]:
            raise ValueError(
                f"the input must be N×{self.mean.shape[1]}×H×W for this normalization, got shape "
                f"{tuple(x.shape)}"
                + (" (add a batch dimension with x.unsqueeze(0))" if x.ndim == 3 else "")
            )
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def extra_repr(self) -> str:
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"


class NormalizedModel(nn.Module):
    """Wrap a network that expects normalized input so that it takes images in [0, 1].

    Layers of the wrapped network are named ``model.<name>``.

    Args:
        model: the network.
        mean: per-channel mean used in training.
        std: per-channel std used in training.

    Examples:
        >>> from torch import nn
        >>> net = NormalizedModel(nn.Conv2d(3, 2, 1))
        >>> [n for n, _ in net.named_children()]
        ['normalize', 'model']
    """

    def __init__(
        self,
        model: nn.Module,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        self.normalize = Normalize(mean, std)
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(self.normalize(x))

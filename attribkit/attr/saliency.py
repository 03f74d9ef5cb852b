"""Saliency maps (Simonyan et al., 2014): the gradient of the class score with respect to pixels."""

from __future__ import annotations

import torch
from captum._utils.typing import TargetType
from captum.attr import Saliency as _CaptumSaliency
from torch import nn

from attribkit._checks import check_image_batch
from attribkit.attr._base import CheckedAttribution, captum_attribute

__all__ = ["Saliency", "saliency_map"]


class Saliency(CheckedAttribution, _CaptumSaliency):
    """Captum's ``Saliency`` (absolute gradients by default) with attribkit's checks and state
    discipline; ``Saliency(forward_func, *, eval_mode=True)``, then
    ``attribute(inputs, target=None, abs=True, additional_forward_args=None)`` as in Captum
    (``eval_mode``: see :class:`~attribkit.attr.CheckedAttribution`).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        >>> Saliency(net).attribute(torch.rand(2, 3, 2, 2), target=0).shape
        torch.Size([2, 3, 2, 2])
    """

    attribute = captum_attribute(_CaptumSaliency)


def saliency_map(model: nn.Module, image: torch.Tensor, target: TargetType) -> torch.Tensor:
    """The lecture's saliency map: ``max`` over channels of ``|∂score/∂pixel|``.

    Args:
        model: a classifier taking images in [0, 1].
        image: ``N×C×H×W`` images.
        target: the class (per image) whose score is differentiated.

    Returns:
        ``N×1×H×W`` non-negative maps.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        >>> saliency_map(net, torch.rand(1, 3, 2, 2), target=2).shape
        torch.Size([1, 1, 2, 2])
    """
    check_image_batch(image, "image")
    grads = Saliency(model).attribute(image, target=target, abs=True)
    return grads.amax(dim=1, keepdim=True)

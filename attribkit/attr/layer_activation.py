"""A layer's activation as an attribution: Captum's, with dotted layer names."""

from __future__ import annotations

from captum.attr import LayerActivation as _CaptumLayerActivation

from attribkit.attr._base import CheckedAttribution, captum_attribute

__all__ = ["LayerActivation"]


class LayerActivation(CheckedAttribution, _CaptumLayerActivation):
    """Captum's ``LayerActivation`` accepting ``"_blocks.4"``-style names.

    The constructor takes Captum's arguments (``forward_func, layer, device_ids=None``), where
    ``layer`` may be a dotted name, a module, or a list of them (as Captum allows), and
    ``eval_mode`` (see :class:`~attribkit.attr.CheckedAttribution`).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
        >>> LayerActivation(net, "1").attribute(torch.rand(1, 3, 8, 8)).shape
        torch.Size([1, 4, 6, 6])
    """

    attribute = captum_attribute(_CaptumLayerActivation)

"""Captum's other input-gradient methods, with attribkit's checks and state discipline.

Each class takes Captum's arguments, in Captum's order, plus ``eval_mode`` (see
:class:`~attribkit.attr.CheckedAttribution`), and gives Captum's numbers. Random baselines and
noise (``GradientShap``, ``DeepLiftShap`` over a distribution) are drawn from the global
generators as in Captum, which are then put back where they were.
"""

from __future__ import annotations

from captum import attr as _captum

from attribkit.attr._base import CheckedAttribution, captum_attribute

__all__ = ["InputXGradient", "DeepLift", "DeepLiftShap", "GradientShap", "LRP"]


class InputXGradient(CheckedAttribution, _captum.InputXGradient):
    """Captum's ``InputXGradient``: the input times the gradient of the target.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> InputXGradient(net).attribute(torch.rand(2, 4), target=1).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.InputXGradient)


class DeepLift(CheckedAttribution, _captum.DeepLift):
    """Captum's ``DeepLift`` (Shrikumar et al., 2017; the Rescale rule on ``nn`` modules).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> DeepLift(net).attribute(torch.rand(2, 4), baselines=0.0, target=1).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.DeepLift)


class DeepLiftShap(CheckedAttribution, _captum.DeepLiftShap):
    """Captum's ``DeepLiftShap``: DeepLift averaged over a distribution of baselines.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> DeepLiftShap(net).attribute(torch.rand(2, 4), torch.rand(5, 4), target=1).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.DeepLiftShap)


class GradientShap(CheckedAttribution, _captum.GradientShap):
    """Captum's ``GradientShap``: expected gradients times the input-baseline difference, over
    random baselines and random points between baseline and input.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> GradientShap(net).attribute(torch.rand(2, 4), torch.rand(5, 4), target=1).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.GradientShap)


class LRP(CheckedAttribution, _captum.LRP):
    """Captum's ``LRP`` (layer-wise relevance propagation, Bach et al., 2015).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> LRP(net).attribute(torch.rand(2, 4), target=1).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.LRP)

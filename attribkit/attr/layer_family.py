"""Captum's other layer attributions, with dotted layer names, checks and state discipline.

Each class takes Captum's arguments, in Captum's order (``layer`` a dotted name such as
``"_blocks.4"`` or a module, or a list of them where Captum allows one), plus ``eval_mode`` (see
:class:`~attribkit.attr.CheckedAttribution`), and gives Captum's numbers. Inputs may be integer
(token ids into an embedding layer) where Captum accepts them.
"""

from __future__ import annotations

from captum import attr as _captum

from attribkit.attr._base import CheckedAttribution, captum_attribute

__all__ = [
    "LayerConductance",
    "LayerGradientXActivation",
    "LayerFeaturePermutation",
    "LayerFeatureAblation",
    "InternalInfluence",
    "LayerDeepLift",
    "LayerDeepLiftShap",
    "LayerGradientShap",
    "LayerIntegratedGradients",
    "LayerLRP",
]


class LayerConductance(CheckedAttribution, _captum.LayerConductance):
    """Captum's ``LayerConductance``: conductance of the layer's units (Dhamdhere et al., 2018).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> LayerConductance(net, "1").attribute(x, target=1, n_steps=8).shape
        torch.Size([2, 3])
    """

    attribute = captum_attribute(_captum.LayerConductance)


class LayerGradientXActivation(CheckedAttribution, _captum.LayerGradientXActivation):
    """Captum's ``LayerGradientXActivation``: the layer's activation times its gradient.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> LayerGradientXActivation(net, "1").attribute(x, target=1).shape
        torch.Size([2, 3])
    """

    attribute = captum_attribute(_captum.LayerGradientXActivation)


class LayerFeaturePermutation(CheckedAttribution, _captum.LayerFeaturePermutation):
    """Captum's ``LayerFeaturePermutation``: the layer's units shuffled
    across the batch.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1), nn.Flatten(0))
        >>> LayerFeaturePermutation(net, "1").attribute(torch.rand(3, 4)).shape
        torch.Size([3, 3])
    """

    attribute = captum_attribute(_captum.LayerFeaturePermutation)


class LayerFeatureAblation(CheckedAttribution, _captum.LayerFeatureAblation):
    """Captum's ``LayerFeatureAblation``: the change in the target
    when each unit of the layer is ablated.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> LayerFeatureAblation(net, "1").attribute(x, target=1).shape
        torch.Size([2, 3])
    """

    attribute = captum_attribute(_captum.LayerFeatureAblation)


class InternalInfluence(CheckedAttribution, _captum.InternalInfluence):
    """Captum's ``InternalInfluence``: the layer's gradients integrated along the input path.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> InternalInfluence(net, "1").attribute(x, target=1, n_steps=8).shape
        torch.Size([2, 3])
    """

    attribute = captum_attribute(_captum.InternalInfluence)


class LayerDeepLift(CheckedAttribution, _captum.LayerDeepLift):
    """Captum's ``LayerDeepLift``: DeepLift at a layer.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> LayerDeepLift(net, "1").attribute(x, baselines=0.0, target=1).shape
        torch.Size([2, 3])
    """

    attribute = captum_attribute(_captum.LayerDeepLift)


class LayerDeepLiftShap(CheckedAttribution, _captum.LayerDeepLiftShap):
    """Captum's ``LayerDeepLiftShap``: DeepLiftShap at a layer, over a baseline distribution.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> LayerDeepLiftShap(net, "1").attribute(x, torch.rand(5, 4), target=1).shape
        torch.Size([2, 3])
    """

    attribute = captum_attribute(_captum.LayerDeepLiftShap)


class LayerGradientShap(CheckedAttribution, _captum.LayerGradientShap):
    """Captum's ``LayerGradientShap``: GradientShap at a layer.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> LayerGradientShap(net, "1").attribute(x, torch.rand(5, 4), target=1).shape
        torch.Size([2, 3])
    """

    attribute = captum_attribute(_captum.LayerGradientShap)


class LayerIntegratedGradients(CheckedAttribution, _captum.LayerIntegratedGradients):
    """Captum's ``LayerIntegratedGradients``: integrated gradients at a
    layer (for token ids: at the embedding).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> LayerIntegratedGradients(net, "1").attribute(x, target=1, n_steps=8).shape
        torch.Size([2, 3])
    """

    attribute = captum_attribute(_captum.LayerIntegratedGradients)


class LayerLRP(CheckedAttribution, _captum.LayerLRP):
    """Captum's ``LayerLRP``: layer-wise relevance propagation to a layer.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> LayerLRP(net, "0").attribute(x, target=1).shape
        torch.Size([2, 3])
    """

    attribute = captum_attribute(_captum.LayerLRP)

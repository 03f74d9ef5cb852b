"""Captum's neuron attributions, with dotted layer names, checks and state discipline.

Each class takes Captum's arguments, in Captum's order (``layer`` a dotted name or a module;
``attribute(inputs, neuron_selector, ...)`` with an index tuple, an int or a function), plus
``eval_mode`` (see :class:`~attribkit.attr.CheckedAttribution`), and gives Captum's numbers.
Guided backprop and the deconvnet for a neuron are in :mod:`attribkit.attr.guided`.
"""

from __future__ import annotations

from captum import attr as _captum

from attribkit.attr._base import CheckedAttribution, captum_attribute

__all__ = [
    "NeuronConductance",
    "NeuronFeatureAblation",
    "NeuronGradient",
    "NeuronIntegratedGradients",
    "NeuronDeepLift",
    "NeuronDeepLiftShap",
    "NeuronGradientShap",
]


class NeuronConductance(CheckedAttribution, _captum.NeuronConductance):
    """Captum's ``NeuronConductance``: conductance of one neuron, attributed to the inputs.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> NeuronConductance(net, "1").attribute(x, 0, target=1, n_steps=8).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.NeuronConductance)


class NeuronFeatureAblation(CheckedAttribution, _captum.NeuronFeatureAblation):
    """Captum's ``NeuronFeatureAblation``: the change in one neuron
    when each input feature is ablated.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> NeuronFeatureAblation(net, "1").attribute(x, 0).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.NeuronFeatureAblation)


class NeuronGradient(CheckedAttribution, _captum.NeuronGradient):
    """Captum's ``NeuronGradient``: the gradient of one neuron with respect to the inputs.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> NeuronGradient(net, "1").attribute(x, 0).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.NeuronGradient)


class NeuronIntegratedGradients(CheckedAttribution, _captum.NeuronIntegratedGradients):
    """Captum's ``NeuronIntegratedGradients``: integrated gradients of one neuron.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> NeuronIntegratedGradients(net, "1").attribute(x, 0, n_steps=8).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.NeuronIntegratedGradients)


class NeuronDeepLift(CheckedAttribution, _captum.NeuronDeepLift):
    """Captum's ``NeuronDeepLift``: DeepLift of one neuron.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> NeuronDeepLift(net, "1").attribute(x, 0, baselines=0.0).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.NeuronDeepLift)


class NeuronDeepLiftShap(CheckedAttribution, _captum.NeuronDeepLiftShap):
    """Captum's ``NeuronDeepLiftShap``: DeepLiftShap of one neuron, over a baseline distribution.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> NeuronDeepLiftShap(net, "1").attribute(x, 0, torch.rand(5, 4)).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.NeuronDeepLiftShap)


class NeuronGradientShap(CheckedAttribution, _captum.NeuronGradientShap):
    """Captum's ``NeuronGradientShap``: GradientShap of one neuron.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), torch.rand(2, 4)
        >>> NeuronGradientShap(net, "1").attribute(x, 0, torch.rand(5, 4)).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.NeuronGradientShap)

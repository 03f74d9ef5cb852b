"""Captum's other perturbation methods, with attribkit's checks and state discipline.

Each class takes Captum's arguments, in Captum's order, plus ``eval_mode`` (see
:class:`~attribkit.attr.CheckedAttribution`), and gives Captum's numbers. Inputs may be float,
integer or boolean. The random permutations and samples are drawn from the global generators
as in Captum (the same seed gives the same numbers), which are then put back where they were.
"""

from __future__ import annotations

from captum import attr as _captum

from attribkit.attr._base import CheckedAttribution, captum_attribute

__all__ = [
    "FeaturePermutation",
    "ShapleyValueSampling",
    "ShapleyValues",
    "LimeBase",
    "Lime",
    "KernelShap",
]


class FeaturePermutation(CheckedAttribution, _captum.FeaturePermutation):
    """Captum's ``FeaturePermutation``: the change in output when a feature is shuffled
    across the batch (which needs at least two examples).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> FeaturePermutation(net).attribute(torch.rand(3, 4), target=1).shape
        torch.Size([3, 4])
    """

    attribute = captum_attribute(_captum.FeaturePermutation)


class ShapleyValueSampling(CheckedAttribution, _captum.ShapleyValueSampling):
    """Captum's ``ShapleyValueSampling``: Shapley values estimated from random permutations.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> ShapleyValueSampling(net).attribute(torch.rand(2, 4), target=1, n_samples=2).shape
        torch.Size([2, 4])
    """

    attribute = captum_attribute(_captum.ShapleyValueSampling)


class ShapleyValues(CheckedAttribution, _captum.ShapleyValues):
    """Captum's ``ShapleyValues``: exact Shapley values over every permutation of the features
    (or of the ``feature_mask`` groups; only practical for a handful).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> ShapleyValues(net).attribute(torch.rand(2, 3), target=1).shape
        torch.Size([2, 3])
    """

    attribute = captum_attribute(_captum.ShapleyValues)


class LimeBase(CheckedAttribution, _captum.LimeBase):
    """Captum's ``LimeBase``: LIME with your own interpretable model, similarity, perturbation
    and representation functions (every constructor argument is Captum's).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from captum._utils.models.linear_model import SkLearnLinearRegression
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).requires_grad_(False)
        >>> lime = LimeBase(net, SkLearnLinearRegression(), lambda x, p, i, **kw: 1.0,
        ...                 lambda x, **kw: torch.randint(0, 2, (1, 4)), True,
        ...                 lambda c, x, **kw: x * c, None)
        >>> lime.attribute(torch.rand(1, 4), target=1, n_samples=10).shape
        torch.Size([1, 4])
    """

    attribute = captum_attribute(_captum.LimeBase)


class Lime(CheckedAttribution, _captum.Lime):
    """Captum's ``Lime`` (Ribeiro et al., 2016): a local linear surrogate over random feature
    subsets.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> Lime(net).attribute(torch.rand(1, 4), target=1, n_samples=10).shape
        torch.Size([1, 4])
    """

    attribute = captum_attribute(_captum.Lime)


class KernelShap(CheckedAttribution, _captum.KernelShap):
    """Captum's ``KernelShap`` (Lundberg & Lee, 2017): LIME with the Shapley kernel.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> KernelShap(net).attribute(torch.rand(1, 4), target=1, n_samples=10).shape
        torch.Size([1, 4])
    """

    attribute = captum_attribute(_captum.KernelShap)

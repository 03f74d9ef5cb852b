"""Feature ablation: Captum's, with attribkit's checks (integer and boolean inputs welcome)."""

from __future__ import annotations

from captum.attr import FeatureAblation as _CaptumFeatureAblation

from attribkit.attr._base import CheckedAttribution, captum_attribute

__all__ = ["FeatureAblation"]


class FeatureAblation(CheckedAttribution, _CaptumFeatureAblation):
    """Captum's ``FeatureAblation``: the change in the target output when each feature (or
    group, by ``feature_mask``) is replaced by its baseline. Every argument is Captum's; inputs
    may be float, integer or boolean (token ids, categorical features), and tuples of inputs may
    hold sparse features of other lengths, empty ones included. The constructor takes Captum's
    ``forward_func`` and ``eval_mode`` (see :class:`~attribkit.attr.CheckedAttribution`).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
        >>> FeatureAblation(net).attribute(torch.rand(2, 1, 2, 2), target=0).shape
        torch.Size([2, 1, 2, 2])
    """

    attribute = captum_attribute(_CaptumFeatureAblation)

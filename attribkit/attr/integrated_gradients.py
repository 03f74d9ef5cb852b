"""Integrated gradients (Sundararajan et al., 2017): Captum's, with attribkit's checks."""

from __future__ import annotations

from captum.attr import IntegratedGradients as _CaptumIntegratedGradients

from attribkit.attr._base import CheckedAttribution, captum_attribute

__all__ = ["IntegratedGradients"]


class IntegratedGradients(CheckedAttribution, _CaptumIntegratedGradients):
    """Captum's ``IntegratedGradients``: gradients integrated along the straight path from
    ``baselines`` (zeros) to ``inputs``. Every argument is Captum's (``forward_func``,
    ``multiply_by_inputs``), plus ``eval_mode`` (see :class:`~attribkit.attr.CheckedAttribution`).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        >>> IntegratedGradients(net).attribute(torch.rand(2, 3, 2, 2), target=1, n_steps=8).shape
        torch.Size([2, 3, 2, 2])
    """

    attribute = captum_attribute(_CaptumIntegratedGradients)

"""Integrated gradients (Sundararajan et al., 2017): Captum's, with attribkit's checks."""

from __future__ import annotations

from typing import Any

from captum.attr import IntegratedGradients as _CaptumIntegratedGradients

from attribkit.attr._base import checked_attribute

__all__ = ["IntegratedGradients"]


class IntegratedGradients(_CaptumIntegratedGradients):
    """Captum's ``IntegratedGradients``; every argument is Captum's.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        >>> IntegratedGradients(net).attribute(torch.rand(2, 3, 2, 2), target=1, n_steps=8).shape
        torch.Size([2, 3, 2, 2])
    """

    @checked_attribute()
    def attribute(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Integrated gradients along the straight path from ``baselines`` (zeros) to ``inputs``.

        Args:
            inputs: ``N×…`` tensor or tuple of tensors.
            *args: Captum's positional arguments (baselines, target, …).
            **kwargs: Captum's keyword arguments (``n_steps``, ``method``, …).
        """
        return _CaptumIntegratedGradients.attribute.__wrapped__(  # type: ignore[attr-defined]
            self, inputs, *args, **kwargs
        )

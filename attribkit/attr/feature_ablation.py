"""Feature ablation: Captum's, with attribkit's checks."""

from __future__ import annotations

from typing import Any

from captum.attr import FeatureAblation as _CaptumFeatureAblation

from attribkit.attr._base import checked_attribute

__all__ = ["FeatureAblation"]


class FeatureAblation(_CaptumFeatureAblation):
    """Captum's ``FeatureAblation``; every argument is Captum's.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
        >>> FeatureAblation(net).attribute(torch.rand(2, 1, 2, 2), target=0).shape
        torch.Size([2, 1, 2, 2])
    """

    @checked_attribute()
    def attribute(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Change in the target output when each feature (or group, by ``feature_mask``) is
        replaced by its baseline.

        Args:
            inputs: ``N×…`` tensor or tuple of tensors.
            *args: Captum's positional arguments (baselines, target, …).
            **kwargs: Captum's keyword arguments (``feature_mask``, ``perturbations_per_eval``, …).
        """
        return _CaptumFeatureAblation.attribute.__wrapped__(  # type: ignore[attr-defined]
            self, inputs, *args, **kwargs
        )

"""SmoothGrad and friends: Captum's ``NoiseTunnel`` over any attribution, with checks."""

from __future__ import annotations

from typing import Any

from captum.attr import NoiseTunnel as _CaptumNoiseTunnel

from attribkit.attr._base import checked_attribute, model_of

__all__ = ["NoiseTunnel"]


class NoiseTunnel(_CaptumNoiseTunnel):
    """Captum's ``NoiseTunnel`` (SmoothGrad, SmoothGrad², VarGrad) with attribkit's checks.

    It works over attribkit's and Captum's attribution methods alike.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from attribkit.attr import Saliency
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        >>> nt = NoiseTunnel(Saliency(net))
        >>> nt.attribute(torch.rand(1, 3, 2, 2), nt_samples=4, target=0).shape
        torch.Size([1, 3, 2, 2])
    """

    def __init__(self, attribution_method: Any) -> None:
        super().__init__(attribution_method)
        self.model = model_of(attribution_method)

    @checked_attribute()
    def attribute(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Average (or square-average, or variance of) the wrapped attributions over noisy
        copies of ``inputs``.

        Args:
            inputs: ``N×…`` tensor or tuple of tensors.
            *args: Captum's positional arguments (``nt_type``, ``nt_samples``, …).
            **kwargs: Captum's keyword arguments, and the wrapped method's (``target``, …).
        """
        return _CaptumNoiseTunnel.attribute.__wrapped__(  # type: ignore[attr-defined]
            self, inputs, *args, **kwargs
        )

"""SmoothGrad and friends: Captum's ``NoiseTunnel`` over any attribution, with checks."""

from __future__ import annotations

from typing import Any

from captum.attr import Attribution
from captum.attr import NoiseTunnel as _CaptumNoiseTunnel

from attribkit.attr._base import CheckedAttribution, captum_attribute

__all__ = ["NoiseTunnel"]


class NoiseTunnel(CheckedAttribution, _CaptumNoiseTunnel):
    """Captum's ``NoiseTunnel`` (SmoothGrad, SmoothGrad², VarGrad) with attribkit's checks.

    It works over attribkit's and Captum's attribution methods alike, with Captum's arguments
    (``nt_type``, ``nt_samples``, ``nt_samples_batch_size``, ``stdevs``,
    ``draw_baseline_from_distrib`` and the wrapped method's own). The noise is drawn from the
    global torch generator, as in Captum, so the same seed gives Captum's numbers; the generator
    is then put back where it was, so two calls in a row give the same result (seed each call
    differently for independent draws, or ask for more ``nt_samples``). ``stdevs`` may be an int.

    Args:
        attribution_method: the method to smooth (an attribkit or Captum attribution).
        eval_mode: ``None`` (default) takes the wrapped method's ``eval_mode`` (``True`` for
            Captum's classes); see :class:`~attribkit.attr.CheckedAttribution`.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from attribkit.attr import Saliency
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        >>> nt = NoiseTunnel(Saliency(net))
        >>> nt.attribute(torch.rand(1, 3, 2, 2), nt_samples=4, target=0).shape
        torch.Size([1, 3, 2, 2])
    """

    def __init__(self, attribution_method: Any, eval_mode: bool | None = None) -> None:
        if not isinstance(attribution_method, Attribution):
            raise TypeError(
                "NoiseTunnel wraps an attribution method such as Saliency(model), got "
                f"{type(attribution_method).__name__}"
            )
        inherited = getattr(attribution_method, "eval_mode", True)
        super().__init__(
            attribution_method, eval_mode=inherited if eval_mode is None else eval_mode
        )

    attribute = captum_attribute(_CaptumNoiseTunnel)

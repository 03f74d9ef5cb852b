"""Saliency maps (Simonyan et al., 2014): the gradient of the class score with respect to pixels."""

from __future__ import annotations

from typing import Any

import torch
from captum._utils.typing import TargetType, TensorOrTupleOfTensorsGeneric
from captum.attr import Saliency as _CaptumSaliency
from torch import nn

from attribkit._checks import check_image_batch
from attribkit.attr._base import checked_attribute

__all__ = ["Saliency", "saliency_map"]


class Saliency(_CaptumSaliency):
    """Captum's ``Saliency`` with attribkit's input checks and state discipline.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        >>> Saliency(net).attribute(torch.rand(2, 3, 2, 2), target=0).shape
        torch.Size([2, 3, 2, 2])
    """

    @checked_attribute()
    def attribute(  # type: ignore[override]
        self,
        inputs: TensorOrTupleOfTensorsGeneric,
        target: TargetType = None,
        abs: bool = True,
        additional_forward_args: Any = None,
    ) -> TensorOrTupleOfTensorsGeneric:
        """Gradients of the target output with respect to ``inputs`` (absolute by default).

        Args:
            inputs: ``N×…`` tensor or tuple of tensors.
            target: output index per Captum's ``TargetType``.
            abs: return absolute values, as Captum does.
            additional_forward_args: extra arguments for the model.
        """
        tensors = (
            tuple(t.detach().clone().requires_grad_(True) for t in inputs)
            if isinstance(inputs, tuple)
            else inputs.detach().clone().requires_grad_(True)
        )
        return _CaptumSaliency.attribute.__wrapped__(  # type: ignore[attr-defined]
            self, tensors, target=target, abs=abs, additional_forward_args=additional_forward_args
        )


def saliency_map(model: nn.Module, image: torch.Tensor, target: TargetType) -> torch.Tensor:
    """The lecture's saliency map: ``max`` over channels of ``|∂score/∂pixel|``.

    Args:
        model: a classifier taking images in [0, 1].
        image: ``N×C×H×W`` images.
        target: the class (per image) whose score is differentiated.

    Returns:
        ``N×1×H×W`` non-negative maps.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        >>> saliency_map(net, torch.rand(1, 3, 2, 2), target=2).shape
        torch.Size([1, 1, 2, 2])
    """
    check_image_batch(image, "image")
    grads = Saliency(model).attribute(image, target=target, abs=True)
    return grads.amax(dim=1, keepdim=True)

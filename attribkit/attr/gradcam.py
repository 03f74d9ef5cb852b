"""Grad-CAM and Guided Grad-CAM (Selvaraju et al., 2017), with layers named by dotted names."""

from __future__ import annotations

from typing import Any

import torch
from captum._utils.typing import TargetType
from captum.attr import GuidedGradCam as _CaptumGuidedGradCam
from captum.attr import LayerAttribution
from captum.attr import LayerGradCam as _CaptumLayerGradCam
from torch import nn

from attribkit._checks import ValueAssertionError, check_image_batch
from attribkit.attr._base import CheckedAttribution, captum_attribute, checked_attribute
from attribkit.attr.guided import GuidedBackprop
from attribkit.layers.hooks import LayerRef

__all__ = ["LayerGradCam", "GuidedGradCam", "gradcam_map", "last_conv_layer"]


def last_conv_layer(model: nn.Module) -> str:
    """Dotted name of the last ``nn.Conv2d`` registered in ``model`` (Grad-CAM's usual layer).

    Examples:
        >>> from torch import nn
        >>> last_conv_layer(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3), nn.ReLU()))
        '1'
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if not names:
        raise ValueError("the model has no nn.Conv2d; name the layer for Grad-CAM explicitly")
    return names[-1]


class LayerGradCam(CheckedAttribution, _CaptumLayerGradCam):
    """Captum's ``LayerGradCam`` accepting a dotted layer name, with attribkit's checks.

    The constructor takes Captum's arguments (``forward_func, layer, device_ids=None``; the
    layer a dotted name such as ``"_conv_head"`` or a module) and ``eval_mode``. ``attribute``
    returns maps at the layer's resolution, as Captum's does (see :func:`gradcam_map` for maps
    upsampled to the input size).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        ...                     nn.Flatten(), nn.Linear(4, 2))
        >>> LayerGradCam(net, "0").attribute(torch.rand(1, 3, 8, 8), target=0).shape
        torch.Size([1, 1, 6, 6])
    """

    attribute = captum_attribute(_CaptumLayerGradCam)


class GuidedGradCam(CheckedAttribution, _CaptumGuidedGradCam):
    """Guided Grad-CAM whose guided-backprop half is attribkit's (correct for ReLU6 and F.relu).

    Args:
        model: the network.
        layer: a dotted name or a module of the model.
        device_ids: as Captum.
        approximate: as for :class:`~attribkit.attr.GuidedBackprop`.
        eval_mode: see :class:`~attribkit.attr.CheckedAttribution`.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU6(), nn.AdaptiveAvgPool2d(1),
        ...                     nn.Flatten(), nn.Linear(4, 2))
        >>> GuidedGradCam(net, "0").attribute(torch.rand(1, 3, 8, 8), target=1).shape
        torch.Size([1, 3, 8, 8])
    """

    def __init__(
        self,
        model: nn.Module,
        layer: LayerRef,
        device_ids: list[int] | None = None,
        approximate: bool = False,
        *,
        eval_mode: bool = True,
    ) -> None:
        super().__init__(model, layer, device_ids, eval_mode=eval_mode)
        self.guided_backprop = GuidedBackprop(model, approximate=approximate)

    @checked_attribute()
    def attribute(  # type: ignore[override]
        self,
        inputs: torch.Tensor | tuple[torch.Tensor, ...],
        target: TargetType = None,
        additional_forward_args: Any = None,
        interpolate_mode: str = "nearest",
        attribute_to_layer_input: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """Guided backprop times the upsampled Grad-CAM map, shaped like ``inputs``.

        Args:
            inputs: ``N×C×H×W`` tensor (``N×C×L`` for 1-D convolutions) or tuple of tensors;
                as in Captum, inputs of a tuple without spatial dimensions get empty maps.
            target: output index per Captum's ``TargetType``.
            additional_forward_args: extra arguments for the model.
            interpolate_mode: as Captum.
            attribute_to_layer_input: as Captum.
        """
        first = inputs[0] if isinstance(inputs, tuple) else inputs
        spatial = {nn.Conv2d: 2, nn.Conv3d: 3}.get(type(self.grad_cam.layer))  # type: ignore[call-overload]
        if first.ndim < 3 or (spatial is not None and first.ndim != spatial + 2):
            hint = " (add the batch dimension with x.unsqueeze(0))" if first.ndim == 3 else ""
            raise ValueAssertionError(
                f"GuidedGradCam needs N×C×H×W images, got inputs of shape "
                f"{tuple(first.shape)}{hint}"
            )
        return _CaptumGuidedGradCam.attribute.__wrapped__(  # type: ignore[attr-defined]
            self,
            inputs,
            target,
            additional_forward_args,
            interpolate_mode,
            attribute_to_layer_input,
        )


def gradcam_map(
    model: nn.Module,
    image: torch.Tensor,
    target: TargetType,
    layer: LayerRef | None = None,
    relu: bool = True,
) -> torch.Tensor:
    """Grad-CAM upsampled (bilinearly) to the image size: ``N×1×H×W``.

    Args:
        model: the classifier.
        image: ``N×C×H×W`` images.
        target: the class (per image).
        layer: the layer; the last ``nn.Conv2d`` by default.
        relu: keep only positive evidence, as in the paper.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        ...                     nn.Flatten(), nn.Linear(4, 2))
        >>> gradcam_map(net, torch.rand(1, 3, 8, 8), target=0).shape
        torch.Size([1, 1, 8, 8])
    """
    check_image_batch(image, "image")
    chosen = last_conv_layer(model) if layer is None else layer
    cam = LayerGradCam(model, chosen).attribute(image, target=target, relu_attributions=relu)
    if not isinstance(cam, torch.Tensor) or cam.ndim != 4:
        shape = tuple(cam.shape) if isinstance(cam, torch.Tensor) else type(cam).__name__
        raise ValueAssertionError(
            f"layer {chosen if isinstance(chosen, str) else type(chosen).__name__!r} has no "
            f"N×C×H×W output (its Grad-CAM map has shape {shape}); choose a convolutional "
            "layer (last_conv_layer(model) names the last nn.Conv2d)"
        )
    return LayerAttribution.interpolate(cam, tuple(image.shape[-2:]), "bilinear")

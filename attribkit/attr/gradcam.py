"""Grad-CAM and Guided Grad-CAM (Selvaraju et al., 2017), with layers named by dotted names."""

from __future__ import annotations

from typing import Any

import torch
from captum._utils.typing import TargetType
from captum.attr import GuidedGradCam as _CaptumGuidedGradCam
from captum.attr import LayerAttribution
from captum.attr import LayerGradCam as _CaptumLayerGradCam
from torch import nn

from attribkit._checks import check_image_batch
from attribkit.attr._base import checked_attribute
from attribkit.attr.guided import GuidedBackprop
from attribkit.layers.hooks import LayerRef, resolve_layer

__all__ = ["LayerGradCam", "GuidedGradCam", "gradcam_map", "last_conv_layer"]


def last_conv_layer(model: nn.Module) -> str:
    """Dotted name of the last ``nn.Conv2d`` registered in ``model`` (Grad-CAM's usual layer).

    Examples:
        >>> from torch import nn
        >>> last_conv_layer(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3), nn.ReLU()))
        '1'
    """
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if not names:
        raise ValueError("the model has no nn.Conv2d; name the layer for Grad-CAM explicitly")
    return names[-1]


def _layer_module(model: Any, layer: LayerRef) -> nn.Module:
    if isinstance(layer, nn.Module) and not isinstance(model, nn.Module):
        return layer
    if not isinstance(model, nn.Module):
        raise TypeError("to name the layer by a string, pass the model as an nn.Module")
    return resolve_layer(model, layer)


class LayerGradCam(_CaptumLayerGradCam):
    """Captum's ``LayerGradCam`` accepting a dotted layer name, with attribkit's checks.

    Args:
        forward_func: the model.
        layer: a dotted name (``"_conv_head"``) or a module of the model.
        device_ids: as Captum.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        ...                     nn.Flatten(), nn.Linear(4, 2))
        >>> LayerGradCam(net, "0").attribute(torch.rand(1, 3, 8, 8), target=0).shape
        torch.Size([1, 1, 6, 6])
    """

    def __init__(
        self, forward_func: Any, layer: LayerRef, device_ids: list[int] | None = None
    ) -> None:
        super().__init__(forward_func, _layer_module(forward_func, layer), device_ids)
        self.model = forward_func if isinstance(forward_func, nn.Module) else None

    @checked_attribute()
    def attribute(  # type: ignore[override]
        self,
        inputs: torch.Tensor | tuple[torch.Tensor, ...],
        target: TargetType = None,
        additional_forward_args: Any = None,
        attribute_to_layer_input: bool = False,
        relu_attributions: bool = False,
        attr_dim_summation: bool = True,
        grad_kwargs: dict[str, Any] | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """Grad-CAM maps at the layer's resolution (Captum's contract); see :func:`gradcam_map`
        for maps upsampled to the input size.

        Args:
            inputs: ``N×…`` tensor or tuple of tensors.
            target: output index per Captum's ``TargetType``.
            additional_forward_args: extra arguments for the model.
            attribute_to_layer_input: as Captum.
            relu_attributions: as Captum (Grad-CAM's paper applies a ReLU).
            attr_dim_summation: as Captum.
            grad_kwargs: as Captum.
        """
        return _CaptumLayerGradCam.attribute.__wrapped__(  # type: ignore[attr-defined]
            self,
            inputs,
            target=target,
            additional_forward_args=additional_forward_args,
            attribute_to_layer_input=attribute_to_layer_input,
            relu_attributions=relu_attributions,
            attr_dim_summation=attr_dim_summation,
            grad_kwargs=grad_kwargs,
        )


class GuidedGradCam(_CaptumGuidedGradCam):
    """Guided Grad-CAM whose guided-backprop half is attribkit's (correct for ReLU6 and F.relu).

    Args:
        model: the network.
        layer: a dotted name or a module of the model.
        device_ids: as Captum.
        approximate: as for :class:`~attribkit.attr.GuidedBackprop`.

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
    ) -> None:
        super().__init__(model, resolve_layer(model, layer), device_ids)
        self.guided_backprop = GuidedBackprop(model, approximate=approximate)
        self.model = model

    @checked_attribute(image=True)
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
            inputs: ``N×C×H×W`` tensor or tuple of tensors.
            target: output index per Captum's ``TargetType``.
            additional_forward_args: extra arguments for the model.
            interpolate_mode: as Captum.
            attribute_to_layer_input: as Captum.
        """
        return _CaptumGuidedGradCam.attribute.__wrapped__(  # type: ignore[attr-defined]
            self,
            inputs,
            target=target,
            additional_forward_args=additional_forward_args,
            interpolate_mode=interpolate_mode,
            attribute_to_layer_input=attribute_to_layer_input,
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
    assert isinstance(cam, torch.Tensor)
    return LayerAttribution.interpolate(cam, tuple(image.shape[-2:]), "bilinear")

"""A layer's activation as an attribution: Captum's, with dotted layer names."""

from __future__ import annotations

from typing import Any

from captum.attr import LayerActivation as _CaptumLayerActivation
from torch import nn

from attribkit.attr._base import checked_attribute
from attribkit.layers.hooks import LayerRef, resolve_layer

__all__ = ["LayerActivation"]


class LayerActivation(_CaptumLayerActivation):
    """Captum's ``LayerActivation`` accepting ``"_blocks.4"``-style names.

    Args:
        forward_func: the model.
        layer: a dotted name or a module (or a list of them, as Captum allows).
        device_ids: as Captum.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
        >>> LayerActivation(net, "1").attribute(torch.rand(1, 3, 8, 8)).shape
        torch.Size([1, 4, 6, 6])
    """

    def __init__(
        self,
        forward_func: Any,
        layer: LayerRef | list[LayerRef],
        device_ids: list[int] | None = None,
    ) -> None:
        model = forward_func if isinstance(forward_func, nn.Module) else None
        if model is not None:
            resolved: Any = (
                [resolve_layer(model, x) for x in layer]
                if isinstance(layer, list)
                else resolve_layer(model, layer)
            )
        elif isinstance(layer, (nn.Module, list)):
            resolved = layer
        else:
            raise TypeError("to name the layer by a string, pass the model as an nn.Module")
        super().__init__(forward_func, resolved, device_ids)
        self.model = model

    @checked_attribute()
    def attribute(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """The layer's output (or input) for ``inputs``, shaped like the layer's output.

        Args:
            inputs: ``N×…`` tensor or tuple of tensors.
            *args: Captum's positional arguments.
            **kwargs: Captum's keyword arguments (``attribute_to_layer_input``, …).
        """
        return _CaptumLayerActivation.attribute.__wrapped__(  # type: ignore[attr-defined]
            self, inputs, *args, **kwargs
        )

"""Explain a hidden unit instead of a class: a model whose outputs are one layer's channels."""

from __future__ import annotations

import torch
from torch import nn

from attribkit.layers.hooks import LayerRef, forward_to, layer_name

__all__ = ["LayerChannels"]


class LayerChannels(nn.Module):
    """Wrap ``model`` so that its output is ``N×C``: each channel of ``layer``, reduced over space.

    Any attribution then explains a channel (``target=c``) the way it explains a class; the
    network is run only as far as ``layer``. It holds no hooks between calls.

    Args:
        model: the network.
        layer: a dotted name or module with ``N×C×H×W`` output.
        reduce: ``"max"`` (the strongest position, the usual "neuron") or ``"mean"``.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
        >>> LayerChannels(net, "1")(torch.rand(2, 3, 8, 8)).shape
        torch.Size([2, 4])
    """

    def __init__(self, model: nn.Module, layer: LayerRef, reduce: str = "max") -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        if reduce not in ("max", "mean"):
            raise ValueError(f"reduce must be 'max' or 'mean', got {reduce!r}")
        self.model = model
        self.layer = layer_name(model, layer)
        self.reduce = reduce

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"LayerChannels takes a tensor, got {type(x).__name__}")
        act = forward_to(self.model, x, [self.layer])[self.layer]
        if act.ndim != 4:
            hint = (
                f" (the input of shape {tuple(x.shape)} may lack its batch dimension: "
                "x.unsqueeze(0))"
                if x.ndim == 3
                else ""
            )
            raise ValueError(
                f"layer {self.layer!r} has output shape {tuple(act.shape)}, not N×C×H×W{hint}"
            )
        flat = act.flatten(2)
        return flat.amax(dim=2) if self.reduce == "max" else flat.mean(dim=2)

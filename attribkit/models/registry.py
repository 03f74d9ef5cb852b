"""Turn a model spec (as the CLI takes it) into a model."""

from __future__ import annotations

import importlib
from pathlib import Path

from torch import nn

__all__ = ["load_model", "MODEL_HELP"]

MODEL_HELP = (
    "efficientnet_lite0 (default, offline ImageNet weights); vgg16=WEIGHTS.pth or "
    "vgg19=WEIGHTS.pth (your own torchvision or attribkit state dict); or module:callable, "
    "an importable function returning an nn.Module that takes images in [0, 1]"
)


def load_model(spec: str | None = None) -> tuple[nn.Module, str]:
    """Build the model named by ``spec`` and return it (in eval mode) with a display name.

    Args:
        spec: see :data:`MODEL_HELP`; ``None`` means EfficientNet-Lite0.

    Examples:
        >>> load_model("vgg16")[1]
        'VGG16 (random weights)'
    """
    if spec is not None and not isinstance(spec, str):
        raise TypeError(f"the model spec must be a string, got {type(spec).__name__}")
    if spec is None or spec in ("efficientnet_lite0", "efficientnet-lite0", "default"):
        from attribkit.models.efficientnet import efficientnet_lite0

        return efficientnet_lite0(), "EfficientNet-Lite0 (ImageNet)"
    name, _, weights = spec.partition("=")
    if name in ("vgg16", "vgg19"):
        from attribkit.models import vgg

        build = vgg.vgg16 if name == "vgg16" else vgg.vgg19
        if not weights:
            return build(), f"{name.upper()} (random weights)"
        return build(Path(weights)), f"{name.upper()} ({Path(weights).name})"
    if name in ("efficientnet_lite0", "efficientnet-lite0", "default") and weights:
        raise ValueError(
            f"{name} takes no weights file (its ImageNet weights ship with attribkit); "
            "vgg16=FILE and vgg19=FILE do"
        )
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ValueError(f"cannot import {module_name!r} for --model: {err}") from err
        factory = getattr(module, attr, None)
        if factory is None or not callable(factory):
            raise ValueError(f"{module_name!r} has no callable {attr!r}")
        model = factory()
        if not isinstance(model, nn.Module):
            raise ValueError(f"{spec} returned {type(model).__name__}, not an nn.Module")
        return model.eval(), spec
    raise ValueError(f"unknown model {spec!r}; use {MODEL_HELP}")

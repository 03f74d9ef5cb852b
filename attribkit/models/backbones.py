"""The one table of backbone knowledge: which layers of each supported network to use for what.

Every technique that needs default layers (style transfer, texture synthesis, the inversion
sweep, DeepDream, neuron visualization, fast-style training) asks :func:`default_layers` (or
:func:`backbone_layers` for the whole entry); no code elsewhere looks at a model's class or
layer names to pick them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from attribkit.models.efficientnet import EfficientNetLite0
from attribkit.models.vgg import VGG

__all__ = ["BackboneLayers", "BACKBONES", "backbone_layers", "default_layers", "LAYER_USES"]

#: What a layer set is for (the fields of :class:`BackboneLayers` that hold layers).
LAYER_USES = ("content", "style", "inversion", "dream", "neuron", "fast_content", "fast_style")


@dataclass(frozen=True)
class BackboneLayers:
    """Default layer sets of one backbone (dotted names from ``model.named_modules()``).

    Attributes:
        name: display name.
        model_class: the class the entry applies to (subclasses included).
        content: content layers of style transfer (Gatys 2016).
        style: Gram (style) layers of style transfer and texture synthesis, shallow to deep.
        inversion: layers of the feature-inversion sweep, shallow to deep.
        dream: DeepDream layers; the first is the default.
        neuron: a layer whose channels make good neuron visualizations.
        fast_content: content layers of feed-forward style training (Johnson 2016).
        fast_style: style layers of feed-forward style training.
    """

    name: str
    model_class: type[nn.Module]
    content: tuple[str, ...]
    style: tuple[str, ...]
    inversion: tuple[str, ...]
    dream: tuple[str, ...]
    neuron: str
    fast_content: tuple[str, ...]
    fast_style: tuple[str, ...]

    @property
    def layers(self) -> set[str]:
        """Every layer the entry names."""
        return {
            *self.content,
            *self.style,
            *self.inversion,
            *self.dream,
            self.neuron,
            *self.fast_content,
            *self.fast_style,
        }


_VGG_STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

#: Supported backbones, by key. EfficientNet-Lite0's stem activation is its ``stem_act`` module
#: (DESIGN.md §4: style from the stem and ``_blocks.0, 2, 4, 7, 10``, content ``_blocks.4``).
BACKBONES: dict[str, BackboneLayers] = {
    "efficientnet_lite0": BackboneLayers(
        name="EfficientNet-Lite0",
        model_class=EfficientNetLite0,
        content=("_blocks.4",),
        style=("stem_act", "_blocks.0", "_blocks.2", "_blocks.4", "_blocks.7", "_blocks.10"),
        inversion=("stem_act", "_blocks.2", "_blocks.5", "_blocks.10", "_blocks.15"),
        dream=("_blocks.10", "_blocks.4"),
        neuron="_blocks.10",
        fast_content=("_blocks.4",),
        fast_style=("stem_act", "_blocks.0", "_blocks.2", "_blocks.4", "_blocks.7", "_blocks.10"),
    ),
    "vgg": BackboneLayers(
        name="VGG16/19",
        model_class=VGG,
        content=("relu4_2",),
        style=_VGG_STYLE,
        inversion=_VGG_STYLE,
        dream=("relu4_2", "relu3_1"),
        neuron="relu4_1",
        fast_content=("relu2_2",),
        fast_style=("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
    ),
}


def _find(
    model: nn.Module, layers_of: Callable[[BackboneLayers], set[str]], what: str
) -> BackboneLayers:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    for entry in BACKBONES.values():
        if isinstance(model, entry.model_class):
            return entry
    names = {n for n, _ in model.named_modules()}
    for entry in BACKBONES.values():
        if layers_of(entry) <= names:
            return entry
    known = ", ".join(e.name for e in BACKBONES.values())
    raise ValueError(
        f"no default {what} for {type(model).__name__} (known backbones: {known}); pass the "
        "layers explicitly, as dotted names from model.named_modules()"
    )


def backbone_layers(model: nn.Module) -> BackboneLayers:
    """The table entry for ``model``.

    A model matches an entry by its class, or else when it has every layer the entry names
    (a stand-in or a re-implementation with the same layer names).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: no entry matches; the message lists the supported backbones.

    Examples:
        >>> from attribkit.models import vgg19
        >>> backbone_layers(vgg19()).content
        ('relu4_2',)
    """
    return _find(model, lambda entry: entry.layers, "layers")


def default_layers(model: nn.Module, use: str) -> tuple[str, ...]:
    """The default layers of ``model`` for one use (see :data:`LAYER_USES`).

    The model matches an entry by its class, or else when it has every layer of that use (so a
    small stand-in with VGG's layer names gets VGG's defaults).

    Args:
        model: the backbone.
        use: ``"content"``, ``"style"``, ``"inversion"``, ``"dream"``, ``"neuron"``,
            ``"fast_content"`` or ``"fast_style"``.

    Raises:
        ValueError: unknown ``use``, or no entry matches (the message says what to pass).

    Examples:
        >>> from attribkit.models import efficientnet_lite0
        >>> default_layers(efficientnet_lite0(pretrained=False), "style")[0]
        'stem_act'
    """
    if use not in LAYER_USES:
        raise ValueError(f"use must be one of {LAYER_USES}, got {use!r}")

    def layers_of(entry: BackboneLayers) -> tuple[str, ...]:
        value = getattr(entry, use)
        return (value,) if isinstance(value, str) else tuple(value)

    return layers_of(_find(model, lambda entry: set(layers_of(entry)), f"{use} layers"))

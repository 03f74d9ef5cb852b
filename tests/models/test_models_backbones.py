"""The backbone table: every named layer exists, the stem activation is hookable, stand-ins with
the same layer names match, other models get a clear error."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attribkit.layers import forward_to
from attribkit.models import (
    BACKBONES,
    LAYER_USES,
    EfficientNetLite0,
    backbone_layers,
    default_layers,
    vgg16,
    vgg19,
)


@pytest.fixture(scope="module")
def lite0() -> nn.Module:
    return EfficientNetLite0().eval()  # random weights: the names and shapes are what matter


def test_every_layer_of_the_table_exists(lite0: nn.Module) -> None:
    for model in (lite0, vgg16(), vgg19()):
        names = {n for n, _ in model.named_modules()}
        entry = backbone_layers(model)
        assert entry.layers <= names, f"{entry.name}: {sorted(entry.layers - names)}"
        for use in LAYER_USES:
            assert set(default_layers(model, use)) <= names


def test_stem_activation_is_its_own_module(lite0: nn.Module) -> None:
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    acts = forward_to(lite0, x, ["_bn0", "stem_act"])
    torch.testing.assert_close(acts["stem_act"], F.relu6(acts["_bn0"]))
    assert not hasattr(lite0, "_swish")
    assert default_layers(lite0, "style")[0] == "stem_act"
    with pytest.raises(NotImplementedError, match="ReLU6"):
        lite0.set_swish()


def test_stand_ins_match_by_layer_names() -> None:
    johnson = nn.Sequential(OrderedDict((n, nn.ReLU()) for n in BACKBONES["vgg"].fast_style))
    assert default_layers(johnson, "fast_style") == BACKBONES["vgg"].fast_style
    with pytest.raises(ValueError, match="no default content layers"):
        default_layers(johnson, "content")


def test_unknown_models_and_uses_are_refused() -> None:
    with pytest.raises(ValueError, match="known backbones: EfficientNet-Lite0, VGG16/19"):
        backbone_layers(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="use must be one of"):
        default_layers(vgg16(), "texture")
    with pytest.raises(TypeError, match="nn.Module"):
        default_layers("vgg16", "style")  # type: ignore[arg-type]

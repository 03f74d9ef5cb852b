"""Lucent interop: a Lucent ``param_f`` as our parameterization, a Lucent objective as ours."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from helpers.nets import tiny_net
from torch import nn

from attribkit.optvis import LucentParam, channel, from_lucent, optimize
from attribkit.optvis.objectives import ObjectiveContext
from attribkit.testing import snapshot_world

lucent_objectives = pytest.importorskip("lucent.optvis.objectives")
lucent_param = pytest.importorskip("lucent.optvis.param")


def nested_net() -> nn.Module:
    """A net with a dotted layer name ``block.conv`` (Lucent calls it ``block_conv``)."""
    inner = tiny_net()
    return nn.Sequential(
        OrderedDict(block=nn.Sequential(OrderedDict(conv=inner.conv1)), relu=nn.ReLU())
    ).eval()


def test_lucent_param_f_is_optimized() -> None:
    net = tiny_net()
    snap = snapshot_world(net)
    with torch.random.fork_rng():  # Lucent draws its start from the global RNG
        torch.manual_seed(0)
        res = optimize(
            net,
            channel("relu2", 1),
            lambda: lucent_param.image(16, decorrelate=True),
            steps=12,
            show_progress=False,
            seed=0,
        )
    snap.assert_unchanged()
    assert res.images.shape == (1, 3, 16, 16)
    assert res.history[-1, 0] > res.history[0, 0]


def test_lucent_objective_wrapped() -> None:
    net = nested_net()
    lucent_obj = lucent_objectives.channel("block_conv", 2) - 0.5 * lucent_objectives.channel(
        "block_conv", 1
    )
    ours = from_lucent(lucent_obj, layers=["block.conv"])
    x = torch.rand(2, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    acts = {"block.conv": net.block.conv(x)}
    value = ours(ObjectiveContext(x, x, acts))
    # Lucent's loss is minus the mean channel activation; ours is per image and sums to -loss
    expected = acts["block.conv"][:, 2].mean() - 0.5 * acts["block.conv"][:, 1].mean()
    torch.testing.assert_close(value.sum(), expected)
    res = optimize(
        net,
        ours,
        LucentParam(lambda: lucent_param.image(12)),
        steps=10,
        show_progress=False,
        seed=0,
    )
    assert res.history[-1].sum() > res.history[0].sum()


def test_lucent_objective_missing_layer() -> None:
    net = nested_net()
    ours = from_lucent(lucent_objectives.channel("relu", 0), layers=["block.conv"])
    with pytest.raises(KeyError, match="not captured"):
        optimize(
            net, ours, LucentParam(lambda: lucent_param.image(8)), steps=1, show_progress=False
        )

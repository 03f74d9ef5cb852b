"""activation_grid: a layer's channels for one image, highlight, most active channel."""

import pytest
import torch
from torch import nn

from attribkit.layers import activation_grid
from attribkit.testing import snapshot_world


def _net() -> nn.Sequential:
    # 1×1 conv: channel c = (c + 1) × the red channel; channel 2 = minus red (dead after ReLU)
    conv = nn.Conv2d(3, 3, 1, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0] = 1.0
        conv.weight[1, 0] = 2.0
        conv.weight[2, 0] = -1.0
    return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(3 * 16, 2))


def test_smoke_maps_and_most_active() -> None:
    img = torch.zeros(1, 3, 4, 4)
    img[0, 0, 1, 2] = 1.0
    g = activation_grid(_net(), "1", img, size=4, padding=0, nrow=3)
    assert g.image.shape == (3, 4, 12)
    assert g.most_active == 1  # twice the response of channel 0
    assert torch.allclose(g.scores, torch.tensor([1 / 16, 2 / 16, 0.0]))
    # each map normalized: the hot pixel is white, the rest black; the dead map is all black
    assert float(g.image[0, 1, 2]) == 1.0 and float(g.image[0, 1, 4 + 2]) == 1.0
    assert float(g.image[0].sum()) == 2.0
    assert g.channels == [0, 1, 2]


def test_channels_highlight_and_normalize_all(tmp_path) -> None:
    img = torch.rand(1, 3, 4, 4)
    g = activation_grid(
        _net(), "0", img, channels=[1, 0], highlight=[0], size=4, padding=1, nrow=2, normalize="all"
    )
    assert g.image.shape == (3, 6, 12)
    # second tile (channel 0) has a red frame, first (channel 1) a white one
    assert g.image[:, 0, 6].tolist() == [1.0, 0.0, 0.0]
    assert g.image[:, 0, 0].tolist() == [1.0, 1.0, 1.0]
    assert activation_grid(_net(), "0", img[0], channels=2).channels == [0, 1]
    assert g.save(tmp_path / "a.png").exists()


def test_world_unchanged_after_success_and_exception() -> None:
    net = _net().train()
    img = torch.rand(1, 3, 4, 4)
    snap = snapshot_world(net, img)
    activation_grid(net, "1", img)
    snap.assert_unchanged()
    with pytest.raises(ValueError, match="spatial"):
        activation_grid(net, "3", img)
    snap.assert_unchanged()


def test_exception() -> None:
    net, img = _net(), torch.rand(1, 3, 4, 4)
    with pytest.raises(ValueError, match="one image"):
        activation_grid(net, "1", torch.rand(2, 3, 4, 4))
    with pytest.raises(ValueError, match="out of range"):
        activation_grid(net, "1", img, channels=[5])
    with pytest.raises(ValueError, match="not among"):
        activation_grid(net, "1", img, channels=[0], highlight=[1])
    with pytest.raises(ValueError, match="normalize"):
        activation_grid(net, "1", img, normalize="none")
    with pytest.raises(ValueError, match="does not exist"):
        activation_grid(net, "relu", img)

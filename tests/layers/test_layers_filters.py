"""filter_grid: RGB kernels for a first layer, per-input-channel grayscale grids deeper."""

import pytest
import torch
from torch import nn

from attribkit.layers import filter_grid, first_conv
from attribkit.testing import snapshot_world


def _conv(o: int, i: int, k: int) -> nn.Conv2d:
    conv = nn.Conv2d(i, o, k, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(o * i * k * k, dtype=torch.float32).view(o, i, k, k))
    return conv


def test_smoke_rgb_tiles_are_each_kernel_normalized() -> None:
    conv = _conv(4, 3, 2)
    g = filter_grid(conv, scale=1, padding=0, nrow=2)
    assert g.shape == (3, 4, 4)
    w = conv.weight.detach()
    for f in range(4):
        r, c = divmod(f, 2)
        tile = g[:, 2 * r : 2 * r + 2, 2 * c : 2 * c + 2]
        expected = (w[f] - w[f].min()) / (w[f].max() - w[f].min())
        assert torch.allclose(tile, expected)
    assert float(g.min()) == 0.0 and float(g.max()) == 1.0


def test_shape_gray_rows_are_filters_columns_input_channels() -> None:
    conv = _conv(5, 4, 3)
    g = filter_grid(conv, scale=2, padding=1, pad_value=1.0)
    # 5 rows × 4 columns of 6×6 tiles with 1 px gaps
    assert g.shape == (3, 5 * 7 + 1, 4 * 7 + 1)
    assert torch.equal(g[0], g[1]) and torch.equal(g[1], g[2])  # grayscale
    # "filter" normalization: within filter 0, channel 0 is the darkest, channel 3 the brightest
    row0 = g[0, 1:7]
    assert float(row0[:, 1:7].min()) == 0.0 and float(row0[:, 22:28].max()) == 1.0
    limited = filter_grid(conv, scale=1, padding=0, max_filters=2, max_in_channels=3)
    assert limited.shape == (3, 2 * 3, 3 * 3)


def test_depthwise_and_model_and_weight_inputs() -> None:
    dw = nn.Conv2d(6, 6, 3, groups=6)
    assert filter_grid(dw, scale=1, padding=0, nrow=3).shape == (3, 6, 9)
    net = nn.Sequential(nn.ReLU(), _conv(2, 3, 3), nn.ReLU(), _conv(2, 2, 3))
    assert first_conv(net) is net[1]
    assert torch.equal(filter_grid(net), filter_grid(net[1]))
    assert torch.equal(filter_grid(net, "3"), filter_grid(net[3].weight))


def test_save(tmp_path) -> None:
    filter_grid(_conv(2, 3, 3), path=tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 0


def test_world_unchanged_after_success_and_exception() -> None:
    net = nn.Sequential(_conv(2, 3, 3), nn.ReLU())
    snap = snapshot_world(net)
    filter_grid(net)
    snap.assert_unchanged()
    with pytest.raises(TypeError, match="not an nn.Conv2d"):
        filter_grid(net, "1")
    snap.assert_unchanged()


def test_exception() -> None:
    with pytest.raises(ValueError, match="3 input channels"):
        filter_grid(_conv(2, 4, 3), mode="rgb")
    with pytest.raises(ValueError, match="4-D"):
        filter_grid(torch.zeros(3, 3, 3))
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        filter_grid(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="normalize"):
        filter_grid(_conv(2, 3, 3), normalize="global")
    with pytest.raises(ValueError, match="max_filters"):
        filter_grid(_conv(2, 3, 3), max_filters=0)
    with pytest.raises(ValueError, match="NaN"):
        filter_grid(torch.full((1, 3, 2, 2), float("nan")))
    with pytest.raises(TypeError, match="nn.Conv2d"):
        filter_grid("conv1")  # type: ignore[arg-type]

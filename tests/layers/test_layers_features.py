"""extract_features: streaming, pooling, hooks removed, state restored."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from attribkit.layers import extract_features, iter_batches, pool_features
from attribkit.testing import snapshot_world


def _net() -> nn.Sequential:
    # conv1: channel 0 copies the input, channel 1 doubles it (hand-set 1×1 kernels)
    conv = nn.Conv2d(1, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, 2.0]).view(2, 1, 1, 1))
    return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(2 * 9, 3))


class _Boom(nn.Module):
    """Runs ``net`` and raises on the ``at``-th call."""

    def __init__(self, net: nn.Module, at: int) -> None:
        super().__init__()
        self.net, self.at, self.calls = net, at, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls >= self.at:
            raise RuntimeError("boom")
        return self.net(x)


def test_smoke_known_values() -> None:
    x = torch.rand(5, 1, 3, 3)
    feats = extract_features(_net(), x, "0", batch_size=2, show_progress=False)
    assert isinstance(feats, torch.Tensor)
    assert torch.allclose(feats[:, 0], x[:, 0]) and torch.allclose(feats[:, 1], 2 * x[:, 0])


def test_pool_and_dict_and_sources_agree() -> None:
    x = torch.rand(7, 1, 3, 3) - 0.5
    net = _net()
    out = extract_features(net, x, ["0", "1"], pool="avg", batch_size=3, show_progress=False)
    assert set(out) == {"0", "1"} and out["0"].shape == (7, 2)
    assert torch.allclose(out["0"][:, 1], 2 * x.mean(dim=(1, 2, 3)))
    expected = torch.stack(
        [x.clamp_min(0).mean(dim=(1, 2, 3)), (2 * x).clamp_min(0).mean(dim=(1, 2, 3))], 1
    )
    assert torch.allclose(out["1"], expected)
    mx = extract_features(net, x, "0", pool="max", show_progress=False)
    assert torch.allclose(mx[:, 0], x.amax(dim=(1, 2, 3)))
    loader = DataLoader(TensorDataset(x, torch.zeros(7)), batch_size=4)
    from_loader = extract_features(net, loader, "0", pool="avg", show_progress=False)
    from_list = extract_features(net, [x[:2], x[2:]], "0", pool="avg", show_progress=False)
    assert torch.equal(from_loader, out["0"]) and torch.equal(from_list, out["0"])
    flat = extract_features(net, x, net[0], flatten=True, show_progress=False)
    assert flat.shape == (7, 18)


def test_batch_size_independent_and_truncation_same() -> None:
    x = torch.rand(6, 1, 3, 3)
    net = _net()
    a = extract_features(net, x, "1", batch_size=1, show_progress=False)
    b = extract_features(net, x, "1", batch_size=6, truncate=False, show_progress=False)
    assert torch.allclose(a, b)


def test_memory_bounded_by_batch() -> None:
    # with pooling, what is kept per image is C numbers, not the maps; batches never exceed
    seen: list[int] = []
    net = _net()
    h = net[0].register_forward_pre_hook(lambda m, a: seen.append(a[0].shape[0]))
    try:
        out = extract_features(
            net, torch.rand(50, 1, 3, 3), "0", pool="avg", batch_size=8, show_progress=False
        )
    finally:
        h.remove()
    assert max(seen) == 8 and out.numel() == 50 * 2


def test_world_unchanged_after_success_and_exception() -> None:
    net = _net().train()
    x = torch.rand(4, 1, 3, 3)
    snap = snapshot_world(net, x)
    extract_features(net, x, "0", batch_size=2, show_progress=False)
    snap.assert_unchanged()
    assert net.training
    boom = _Boom(net, at=2)
    snap = snapshot_world(boom, x)
    with pytest.raises(RuntimeError, match="boom"):
        extract_features(boom, x, "net.0", batch_size=1, show_progress=False)
    snap.assert_unchanged()


def test_exception_bad_input() -> None:
    net = _net()
    x = torch.rand(2, 1, 3, 3)
    with pytest.raises(ValueError, match="pool"):
        extract_features(net, x, "0", pool="mean", show_progress=False)
    with pytest.raises(ValueError, match="empty"):
        extract_features(net, [], "0", show_progress=False)
    with pytest.raises(ValueError, match="does not exist"):
        extract_features(net, x, "conv9", show_progress=False)
    with pytest.raises(ValueError, match="at least one layer"):
        extract_features(net, x, [], show_progress=False)
    with pytest.raises(TypeError, match="tensor"):
        extract_features(net, ["not a tensor"], "0", show_progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        list(iter_batches(x, 0))
    with pytest.raises(ValueError, match="pool"):
        pool_features(x, "median")

import pytest
import torch
from torch import nn

from attribkit.optvis.inversion import FeatureInversion, default_tv_weight, inversion_sweep, psnr
from attribkit.testing import snapshot_world


def _img(seed: int = 0, size: int = 12) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    # smooth-ish image: upsampled noise
    small = torch.rand(1, 3, size // 4, size // 4, generator=g)
    return nn.functional.interpolate(small, size=(size, size), mode="bilinear",
                                     align_corners=False)


def _identity_net() -> nn.Module:
    conv = nn.Conv2d(3, 3, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
        conv.bias.zero_()
    return nn.Sequential(conv, nn.ReLU())


def _pool_net() -> nn.Module:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(4))


def test_psnr_closed_form():
    a = torch.zeros(2, 3, 4, 4)
    b = torch.cat([torch.full((1, 3, 4, 4), 0.1), torch.full((1, 3, 4, 4), 0.01)])
    assert torch.allclose(psnr(a, b), torch.tensor([20.0, 40.0]))
    with pytest.raises(ValueError, match="shapes"):
        psnr(a, b[..., :2])


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_identity_features_are_inverted_exactly(optimizer):
    net = _identity_net().train()
    img = _img()
    snap = snapshot_world(net, img)
    inv = FeatureInversion(net, "1")
    lr = 0.05 if optimizer == "adam" else None
    out = inv.invert(img, steps=60, tv_weight=0.0, optimizer=optimizer, lr=lr,
                     show_progress=False, seed=0)
    snap.assert_unchanged()
    r = inv.last_result
    assert r is not None and r.psnr is not None
    assert out.shape == img.shape
    assert float(r.psnr[0]) > 30  # a flat grey image scores ~15 dB, the mean colour ~18
    assert float(r.history[-1, 0]) < float(r.history[0, 0])


def test_deeper_layers_lose_information():
    net = _pool_net()
    sw = inversion_sweep(net, _img(size=16), ["1", "2"], steps=60, tv_weights=[0.0, 0.0],
                         show_progress=False)
    assert sw.layers == ["1", "2"]
    assert sw.psnr[0] > sw.psnr[1]
    grid = sw.grid()
    assert grid.shape[0] == 3


def test_invert_given_features_and_priors():
    net = _pool_net()
    img = _img(size=16)
    inv = FeatureInversion(net, "2")
    feats = inv.features(img)
    out = inv.invert(feats, size=16, steps=5, alpha_weight=0.1, tv_beta=1.0,
                     show_progress=False, seed=0)
    assert out.shape == (1, 3, 16, 16)
    r = inv.last_result
    assert r is not None and r.psnr is None
    assert r.tv_weight == default_tv_weight(4)


def test_exceptions_and_state_after_failure():
    net = _pool_net()
    img = _img(size=16)
    snap = snapshot_world(net, img)
    inv = FeatureInversion(net, "2")
    with pytest.raises(ValueError, match="size"):
        inv.invert(torch.rand(1, 8, 4, 4), show_progress=False)
    with pytest.raises(ValueError, match="do not match"):
        inv.invert(torch.rand(1, 8, 3, 3), size=16, show_progress=False)
    with pytest.raises(ValueError, match="tv_weight"):
        inv.invert(img, tv_weight=-1.0, show_progress=False)
    with pytest.raises(ValueError, match="does not exist"):
        FeatureInversion(net, "conv5")

    def boom(step, state):
        raise RuntimeError("halt")

    with pytest.raises(RuntimeError, match="halt"):
        inv.invert(img, steps=4, callbacks=[boom], show_progress=False)
    snap.assert_unchanged()

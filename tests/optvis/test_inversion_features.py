"""Feature inversion: exact on an identity layer, information lost with depth, given features,
priors, defaults, state restored, bad input refused."""

from __future__ import annotations

import pytest
import torch
from helpers.nets import identity_net, image, pool_net, smooth_image

from attribkit.optvis import FeatureInversion, default_tv_weight, inversion_sweep, psnr
from attribkit.testing import snapshot_world


def test_psnr_closed_form() -> None:
    a = torch.zeros(2, 3, 4, 4)
    b = torch.cat([torch.full((1, 3, 4, 4), 0.1), torch.full((1, 3, 4, 4), 0.01)])
    assert torch.allclose(psnr(a, b), torch.tensor([20.0, 40.0]))
    with pytest.raises(ValueError, match="shapes"):
        psnr(a, b[..., :2])


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_identity_features_are_inverted_exactly(optimizer: str) -> None:
    net = identity_net().train()
    img = smooth_image()
    snap = snapshot_world(net, img)
    inv = FeatureInversion(net, "1")
    lr = 0.05 if optimizer == "adam" else None
    res = inv.run(img, steps=60, tv_weight=0.0, optimizer=optimizer, lr=lr, show_progress=False)
    snap.assert_unchanged()
    assert res.images.shape == img.shape
    assert float(res.extras["psnr"][0]) > 30  # a flat grey image scores ~15 dB, the mean ~18
    assert float(res.history[-1, 0]) > float(res.history[0, 0])  # minus the loss rises
    assert torch.equal(inv.invert(img, steps=60, tv_weight=0.0, optimizer=optimizer, lr=lr,
                                  show_progress=False), res.images)


def test_deeper_layers_lose_information() -> None:
    net = pool_net()
    sw = inversion_sweep(net, smooth_image(size=16), ["1", "2"], steps=60, tv_weights=[0.0, 0.0],
                         show_progress=False)
    assert sw.layers == ["1", "2"]
    assert sw.psnr[0] > sw.psnr[1]
    assert sw.grid().shape[0] == 3


def test_invert_given_features_and_priors() -> None:
    net = pool_net()
    img = smooth_image(size=16)
    inv = FeatureInversion(net, "2")
    feats = inv.features(img)
    res = inv.run(feats, size=16, steps=5, alpha_weight=0.1, tv_beta=1.0, show_progress=False)
    assert res.images.shape == (1, 3, 16, 16)
    assert res.extras["psnr"] is None
    assert res.extras["tv_weight"] == default_tv_weight(4)
    assert res.extras["feature_loss"].shape == (1,)


def test_exceptions_and_state_after_failure() -> None:
    """Bad calls are refused before the model runs, and a failure midway leaves the model,
    the input and the global generators as they were (the inputs are made before the
    snapshot, with a local generator: the code under test draws nothing globally)."""
    net = pool_net()
    img = smooth_image(size=16)
    eight_channels, wrong_size = image(1, 4, channels=8), image(2, 3, channels=8)
    snap = snapshot_world(net, img, eight_channels, wrong_size)
    inv = FeatureInversion(net, "2")
    with pytest.raises(ValueError, match="size"):
        inv.invert(eight_channels, show_progress=False)
    with pytest.raises(ValueError, match="do not match"):
        inv.invert(wrong_size, size=16, show_progress=False)
    with pytest.raises(ValueError, match="tv_weight"):
        inv.invert(img, tv_weight=-1.0, show_progress=False)
    with pytest.raises(ValueError, match="does not exist"):
        FeatureInversion(net, "conv5")

    def boom(step: int, state: object) -> None:
        raise RuntimeError("halt")

    with pytest.raises(RuntimeError, match="halt"):
        inv.invert(img, steps=4, callbacks=[boom], show_progress=False)
    snap.assert_unchanged()

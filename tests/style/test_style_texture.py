"""Gram texture synthesis: optimizers lower the Gram loss, grey stays grey, the phase shift
moves both pixel phases, an identity layer reaches its target, bad input is refused."""

from __future__ import annotations

import pytest
import torch
from helpers.nets import feature_net, image
from torch import nn

from attribkit.style import TextureSynthesis, gram_matrix, is_grayscale, texture_layer_sweep
from attribkit.testing import snapshot_world


def _net() -> nn.Module:
    return feature_net()


def _tex(channels: int = 3, size: int = 16, seed: int = 0) -> torch.Tensor:
    return image(seed, size, channels=channels)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimizers_reduce_the_gram_loss_and_world_unchanged(optimizer):
    net = _net().train()
    tex = _tex()
    snap = snapshot_world(net, tex)
    ts = TextureSynthesis(net, ["1", "3"], pad=2)
    lr = 0.05 if optimizer == "adam" else None
    r = ts.run(tex, (12, 20), steps=15, optimizer=optimizer, lr=lr, show_progress=False)
    snap.assert_unchanged()
    assert r.images.shape == (1, 3, 12, 20)  # output size independent of the source's
    assert -float(r.history[-1, 0]) < -0.5 * float(r.history[0, 0])  # the loss halves
    assert r.extras["style_loss"].shape == (1,)


def test_world_unchanged_after_exception():
    net = _net()
    tex = _tex()
    snap = snapshot_world(net, tex)

    def boom(step, state):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        TextureSynthesis(net, ["1"], pad=0).synthesize(tex, steps=3, callbacks=[boom],
                                                       show_progress=False)
    snap.assert_unchanged()


def test_grayscale_textures_stay_grey_and_batches_differ():
    net = _net()
    gray = _tex(1).expand(-1, 3, -1, -1)
    assert is_grayscale(gray) and not is_grayscale(_tex(3))
    out = TextureSynthesis(net, ["1"], pad=0, shift=0).synthesize(gray, 10, steps=3, n=2,
                                                                  show_progress=False, seed=1)
    assert out.shape == (2, 3, 10, 10)
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])
    assert not torch.equal(out[0], out[1])


def test_shift_matches_both_pixel_phases():
    # a stride-2 1x1 conv sees only even pixels: without the shift the odd ones never move
    net = nn.Sequential(nn.Conv2d(3, 4, 1, stride=2))
    tex = _tex(3, 8)
    start = torch.full((1, 3, 8, 8), 0.5)
    plain = TextureSynthesis(net, ["0"], pad=0, shift=0).synthesize(
        tex, 8, steps=5, init=start, show_progress=False, seed=0)
    assert torch.equal(plain[..., 1::2, 1::2], start[..., 1::2, 1::2])
    shifted = TextureSynthesis(net, ["0"], pad=0, shift=1).synthesize(
        tex, 8, steps=5, init=start, show_progress=False, seed=0)
    assert not torch.equal(shifted[..., 1::2, 1::2], start[..., 1::2, 1::2])


def test_identity_layer_reaches_the_gram_target():
    # a 1x1 identity convolution: Gram of the features = Gram of the pixel colours
    conv = nn.Conv2d(3, 3, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
    net = nn.Sequential(conv)
    tex = _tex(3, 8)
    out = TextureSynthesis(net, ["0"], pad=0, shift=0).synthesize(
        tex, 12, steps=60, show_progress=False, seed=0)
    assert torch.allclose(gram_matrix(out), gram_matrix(tex), atol=2e-3)


def test_layer_sweep_and_exceptions():
    net = _net()
    imgs, sets, losses = texture_layer_sweep(net, _tex(), [["1"], ["1", "3"]], size=10,
                                             steps=2, show_progress=False, pad=0)
    assert imgs.shape == (2, 3, 10, 10) and sets == [["1"], ["1", "3"]] and len(losses) == 2
    ts = TextureSynthesis(net, ["1"], pad=0)
    with pytest.raises(ValueError, match="does not exist"):
        TextureSynthesis(net, ["nope"])
    with pytest.raises(ValueError, match="no default"):
        TextureSynthesis(net)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        ts.synthesize(torch.rand(1, 2, 8, 8), show_progress=False)
    with pytest.raises(ValueError, match="one texture"):
        ts.synthesize(torch.rand(2, 3, 8, 8), show_progress=False)
    with pytest.raises(ValueError, match="too small"):
        ts.synthesize(_tex(), 2, show_progress=False)
    with pytest.raises(ValueError, match="size"):
        ts.synthesize(_tex(), (0, 4), show_progress=False)
    with pytest.raises(TypeError, match="sequence of layers"):
        TextureSynthesis(net, "1")
    with pytest.raises(ValueError, match="finite"):
        ts.synthesize(_tex(), tv_weight=float("nan"), show_progress=False)

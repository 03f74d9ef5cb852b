"""Style transfer: every optimizer lowers the loss, the weights trade off, blending, scale,
colour options, defaults from the backbone table, state restored, bad input refused."""

from __future__ import annotations

import pytest
import torch
from helpers.nets import feature_net, image
from torch import nn

from attribkit.models import default_layers
from attribkit.style import PerceptualLoss, StyleTransfer, rgb_to_yiq
from attribkit.testing import snapshot_world


def _net() -> nn.Module:
    return feature_net()


def _img(seed: int, size: int = 16) -> torch.Tensor:
    return image(seed, size)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_every_optimizer_reduces_the_loss_and_leaves_the_world_alone(optimizer):
    net = _net().train()
    content, style = _img(0), _img(1)
    snap = snapshot_world(net, content, style)
    st = StyleTransfer(net, ["3"], ["1", "3"], pad=4)
    lr = 0.02 if optimizer == "adam" else None
    r = st.run(content, style, steps=15, optimizer=optimizer, lr=lr, show_progress=False)
    snap.assert_unchanged()
    out = r.images
    assert out.shape == content.shape
    assert 0 <= float(out.min()) and float(out.max()) <= 1
    assert float(r.history[-1, 0]) > float(r.history[0, 0])  # minus the loss rises
    assert float(r.extras["style_loss"][0]) > 0 and float(r.extras["content_loss"][0]) >= 0
    # the recorded terms are those of the loss on the returned image
    loss = PerceptualLoss(net, ["3"], ["1", "3"], pad=4, tv_weight=10.0)
    loss.set_content(content)
    loss.set_style(style)
    assert torch.allclose(loss(out).style, r.extras["style_loss"], rtol=1e-4)


def test_world_unchanged_after_exception_midway():
    net = _net()
    content, style = _img(0), _img(1)
    snap = snapshot_world(net, content, style)

    def boom(step, state):
        if step == 2:
            raise RuntimeError("callback failed")

    st = StyleTransfer(net, ["3"], ["1"], pad=2)
    with pytest.raises(RuntimeError, match="callback failed"):
        st.transfer(content, style, steps=5, callbacks=[boom], show_progress=False)
    snap.assert_unchanged()


def test_style_weight_trades_off_against_content():
    net = _net()
    content, style = _img(0), _img(1)
    st = StyleTransfer(net, ["3"], ["1", "3"], pad=2)
    losses = []
    for sw in (0.1, 100.0):
        r = st.run(content, style, style_weight=sw, tv_weight=0.0, steps=20, show_progress=False)
        losses.append((float(r.extras["content_loss"][0]), float(r.extras["style_loss"][0]) / sw))
    # more style weight: lower (unweighted) style loss, higher content loss
    assert losses[1][1] < losses[0][1]
    assert losses[1][0] > losses[0][0]


def test_blend_scale_init_and_colour_options():
    net = _net()
    content = _img(0)
    a, b = _img(1, 20), _img(2, 12)
    st = StyleTransfer(net, ["3"], ["1"], pad=2)
    out = st.transfer(content, [a, b], style_weights=[3, 1], style_scale=0.75, init="noise",
                      steps=3, show_progress=False, seed=0)
    assert not torch.equal(out, st.transfer(content, [a, b], style_weights=[3, 1],
                                            style_scale=0.75, init="noise", steps=3,
                                            show_progress=False, seed=1))
    assert out.shape == content.shape
    assert torch.equal(
        out, st.transfer(content, [a, b], style_weights=[3, 1], style_scale=0.75, init="noise",
                         steps=3, show_progress=False, seed=0)
    )
    lum = st.transfer(content, a, preserve_color="luminance", steps=3, show_progress=False)
    # colours (I, Q) come from the content
    assert torch.allclose(rgb_to_yiq(lum)[:, 1:], rgb_to_yiq(content)[:, 1:], atol=0.08)
    for mode in ("histogram", "linear"):
        assert st.transfer(content, a, preserve_color=mode, steps=2,
                           show_progress=False).shape == content.shape
    gray_content = content.mean(1, keepdim=True)
    assert st.transfer(gray_content, a, steps=2, show_progress=False).shape == (1, 3, 16, 16)


def test_exceptions() -> None:
    net = _net()
    content, style = _img(0), _img(1)
    four_channels = image(2, 16, channels=4)
    with pytest.raises(ValueError, match="does not exist"):
        StyleTransfer(net, ["3"], ["conv9"])
    with pytest.raises(ValueError, match="no default"):
        StyleTransfer(net)
    with pytest.raises(TypeError, match="sequence of layers"):
        StyleTransfer(net, "3", ["1"])  # a string is one layer, not a list of its characters
    st = StyleTransfer(net, ["3"], ["1"], pad=2)
    snap = snapshot_world(net, content, style, four_channels)
    with pytest.raises(ValueError, match="nothing to optimize"):
        st.transfer(content, style, style_weight=0, content_weight=0, show_progress=False)
    with pytest.raises(ValueError, match="nothing to optimize"):
        StyleTransfer(net, [], ["1"]).transfer(content, style, style_weight=0,
                                               show_progress=False)
    with pytest.raises(ValueError, match="4 channels"):
        st.transfer(content, four_channels, show_progress=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        st.transfer(content * 3, style, show_progress=False)
    with pytest.raises(ValueError, match="preserve_color"):
        st.transfer(content, style, preserve_color="sepia", show_progress=False)
    with pytest.raises(ValueError, match="init"):
        st.transfer(content, style, init="zeros", show_progress=False)
    with pytest.raises(ValueError, match="style_scale"):
        st.transfer(content, style, style_scale=0, show_progress=False)
    with pytest.raises(ValueError, match="finite"):
        st.transfer(content, style, style_weight=float("nan"), show_progress=False)
    with pytest.raises(ValueError, match="finite"):
        st.transfer(content, style, tv_weight=float("inf"), show_progress=False)
    snap.assert_unchanged()


def test_default_layers_by_backbone() -> None:
    from collections import OrderedDict

    # VGG is recognized by its layer names (a stand-in with those names is enough)
    names = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
    vgg_like = nn.Sequential(OrderedDict((n, nn.ReLU()) for n in names))
    st = StyleTransfer(vgg_like)
    assert st.content_layers == ["relu4_2"] and st.style_layers[0] == "relu1_1"
    assert tuple(st.style_layers) == default_layers(vgg_like, "style")


def test_gradcheck_float64() -> None:
    net = _net().double()
    loss = PerceptualLoss(net, ["3"], ["0", "3"], pad=2, tv_weight=0.5)
    loss.set_content(_img(0, 5).double())
    loss.set_style(_img(1, 5).double())
    x = _img(2, 5).double().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: loss(t).total, (x,))


@pytest.mark.slow
def test_efficientnet_default_transfer_small():
    from attribkit.models import efficientnet_lite0

    model = efficientnet_lite0()
    content, style = _img(0, 48), _img(1, 48)
    snap = snapshot_world(model, content, style)
    st = StyleTransfer(model)
    assert st.style_layers[0] == "stem_act"
    r = st.run(content, style, steps=4, show_progress=False)
    snap.assert_unchanged()
    assert float(r.history[-1, 0]) > float(r.history[0, 0])

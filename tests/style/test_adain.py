"""The arbitrary-style network (AdaIN): layer, decoder, network options, state, loss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers.adain_nets import tiny_adain_net, tiny_backbone
from torch import nn

from attribkit import efficientnet_lite0
from attribkit.models.backbones import default_layers
from attribkit.style import rgb_to_yiq
from attribkit.style.adain import AdaIN, AdaINDecoder, adain, feature_stats
from attribkit.style.arbitrary import ADAIN_LAYER, AdaINStyleNet
from attribkit.style.arbitrary_loss import AdaINLoss, mean_std_loss
from attribkit.testing import snapshot_world


def _img(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def effnet() -> AdaINStyleNet:
    """The default cut of the offline backbone (random weights: shapes and plumbing only)."""
    torch.manual_seed(0)
    return AdaINStyleNet(efficientnet_lite0(pretrained=False), ADAIN_LAYER, width=4, pad=8)


@pytest.fixture()
def net() -> AdaINStyleNet:
    return tiny_adain_net()


def _content_features(net: AdaINStyleNet, x: torch.Tensor) -> torch.Tensor:
    return net.encode(net.pad_images(x)[0])


# -- the AdaIN layer ----------------------------------------------------------------------------
def test_adain_gives_the_style_statistics() -> None:
    c, s = torch.randn(2, 5, 6, 7), 3 + 2 * torch.randn(2, 5, 9, 4)
    out = adain(c, s, eps=0.0)
    for a, b in zip(feature_stats(out, eps=0.0), feature_stats(s, eps=0.0)):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(AdaIN(eps=0.0)(c, s), out)
    # the (mean, std) form and a single style broadcast to the batch
    torch.testing.assert_close(
        adain(c, feature_stats(s[:1])), adain(c, s[:1].expand(2, -1, -1, -1))
    )


def test_feature_stats_mask_selects_a_region() -> None:
    x = torch.randn(1, 3, 4, 6)
    mask = torch.zeros(1, 1, 4, 6)
    mask[..., :3] = 1
    for a, b in zip(feature_stats(x, mask), feature_stats(x[..., :3])):
        torch.testing.assert_close(a, b)
    for a, b in zip(feature_stats(x, torch.ones(1, 1, 4, 6)), feature_stats(x)):
        torch.testing.assert_close(a, b)


def test_gradcheck_adain_float64() -> None:
    g = torch.Generator().manual_seed(1)
    c = torch.randn(2, 3, 4, 5, dtype=torch.float64, generator=g, requires_grad=True)
    s = torch.randn(1, 3, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: adain(a, b), (c, s))
    m = torch.rand(2, 1, 4, 5, dtype=torch.float64, generator=g)
    assert torch.autograd.gradcheck(lambda a: torch.cat(feature_stats(a, m), 1), (c,))


# -- the decoder --------------------------------------------------------------------------------
def test_decoder_upsamples_by_the_stride_without_transposed_convs() -> None:
    dec = AdaINDecoder(6, stride=8, width=2, max_width=4)
    with torch.no_grad():
        y = dec(torch.randn(2, 6, 3, 5))
    assert y.shape == (2, 3, 24, 40)
    assert float(y.min()) >= 0 and float(y.max()) <= 1
    mods = list(dec.modules())
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in mods)
    convs = [i for i, m in enumerate(mods) if isinstance(m, nn.Conv2d)]
    assert all(isinstance(mods[i - 1], nn.ReflectionPad2d) for i in convs)
    ups = [m for m in mods if isinstance(m, nn.Upsample)]
    assert len(ups) == 3 and all(m.mode == "nearest" for m in ups)


# -- the network --------------------------------------------------------------------------------
def test_effnet_cut_shape_range_and_parameters(effnet: AdaINStyleNet) -> None:
    assert (effnet.stride, effnet.channels) == (8, 40)
    with torch.no_grad():
        out = effnet(_img(2, 3, 40, 56), _img(1, 3, 48, 48, seed=1))
    assert out.shape == (2, 3, 40, 56) and out.dtype == torch.float32
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    # parameters and state_dict are the decoder's; the encoder is rebuilt, never saved
    assert {n for n, _ in effnet.named_parameters()} == {
        f"decoder.{n}" for n, _ in effnet.decoder.named_parameters()
    }
    assert all(k.startswith("decoder.") for k in effnet.state_dict())


def test_loss_defaults_to_the_gatys_style_layers(effnet: AdaINStyleNet) -> None:
    loss = AdaINLoss(effnet)
    style_layers = default_layers(efficientnet_lite0(pretrained=False), "style")
    assert tuple(loss.style_layers) == style_layers and style_layers[0] == "stem_act"
    assert not loss.layer_fns
    s = _img(2, 3, 32, 32, seed=2)
    terms = loss(effnet.run(_img(2, 3, 32, 48), s), s)
    assert terms.total.shape == (2,) and set(terms.layers) == set(style_layers)


@pytest.mark.parametrize("size", [(4, 4), (16, 16), (17, 23), (37, 53), (5, 40)])
def test_odd_sizes_are_padded_and_cropped_back(net: AdaINStyleNet, size: tuple[int, int]) -> None:
    x = _img(1, 3, *size)
    padded, (top, left) = net.pad_images(x)
    assert padded.shape[-2] % net.stride == 0 and padded.shape[-1] % net.stride == 0
    assert torch.equal(padded[..., top : top + size[0], left : left + size[1]], x)
    assert net(x, _img(1, 3, 11, 7, seed=3)).shape == (1, 3, *size)


def test_alpha_zero_decodes_the_content_features(net: AdaINStyleNet) -> None:
    x, s = _img(2, 3, 20, 24), _img(1, 3, 16, 16, seed=1)
    torch.testing.assert_close(net(x, s, alpha=0.0), net.reconstruct(x))
    torch.testing.assert_close(net(x, s, alpha=0.0), net(x, 1 - s, alpha=0.0))


def test_alpha_interpolates_content_and_adain_features(net: AdaINStyleNet) -> None:
    x, s = _img(2, 3, 20, 24), _img(1, 3, 16, 16, seed=1)
    f = _content_features(net, x)
    t1 = net.run(x, s).target
    for a in (0.25, 0.5):
        torch.testing.assert_close(net.run(x, s, a).target, a * t1 + (1 - a) * f)
    # at alpha = 1 the target has the style's statistics
    for a, b in zip(feature_stats(t1), feature_stats(_content_features(net, s))):
        torch.testing.assert_close(a, b.expand_as(a), atol=1e-4, rtol=1e-3)


def test_blend_weights_interpolate_the_statistics(net: AdaINStyleNet) -> None:
    x = _img(2, 3, 20, 24)
    s1, s2 = _img(1, 3, 16, 16, seed=1), 0.5 * _img(1, 3, 24, 20, seed=2)
    torch.testing.assert_close(net(x, [s1, s2], weights=[1.0, 0.0]), net(x, s1))
    (m1, d1), (m2, d2) = (feature_stats(_content_features(net, s)) for s in (s1, s2))
    t = net.run(x, [s1, s2], weights=[0.3, 0.7]).target
    mean, std = feature_stats(t)
    torch.testing.assert_close(mean, (0.3 * m1 + 0.7 * m2).expand_as(mean), atol=1e-4, rtol=1e-3)
    torch.testing.assert_close(std, (0.3 * d1 + 0.7 * d2).expand_as(std), atol=1e-4, rtol=1e-3)
    # one mix per image; the default is equal weights
    per_image = net(x, [s1, s2], weights=torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    torch.testing.assert_close(per_image[1:], net(x[1:], s2))
    torch.testing.assert_close(net(x, [s1, s2]), net(x, [s1, s2], weights=[0.5, 0.5]))
    with pytest.raises(ValueError, match="sum to 1"):
        net(x, [s1, s2], weights=[0.5, 0.6])


def test_mask_applies_each_style_to_its_region(net: AdaINStyleNet) -> None:
    x = _img(1, 3, 24, 32)
    s1, s2 = _img(1, 3, 16, 16, seed=1), _img(1, 3, 16, 16, seed=2) ** 3
    ones, zeros = torch.ones(24, 32), torch.zeros(24, 32)
    torch.testing.assert_close(net(x, s1, mask=ones), net(x, s1))
    torch.testing.assert_close(net(x, s1, mask=zeros), net.reconstruct(x))
    two = torch.stack([ones, zeros])
    torch.testing.assert_close(net(x, [s1, s2], mask=two), net(x, s1))
    half = torch.stack([ones, zeros])
    half[0, :, 16:], half[1, :, 16:] = 0, 1
    mixed = net(x, [s1, s2], mask=half)
    assert mixed.shape == x.shape
    assert not torch.allclose(mixed, net(x, s1)) and not torch.allclose(mixed, net(x, s2))


def test_preserve_color(net: AdaINStyleNet) -> None:
    x, s = 0.4 + 0.2 * _img(1, 3, 20, 24), _img(1, 3, 16, 16, seed=1)
    lum = net(x, s, preserve_color="luminance")
    torch.testing.assert_close(rgb_to_yiq(lum)[:, 1:], rgb_to_yiq(x)[:, 1:], atol=0.05, rtol=0)
    for mode in ("linear", "histogram"):
        y = net(x, s, preserve_color=mode)
        assert y.shape == x.shape and not torch.allclose(y, net(x, s))


def test_style_statistics_stand_for_the_style_images(net: AdaINStyleNet) -> None:
    x, s1, s2 = _img(2, 3, 20, 24), _img(1, 3, 16, 16, seed=1), _img(2, 3, 12, 20, seed=2)
    torch.testing.assert_close(net(x, net.style_stats(s1)), net(x, s1))
    mixed = net(x, [net.style_stats(s1), s2], weights=[0.25, 0.75])
    torch.testing.assert_close(mixed, net(x, [s1, s2], weights=[0.25, 0.75]))
    stats = AdaINLoss(net, ["conv1"]).style_stats(s2)
    assert set(stats) == {"conv1", net.layer}
    torch.testing.assert_close(net(x, stats[net.layer]), net(x, s2))


def test_grayscale_and_per_image_styles(net: AdaINStyleNet) -> None:
    x, s = _img(2, 1, 20, 24), _img(2, 3, 16, 16, seed=1)
    out = net(x, s)
    assert out.shape == (2, 3, 20, 24)
    torch.testing.assert_close(out[1:], net(x[1:], s[1:]))


def test_dtype_follows_the_network_and_comes_back_as_the_content(net: AdaINStyleNet) -> None:
    x, s = _img(1, 3, 20, 24), _img(1, 3, 16, 16, seed=1)
    ref = net(x, s)
    net64 = net.double()
    out = net64(x.double(), s.double())
    assert out.dtype == torch.float64
    torch.testing.assert_close(out.float(), ref, atol=1e-5, rtol=1e-4)
    assert net64(x, s).dtype == torch.float32


def test_state_dict_round_trip_rebuilds_the_network(net: AdaINStyleNet) -> None:
    other = tiny_adain_net(seed=0)
    with torch.no_grad():
        for p in net.decoder.parameters():
            p.add_(0.1)
    other.load_state_dict(net.state_dict())
    x, s = _img(1, 3, 20, 24), _img(1, 3, 16, 16, seed=1)
    torch.testing.assert_close(other(x, s), net(x, s))
    assert other.config() == net.config()


# -- frozen encoder, state --------------------------------------------------------------------
def test_train_mode_never_unfreezes_the_encoder(net: AdaINStyleNet) -> None:
    bn = net.encoder.backbone.bn1
    before = (bn.running_mean.clone(), bn.running_var.clone())
    net.train()
    assert net.training and net.decoder.training
    assert not any(m.training for m in net.encoder.modules())
    net.encoder.backbone.train()  # even reaching inside
    net.requires_grad_(True)
    net(_img(2, 3, 20, 24), _img(1, 3, 16, 16, seed=1))
    assert not any(m.training for m in net.encoder.modules())
    assert torch.equal(bn.running_mean, before[0]) and torch.equal(bn.running_var, before[1])


def test_gradients_reach_only_the_decoder(net: AdaINStyleNet) -> None:
    net.train().requires_grad_(True)
    s = _img(2, 3, 16, 16, seed=1)
    loss = AdaINLoss(net, ["conv1", "relu2"], style_weight=3.0)
    terms = loss(net.run(_img(2, 3, 20, 24), s), s)
    terms.total.mean().backward()
    assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in net.parameters())
    assert not any(b.requires_grad or b.grad is not None for b in net.encoder.buffers())
    assert list(net.parameters()) == list(net.decoder.parameters())


def test_the_callers_backbone_and_tensors_are_untouched() -> None:
    backbone = tiny_backbone().train()
    x, s, m = _img(1, 3, 20, 24), _img(1, 3, 16, 16, seed=1), torch.ones(20, 24)
    world = snapshot_world(backbone, x, s, m)
    net = AdaINStyleNet(backbone, "relu2", width=4)
    net.train()
    net(x, s, mask=m).sum().backward()
    world.assert_unchanged(rng=False)
    assert len(list(backbone.parameters())) == 6  # still its own parameters


def test_forward_leaves_the_network_as_found(net: AdaINStyleNet) -> None:
    x, s = _img(1, 3, 20, 24), _img(1, 3, 16, 16, seed=1)
    world = snapshot_world(net, x, s)
    with torch.no_grad():
        net(x, [s, s], weights=[0.5, 0.5])
    loss = AdaINLoss(net, ["conv1"])
    loss(net.run(x, s), loss.style_stats(s))
    world.assert_unchanged()


# -- the loss -----------------------------------------------------------------------------------
def test_mean_std_loss_is_zero_at_the_target_and_scale_free() -> None:
    x = torch.randn(2, 4, 6, 6)
    assert float(mean_std_loss(x, feature_stats(x)).abs().max()) < 1e-10
    y = torch.randn(2, 4, 6, 6)
    torch.testing.assert_close(
        mean_std_loss(100 * x, feature_stats(100 * y)), mean_std_loss(x, feature_stats(y))
    )


def test_loss_terms_weights_and_cached_statistics(net: AdaINStyleNet) -> None:
    x, s = _img(2, 3, 20, 24), _img(2, 3, 16, 16, seed=1)
    res = net.run(x, s)
    base = AdaINLoss(net, ["conv1", "bn1", "relu2"])
    heavy = AdaINLoss(net, ["conv1", "bn1", "relu2"], content_weight=2.0, style_weight=5.0)
    a, b = base(res, s), heavy(res, s)
    torch.testing.assert_close(b.content, 2 * a.content)
    torch.testing.assert_close(b.style, 5 * a.style)
    torch.testing.assert_close(a.total, a.content + a.style)
    torch.testing.assert_close(base(res, base.style_stats(s)).total, a.total)
    torch.testing.assert_close(a.style, torch.stack(list(a.layers.values())).mean(0))
    # the content target is the AdaIN output: content loss = normalized ‖f(g(t)) − t‖²
    f = net.features(res.decoded, ["relu2"])["relu2"]
    expected = (f - res.target).pow(2).flatten(1).sum(1) / res.target.pow(2).flatten(1).sum(1)
    torch.testing.assert_close(a.content, expected)
    # layer functions apply before the statistics
    relu = AdaINLoss(net, ["bn1"], layer_fns={"bn1": F.relu})
    plain = AdaINLoss(net, ["relu1"])
    torch.testing.assert_close(relu(res, s).style, plain(res, s).style)


def test_training_steps_lower_the_loss() -> None:
    net = tiny_adain_net(seed=1)
    loss = AdaINLoss(net, ["conv1", "relu2"], style_weight=2.0)
    x, s = _img(2, 3, 16, 16), _img(2, 3, 16, 16, seed=5) ** 2
    stats = loss.style_stats(s)  # once per style: both the network's and the loss's targets
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    net.train()
    history = []
    for _ in range(20):
        total = loss(net.run(x, stats[net.layer]), stats).total.mean()
        opt.zero_grad()
        total.backward()
        opt.step()
        history.append(float(total.detach()))
    assert history[-1] < 0.7 * history[0]

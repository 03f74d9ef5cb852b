"""Gram, feature and total-variation losses: closed forms, normalization, gradients, module
forms, the perceptual loss and its objective, bad input."""

from __future__ import annotations

import pytest
import torch
from helpers.nets import feature_net, image

from attribkit.style import (
    FeatureLoss,
    GramLoss,
    PerceptualLoss,
    TotalVariation,
    feature_loss,
    gram_loss,
    gram_matrix,
    total_variation,
)
from attribkit.testing import snapshot_world


def test_gram_matrix_hand_computed():
    # two channels over 2 positions: F = [[1, 2], [3, 4]]
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)
    expected = torch.tensor([[1 + 4, 3 + 8], [3 + 8, 9 + 16]], dtype=torch.float32)
    assert torch.equal(gram_matrix(f, normalize=False)[0], expected)
    assert torch.allclose(gram_matrix(f)[0], expected / 2)


def test_gram_matrix_is_size_invariant_for_tiled_images():
    f = torch.rand(1, 3, 4, 4)
    tiled = f.repeat(1, 1, 2, 2)
    assert torch.allclose(gram_matrix(f), gram_matrix(tiled), atol=1e-6)


def test_losses_are_zero_at_target_and_normalized():
    f = torch.rand(2, 5, 6, 6)
    assert torch.allclose(gram_loss(f, gram_matrix(f)), torch.zeros(2), atol=1e-7)
    assert torch.allclose(feature_loss(f, f), torch.zeros(2))
    # scaling the features scales the unnormalized loss but not the normalized one
    g = torch.rand(1, 5, 6, 6)
    a = gram_loss(f, gram_matrix(g))
    b = gram_loss(10 * f, gram_matrix(10 * g))
    assert torch.allclose(a, b, rtol=1e-4)
    assert torch.allclose(feature_loss(f, g), feature_loss(7 * f, 7 * g), rtol=1e-5)


def test_total_variation_closed_form():
    # a horizontal ramp 0,1,2,3: each of the 3×3 evaluated pixels has dx = 1, dy = 0
    x = torch.arange(4.0).repeat(4, 1).view(1, 1, 4, 4)
    assert torch.allclose(total_variation(x), torch.tensor([1.0]))
    assert torch.allclose(total_variation(x, beta=1.0), torch.tensor([1.0]), atol=1e-3)
    assert torch.allclose(TotalVariation()(x), total_variation(x))


def test_gradcheck_float64():
    f = torch.rand(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    t = gram_matrix(torch.rand(1, 3, 4, 4, dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda x: gram_loss(x, t), (f,))
    tgt = torch.rand(1, 3, 4, 4, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: feature_loss(x, tgt), (f,))
    assert torch.autograd.gradcheck(lambda x: total_variation(x), (f,))
    assert torch.autograd.gradcheck(lambda x: total_variation(x, beta=1.5), (f,))


def test_module_targets_are_non_persistent_buffers():
    loss = GramLoss(torch.rand(1, 4, 5, 5))
    assert "target" in dict(loss.named_buffers())
    assert loss.state_dict() == {}
    assert FeatureLoss(torch.rand(1, 4, 5, 5)).state_dict() == {}
    assert torch.allclose(GramLoss.from_gram(loss.target[0]).target, loss.target)


def test_gram_loss_blends_several_targets():
    a, b = torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4)
    blended = GramLoss(torch.cat([a, b]), weights=[3, 1]).target
    assert torch.allclose(blended[0], 0.75 * gram_matrix(a)[0] + 0.25 * gram_matrix(b)[0])
    with pytest.raises(ValueError, match="non-negative"):
        GramLoss(torch.cat([a, b]), weights=[1, -1])
    with pytest.raises(ValueError, match="finite"):
        GramLoss(torch.cat([a, b]), weights=[1, float("nan")])


def test_exceptions():
    with pytest.raises(ValueError, match="N×C×H×W"):
        gram_matrix(torch.rand(3, 4, 4))
    with pytest.raises(ValueError, match="channels"):
        gram_loss(torch.rand(1, 3, 4, 4), torch.rand(1, 5, 5))
    with pytest.raises(ValueError, match="same size"):
        feature_loss(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 5, 5))
    with pytest.raises(ValueError, match="beta"):
        total_variation(torch.rand(1, 3, 4, 4), beta=0)


def test_perceptual_loss_decreases_under_adam_and_leaves_model_alone():
    net = feature_net().train()
    content, style = image(0), image(1)
    snap = snapshot_world(net, content, style)
    loss = PerceptualLoss(net, ["3"], ["1", "3"], style_weight=10.0, tv_weight=1.0, pad=4)
    loss.set_content(content)
    loss.set_style(style)
    x = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.02)
    first = None
    for _ in range(30):
        total = loss(x.clamp(0, 1)).total.sum()
        first = float(total.detach()) if first is None else first
        opt.zero_grad()
        total.backward()
        opt.step()
    assert float(loss(x.clamp(0, 1)).total.sum().detach()) < first
    snap.assert_unchanged()


def test_perceptual_loss_errors_and_state_after_exception() -> None:
    """The failing calls leave the model and the global generators alone (the inputs are made
    before the snapshot with a local generator; the loss itself draws nothing)."""
    net = feature_net()
    with pytest.raises(ValueError, match="does not exist"):
        PerceptualLoss(net, ["9"], ["1"])
    with pytest.raises(TypeError, match="sequence of layers"):
        PerceptualLoss(net, "3", ["1"])
    with pytest.raises(ValueError, match="finite"):
        PerceptualLoss(net, ["3"], ["1"], style_weight=float("nan"))
    with pytest.raises(ValueError, match="non-negative"):
        PerceptualLoss(net, ["3"], ["1"], layer_weights={"1": -1.0})
    with pytest.raises(ValueError, match="finite"):
        PerceptualLoss(net, ["3"], ["1"], layer_weights={"1": float("nan")})
    loss = PerceptualLoss(net, ["3"], ["1"], pad=0)
    grey, rgb, rgb2 = image(0, 8, channels=1), image(1, 8), image(2, 8)
    with pytest.raises(RuntimeError, match="set_content"):
        loss(rgb)
    snap = snapshot_world(net, grey, rgb, rgb2)
    with pytest.raises(ValueError, match="3 channels"):
        loss.set_content(grey)
    with pytest.raises(ValueError, match="2 style images"):
        loss.set_style([rgb, rgb2], weights=[1.0])
    with pytest.raises(ValueError, match="scale"):
        loss.set_style(rgb, scale=float("inf"))
    snap.assert_unchanged()


def test_objective_is_minus_the_loss() -> None:
    from attribkit.optvis import ObjectiveContext

    net = feature_net()
    loss = PerceptualLoss(net, ["3"], ["1", "3"], pad=0, tv_weight=1.0)
    loss.set_content(image(0))
    loss.set_style(image(1))
    x = image(2)
    acts = loss.features(x, loss.layers)
    value = loss.objective()(ObjectiveContext(x, x, acts))
    torch.testing.assert_close(value, -loss(x).total)


def test_gradients_flow_through_features_of_a_batchnorm_backbone() -> None:
    """Fast-style training backpropagates through ``features``: leaving ``frozen`` must not
    bump the version of the BatchNorm buffers that the eval-mode graph saved."""
    from helpers.nets import bn_net

    net = bn_net().train()
    snap = snapshot_world(net)
    loss = PerceptualLoss(net, ["relu2"], ["relu1"], pad=0)
    x = image(0).requires_grad_(True)
    loss.features(x, ["relu2"])["relu2"].sum().backward()
    assert x.grad is not None and bool(x.grad.abs().sum() > 0)
    snap.assert_unchanged()

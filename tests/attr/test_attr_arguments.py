"""Arguments bound by Captum's signatures before any check; train-mode models; random methods
and the global generators; what Captum's callers catch."""

from __future__ import annotations

import random

import captum.attr
import numpy as np
import pytest
import torch
from attr_nets import StateNet, TinyNet, rand
from torch import nn

from attribkit import attr
from attribkit._checks import TargetError
from attribkit.testing import snapshot_world

NET = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
X = rand(2, 3, seed=3)


@pytest.mark.parametrize(
    "call",
    [
        lambda: attr.IntegratedGradients(NET).attribute(X, torch.zeros(2, 3), 1),
        lambda: attr.FeatureAblation(NET).attribute(X, 0.5, 1),
        lambda: attr.Occlusion(NET).attribute(X, (1,), 1, 0.0, 1),
        lambda: attr.NoiseTunnel(attr.Saliency(NET)).attribute(X, "smoothgrad", 3, target=0),
        lambda: attr.DeepLift(NET).attribute(X, 0.0, 1),
    ],
    ids=["ig", "fa", "occlusion", "noise-tunnel", "deeplift"],
)
def test_positional_arguments_reach_the_right_parameter(call):
    assert call().shape == X.shape


@pytest.mark.parametrize(
    "call",
    [
        lambda t: attr.IntegratedGradients(NET).attribute(X, None, t, n_steps=3),
        lambda t: attr.IntegratedGradients(NET).attribute(X, target=t, n_steps=3),
        lambda t: attr.Saliency(NET).attribute(X, t),
        lambda t: attr.FeatureAblation(NET).attribute(X, None, t),
        lambda t: attr.NoiseTunnel(attr.Saliency(NET)).attribute(X, "vargrad", 2, target=t),
        lambda t: attr.LayerConductance(NET, "0").attribute(X, None, t, n_steps=3),
    ],
    ids=["ig-positional", "ig-keyword", "saliency-positional", "fa", "noise-tunnel", "layer"],
)
@pytest.mark.parametrize(
    ("target", "match"),
    [
        (-1, "negative"),
        ([0, -1], "negative"),
        (torch.tensor([-1, 0]), "negative"),
        ((0, -1), "negative"),
        ([(0,), (-1,)], "negative"),
        (2, "out of range: the model has 2 outputs"),
        ([0, 2], "out of range"),
        (torch.tensor(5), "out of range"),
        ([(0,), (1, 1)], "one index per dimension"),
        ([0], "1 entries but the batch has 2"),
    ],
)
def test_every_target_form_is_checked_alike_by_position_or_keyword(call, target, match):
    with pytest.raises(TargetError, match=match) as info:
        call(target)
    # Captum's callers catch IndexError, RuntimeError or AssertionError for bad targets
    assert isinstance(info.value, (IndexError, RuntimeError, AssertionError, ValueError))
    assert "4611686018427387904" not in str(info.value)


def test_targets_of_forward_functions_that_are_not_modules_are_checked_too():
    with pytest.raises(TargetError, match="out of range: the model has 2 outputs"):
        attr.Saliency(lambda t: NET(t)).attribute(X, target=4)
    with pytest.raises(TargetError, match="negative"):
        attr.Saliency(lambda t: NET(t)).attribute(X, target=-1)


def test_inputs_of_shape_n_are_n_scalar_examples():
    x = torch.tensor([1.0, -2.0, 3.0])
    assert torch.equal(attr.Saliency(lambda t: t**2).attribute(x), (2 * x).abs())
    out = attr.FeatureAblation(lambda t: t**2).attribute(x)
    assert torch.equal(out, x**2)
    with pytest.raises(ValueError, match="0-d"):
        attr.Saliency(lambda t: t**2).attribute(torch.tensor(2.0))


def test_integer_and_boolean_inputs_for_perturbation_methods():
    from attr_nets import TokenNet

    net, ids = TokenNet(), torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert attr.FeatureAblation(net).attribute(ids, target=1).shape == ids.shape
    assert attr.ShapleyValueSampling(net).attribute(ids, target=1, n_samples=2).shape == ids.shape
    flags = ids > 4
    assert attr.FeatureAblation(lambda b: net(b.long())).attribute(flags, target=0).shape == (2, 4)
    with pytest.raises(TypeError, match="LayerIntegratedGradients"):
        attr.IntegratedGradients(net).attribute(ids, target=0)
    lig = attr.LayerIntegratedGradients(net, "emb").attribute(ids, 0, 1, n_steps=3)
    assert lig.shape == (2, 4, 3)


def test_three_d_image_errors_get_a_note_about_the_batch_dimension():
    net = TinyNet()
    with pytest.raises(RuntimeError) as info:
        attr.Saliency(net).attribute(torch.rand(3, 8, 8), target=0)
    assert any("unsqueeze(0)" in note for note in getattr(info.value, "__notes__", []))


# --- train-mode models (issue 16): eval mode by default, opt-out, buffers kept either way ---


def test_a_train_mode_model_is_run_in_eval_mode_and_left_in_train_mode(state_net):
    state_net.train()
    x = rand(4, 3, 8, 8)
    snap = snapshot_world(state_net, x)
    first = attr.Saliency(state_net).attribute(x, target=1)
    second = attr.Saliency(state_net).attribute(x, target=1)
    assert torch.equal(first, second)  # dropout off, running statistics used
    snap.assert_unchanged()
    assert state_net.training and state_net.bn.training


def test_eval_mode_false_keeps_train_mode_behaviour_but_restores_buffers(state_net):
    state_net.train()
    x = rand(4, 3, 8, 8)
    snap = snapshot_world(state_net, x)
    torch.manual_seed(0)
    ours = attr.Saliency(state_net, eval_mode=False).attribute(x, target=1)
    snap.assert_unchanged(rng=False)
    torch.manual_seed(0)
    theirs = captum.attr.Saliency(state_net).attribute(x, target=1)  # Captum: as found
    assert torch.equal(ours, theirs)
    assert not torch.equal(ours, attr.Saliency(state_net).attribute(x, target=1))
    nt = attr.NoiseTunnel(attr.Saliency(state_net, eval_mode=False))
    assert nt.eval_mode is False
    assert attr.NoiseTunnel(attr.Saliency(state_net), eval_mode=False).eval_mode is False
    with pytest.raises(TypeError, match="eval_mode"):
        attr.Saliency(state_net, eval_mode="no")


# --- random methods and the global generators ---


def _seed(s: int) -> None:
    torch.manual_seed(s)
    np.random.seed(s)
    random.seed(s)


@pytest.mark.parametrize(
    ("ours", "theirs", "kwargs"),
    [
        (
            lambda m: attr.NoiseTunnel(attr.Saliency(m)),
            lambda m: captum.attr.NoiseTunnel(captum.attr.Saliency(m)),
            {"nt_samples": 4, "stdevs": 0.2, "target": 1},
        ),
        (
            lambda m: attr.GradientShap(m),
            lambda m: captum.attr.GradientShap(m),
            {"baselines": rand(3, 3, 8, 8, seed=9), "n_samples": 3, "target": 1},
        ),
        (
            lambda m: attr.ShapleyValueSampling(m),
            lambda m: captum.attr.ShapleyValueSampling(m),
            {"n_samples": 2, "target": 1, "feature_mask": torch.arange(3).view(1, 3, 1, 1)},
        ),
    ],
    ids=["noise-tunnel", "gradient-shap", "shapley-sampling"],
)
def test_same_seed_gives_captums_numbers_and_the_generators_stay_put(ours, theirs, kwargs):
    net, x = StateNet().eval(), rand(2, 3, 8, 8)
    _seed(0)
    expected = theirs(net).attribute(x, **kwargs)
    _seed(0)
    snap = snapshot_world(net, x)
    got = ours(net).attribute(x, **kwargs)
    snap.assert_unchanged()  # torch, NumPy and random are where the caller left them
    torch.testing.assert_close(got, expected)
    # the generator was not advanced, so the next call draws the same noise (reseed for new)
    torch.testing.assert_close(ours(net).attribute(x, **kwargs), got)
    _seed(1)
    assert not torch.allclose(ours(net).attribute(x, **kwargs), got)


def test_state_after_ctrl_c_in_the_forward_pass(state_net):
    class Interrupting(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = state_net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            torch.rand(1)  # a draw from the global generator, as a random method would
            raise KeyboardInterrupt

    model = Interrupting().train()
    x = rand(2, 3, 8, 8)
    snap = snapshot_world(model, x)
    for method in (attr.NoiseTunnel(attr.Saliency(model)), attr.Occlusion(model)):
        with pytest.raises(KeyboardInterrupt):
            method.attribute(
                x,
                target=0,
                **(
                    {"sliding_window_shapes": 4}
                    if "Occ" in str(type(method))
                    else {"nt_samples": 2}
                ),
            )
        snap.assert_unchanged()


def test_choose_perturbations_per_eval_on_its_own_leaves_the_model_alone(state_net):
    state_net.train()
    x = rand(2, 3, 8, 8)
    snap = snapshot_world(state_net, x)
    assert attr.Occlusion(state_net).choose_perturbations_per_eval((x,), 4, 4) >= 1
    snap.assert_unchanged()


def test_generators_are_put_back_after_an_exception():
    net = StateNet()
    net.fail = True
    snap = snapshot_world(net)
    with pytest.raises(RuntimeError, match="on purpose"):
        attr.NoiseTunnel(attr.Saliency(net)).attribute(rand(2, 3, 8, 8), nt_samples=2, target=0)
    snap.assert_unchanged()


# --- numeric options (issue 16): finite, positive, ints where Captum needs ints ---


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"nt_samples": 0}, ValueError, "nt_samples must be at least 1"),
        ({"nt_samples": 2.5}, TypeError, "nt_samples must be an int"),
        ({"nt_samples": True}, TypeError, "nt_samples must be an int"),
        ({"nt_samples_batch_size": 0}, ValueError, "nt_samples_batch_size must be at least 1"),
        ({"stdevs": float("inf")}, ValueError, "stdevs must be a finite number"),
        ({"stdevs": float("nan")}, ValueError, "stdevs must be a finite number"),
        ({"stdevs": -0.5}, ValueError, "stdevs must be at least 0"),
        ({"stdevs": (0.1, float("nan"))}, ValueError, "finite"),
        ({"stdevs": "0.1"}, TypeError, "stdevs must be a number"),
        ({"nt_type": "smooth"}, AssertionError, "smoothgrad"),
    ],
)
def test_noise_tunnel_options(kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        attr.NoiseTunnel(attr.Saliency(NET)).attribute(X, target=0, **kwargs)
    assert isinstance(info.value, AssertionError)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: attr.IntegratedGradients(NET).attribute(X, target=0, n_steps=0), "n_steps"),
        (
            lambda: attr.IntegratedGradients(NET).attribute(X, target=0, internal_batch_size=0),
            "internal_batch_size",
        ),
        (lambda: attr.Lime(NET).attribute(X[:1], target=0, n_samples=-3), "n_samples"),
        (
            lambda: attr.FeatureAblation(NET).attribute(X, target=0, perturbations_per_eval=0),
            "perturbations_per_eval",
        ),
        (
            lambda: attr.IntegratedGradients(NET).attribute(X, float("inf"), 0),
            "baselines must be a finite",
        ),
    ],
)
def test_numeric_options_are_checked_before_the_model_runs(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert isinstance(info.value, AssertionError)


def test_nan_in_inputs_and_baselines_is_refused():
    nan = torch.full((1, 3), float("nan"))
    with pytest.raises(ValueError, match="baselines contains 3 NaN"):
        attr.FeatureAblation(NET).attribute(X, nan, 0)
    with pytest.raises(ValueError, match=r"inputs\[1\] contains 6 NaN"):
        attr.Saliency(lambda a, b: NET(a + b)).attribute((X, nan.expand(2, 3)), target=0)

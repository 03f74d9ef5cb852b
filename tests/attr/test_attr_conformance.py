"""Every attribution class through the same checks, in the style of Captum's test_config.

On a train-mode model with BatchNorm and dropout, a frozen layer and existing gradients: output
shape, no hooks left, model modes, parameters, ``requires_grad``, ``.grad``, buffers, inputs and
the global random generators unchanged — after success and after the forward pass raises
midway; the model runs in eval mode; batch-size independence; tuples in, tuples out; bad
targets and inputs refused before anything changes.
"""

from __future__ import annotations

from typing import Any

import captum.attr
import pytest
import torch
from attr_nets import CASES, LAYER, Case, StateNet, rand
from torch.utils.data import DataLoader, TensorDataset

from attribkit import attr
from attribkit.testing import snapshot_world

IDS = [c.name for c in CASES]
TARGETED = [c for c in CASES if c.targeted]
#: Captum's own classes re-exported unchanged, and why the table leaves them out
NOT_RUN = {
    "Attribution": "abstract base class",
    "GradientAttribution": "abstract base class",
    "PerturbationAttribution": "abstract base class",
    "LayerAttribution": "abstract base class",
    "NeuronAttribution": "abstract base class",
    "LLMAttribution": "needs a language model and a tokenizer",
    "LLMGradientAttribution": "needs a language model and a tokenizer",
    "RemoteLLMAttribution": "needs a remote language-model provider",
}


def _inputs(case: Case) -> tuple[torch.Tensor, list[int]]:
    x = rand(2, 3, 8, 8, seed=1)
    return (x[:1], [0]) if case.single else (x, [0, 2])


def _out_shape(case: Case, x: torch.Tensor) -> tuple[int, ...]:
    if case.name == "LimeBase":  # the interpretable representation: one weight per quadrant
        return (1, 4)
    if case.name == "LayerGradCam":
        return (x.shape[0], 1, 8, 8)
    if case.layer_shaped:
        return (x.shape[0], 6, 8, 8)
    return tuple(x.shape)


def _dirty_world(model: StateNet) -> None:
    """Give the model a state worth preserving: train mode, a frozen layer, existing grads."""
    model.train()
    model.conv1.weight.requires_grad_(False)
    model.fc.weight.grad = torch.full_like(model.fc.weight, 0.5)


def _first(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, tuple) else out


def test_every_attribution_class_is_covered():
    classes = {
        name
        for name in attr.__all__
        if isinstance(getattr(attr, name), type)
        and issubclass(getattr(attr, name), captum.attr.Attribution)
    }
    ours = {n for n in classes if getattr(attr, n).__module__.startswith("attribkit.")}
    assert ours - {"DataLoaderAttribution"} == {c.cls.__name__ for c in CASES}
    assert classes - ours == set(NOT_RUN)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_is_the_captum_class(case, state_net):
    method = case.build(state_net)
    assert isinstance(method, getattr(captum.attr, case.cls.__name__))
    assert method.eval_mode is True


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shape_and_state_after_success(case, state_net):
    x, target = _inputs(case)
    _dirty_world(state_net)
    snap = snapshot_world(state_net, x)
    out = case.call(case.build(state_net), x, target)
    if case.name != "LayerFeaturePermutation":  # Captum's returns one row per output
        assert tuple(out.shape) == _out_shape(case, x)
    assert torch.isfinite(out).all()
    snap.assert_unchanged()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_train_mode_model_runs_in_eval_mode(case, state_net):
    x, target = _inputs(case)
    state_net.eval()
    torch.manual_seed(0)
    expected = case.call(case.build(state_net), x, target)
    state_net.train()  # dropout and batch statistics would change the answer
    torch.manual_seed(0)
    out = case.call(case.build(state_net), x, target)
    assert torch.allclose(out, expected, atol=1e-6)
    assert state_net.training


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_after_forward_raises(case, state_net):
    x, target = _inputs(case)
    _dirty_world(state_net)
    method = case.build(state_net)
    state_net.fail = True
    snap = snapshot_world(state_net, x)
    with pytest.raises(RuntimeError, match="on purpose"):
        case.call(method, x, target)
    snap.assert_unchanged()


@pytest.mark.parametrize("case", [c for c in CASES if c.batch_independent], ids=lambda c: c.name)
def test_batch_size_independence(case, state_net):
    state_net.double().eval()
    x = rand(2, 3, 8, 8, seed=1, dtype=torch.float64)
    method = case.build(state_net)
    batched = case.call(method, x, [0, 2])
    singles = torch.cat([case.call(method, x[i : i + 1], [t]) for i, t in enumerate([0, 2])])
    assert torch.allclose(batched, singles, atol=1e-10)


@pytest.mark.parametrize("case", [c for c in CASES if c.tuples], ids=lambda c: c.name)
def test_tuple_in_gives_tuple_out(case, state_net):
    x, target = _inputs(case)
    out = case.call(case.build(state_net), (x,), target)
    assert isinstance(out, tuple) and len(out) == 1
    assert tuple(out[0].shape) == _out_shape(case, x)


@pytest.mark.parametrize("case", TARGETED, ids=lambda c: c.name)
@pytest.mark.parametrize(
    ("target", "match"),
    [
        (3, "out of range.*3 outputs"),
        (-1, "negative"),
        ([0, 7], "out of range"),
        (torch.tensor([0, 5]), "out of range"),
        ((0, 1), "one index per dimension"),
        ([0, 1, 2], "3 entries but the batch has"),
        (0.5, "int"),
    ],
    ids=["3", "-1", "list", "tensor", "tuple", "length", "float"],
)
def test_bad_targets_are_refused_with_state_unchanged(case, state_net, target, match):
    x = rand(2, 3, 8, 8, seed=1)
    if case.single:  # one example: keep the bad entry
        x = x[:1]
        if isinstance(target, (list, torch.Tensor)) and len(target) == 2:
            target = target[1:]
    snap = snapshot_world(state_net, x)
    with pytest.raises((ValueError, TypeError), match=match):
        case.call(case.build(state_net), x, target)
    snap.assert_unchanged()


BAD_INPUTS = [
    (torch.full((2, 3, 8, 8), float("nan")), ValueError, "NaN"),
    (torch.tensor(1.0), ValueError, "batch dimension"),
    ([torch.rand(2, 3, 8, 8)], TypeError, "tuple"),
    ("image.png", TypeError, "tensor"),
    ((), TypeError, "tensor"),
]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize(
    ("bad", "error", "match"), BAD_INPUTS, ids=["nan", "0d", "list", "str", "()"]
)
def test_bad_inputs(case, state_net, bad, error, match):
    snap = snapshot_world(state_net)
    with pytest.raises(error, match=match):
        case.call(case.build(state_net), bad, [0, 2], like=rand(2, 3, 8, 8))
    snap.assert_unchanged()


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in CASES
        if issubclass(c.cls, captum.attr.GradientAttribution)
        and not issubclass(c.cls, captum.attr.LayerAttribution)
    ]
    + [CASES[IDS.index("NoiseTunnel")]],
    ids=lambda c: c.name,
)
def test_integer_inputs_to_gradient_methods_say_why(case, state_net):
    with pytest.raises(TypeError, match="floating point.*x.float()"):
        x = torch.zeros(2, 3, 8, 8, dtype=torch.long)
        case.call(case.build(state_net), x, [0, 2], like=rand(2, 3, 8, 8))


def test_dataloader_attribution_takes_our_feature_ablation_and_keeps_state(state_net):
    data = DataLoader(TensorDataset(rand(4, 3, 8, 8)), batch_size=2)
    mask = torch.zeros(1, 3, 8, 8, dtype=torch.long)
    mask[..., 4:] = 1
    _dirty_world(state_net)
    snap = snapshot_world(state_net)
    ours = attr.DataLoaderAttribution(attr.FeatureAblation(state_net))
    out = ours.attribute(data, feature_mask=mask)
    snap.assert_unchanged()
    state_net.eval()
    theirs = captum.attr.DataLoaderAttribution(captum.attr.FeatureAblation(state_net))
    assert torch.allclose(out[0], theirs.attribute(data, feature_mask=mask)[0], atol=1e-6)
    with pytest.raises(TypeError, match="FeatureAblation"):
        attr.DataLoaderAttribution(attr.Saliency(state_net))


def test_captum_noise_tunnel_and_visualization_work_on_ours(tiny_net, images):
    nt = captum.attr.NoiseTunnel(attr.GuidedBackprop(tiny_net))
    out = nt.attribute(images, nt_samples=3, nt_type="smoothgrad_sq", target=0, stdevs=0.1)
    assert out.shape == images.shape
    import matplotlib

    matplotlib.use("Agg")
    from attribkit.attr import visualization as viz

    pic = out[0].permute(1, 2, 0).detach().numpy()
    fig, _ = viz.visualize_image_attr(
        pic, images[0].permute(1, 2, 0).numpy(), "blended_heat_map", use_pyplot=False
    )
    assert fig is not None


def test_layers_by_dotted_name_or_module_and_close_matches(state_net):
    by_name = attr.LayerConductance(state_net, LAYER)
    by_module = attr.LayerConductance(state_net, state_net.conv2)
    assert by_name.layer is by_module.layer is state_net.conv2
    assert attr.LayerIntegratedGradients(state_net, ["conv1", "conv2"]).layer == [
        state_net.conv1,
        state_net.conv2,
    ]
    with pytest.raises(ValueError, match="did you mean 'conv2'"):
        attr.NeuronGradient(state_net, "conv_2")
    with pytest.raises(TypeError, match="nn.Module"):
        attr.LayerGradCam(lambda t: state_net(t), "conv2")
